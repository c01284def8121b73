/**
 * Runs the short-lived child processes (sim/child.mjs): at most `concurrency` at once, none launched after the
 * phase's deadline, each ended by its PID (SIGKILL) if it outlives its own time limit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./child.mjs', import.meta.url));

/** What one child does; serialised into its SIM_CHILD variable. */
export interface ChildJob {
  readonly index: number;
  readonly kind: 'pushgateway' | 'remote-write';
  readonly url: string;
  readonly job: string;
  readonly instance: string;
  readonly flushes: number;
  readonly workMs: number;
  readonly flushTimeoutMs: number;
  /** stop(): final push (and stale markers); exit: process.exit() without stop(); kill: SIGKILL from us. */
  readonly mode: 'stop' | 'exit' | 'kill';
  readonly killWaitMs: number;
}

/** One push as the child timed it around flush() or stop(); `end` in epoch ms. */
export interface PushTiming {
  readonly end: number;
  readonly ms: number;
  readonly ok: boolean;
  readonly status: number;
  readonly final?: boolean;
}

/** The JSON line a child prints. */
export interface ChildReport {
  readonly index: number;
  readonly start: number;
  readonly end: number;
  readonly pushes: PushTiming[];
  readonly stats: { pushes: number; failures: number; retries: number };
  readonly cpu: { bootMs: number; importMs: number; procpushMs: number };
  readonly totalCpuMs: number;
  readonly rss: { bootBytes: number; endBytes: number; peakBytes: number };
}

/** Everything a batch of children produced. */
export interface ChildrenResult {
  readonly reports: ChildReport[];
  readonly launched: number;
  /** Children that printed no report, with how they ended and the tail of their stderr. */
  readonly failures: string[];
  readonly startedAt: number;
  readonly endedAt: number;
}

/** The procpush build the children (and the burst) import; sim/scale.ts points it at a private copy. */
export const procpushEntry = { url: new URL('../dist/node.js', import.meta.url).href };

/** Children launched and finished so far, for progress lines. */
export const progress = { launched: 0, done: 0 };

/** Children alive now, so that an interrupted simulation can end them by PID. */
export const liveChildren = new Set<ChildProcess>();

/** Ends every live child by its PID. */
export function killLiveChildren(): void {
  for (const child of liveChildren) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {}
    }
  }
}

/** Runs up to `count` children, `concurrency` at a time, launching none after `deadline` (epoch ms). */
export async function runChildren(opts: {
  count: number;
  concurrency: number;
  deadline: number;
  jobFor: (index: number) => ChildJob;
}): Promise<ChildrenResult> {
  const reports: ChildReport[] = [];
  const failures: string[] = [];
  const startedAt = Date.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < opts.count && Date.now() < opts.deadline) {
      const job = opts.jobFor(next++);
      const outcome = await runOne(job);
      if (typeof outcome === 'string') failures.push(`#${job.index}: ${outcome}`);
      else reports.push(outcome);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  return { reports, launched: next, failures, startedAt, endedAt: Date.now() };
}

function runOne(job: ChildJob): Promise<ChildReport | string> {
  // A bare environment: no proxy variables (the traffic must stay on loopback) and no RESOURCE_ATTRIBUTION_*.
  const child = spawn(process.execPath, [CHILD], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      SIM_CHILD: JSON.stringify({ ...job, entry: procpushEntry.url }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveChildren.add(child);
  progress.launched++;
  const kill = (): void => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {}
    }
  };
  // Every push is bounded by flushTimeoutMs; beyond that plus start-up something is wrong.
  const limit = setTimeout(kill, job.flushTimeoutMs * (job.flushes + 2) + 15_000);
  let stdout = '';
  let stderr = '';
  let report: ChildReport | undefined;
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
    const line = stdout.indexOf('\n');
    if (report === undefined && line !== -1) {
      report = JSON.parse(stdout.slice(0, line)) as ChildReport;
      if (job.mode === 'kill') kill();
    }
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-2000);
  });
  return new Promise((resolve) => {
    const done = (how: string): void => {
      clearTimeout(limit);
      if (liveChildren.delete(child)) progress.done++;
      resolve(report ?? `${how}; stderr: ${stderr.trim() || '(empty)'}`);
    };
    child.on('error', (error) => {
      if (child.pid === undefined) done(`spawn failed: ${error.message}`);
    });
    child.on('close', (code, signal) => done(signal ? `killed by ${signal}` : `exit code ${code}`));
  });
}

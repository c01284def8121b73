/**
 * The Pushgateway runs: a gateway that starts empty and gains one group per child process (with and without
 * `--push.disable-consistency-check`), and gateways that already hold many groups before the children come.
 */
import { Agent, request } from 'node:http';
import { encodeText } from '../src/encode/text.js';
import { toMetricPoints } from '../src/metrics.js';
import { type E2EServer, startPushgateway } from '../test/e2e/servers.js';
import { type ChildJob, type ChildrenResult, runChildren } from './children.js';
import type { SimOptions } from './options.js';
import { type ProcSampler, sampleProc } from './proc-stat.js';
import { type PushBucket, pushBuckets } from './stats.js';

/** The flag that turns off the gateway's re-check of its whole store on every push. */
export const NO_CHECK = '--push.disable-consistency-check';
const JOB = 'sim-scale';

/** One gateway and the children that pushed to it. */
export interface GatewayRun {
  readonly label: string;
  readonly flags: readonly string[];
  readonly preloaded: number;
  readonly children: ChildrenResult;
  /** By groups held at the time of each push. */
  readonly buckets: PushBucket[];
  /** All pushes of the run as one bucket. */
  readonly overall: PushBucket | undefined;
  /** Groups the gateway reported when the children were done. */
  readonly groupsAtEnd: number;
  /** One GET of its `/metrics`, as a Prometheus scrape would make it then. */
  readonly scrape: Scrape;
}

/** One GET of a gateway's `/metrics`: it runs the same consistency check as a checked push. */
export interface Scrape {
  readonly groups: number;
  readonly ms: number;
  readonly bytes: number;
  readonly serverCpuMs: number;
}

/** The seeding of a gateway with groups over one kept-alive connection pool (no child processes). */
export interface SeedResult {
  readonly groups: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly serverCpuMsPerPush: number;
}

const childJob =
  (opts: SimOptions, url: string, prefix: string) =>
  (index: number): ChildJob => ({
    index,
    kind: 'pushgateway',
    url,
    job: JOB,
    instance: `${prefix}-${index}`,
    flushes: opts.flushes,
    workMs: opts.workMs,
    flushTimeoutMs: 30_000,
    mode: 'stop',
    killWaitMs: 0,
  });

/** Children against `gw`, each its own group, with the gateway's CPU and RSS sampled throughout. */
export async function measure(
  opts: SimOptions,
  gw: E2EServer,
  run: {
    label: string;
    prefix: string;
    flags: readonly string[];
    count: number;
    concurrency: number;
    deadline: number;
    preloaded: number;
  },
): Promise<GatewayRun> {
  const proc = sampleProc(gw.pid);
  const children = await runChildren({
    count: run.count,
    concurrency: run.concurrency,
    deadline: run.deadline,
    jobFor: childJob(opts, gw.url, run.prefix),
  });
  proc.read();
  const scrape = await scrapeGateway(gw.url, proc);
  proc.stop();
  return {
    label: run.label,
    flags: run.flags,
    preloaded: run.preloaded,
    children,
    buckets: pushBuckets(children.reports, opts.bucket, proc, run.preloaded),
    overall: pushBuckets(children.reports, Number.MAX_SAFE_INTEGER, proc, 0)[0],
    groupsAtEnd: scrape.groups,
    scrape,
  };
}

/** A gateway that starts empty: the group count grows by one per child. */
export async function growthRun(
  opts: SimOptions,
  label: string,
  prefix: string,
  flags: readonly string[],
  deadline: number,
): Promise<GatewayRun> {
  const gw = await startPushgateway({ extraArgs: flags });
  try {
    const concurrency = opts.concurrency;
    return await measure(opts, gw, {
      label,
      prefix,
      flags,
      count: opts.n,
      concurrency,
      deadline,
      preloaded: 0,
    });
  } finally {
    await gw.dispose();
  }
}

/** Scrapes a gateway once, timed; its groups are its `push_time_seconds` series, one per group. */
export async function scrapeGateway(url: string, proc?: ProcSampler): Promise<Scrape> {
  proc?.read();
  const cpuBefore = proc?.readings.at(-1)?.cpuMs ?? 0;
  const t0 = performance.now();
  const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(60_000) });
  const text = await response.text();
  const ms = performance.now() - t0;
  proc?.read();
  return {
    groups: text.split('\n').filter((line) => line.startsWith('push_time_seconds{')).length,
    ms,
    bytes: Buffer.byteLength(text),
    serverCpuMs: (proc?.readings.at(-1)?.cpuMs ?? 0) - cpuBefore,
  };
}

/**
 * PUTs the groups `seed-<from>` to `seed-<to - 1>` with the body procpush sends, 16 requests in flight on
 * kept-alive connections.
 */
export async function seedGroups(gw: E2EServer, from: number, to: number): Promise<SeedResult> {
  const groups = Math.max(0, to - from);
  const sample = { timestampMs: Date.now(), memoryBytes: 50e6, memoryPeakBytes: 60e6, cpuPercent: 1.5 };
  const body = encodeText(toMetricPoints(sample, { memoryRatio: 0.015, cpuPercent: 0.5 }), '');
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const proc = sampleProc(gw.pid);
  const started = Date.now();
  let next = from;
  const put = (index: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request(
        `${gw.url}/metrics/job/${JOB}/instance/seed-${index}`,
        { method: 'PUT', agent, headers: { 'Content-Type': 'text/plain; version=0.0.4' } },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode !== undefined && res.statusCode < 300
              ? resolve()
              : reject(new Error(`seed PUT got ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < to) await put(next++);
    }),
  );
  const ended = Date.now();
  proc.read();
  proc.stop();
  agent.destroy();
  const seconds = (ended - started) / 1000;
  return {
    groups,
    seconds,
    perSecond: seconds > 0 ? groups / seconds : Number.NaN,
    serverCpuMsPerPush: proc.cpuBetween(started, ended) / Math.max(1, groups),
  };
}

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { silentServer } from '../helpers/silent-server.js';

// Signals and exit codes can only be seen from outside: each test runs a small script in a real child process
// that imports the built package, as an application would, and watches how the child ends.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIST_ENTRY = join(ROOT, 'dist/node.js');
const WAIT_MS = 5000;

let dir: string;
let scripts = 0;

beforeAll(async () => {
  // `npm test` builds first (pretest); a bare `vitest run` may find no dist/ yet.
  if (!existsSync(DIST_ENTRY)) {
    await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT });
  }
  dir = await mkdtemp(join(tmpdir(), 'procpush-shutdown-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** performance.now() when the child ended. */
  readonly at: number;
}

interface Child {
  readonly process: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout holds `text`; rejects with the output so far after WAIT_MS. */
  waitFor(text: string): Promise<void>;
  /** Resolves when the child has ended and its output is read; SIGKILLs it after `timeoutMs`. */
  exit(timeoutMs?: number): Promise<Exit>;
  running(): boolean;
}

/**
 * Writes `body` after a prelude that imports the built package, and runs it. `say` writes a line to stdout
 * synchronously, so the order of lines is the order of events.
 */
async function run(body: string): Promise<Child> {
  const file = join(dir, `child-${++scripts}.mjs`);
  const prelude = [
    `import { startReporter } from ${JSON.stringify(pathToFileURL(DIST_ENTRY).href)};`,
    `import { writeSync } from 'node:fs';`,
    `const say = (line) => writeSync(1, line + '\\n');`,
    // The application's own work, which keeps the process alive until a signal ends it.
    `const keepAlive = () => setInterval(() => {}, 1000);`,
  ].join('\n');
  await writeFile(file, `${prelude}\n${body}\n`);
  const child = spawn(process.execPath, ['--unhandled-rejections=strict', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const waiter of waiters) waiter();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<Exit>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, at: performance.now() }));
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  onTestFinished(() => {
    if (running()) child.kill('SIGKILL');
  });
  const describeOutput = () => `stdout:\n${out}\nstderr:\n${err}`;

  return {
    process: child,
    stdout: () => out,
    stderr: () => err,
    running,
    waitFor(text) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!out.includes(text)) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`No "${text}" from the child within ${WAIT_MS} ms\n${describeOutput()}`));
        }, WAIT_MS);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async exit(timeoutMs = WAIT_MS) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const outcome = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        child.kill('SIGKILL');
        throw new Error(`The child did not end within ${timeoutMs} ms\n${describeOutput()}`);
      }
      return outcome;
    },
  };
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

const METRIC_NAMES = [
  'process_memory_bytes',
  'process_memory_peak_bytes',
  'process_cpu_percent',
  'tracing_memory_overhead_bytes',
  'tracing_cpu_overhead_percent',
];

/** Asserts that exactly one sample of all five metrics was printed for `job`. */
function expectOneSample(stdout: string, job: string): void {
  for (const name of METRIC_NAMES) {
    const line = new RegExp(`^${name}\\{instance="[^"]+",job="${job}"\\} \\S+$`, 'gm');
    expect(stdout.match(line), `one ${name} for ${job} in:\n${stdout}`).toHaveLength(1);
  }
}

describe('on a signal', () => {
  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)(
    '%s prints the final sample and ends the process by the signal (exit status %i)',
    async (signal, _status) => {
      const child = await run(`
      startReporter({ job: 'signalled', intervalMs: 60_000 });
      keepAlive();
      say('ready');
    `);
      await child.waitFor('ready');
      const sent = performance.now();
      child.process.kill(signal);
      const exit = await child.exit();

      expect(exit).toMatchObject({ code: null, signal });
      expect(exit.at - sent).toBeLessThan(2000);
      expectOneSample(child.stdout(), 'signalled');
      expect(child.stderr()).toBe('');
    },
  );

  it('leaves the exit to an application with its own SIGTERM listener, after printing the final sample', async () => {
    const child = await run(`
      startReporter({ job: 'app-decides', intervalMs: 60_000 });
      process.on('SIGTERM', () => {
        say('app: draining');
        setTimeout(() => {
          say('app: exiting');
          process.exit(7);
        }, 700);
      });
      keepAlive();
      say('ready');
    `);
    await child.waitFor('ready');
    const sent = performance.now();
    child.process.kill('SIGTERM');
    const exit = await child.exit();

    expect(exit).toMatchObject({ code: 7, signal: null });
    expect(exit.at - sent).toBeGreaterThanOrEqual(650);
    const stdout = child.stdout();
    expectOneSample(stdout, 'app-decides');
    expect(stdout.indexOf('process_memory_bytes{')).toBeLessThan(stdout.indexOf('app: exiting'));
    // The signal was not raised again at the application, whose listener ran once.
    expect(count(stdout, 'app: draining'), stdout).toBe(1);
  });

  it('prints a sample from each of two reporters and raises the signal again only once', async () => {
    const child = await run(`
      startReporter({ job: 'first', intervalMs: 60_000 });
      startReporter({ job: 'second', intervalMs: 60_000 });
      const kill = process.kill.bind(process);
      process.kill = (pid, signal) => {
        say('raised ' + signal);
        return kill(pid, signal);
      };
      keepAlive();
      say('ready, SIGTERM listeners: ' + process.listenerCount('SIGTERM'));
    `);
    await child.waitFor('ready');
    child.process.kill('SIGTERM');
    const exit = await child.exit();

    expect(exit).toMatchObject({ code: null, signal: 'SIGTERM' });
    const stdout = child.stdout();
    expect(stdout).toContain('ready, SIGTERM listeners: 1');
    expect(count(stdout, 'job="first"'), stdout).toBe(5);
    expect(count(stdout, 'job="second"'), stdout).toBe(5);
    expect(count(stdout, 'raised '), stdout).toBe(1);
    expect(stdout).toContain('raised SIGTERM');
  });

  it('installs no listeners with shutdown: false, so SIGTERM ends the process at once and silently', async () => {
    const child = await run(`
      startReporter({ job: 'no-hooks', intervalMs: 60_000, shutdown: false });
      keepAlive();
      const counts = ['SIGTERM', 'SIGINT', 'beforeExit'].map((event) => process.listenerCount(event));
      say('ready, listeners: ' + counts.join(','));
    `);
    await child.waitFor('ready');
    child.process.kill('SIGTERM');
    const exit = await child.exit();

    expect(exit).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(child.stdout()).toBe('ready, listeners: 0,0,0\n');
  });
});

describe('a job that finishes on its own', () => {
  it('prints the final sample once on beforeExit and exits 0', async () => {
    const child = await run(`
      startReporter({ job: 'finishes', intervalMs: 60_000 });
      let checksum = 0;
      for (let i = 0; i < 1e6; i++) checksum = (checksum + i) % 997;
      await new Promise((resolve) => setTimeout(resolve, 100));
      say('work done ' + checksum);
    `);
    const exit = await child.exit();

    expect(exit).toMatchObject({ code: 0, signal: null });
    const stdout = child.stdout();
    expectOneSample(stdout, 'finishes');
    expect(stdout.indexOf('work done')).toBeLessThan(stdout.indexOf('process_memory_bytes{'));
    expect(child.stderr()).toBe('');
  });
});

describe('a final push to a target that does not answer', () => {
  /** A child whose reporter pushes to `url` with shutdown.timeoutMs `timeoutMs`, once it says it is ready. */
  async function slowGatewayChild(url: string, timeoutMs: number) {
    const child = await run(`
      startReporter({
        job: 'slow-gateway',
        intervalMs: 60_000,
        target: { type: 'pushgateway', url: ${JSON.stringify(url)} },
        shutdown: { timeoutMs: ${timeoutMs} },
      });
      keepAlive();
      say('ready');
    `);
    await child.waitFor('ready');
    return child;
  }

  function bounded(promise: Promise<void>, what: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${what} did not happen within ${WAIT_MS} ms`)),
        WAIT_MS,
      );
      promise.then(
        () => {
          clearTimeout(timer);
          resolve();
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  it('ends the process at once on a second SIGTERM', async () => {
    const gateway = await silentServer();
    const child = await slowGatewayChild(gateway.url, 3000);
    child.process.kill('SIGTERM');
    await bounded(gateway.requested, 'The final push');
    // The first SIGTERM is waiting for the final push, up to its 3 s.
    expect(child.running()).toBe(true);

    const second = performance.now();
    child.process.kill('SIGTERM');
    const exit = await child.exit();

    expect(exit).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(exit.at - second).toBeLessThan(1000);
  });

  it('gives up after shutdown.timeoutMs, warns, and still ends the process by the signal', async () => {
    const gateway = await silentServer();
    const child = await slowGatewayChild(gateway.url, 500);
    const sent = performance.now();
    child.process.kill('SIGTERM');
    const exit = await child.exit();

    expect(exit).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(exit.at - sent).toBeGreaterThanOrEqual(450);
    expect(exit.at - sent).toBeLessThan(2500);
    expect(child.stderr()).toContain('procpush:');
    await bounded(gateway.requested, 'The final push');
  });

  it('does not let a push already in flight hold the exit past shutdown.timeoutMs', async () => {
    const gateway = await silentServer();
    // The interval's push hangs for up to its 10 s flush timeout, and the final push queues behind it.
    const child = await run(`
      startReporter({
        job: 'busy-gateway',
        intervalMs: 100,
        flushTimeoutMs: 10_000,
        target: { type: 'pushgateway', url: ${JSON.stringify(gateway.url)} },
        shutdown: { timeoutMs: 500 },
      });
      keepAlive();
      say('ready');
    `);
    await child.waitFor('ready');
    await bounded(gateway.requested, 'The push of the first interval');
    const sent = performance.now();
    child.process.kill('SIGTERM');
    const exit = await child.exit();

    expect(exit).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(exit.at - sent).toBeGreaterThanOrEqual(450);
    expect(exit.at - sent).toBeLessThan(2500);
  });
});

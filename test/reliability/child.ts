/**
 * Runs a scenario of the reliability suite in a real child process: `node --unhandled-rejections=strict`, so
 * an unhandled rejection anywhere in procpush ends the child with a non-zero status, and with only procpush
 * and the scenario in it, so `/proc/self/fd` and `process.getActiveResourcesInfo()` count procpush's sockets
 * and nothing of vitest's. Scenarios are TypeScript files in `fixtures/`, run on the sources through tsx.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defer } from './cleanup.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** How a child ended, and everything it printed. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** performance.now() of this process when the child ended. */
  readonly at: number;
}

/** A running scenario. */
export interface Child {
  readonly process: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout holds `text`; rejects with the output so far after `timeoutMs`. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  /** Resolves when the child has ended; SIGKILLs it and rejects after `timeoutMs`. */
  exit(timeoutMs?: number): Promise<ChildExit>;
}

/** Options of {@link runFixture}. */
export interface RunOptions {
  /** Variables added to a copy of this process's environment (without NODE_OPTIONS or any proxy). */
  readonly env?: Record<string, string>;
  /** Extra flags for node, e.g. `--expose-gc`. */
  readonly nodeFlags?: readonly string[];
  /** Replaces the environment entirely (the secrets suite controls every variable). */
  readonly cleanEnv?: boolean;
}

const PROXY_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];

/** Starts `fixtures/<name>` with `args`; the child is SIGKILLed when the test ends, if still running. */
export function runFixture(name: string, args: readonly string[] = [], options: RunOptions = {}): Child {
  const base: Record<string, string | undefined> = options.cleanEnv
    ? { PATH: process.env.PATH, HOME: process.env.HOME }
    : { ...process.env };
  delete base.NODE_OPTIONS;
  for (const variable of PROXY_VARIABLES) delete base[variable];
  for (const key of Object.keys(base)) if (key.startsWith('RESOURCE_ATTRIBUTION_')) delete base[key];
  const child = spawn(
    process.execPath,
    [
      '--unhandled-rejections=strict',
      ...(options.nodeFlags ?? []),
      '--import',
      'tsx',
      `${FIXTURES}${name}`,
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...base, ...options.env }, cwd: FIXTURES },
  );
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
  const exited = new Promise<ChildExit>((resolve) => {
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout: out, stderr: err, at: performance.now() }),
    );
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  defer(() => {
    if (running()) child.kill('SIGKILL');
  });
  const describeOutput = () => `stdout:\n${out.slice(-4000)}\nstderr:\n${err.slice(-4000)}`;
  return {
    process: child,
    stdout: () => out,
    stderr: () => err,
    waitFor(text, timeoutMs = 15_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!out.includes(text)) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`No "${text}" from ${name} within ${timeoutMs} ms\n${describeOutput()}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async exit(timeoutMs = 30_000) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const outcome = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        child.kill('SIGKILL');
        throw new Error(`${name} did not end within ${timeoutMs} ms\n${describeOutput()}`);
      }
      return outcome;
    },
  };
}

/** The JSON a scenario printed on its line that starts with `prefix` (the last such line). */
export function report<T>(exit: { stdout: string }, prefix = 'REPORT '): T {
  const line = exit.stdout
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .at(-1);
  if (line === undefined) throw new Error(`No "${prefix}" line in:\n${exit.stdout}`);
  return JSON.parse(line.slice(prefix.length)) as T;
}

/** Runs a scenario to its end and expects it to exit 0, with the output in the failure message. */
export async function runToEnd(
  name: string,
  args: readonly string[] = [],
  options: RunOptions & { timeoutMs?: number } = {},
): Promise<ChildExit> {
  const exit = await runFixture(name, args, options).exit(options.timeoutMs);
  if (exit.code !== 0) {
    throw new Error(
      `${name} ended with ${exit.signal ?? `exit code ${exit.code}`}\nstdout:\n${exit.stdout.slice(-4000)}\nstderr:\n${exit.stderr.slice(-4000)}`,
    );
  }
  return exit;
}

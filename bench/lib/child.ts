/**
 * Runs one measurement in a fresh `node --expose-gc` process on a plain `.mjs` script, so neither tsx nor the
 * orchestrator's own modules are in the measured process. The child prints its result as one JSON line.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The directory of the child scripts. */
export const CHILDREN_DIR = fileURLToPath(new URL('../children/', import.meta.url));

let distDir: string | undefined;

/** Makes every child import procpush from `dir` (a snapshot of dist/) instead of the live dist/. */
export function useDist(dir: string | undefined): void {
  distDir = dir;
}

/** What a finished child gave back. */
export interface ChildRun<T> {
  /** The last JSON line the child printed. */
  readonly result: T;
  /** From spawn() to the 'exit' event, measured in this process. */
  readonly wallMs: number;
}

/**
 * The environment of every child: ours minus the variables that would change what is measured (procpush's
 * own configuration, proxies that would route loopback traffic elsewhere, NODE_OPTIONS hooks such as tsx's).
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^RESOURCE_ATTRIBUTION_|_PROXY$|^NODE_OPTIONS$|^PROCPUSH_BENCH_/i.test(name)) continue;
    env[name] = value;
  }
  return { ...env, ...(distDir !== undefined ? { PROCPUSH_BENCH_DIST: distDir } : {}), ...extra };
}

/** Runs `children/<script>` with `args` and resolves with its JSON result; rejects on a non-zero exit. */
export function runChild<T>(
  script: string,
  args: readonly string[] = [],
  options: { timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<ChildRun<T>> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--expose-gc', `${CHILDREN_DIR}${script}`, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnv(options.env),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4096);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const wallMs = performance.now() - started;
      clearTimeout(timer);
      const line = stdout
        .trim()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{'));
      if (code !== 0 || line === undefined) {
        const how = signal === null ? `exit code ${code}` : `signal ${signal}`;
        reject(new Error(`${script} ${args.join(' ')} ended with ${how}\n${stderr}`));
        return;
      }
      resolve({ result: JSON.parse(line) as T, wallMs });
    });
  });
}

/** `items` rotated left by `by`, so that no contender always runs first (or last) in a round. */
export function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

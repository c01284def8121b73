/**
 * The textfile target through the public API: node_exporter's collector must only ever read a whole file, the
 * final sample lands on stop, and a directory it cannot write to is a `ConfigError` at start.
 */
import { spawnSync } from 'node:child_process';
import { type FSWatcher, watch } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ConfigError, type Reporter, type ReporterOptions, startReporter } from 'procpush';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const NAMES = [
  'process_memory_bytes',
  'process_memory_peak_bytes',
  'process_cpu_percent',
  'tracing_memory_overhead_bytes',
  'tracing_cpu_overhead_percent',
];
const LABELS = '{instance="worker-7",job="nightly",team="data"}';

let dir: string;
let reporters: Reporter[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'procpush-textfile-'));
  reporters = [];
});
afterEach(async () => {
  await Promise.all(reporters.map((reporter) => reporter.stop()));
  await rm(dir, { recursive: true, force: true });
});

function start(path: string, target: { deleteOnStop?: boolean } = {}, rest: ReporterOptions = {}): Reporter {
  const reporter = startReporter({
    target: { type: 'textfile', path, ...target },
    job: 'nightly',
    instance: 'worker-7',
    labels: { team: 'data' },
    shutdown: false,
    intervalMs: 60_000,
    flushTimeoutMs: 5_000,
    ...rest,
  });
  reporters.push(reporter);
  return reporter;
}

/** One whole push: five families of HELP, TYPE gauge and one sample with our labels (a pattern, for the reader thread too). */
const WHOLE = (() => {
  const labels = LABELS.replace(/[{}]/g, '\\$&');
  const family = (name: string) =>
    `# HELP ${name} [^\\n]+\\n# TYPE ${name} gauge\\n${name}${labels} [0-9.e+]+\\n`;
  return `^${NAMES.map(family).join('')}$`;
})();

function isWhole(text: string): boolean {
  return new RegExp(WHOLE).test(text);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

describe('writing the file', () => {
  it('writes the five gauges with every label, through a temp file renamed over the path', async () => {
    const path = join(dir, 'metrics.prom');
    const events: string[] = [];
    const watcher: FSWatcher = watch(dir, (event, name) => events.push(`${event} ${name}`));
    try {
      const reporter = start(path);
      const result = await reporter.flush();
      expect(result).toEqual({ ok: true, attempts: 1 });
      expect(isWhole(await readFile(path, 'utf8'))).toBe(true);
      // inotify reports asynchronously: wait for the rename that made the file appear.
      for (let i = 0; i < 100 && !events.includes('rename metrics.prom'); i++) await sleep(20);
    } finally {
      watcher.close();
    }
    // Written as a file node_exporter ignores (not *.prom), then renamed; the final name is never written to.
    const temp = events.find((event) => event.startsWith('change .metrics.prom.'))?.slice('change '.length);
    expect(temp).toMatch(new RegExp(`^\\.metrics\\.prom\\.${process.pid}\\.\\d+\\.tmp$`));
    expect(events).toContain(`rename ${temp}`);
    expect(events).toContain('rename metrics.prom');
    expect(events).not.toContain('change metrics.prom');
    expect(await readdir(dir)).toEqual(['metrics.prom']);
    expect((await stat(path)).mode & 0o777).toBe(0o644);
  });

  it('gives two reporters writing the same path their own temp files', async () => {
    const path = join(dir, 'metrics.prom');
    const first = start(path);
    const second = start(path);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? first : second).flush()));
    expect(results.every((result) => result.ok)).toBe(true);
    expect(isWhole(await readFile(path, 'utf8'))).toBe(true);
    expect(await readdir(dir)).toEqual(['metrics.prom']);
  });

  it('never lets a reader see a partial file while it is rewritten again and again', async () => {
    const path = join(dir, 'metrics.prom');
    const reporter = start(path);
    await reporter.flush();
    // A reader on another thread, in a tight synchronous loop, as the collector may read at any moment.
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const reader = new Worker(
      `
      const { workerData, parentPort } = require('node:worker_threads');
      const { readFileSync } = require('node:fs');
      const whole = new RegExp(workerData.pattern);
      let reads = 0;
      const torn = [];
      while (Atomics.load(workerData.stop, 0) === 0) {
        let text;
        try {
          text = readFileSync(workerData.path, 'utf8');
        } catch (error) {
          text = 'read failed: ' + error.code;
        }
        reads++;
        if (!whole.test(text) && torn.length < 3) torn.push(text);
      }
      parentPort.postMessage({ reads, torn });
      `,
      { eval: true, workerData: { path, stop, pattern: WHOLE } },
    );
    const report = new Promise<{ reads: number; torn: string[] }>((resolve, reject) => {
      reader.once('message', resolve);
      reader.once('error', reject);
    });
    try {
      // Let the reader get going, so the writes below race real reads.
      await sleep(50);
      for (let i = 0; i < 300; i++) expect((await reporter.flush()).ok).toBe(true);
    } finally {
      Atomics.store(stop, 0, 1);
    }
    const { reads, torn } = await report;
    await reader.terminate();
    expect(torn).toEqual([]);
    // Thousands on an idle machine; enough to have raced the writes even on a loaded one.
    expect(reads).toBeGreaterThan(100);
    expect(await readdir(dir)).toEqual(['metrics.prom']);
  });

  it('writes the final sample on stop', async () => {
    const path = join(dir, 'metrics.prom');
    const reporter = start(path);
    await reporter.flush();
    await unlink(path);
    await reporter.stop();
    expect(isWhole(await readFile(path, 'utf8'))).toBe(true);
    expect(reporter.stats()).toMatchObject({ pushes: 2, failures: 0 });
  });

  it('removes the file on stop with deleteOnStop, and leaves no temp file behind', async () => {
    const path = join(dir, 'metrics.prom');
    const reporter = start(path, { deleteOnStop: true });
    await reporter.flush();
    expect(await exists(path)).toBe(true);
    await reporter.stop();
    expect(await readdir(dir)).toEqual([]);
  });

  it('reports a file it can no longer write as a failed push, not a crash', async () => {
    const sub = join(dir, 'sub');
    await mkdir(sub);
    const background: Error[] = [];
    const reporter = start(join(sub, 'metrics.prom'), {}, { onError: (error) => background.push(error) });
    await rm(sub, { recursive: true });
    const result = await reporter.flush();
    expect(result).toMatchObject({ ok: false, attempts: 1, error: { code: 'ERR_PROCPUSH_IO' } });
    expect(result.error?.message).toContain(join(sub, 'metrics.prom'));
  });
});

describe('a directory that cannot take the file is a ConfigError at start', () => {
  function expectConfigError(path: string, reason: string): void {
    let thrown: unknown;
    try {
      start(path);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(thrown).toMatchObject({ code: 'ERR_PROCPUSH_CONFIG', field: 'target.path' });
    expect((thrown as Error).message).toContain('`target.path`');
    expect((thrown as Error).message).toContain(reason);
  }

  it('names target.path when the directory does not exist', () => {
    expectConfigError(join(dir, 'no-such-dir', 'metrics.prom'), `${join(dir, 'no-such-dir')} does not exist`);
  });

  it('names target.path when the "directory" is a regular file', async () => {
    await writeFile(join(dir, 'plain-file'), 'x');
    expectConfigError(join(dir, 'plain-file', 'metrics.prom'), 'is not a writable directory');
  });

  // Root passes every W_OK check, so as root the read-only directory is tried by a child running as `nobody`.
  const root = process.getuid?.() === 0;

  it('names target.path when the directory is read-only to the user running it', async () => {
    const readOnly = join(dir, 'read-only');
    await mkdir(readOnly);
    await chmod(readOnly, 0o555);
    if (!root) {
      expectConfigError(join(readOnly, 'metrics.prom'), 'is not a writable directory');
      return;
    }
    // mkdtemp made `dir` 0700; nobody must be able to reach the directory to find it read-only.
    await chmod(dir, 0o755);
    const script = join(dir, 'start.ts');
    const entry = fileURLToPath(new URL('../../src/node.ts', import.meta.url));
    await writeFile(
      script,
      `import { startReporter } from ${JSON.stringify(entry)};
      try {
        startReporter({ target: { type: 'textfile', path: ${JSON.stringify(join(readOnly, 'metrics.prom'))} }, shutdown: false });
        console.log(JSON.stringify({ thrown: false }));
      } catch (error) {
        console.log(JSON.stringify({ name: error.name, code: error.code, field: error.field, message: error.message }));
      }
      `,
      { mode: 0o644 },
    );
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], {
      uid: 65534,
      gid: 65534,
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.error, `could not run ${process.execPath} as nobody`).toBeUndefined();
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({
      name: 'ConfigError',
      code: 'ERR_PROCPUSH_CONFIG',
      field: 'target.path',
      message: `Expected the directory of \`target.path\` to be writable, but ${readOnly} is not a writable directory`,
    });
  });
});

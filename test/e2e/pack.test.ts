import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A new user: the packed tarball installed into an empty project, used the way the README says, with nothing
// from this repository on the module path.

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const METRIC_NAMES = [
  'process_memory_bytes',
  'process_memory_peak_bytes',
  'process_cpu_percent',
  'tracing_memory_overhead_bytes',
  'tracing_cpu_overhead_percent',
];

let dir: string;
let project: string;
let packedFiles: string[];

function node(args: string[], options: { timeout?: number } = {}) {
  return exec(process.execPath, args, {
    cwd: project,
    timeout: options.timeout ?? 10_000,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
}

beforeAll(async () => {
  // `npm test` builds first (pretest); a bare `vitest run` may find no dist/ yet.
  if (!existsSync(join(ROOT, 'dist/node.js')))
    await exec('npm', ['run', 'build'], { cwd: ROOT, timeout: 60_000 });
  dir = await mkdtemp(join(tmpdir(), 'procpush-pack-'));
  const packed = await exec('npm', ['pack', '--pack-destination', dir, '--json'], {
    cwd: ROOT,
    timeout: 30_000,
  });
  const [info] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
  packedFiles = info.files.map((file) => file.path);

  project = join(dir, 'project');
  await mkdir(project);
  await writeFile(join(project, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  const install = (mode: string) =>
    exec('npm', ['install', join(dir, info.filename), '--no-audit', '--no-fund', mode], {
      cwd: project,
      timeout: 45_000,
    });
  // The dependencies come from the npm cache; --prefer-offline only where the cache lacks metadata.
  await install('--offline').catch(() => install('--prefer-offline'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships the bundled entries, their chunks, the types and the bundled licenses, and no sources', () => {
    expect(packedFiles).toEqual(
      expect.arrayContaining([
        'package.json',
        'dist/node.js',
        'dist/node.d.ts',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/cli.js',
        'dist/THIRD-PARTY-LICENSES.md',
      ]),
    );
    // scripts/build.mjs: every other JavaScript file is a chunk the entries share or load lazily.
    const javascript = packedFiles.filter((path) => path.endsWith('.js'));
    expect(javascript.filter((path) => !/^dist\/(node|index|cli)\.js$/.test(path))).toEqual(
      javascript.filter((path) => /^dist\/chunks\/[\w-]+\.js$/.test(path)),
    );
    expect(javascript.filter((path) => path.startsWith('dist/chunks/node-undici-'))).toHaveLength(1);
    expect(packedFiles.filter((path) => /^(src|test|examples|bench|scripts)\//.test(path))).toEqual([]);
    expect(packedFiles.filter((path) => path.endsWith('.map'))).toEqual([]);
  });

  it('installs no dependency but undici, and needs none other at run time', async () => {
    const installed = JSON.parse(await readFile(join(project, 'node_modules/procpush/package.json'), 'utf8'));
    expect(Object.keys(installed.dependencies ?? {})).toEqual(['undici']);
    // Every bare specifier left in the shipped JavaScript: builtins, and undici (imported only behind a proxy).
    const specifiers = new Set<string>();
    for (const path of packedFiles.filter((file) => file.endsWith('.js'))) {
      const text = await readFile(join(project, 'node_modules/procpush', path), 'utf8');
      for (const match of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*)["']([^"'.][^"']*)["']/g)) {
        specifiers.add(match[1]!.replace(/^node:.*/, 'node:*'));
      }
    }
    expect([...specifiers].sort()).toEqual(['node:*', 'undici']);
    const licenses = await readFile(
      join(project, 'node_modules/procpush/dist/THIRD-PARTY-LICENSES.md'),
      'utf8',
    );
    for (const name of ['valibot', 'p-retry', 'is-network-error', 'snappyjs']) {
      expect(licenses).toMatch(new RegExp(`^## ${name} \\S+ \\(MIT\\)$`, 'm'));
    }
  });

  it('runs the procpush command from the installed bin: `npx procpush --version`', async () => {
    const bin = join(project, 'node_modules/procpush/dist/cli.js');
    expect((await readFile(bin, 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(true);
    const { stdout } = await exec('npx', ['--no-install', 'procpush', '--version'], {
      cwd: project,
      timeout: 10_000,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(stdout.trim()).toBe(version);
  });

  it('prints the five metrics with job and instance from a plain .mjs file, and the process ends by itself', async () => {
    await writeFile(
      join(project, 'job.mjs'),
      [
        `import { startReporter } from 'procpush';`,
        `const reporter = startReporter({ intervalMs: 200, job: 'new-user', instance: 'laptop' });`,
        `await new Promise((resolve) => setTimeout(resolve, 500));`,
        `await reporter.stop();`,
      ].join('\n'),
    );
    const { stdout, stderr } = await node(['--unhandled-rejections=strict', 'job.mjs']);

    for (const name of METRIC_NAMES) {
      expect(stdout).toMatch(new RegExp(`^${name}\\{instance="laptop",job="new-user"\\} \\S+$`, 'm'));
    }
    expect(stderr).toBe('');
  });

  it('resolves to the Node entry under Node and to the edge entry under workerd, with the same exports', async () => {
    const probe = [
      '--input-type=module',
      '-e',
      `const m = await import('procpush');
       console.log(JSON.stringify({ url: import.meta.resolve('procpush'), names: Object.keys(m).sort() }));`,
    ];
    const onNode = JSON.parse((await node(probe)).stdout) as { url: string; names: string[] };
    const onWorkerd = JSON.parse((await node(['--conditions=workerd', ...probe])).stdout) as typeof onNode;

    expect(onNode.url).toMatch(/\/node_modules\/procpush\/dist\/node\.js$/);
    expect(onWorkerd.url).toMatch(/\/node_modules\/procpush\/dist\/index\.js$/);
    expect(onNode.names).toEqual(
      expect.arrayContaining(['ConfigError', 'pushOnce', 'startReporter', 'withReporter']),
    );
    expect(onWorkerd.names).toEqual(onNode.names);
  });

  it('keeps the names of the error classes in both bundles (error.name is new.target.name)', async () => {
    const probe = [
      '--input-type=module',
      '-e',
      `const m = await import('procpush');
       console.log(JSON.stringify(['ConfigError', 'ProcpushError', 'PushError', 'SampleError'].map((n) => m[n].name)));`,
    ];
    const names = ['ConfigError', 'ProcpushError', 'PushError', 'SampleError'];
    expect(JSON.parse((await node(probe)).stdout)).toEqual(names);
    expect(JSON.parse((await node(['--conditions=workerd', ...probe])).stdout)).toEqual(names);
  });

  it('runs the batch-job example as copied: samples within 2 s that match /proc, then ends by itself', async () => {
    await copyFile(join(ROOT, 'examples/batch-job.ts'), join(project, 'batch-job.ts'));
    const child = spawn(join(ROOT, 'node_modules/.bin/tsx'), ['batch-job.ts'], {
      cwd: project,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    // A safety net only; SIGTERM, because tsx passes it on to the node process it started.
    const killer = setTimeout(() => child.kill('SIGTERM'), 15_000);
    let stdout = '';
    let stderr = '';
    let pidSeenAt: number | undefined;
    let firstSampleAt: number | undefined;
    let procStatus: Promise<string> | undefined;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      pidSeenAt ??= /pid \d+/.test(stderr) ? performance.now() : undefined;
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (procStatus === undefined && /^tracing_cpu_overhead_percent\{.*\n/m.test(stdout)) {
        // Read at once, while the job still runs, to compare with the sample just printed.
        firstSampleAt = performance.now();
        procStatus = readFile(`/proc/${/pid (\d+)/.exec(stderr)?.[1]}/status`, 'utf8');
      }
    });
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      child.on('close', (c, s) => resolve([c, s])),
    );
    clearTimeout(killer);

    expect({ code, signal }, stderr).toEqual({ code: 0, signal: null });
    expect(firstSampleAt! - pidSeenAt!).toBeLessThan(2000);
    for (const name of METRIC_NAMES) expect(stdout).toContain(`${name}{instance=`);
    // One sample a second for about 2.5 s, and the final one on stop().
    expect(
      stdout.match(/^process_memory_bytes\{[^}]*job="batch-job"[^}]*\} \d+$/gm)?.length,
    ).toBeGreaterThanOrEqual(2);

    const status = await procStatus!;
    const kib = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1]) * 1024;
    const printed = (name: string) =>
      Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(stdout)?.[1]);
    // The job grows by 2 MiB a step, so the reading a moment later may be a little larger.
    for (const [name, field] of [
      ['process_memory_bytes', 'VmRSS'],
      ['process_memory_peak_bytes', 'VmHWM'],
    ] as const) {
      const fromProc = kib(field);
      expect(fromProc).toBeGreaterThan(10 * 1024 * 1024);
      expect(Math.abs(printed(name) - fromProc), `${name} vs ${field}`).toBeLessThanOrEqual(
        Math.max(8 * 1024 * 1024, fromProc * 0.1),
      );
    }
  }, 20_000);
});

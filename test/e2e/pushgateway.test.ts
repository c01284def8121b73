/**
 * procpush against the real Pushgateway (Debian's prometheus-pushgateway), asserted through the gateway's own
 * `/api/v1/metrics` and `/metrics`: what it stores is what a Prometheus scrape will see.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type PushgatewayTarget, pushOnce, type ReporterOptions, startReporter } from 'procpush';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS } from '../../src/metrics.js';
import { FIVE, statusBytes } from '../helpers/five.js';
import {
  describeE2E,
  type E2EServer,
  type PushgatewayGroup,
  pushgatewayGroups,
  startPushgateway,
} from './servers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HELP: Record<string, string> = Object.fromEntries(Object.values(METRICS).map((m) => [m.name, m.help]));

describeE2E('pushing to a real Pushgateway', ['prometheus-pushgateway'], () => {
  let gw: E2EServer;
  beforeAll(async () => {
    gw = await startPushgateway();
  });

  function options(target: Partial<PushgatewayTarget>, rest: ReporterOptions): ReporterOptions {
    return {
      target: { type: 'pushgateway', url: gw.url, ...target },
      instance: 'worker-7',
      shutdown: false,
      intervalMs: 60_000,
      flushTimeoutMs: 10_000,
      ...rest,
    };
  }

  /** The group whose job is `job` (each test pushes under its own job), or undefined. */
  async function group(job: string): Promise<PushgatewayGroup | undefined> {
    const groups = (await pushgatewayGroups(gw.url)).filter((g) => g.labels.job === job);
    if (groups.length > 1) throw new Error(`Expected one group of job ${job}, got ${groups.length}`);
    return groups[0];
  }

  async function mustGroup(job: string): Promise<PushgatewayGroup> {
    const found = await group(job);
    if (!found) throw new Error(`no group of job ${job}\n${gw.logs()}`);
    return found;
  }

  it('stores the five gauges with job, instance and the user labels, as this process measures itself', async () => {
    const hwmBefore = statusBytes('VmHWM');
    const rssBefore = statusBytes('VmRSS');
    const result = await pushOnce(options({}, { job: 'e2e-five', labels: { team: 'data', region: 'eu-1' } }));
    const rssAfter = statusBytes('VmRSS');
    const hwmAfter = statusBytes('VmHWM');
    expect(result, gw.logs()).toEqual({ ok: true, status: 200, attempts: 1 });

    const stored = await mustGroup('e2e-five');
    expect(stored.labels).toEqual({ job: 'e2e-five', instance: 'worker-7' });
    expect(stored.lastPushSuccessful).toBe(true);
    expect(Object.keys(stored.families).sort()).toEqual(FIVE);
    const value = (name: string): number => {
      const family = stored.families[name]!;
      expect(family.type).toBe('GAUGE');
      expect(family.help).toBe(HELP[name]);
      expect(family.metrics).toHaveLength(1);
      expect(family.metrics[0]!.labels).toEqual({
        job: 'e2e-five',
        instance: 'worker-7',
        team: 'data',
        region: 'eu-1',
      });
      return family.metrics[0]!.value!;
    };
    const rss = value('process_memory_bytes');
    expect(rss).toBeGreaterThan(Math.min(rssBefore, rssAfter) * 0.8);
    expect(rss).toBeLessThan(Math.max(rssBefore, rssAfter) * 1.2);
    // VmHWM is not strictly monotonic: the kernel records the high-water mark on munmap and exit, and reads it
    // as max(recorded, current RSS), so pages freed with madvise (as V8 and malloc do) can lower a later
    // reading. The pushed peak is the process's own VmHWM, so it agrees with ours closely, and is at least RSS.
    const peak = value('process_memory_peak_bytes');
    expect(peak).toBeGreaterThanOrEqual(rss);
    expect(peak).toBeGreaterThan(Math.min(hwmBefore, hwmAfter) * 0.95);
    expect(peak).toBeLessThan(Math.max(hwmBefore, hwmAfter) * 1.05);
    expect(value('process_cpu_percent')).toBeGreaterThanOrEqual(0);
    expect(value('process_cpu_percent')).toBeLessThanOrEqual(100);
    expect(value('tracing_memory_overhead_bytes')).toBe(Math.round(rss * 0.015));
    expect(value('tracing_cpu_overhead_percent')).toBe(0.5);
  });

  it('stores tricky grouping values exactly as given', async () => {
    const grouping = {
      space: 'a b',
      plus: 'a+b',
      percent: '100%',
      query: 'why?',
      hash: 'a#b',
      unicode: 'zürich 東京 ✓',
      slash: 'a/b/',
      empty: '',
      dot: '.',
      dots: '..',
      encoded: '%2F%20',
    };
    const job = 'e2e tricky/job?';
    const result = await pushOnce(options({ grouping }, { job }));
    expect(result, gw.logs()).toMatchObject({ ok: true });

    const stored = await mustGroup(job);
    expect(stored.labels).toEqual({ job, instance: 'worker-7', ...grouping });
    for (const family of Object.values(stored.families))
      expect(family.metrics[0]!.labels).toEqual({ job, instance: 'worker-7', ...grouping });
  });

  it('stores label values with quotes, backslashes and newlines intact, and they cannot add a series', async () => {
    const labels = { note: 'say "hi" \\ then\nbye', evil: 'x"} 1\nevil_metric{a="b', trailing: 'ends in \\' };
    const result = await pushOnce(options({}, { job: 'e2e-escaping', labels }));
    expect(result, gw.logs()).toMatchObject({ ok: true });

    const stored = await mustGroup('e2e-escaping');
    expect(Object.keys(stored.families).sort()).toEqual(FIVE);
    for (const family of Object.values(stored.families)) {
      expect(family.metrics).toHaveLength(1);
      expect(family.metrics[0]!.labels).toEqual({ job: 'e2e-escaping', instance: 'worker-7', ...labels });
    }
    for (const any of await pushgatewayGroups(gw.url))
      expect(Object.keys(any.families)).not.toContain('evil_metric');
    const scrape = await (await fetch(`${gw.url}/metrics`)).text();
    expect(scrape).not.toMatch(/^evil_metric/m);
    expect(scrape.match(/^process_memory_bytes\{[^\n]*job="e2e-escaping"/gm)).toHaveLength(1);
  });

  /** Pushes `other_metric` into the group first, as another pusher of the same group would. */
  async function seed(job: string): Promise<void> {
    const response = await fetch(`${gw.url}/metrics/job/${job}/instance/worker-7`, {
      method: 'PUT',
      body: '# TYPE other_metric gauge\nother_metric 42\n',
    });
    expect(response.status, await response.text()).toBe(200);
    expect(Object.keys((await mustGroup(job)).families)).toEqual(['other_metric']);
  }

  it('replaces the whole group with PUT', async () => {
    await seed('e2e-put');
    expect(await pushOnce(options({}, { job: 'e2e-put' }))).toMatchObject({ ok: true });
    expect(Object.keys((await mustGroup('e2e-put')).families).sort()).toEqual(FIVE);
  });

  it('adds to the group with POST, keeping what others pushed', async () => {
    await seed('e2e-post');
    expect(await pushOnce(options({ method: 'POST' }, { job: 'e2e-post' }))).toMatchObject({ ok: true });
    const stored = await mustGroup('e2e-post');
    expect(Object.keys(stored.families).sort()).toEqual([...FIVE, 'other_metric'].sort());
    expect(stored.families.other_metric!.metrics[0]!.value).toBe(42);
  });

  it('deletes the group on stop with deleteOnStop', async () => {
    const reporter = startReporter(
      options({ deleteOnStop: true, grouping: { shard: 'a/b' } }, { job: 'e2e-delete' }),
    );
    expect(await reporter.flush()).toMatchObject({ ok: true });
    expect((await mustGroup('e2e-delete')).labels).toEqual({
      job: 'e2e-delete',
      instance: 'worker-7',
      shard: 'a/b',
    });
    await reporter.stop();
    expect(reporter.stats()).toMatchObject({ failures: 0 });
    expect(await group('e2e-delete')).toBeUndefined();
  });

  describe('a child process stopped with SIGTERM', () => {
    let build: string;
    beforeAll(async () => {
      // A private build of the current sources: dist/ may be stale, or be cleaned by a build running beside us.
      // Under node_modules so the build resolves the package's dependencies; its own package.json makes it ESM.
      await mkdir(join(ROOT, 'node_modules', '.cache'), { recursive: true });
      build = await mkdtemp(join(ROOT, 'node_modules', '.cache', 'procpush-e2e-build-'));
      await writeFile(join(build, 'package.json'), '{ "type": "module" }\n');
      await promisify(execFile)(
        process.execPath,
        [
          join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
          '-p',
          'tsconfig.build.json',
          '--outDir',
          build,
        ],
        { cwd: ROOT },
      ).catch((error: { stdout?: string }) => {
        // Type errors still emit; only a missing entry means there is nothing to run.
        console.warn(`tsc reported errors, running what it emitted:\n${error.stdout ?? String(error)}`);
      });
      readFileSync(join(build, 'node.js'));
    }, 120_000);
    afterAll(async () => {
      if (build) await rm(build, { recursive: true, force: true });
    });

    it('leaves its final sample in the gateway and ends by the signal', async () => {
      const script = join(build, 'child.mjs');
      await writeFile(
        script,
        `import { startReporter } from ${JSON.stringify(pathToFileURL(join(build, 'node.js')).href)};
        const reporter = startReporter({
          target: { type: 'pushgateway', url: process.env.GATEWAY },
          job: 'e2e-child',
          instance: 'child-' + process.pid,
          intervalMs: 60_000,
          shutdown: { timeoutMs: 10_000 },
        });
        const first = await reporter.flush();
        process.stdout.write(JSON.stringify(first) + '\\n');
        // The application's own work keeps it alive until the signal.
        setInterval(() => {}, 1_000);
        `,
      );
      const child: ChildProcess = spawn(process.execPath, [script], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GATEWAY: gw.url },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
      });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once('exit', (code, signal) => resolve({ code, signal })),
      );
      const firstLine = new Promise<string>((resolve, reject) => {
        child.stdout?.on('data', () => {
          if (stdout.includes('\n')) resolve(stdout);
        });
        void exited.then((how) =>
          reject(new Error(`child exited early (${JSON.stringify(how)}): ${stderr}`)),
        );
      });
      try {
        expect(JSON.parse(await firstLine), stderr).toEqual({ ok: true, status: 200, attempts: 1 });
        const instance = `child-${child.pid}`;
        const before = (await pushgatewayGroups(gw.url)).find((g) => g.labels.instance === instance);
        expect(before?.pushTimeSeconds).toBeDefined();

        // The gateway stamps pushes with its own clock (the same machine): leave a clear gap before the signal.
        await sleep(200);
        const signalledAt = Date.now() / 1000;
        child.kill('SIGTERM');
        expect(await exited, stderr).toEqual({ code: null, signal: 'SIGTERM' });

        const after = (await pushgatewayGroups(gw.url)).find((g) => g.labels.instance === instance);
        expect(after?.labels).toEqual({ job: 'e2e-child', instance });
        expect(after!.pushTimeSeconds).toBeGreaterThan(signalledAt);
        expect(Object.keys(after!.families).sort()).toEqual(FIVE);
        for (const family of Object.values(after!.families))
          expect(family.pushedAt.getTime() / 1000).toBeGreaterThan(signalledAt);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    });
  });
});

/**
 * procpush against real remote-write receivers (Debian's Prometheus 2.42 with its receiver enabled, and
 * VictoriaMetrics 1.79), asserted through their own query APIs: what they store is what a dashboard shows.
 */
import { hostname } from 'node:os';
import { type Reporter, type ReporterOptions, startReporter } from 'procpush';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { FIVE, statusBytes } from '../helpers/five.js';
import {
  describeE2E,
  type PromPoint,
  promQuery,
  promQueryRange,
  startPrometheus,
  startVictoriaMetrics,
  type TsdbServer,
  type VictoriaMetricsServer,
  waitFor,
} from './servers.js';

// Every sample the reporter takes: what the receivers must end up with, exactly.
const taken = vi.hoisted(() => [] as number[]);
vi.mock(import('../../src/sample/proc-reader.js'), async (importOriginal) =>
  (await import('../helpers/recording-sampler.js')).recordingSamplers(await importOriginal(), taken),
);

const INTERVAL_MS = 250;
const INSTANCE = `${hostname()}:${process.pid}`;

/** The raw samples of the one series `selector` matches, over the last `seconds`, as ms timestamps. */
async function rawSamples(url: string, selector: string, seconds = 120): Promise<PromPoint[]> {
  const result = await promQuery(url, `${selector}[${seconds}s]`);
  if (result.resultType !== 'matrix') throw new Error(`Expected a matrix, got ${result.resultType}`);
  if (result.result.length > 1) throw new Error(`Expected at most one series for ${selector}`);
  return (result.result[0]?.values ?? []).map((p) => ({
    timestamp: Math.round(p.timestamp * 1000),
    value: p.value,
  }));
}

async function seriesNames(url: string, job: string): Promise<string[]> {
  const result = await promQuery(url, `{job="${job}"}`);
  return result.resultType === 'vector' ? result.result.map((s) => s.metric.__name__!).sort() : [];
}

/** A unique job per test, so the series of one test never meet another's. */
let jobs = 0;
const nextJob = (what: string) => `e2e-rw-${what}-${process.pid}-${++jobs}`;

describeE2E('remote write to real receivers', ['prometheus', 'victoria-metrics'], () => {
  let prom: TsdbServer;
  let vm: VictoriaMetricsServer;
  const running: Reporter[] = [];

  beforeAll(async () => {
    [prom, vm] = await Promise.all([startPrometheus(), startVictoriaMetrics()]);
  });
  beforeEach(() => {
    taken.length = 0;
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((reporter) => reporter.stop()));
    vi.unstubAllEnvs();
  });

  function start(url: string, options: ReporterOptions): Reporter {
    const reporter = startReporter({
      target: { type: 'remote-write', url },
      intervalMs: INTERVAL_MS,
      // Longer than an interval: on a loaded machine a push may take a while, and one that times out after
      // the receiver stored it is resent (Prometheus refuses it as out of order, VictoriaMetrics stores it twice).
      flushTimeoutMs: 2000,
      shutdown: false,
      onError: () => {},
      ...options,
    });
    running.push(reporter);
    return reporter;
  }

  describe('Prometheus 2.42', () => {
    it('stores a sample per interval with the labels, the five values agree with /proc, stale on stop', async () => {
      const job = nextJob('prom');
      const started = Date.now();
      const reporter = start(prom.remoteWriteUrl, { job, labels: { team: 'data', region: 'eu-1' } });
      const selector = `process_memory_bytes{job="${job}"}`;
      await waitFor(async () => (await rawSamples(prom.url, selector)).length >= 6, { timeoutMs: 15_000 });

      const rss = statusBytes('VmRSS');
      const hwm = statusBytes('VmHWM');
      await reporter.stop();
      const stoppedAt = Date.now();
      expect(reporter.stats(), prom.logs()).toMatchObject({
        failures: 0,
        samplesDropped: 0,
        samplesQueued: 0,
      });

      // Stale at once: an instant query right after stop finds none of the five.
      expect(await seriesNames(prom.url, job)).toEqual([]);

      // The raw samples: one per sample taken (the ticks and the stop's), in order, none twice.
      const samples = await rawSamples(prom.url, selector);
      expect(samples.map((p) => p.timestamp)).toEqual(taken);
      expect(taken.length).toBeGreaterThanOrEqual(Math.floor((stoppedAt - started) / INTERVAL_MS / 3));

      // query_range still shows the run, and nothing after the stale marker.
      const last = taken.at(-1)!;
      const range = await promQueryRange(prom.url, selector, started / 1000, stoppedAt / 1000 + 5, 0.1);
      expect(range).toHaveLength(1);
      expect(range[0]!.metric).toEqual({
        __name__: 'process_memory_bytes',
        job,
        instance: INSTANCE,
        team: 'data',
        region: 'eu-1',
      });
      const points = range[0]!.values;
      expect(points.length).toBeGreaterThan(5);
      expect(Math.max(...points.map((p) => p.timestamp))).toBeLessThan(last / 1000 + 0.25);

      // The last sample of each of the five, as Prometheus returns them at the time it was taken.
      const atLast = await promQuery(prom.url, `{job="${job}"}`, last / 1000);
      if (atLast.resultType !== 'vector') throw new Error(`Expected a vector, got ${atLast.resultType}`);
      const value = Object.fromEntries(atLast.result.map((s) => [s.metric.__name__!, s.value]));
      expect(Object.keys(value).sort()).toEqual(FIVE);
      for (const series of atLast.result) expect(series.timestamp * 1000).toBeCloseTo(last, -1);
      const memory = value.process_memory_bytes!;
      // Read just before the final sample: allocation in between moves RSS a little, never tens of MiB.
      expect(Math.abs(memory - rss)).toBeLessThanOrEqual(Math.max(16 * 2 ** 20, rss * 0.1));
      expect(value.process_memory_peak_bytes).toBeGreaterThanOrEqual(memory);
      expect(Math.abs(value.process_memory_peak_bytes! - hwm)).toBeLessThanOrEqual(
        Math.max(16 * 2 ** 20, hwm * 0.1),
      );
      expect(value.tracing_memory_overhead_bytes).toBe(Math.round(memory * 0.015));
      expect(value.tracing_cpu_overhead_percent).toBe(0.5);
      expect(value.process_cpu_percent).toBeGreaterThanOrEqual(0);
      expect(value.process_cpu_percent).toBeLessThanOrEqual(100);
    });

    it('after a restart on the same data directory, has every sample taken during the outage, once', async () => {
      const job = nextJob('prom-outage');
      const reporter = start(prom.remoteWriteUrl, { job });
      const selector = `process_memory_bytes{job="${job}"}`;
      await waitFor(async () => (await rawSamples(prom.url, selector)).length >= 3, { timeoutMs: 15_000 });

      await prom.stop();
      const down = taken.length;
      // Several intervals with the receiver gone.
      await waitFor(() => taken.length >= down + 6, { timeoutMs: 15_000 });
      await prom.restart();
      const up = taken.length;
      // Caught up: everything taken before the restart is stored.
      await waitFor(async () => (await rawSamples(prom.url, selector)).length >= up, { timeoutMs: 15_000 });
      await reporter.stop();

      const samples = await rawSamples(prom.url, selector);
      expect(
        samples.map((p) => p.timestamp),
        prom.logs(),
      ).toEqual(taken);
      expect(up - down).toBeGreaterThanOrEqual(6);
      const counted = await promQuery(prom.url, `count_over_time(${selector}[120s])`, taken.at(-1)! / 1000);
      expect(counted.resultType === 'vector' && counted.result[0]?.value).toBe(taken.length);
      const { failures, retries } = reporter.stats();
      expect(failures + retries).toBeGreaterThan(0);
      expect(reporter.stats()).toMatchObject({ samplesDropped: 0, samplesQueued: 0 });
    });

    it('runs examples/remote-write.ts, configured by the environment alone', async () => {
      const job = nextJob('example');
      vi.stubEnv('RESOURCE_ATTRIBUTION_REMOTE_WRITE_URL', prom.remoteWriteUrl);
      vi.stubEnv('RESOURCE_ATTRIBUTION_JOB', job);
      vi.stubEnv('RESOURCE_ATTRIBUTION_LABELS', 'team=examples');
      vi.stubEnv('RESOURCE_ATTRIBUTION_UPDATE_INTERVAL_SECS', '0.2');
      vi.stubEnv('EXAMPLE_WORK_SECS', '1');
      const stderr = vi.spyOn(console, 'error').mockImplementation(() => {});
      // Runs to its end: the top-level await finishes with the reporter stopped.
      await import('../../examples/remote-write.js');
      expect(stderr.mock.calls.map((call) => String(call[0])).join('\n')).toMatch(/\d+ pushes, \d+ failed/);
      stderr.mockRestore();

      const samples = await rawSamples(
        prom.url,
        `tracing_cpu_overhead_percent{job="${job}",team="examples"}`,
      );
      expect(samples.map((p) => p.timestamp)).toEqual(taken);
      expect(taken.length).toBeGreaterThanOrEqual(3);
      expect(await seriesNames(prom.url, job)).toEqual([]);
    });
  });

  describe('VictoriaMetrics 1.79', () => {
    /**
     * The raw samples, waiting until all of `taken` and the stale marker are searchable (VictoriaMetrics shows a
     * new series ~10 s late unless flushed). Unlike Prometheus, VictoriaMetrics 1.79 returns the stale marker
     * among the raw samples of `m[d]`, as a NaN; count_over_time and instant queries leave it out.
     */
    async function vmSamples(selector: string): Promise<{ real: PromPoint[]; stale: PromPoint[] }> {
      return waitFor(
        async () => {
          await vm.flush();
          const samples = await rawSamples(vm.url, selector);
          const real = samples.filter((p) => !Number.isNaN(p.value));
          const stale = samples.filter((p) => Number.isNaN(p.value));
          return real.length >= taken.length && stale.length > 0 && { real, stale };
        },
        { timeoutMs: 15_000, intervalMs: 250 },
      );
    }

    it('stores a sample per interval with the labels, all five, and honours the stale markers', async () => {
      const job = nextJob('vm');
      const reporter = start(vm.remoteWriteUrl, { job, labels: { team: 'data' } });
      await waitFor(() => taken.length >= 6, { timeoutMs: 15_000 });
      const beforeStop = Date.now() / 1000;
      await reporter.stop();
      expect(reporter.stats(), vm.logs()).toMatchObject({ failures: 0, samplesDropped: 0, samplesQueued: 0 });

      const selector = `process_memory_bytes{job="${job}"}`;
      const { real, stale } = await vmSamples(selector);
      expect(real.map((p) => p.timestamp)).toEqual(taken);
      expect(stale).toHaveLength(1);
      expect(stale[0]!.timestamp).toBeGreaterThan(taken.at(-1)!);
      // Rollups (count_over_time, instant queries) see the newest second of samples only ~1 s after the raw
      // query does, even after a forced flush: wait for the count to settle, it must settle on exactly these.
      const count = async () => {
        const result = await promQuery(vm.url, `count_over_time(${selector}[120s])`);
        return result.resultType === 'vector' ? result.result[0]?.value : undefined;
      };
      await waitFor(async () => (await count()) === taken.length, { timeoutMs: 10_000, intervalMs: 250 });

      const range = await promQueryRange(vm.url, selector, taken[0]! / 1000, taken.at(-1)! / 1000, 0.1);
      expect(range.map((s) => s.metric)).toEqual([
        { __name__: 'process_memory_bytes', job, instance: INSTANCE, team: 'data' },
      ]);
      expect(range[0]!.values.length).toBeGreaterThan(5);
      const running = await promQuery(vm.url, `{job="${job}"}`, beforeStop);
      expect(running.resultType === 'vector' && running.result.map((s) => s.metric.__name__).sort()).toEqual(
        FIVE,
      );
      // Stale: once the marker is searchable, an instant query finds none of the five.
      expect(await seriesNames(vm.url, job)).toEqual([]);
    });

    it('after a restart on the same data directory, has every sample taken during the outage, once', async () => {
      const job = nextJob('vm-outage');
      const reporter = start(vm.remoteWriteUrl, { job });
      await waitFor(() => taken.length >= 3 && reporter.stats().pushes >= 3, { timeoutMs: 15_000 });

      await vm.stop();
      const down = taken.length;
      await waitFor(() => taken.length >= down + 6, { timeoutMs: 15_000 });
      await vm.restart();
      const up = taken.length;
      await waitFor(() => reporter.stats().samplesQueued === 0 && taken.length > up, { timeoutMs: 15_000 });
      await reporter.stop();
      expect(up - down).toBeGreaterThanOrEqual(6);
      const { failures, retries } = reporter.stats();
      expect(failures + retries).toBeGreaterThan(0);
      expect(reporter.stats()).toMatchObject({ samplesDropped: 0, samplesQueued: 0 });

      // VictoriaMetrics keeps a sample sent twice twice (no deduplication by default): equality says "once".
      const { real, stale } = await vmSamples(`process_memory_bytes{job="${job}"}`);
      expect(
        real.map((p) => p.timestamp),
        vm.logs(),
      ).toEqual(taken);
      expect(stale).toHaveLength(1);
    });
  });
});

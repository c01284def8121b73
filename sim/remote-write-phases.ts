/**
 * The remote-write runs against VictoriaMetrics and Prometheus: children that end with stale markers
 * (reporter.stop()), children that end without (process.exit() with no stop, or SIGKILL), the live series
 * over time as an instant query sees them, and a burst of one-request processes to find the receivers' rate.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  promQuery,
  startPrometheus,
  startVictoriaMetrics,
  type TsdbServer,
  type VictoriaMetricsServer,
} from '../test/e2e/servers.js';
import { type ChildrenResult, runChildren } from './children.js';
import type { SimOptions } from './options.js';
import { type ProcSampler, sampleProc } from './proc-stat.js';
import { burstRun, latency, type RateFigure, rate } from './receiver-rate.js';
import { SERIES_METRICS, serverMetric } from './server-metrics.js';

/** The query the live-series figures come from, counted per job. */
export const LIVE_QUERY = 'count by (job) ({__name__=~"process_.*"})';
export const RECEIVERS = ['victoriametrics', 'prometheus'] as const;
export type Receiver = (typeof RECEIVERS)[number];
const JOBS = { stale: 'sim-stale', noStale: 'sim-nostale' } as const;

/** Live series per receiver and job at one instant, `t` in seconds since the remote-write runs began. */
export interface LivePoint {
  readonly t: number;
  readonly phase: string;
  readonly counts: Record<Receiver, { stale: number; noStale: number }>;
}

/** What the remote-write runs measured. */
export interface RemoteWriteResult {
  readonly stale: ChildrenResult;
  readonly noStale: ChildrenResult;
  readonly rates: Record<'stale' | 'noStale', Record<Receiver, RateFigure>>;
  readonly burst: Record<Receiver, RateFigure & { senderCpuMsPerRequest: number }>;
  readonly live: LivePoint[];
  /** Live no-stale series some minutes after those processes ended, on both receivers (queries in the future). */
  readonly lookback: Array<{ when: string; counts: Record<Receiver, number> }>;
  /** The receivers' own view at the end: series held in memory (stale or not), created, samples taken. */
  readonly held: Record<Receiver, { active: number; created: number; samples: number }>;
}

/** Runs the remote-write phases until `deadline` (epoch ms). */
export async function remoteWriteRuns(opts: SimOptions, deadline: number): Promise<RemoteWriteResult> {
  const [vm, prom] = await Promise.all([startVictoriaMetrics(), startPrometheus()]);
  const servers: Record<Receiver, TsdbServer> = { victoriametrics: vm, prometheus: prom };
  const procs = { victoriametrics: sampleProc(vm.pid), prometheus: sampleProc(prom.pid) };
  const began = Date.now();
  const live: LivePoint[] = [];
  let phase = 'stale';
  let polling = true;
  const poller = (async () => {
    while (polling) {
      live.push(await livePoint(vm, prom, (Date.now() - began) / 1000, phase));
      await sleep(opts.quick ? 1000 : 2000);
    }
  })();
  try {
    const span = deadline - began;
    const run = (mode: 'stale' | 'noStale', until: number): Promise<ChildrenResult> =>
      runChildren({
        count: Math.floor(opts.rwN / 2),
        concurrency: opts.concurrency,
        deadline: until,
        jobFor: (index) => ({
          index,
          kind: 'remote-write',
          url: servers[RECEIVERS[index % 2]!].remoteWriteUrl,
          job: JOBS[mode],
          instance: `${mode}-${index}`,
          flushes: opts.flushes,
          workMs: opts.workMs,
          flushTimeoutMs: 30_000,
          // Without stale markers: half leave by process.exit(), half are killed, in turn on both receivers.
          mode: mode === 'stale' ? 'stop' : Math.floor(index / 2) % 2 === 0 ? 'exit' : 'kill',
          killWaitMs: 20_000,
        }),
      });
    const stale = await run('stale', began + span * 0.3);
    phase = 'no stale';
    const noStale = await run('noStale', began + span * 0.6);
    phase = 'after';
    const burstStart = Date.now();
    const burstS = Math.max(2, ((deadline - burstStart) * 0.35) / 1000 / 2);
    const burst = {
      victoriametrics: await burstRun(vm, procs.victoriametrics, burstS),
      prometheus: await burstRun(prom, procs.prometheus, burstS),
    };
    await sleep(Math.max(0, deadline - Date.now()));
    polling = false;
    await poller;
    // Each no-stale process's last push; at first + 290 s every one is inside the lookback, at last + 305 s none.
    const ends = noStale.reports.flatMap((r) =>
      r.pushes.length > 0 ? [Math.max(...r.pushes.map((p) => p.end))] : [],
    );
    await vm.flush();
    const lookback: RemoteWriteResult['lookback'] = [];
    for (const [when, at] of [
      ['290 s after the first of them ended', Math.min(...ends) / 1000 + 290],
      ['305 s after the last of them ended', Math.max(...ends) / 1000 + 305],
    ] as const) {
      const counts = await liveCounts(vm, prom, at);
      lookback.push({
        when,
        counts: { victoriametrics: counts.victoriametrics.noStale, prometheus: counts.prometheus.noStale },
      });
    }
    const held = {} as RemoteWriteResult['held'];
    for (const receiver of RECEIVERS) {
      const metrics = SERIES_METRICS[receiver];
      const url = servers[receiver].url;
      held[receiver] = {
        active: await serverMetric(url, metrics.active),
        created: await serverMetric(url, metrics.created),
        samples: await serverMetric(url, metrics.samples),
      };
    }
    const rates = {
      stale: rateFigures(stale, procs),
      noStale: rateFigures(noStale, procs),
    };
    return { stale, noStale, rates, burst, live, lookback, held };
  } finally {
    polling = false;
    for (const proc of Object.values(procs)) proc.stop();
    await Promise.all([vm.dispose(), prom.dispose()]);
  }
}

async function liveCounts(
  vm: VictoriaMetricsServer,
  prom: TsdbServer,
  time?: number,
): Promise<LivePoint['counts']> {
  const counts = {} as LivePoint['counts'];
  for (const [receiver, server] of [
    ['victoriametrics', vm],
    ['prometheus', prom],
  ] as const) {
    const result = await promQuery(server.url, LIVE_QUERY, time);
    const byJob = new Map<string, number>();
    if (result.resultType === 'vector') for (const r of result.result) byJob.set(r.metric.job ?? '', r.value);
    counts[receiver] = { stale: byJob.get(JOBS.stale) ?? 0, noStale: byJob.get(JOBS.noStale) ?? 0 };
  }
  return counts;
}

async function livePoint(
  vm: VictoriaMetricsServer,
  prom: TsdbServer,
  t: number,
  phase: string,
): Promise<LivePoint> {
  // New series reach VictoriaMetrics' index only after a flush (~10 s otherwise).
  await vm.flush();
  return { t, phase, counts: await liveCounts(vm, prom) };
}

/** Samples per receiver in one run; children alternate receivers by index, even to VictoriaMetrics. */
function rateFigures(
  result: ChildrenResult,
  procs: Record<Receiver, ProcSampler>,
): Record<Receiver, RateFigure> {
  const out = {} as Record<Receiver, RateFigure>;
  RECEIVERS.forEach((receiver, parity) => {
    const reports = result.reports.filter((r) => r.index % 2 === parity);
    const pushes = reports.flatMap((r) => r.pushes);
    // Five gauges a flush; stop() sends a last sample of each and then their stale markers.
    const samples = pushes.reduce((sum, p) => sum + (p.ok ? (p.final ? 10 : 5) : 0), 0);
    const from = Math.min(...reports.map((r) => r.start));
    const to = Math.max(...reports.map((r) => r.end));
    out[receiver] = {
      processes: reports.length,
      samples,
      ...rate(samples, from, to, procs[receiver]),
      ...latency(pushes.filter((p) => !p.final).map((p) => p.ms)),
      failedPushes: pushes.filter((p) => !p.ok).length,
    };
  });
  return out;
}

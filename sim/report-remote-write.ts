/** The remote-write part of SCALING.md: rates, live series over time, and what the receivers hold. */
import type { RateFigure } from './receiver-rate.js';
import { LIVE_QUERY, RECEIVERS, type Receiver, type RemoteWriteResult } from './remote-write-phases.js';
import { fmt, mib, table } from './table.js';

const NAMES: Record<Receiver, string> = { victoriametrics: 'VictoriaMetrics', prometheus: 'Prometheus' };

function rateRow(run: string, receiver: Receiver, r: RateFigure, extra = ''): string[] {
  return [
    run,
    NAMES[receiver],
    fmt(r.processes, 0),
    fmt(r.samples, 0),
    fmt(r.seconds, 1),
    fmt(r.perSecond, 0),
    fmt(r.p50Ms, 1),
    fmt(r.p99Ms, 1),
    fmt(r.failedPushes, 0),
    fmt(r.serverCpuMsPer1kSamples, 1),
    fmt(mib(r.serverRssBytes), 0),
    extra,
  ];
}

/** The section's Markdown lines. */
export function remoteWriteSection(rw: RemoteWriteResult): string[] {
  const rows = RECEIVERS.flatMap((receiver) => [
    rateRow('processes, stop() (stale markers)', receiver, rw.rates.stale[receiver]),
    rateRow('processes, no stop()', receiver, rw.rates.noStale[receiver]),
    rateRow(
      'burst: pushOnce() ×16 in one process',
      receiver,
      rw.burst[receiver],
      fmt(rw.burst[receiver].senderCpuMsPerRequest, 2),
    ),
  ]);
  // Every poll is kept in sim/results/*.json; the table shows one row in four (and the last).
  const step = rw.live.length > 40 ? 4 : 1;
  const live = rw.live.filter((_, i) => i % step === 0 || i === rw.live.length - 1);
  return [
    '## Remote write: VictoriaMetrics and Prometheus',
    '',
    'Processes alternate between the two receivers. Samples count five gauges per flush, and for `stop()` a',
    'last sample plus a stale marker for each. The window runs from the first process start to the last exit, so',
    'the process runs are bounded by process start-up; the burst shows what the receiver takes when that cost is',
    'gone (one request of five new series per simulated process, 16 in flight, new connection each). Receiver CPU',
    'over the process runs includes answering the live-series queries below every two seconds.',
    '',
    ...table(
      [
        'run',
        'receiver',
        'processes',
        'samples',
        's',
        'samples/s',
        'p50 ms',
        'p99 ms',
        'failed',
        'receiver CPU ms/1k samples',
        'receiver RSS MiB',
        'sender CPU ms/request',
      ],
      rows,
    ),
    '',
    `### Live series over time: \`${LIVE_QUERY}\` (three of the five gauges per process)`,
    '',
    '"stale" is job `sim-stale` (every process ended with `stop()`), "no stale" is job `sim-nostale` (half left by',
    '`process.exit()` without `stop()`, half were killed with SIGKILL after their last push).',
    '',
    ...table(
      ['t s', 'phase', 'VM stale', 'VM no stale', 'Prometheus stale', 'Prometheus no stale'],
      live.map((p) => [
        fmt(p.t, 0),
        p.phase,
        fmt(p.counts.victoriametrics.stale, 0),
        fmt(p.counts.victoriametrics.noStale, 0),
        fmt(p.counts.prometheus.stale, 0),
        fmt(p.counts.prometheus.noStale, 0),
      ]),
    ),
    '',
    'The same query for the no-stale job at a later time (an instant query in the future: both servers look back',
    'five minutes from the given time):',
    '',
    ...table(
      ['query time', 'VictoriaMetrics', 'Prometheus'],
      rw.lookback.map((l) => [l.when, fmt(l.counts.victoriametrics, 0), fmt(l.counts.prometheus, 0)]),
    ),
    '',
    "What the receivers hold at the end, by their own metrics (stale or not; burst included): Prometheus'",
    "`prometheus_tsdb_head_series` (series in the head block, kept until it is compacted) and VictoriaMetrics'",
    '`vm_cache_entries{type="storage/hour_metric_ids"}` (series seen this hour, filled in lazily, so it can trail',
    'the series created).',
    '',
    ...table(
      ['receiver', 'series held', 'series created', 'samples taken'],
      RECEIVERS.map((r) => [
        NAMES[r],
        fmt(rw.held[r].active, 0),
        fmt(rw.held[r].created, 0),
        fmt(rw.held[r].samples, 0),
      ]),
    ),
  ];
}

/**
 * "What to do about it" in SCALING.md: the grouping key, deleteOnStop, the gateway's flags, when to move to
 * remote write, the series budget and stale markers, each argued from the run's figures.
 */
import { cpuGrowth, levelPoints } from './analysis.js';
import type { SimResult } from './report.js';
import { fmt, mib } from './table.js';

const MIMIR_SERIES_LIMIT = 150_000;
const SERIES_PER_START = 5;

/** "What to do about it": the grouping key, deleteOnStop, the flags, remote write, the series budget, staleness. */
export function guidance(result: SimResult): string[] {
  const { check, noCheck, levels } = result.pushgateway;
  const fit = cpuGrowth(levelPoints(levels, 'check'));
  const top = levels.at(-1);
  const rw = result.remoteWrite;
  const held = rw.held.prometheus.active;
  const rss = top?.check.overall?.serverRssBytes ?? Number.NaN;
  const starts = MIMIR_SERIES_LIMIT / SERIES_PER_START;
  return [
    '## What to do about it',
    '',
    '**The grouping key decides how many groups there are.** procpush groups by `job` and `instance`, and the',
    'default `instance` for the Pushgateway is the host name, so a rerun replaces its own group and the count stays',
    'at hosts × jobs, far below the knee. A per-process instance (a pid, a pod name, a run id, as in this',
    'simulation) gives every process its own group, and groups never expire: the Pushgateway has no TTL by design,',
    'so the count only grows, and with the default flags every push pays for all of them' +
      (fit ? ` (here ${fmt(fit.perThousandMs, 2)} ms of gateway CPU per 1,000 groups).` : '.'),
    `A gateway holding ${fmt(top?.check.preloaded ?? 0, 0)} groups used ${fmt(mib(rss), 0)} MiB here. The choices:`,
    '',
    '- host name (the default): bounded; two processes of one job on one host overwrite each other (last push',
    '  wins), and a finished job stays visible until its next run replaces it;',
    '- a bounded slot (`instance: worker-3`, a shard, a queue name): bounded and distinct, the usual compromise;',
    '- per process: every process visible on its own, unbounded, so only with `deleteOnStop` or an external',
    '  clean-up (`DELETE /metrics/job/<job>/instance/<id>`, or `PUT /api/v1/admin/wipe` with `--web.enable-admin-api`).',
    '',
    "**`deleteOnStop: true`** sends DELETE for the group on `stop()`, so the gateway holds only live processes'",
    'groups. The price: the final values go too, perhaps before any scrape saw them. A job shorter than the scrape',
    'interval may never be seen at all, and the last sample (peak memory, total CPU) is the one that matters most.',
    'Use it for long-running workers whose group is only interesting while they run, not for batch jobs.',
    '',
    "**The gateway's flags.** `--push.disable-consistency-check` took the growth out of the push: " +
      `${fmt(top?.noCheck.overall?.perSecond ?? Number.NaN, 1)} pushes/s against ` +
      `${fmt(top?.check.overall?.perSecond ?? Number.NaN, 1)} with the check at ` +
      `${fmt(top?.check.preloaded ?? 0, 0)} groups. It does not make a big gateway cheap: the same check runs on`,
    `every scrape (${fmt(top?.check.scrape.ms ?? Number.NaN, 0)} ms for ${fmt(top?.check.scrape.groups ?? 0, 0)} groups here), and`,
    'one inconsistent push (a metric name with another type) is then stored and fails every scrape until it is',
    'deleted. Keep pushes uniform (procpush always sends the same five gauges) and keep the groups bounded;',
    '`--persistence.file` only makes the groups survive a restart, and there is no flag to expire them.',
    '',
    '**When to move to remote write.** When processes need their own series (per-process instance), when they',
    'live shorter than the scrape interval, or when the distinct instances per day reach the thousands: remote',
    'write has no store to re-check: its p50 push was ' +
      `${fmt(rw.burst.victoriametrics.p50Ms, 1)} ms (VictoriaMetrics) and ${fmt(rw.burst.prometheus.p50Ms, 1)} ms ` +
      `(Prometheus) after ${fmt(rw.held.victoriametrics.created, 0)} and ${fmt(rw.held.prometheus.created, 0)} series had ` +
      `been created, and the receivers took ${fmt(rw.burst.victoriametrics.perSecond, 0)} and ` +
      `${fmt(rw.burst.prometheus.perSecond, 0)} samples/s of brand-new series from one-request processes on this`,
    `loaded machine, against the gateway's ${fmt(top?.check.overall?.perSecond ?? Number.NaN, 1)} pushes/s (of five ` +
      `samples each) at ${fmt(top?.check.preloaded ?? 0, 0)} groups with default flags. The default`,
    '`instance` for remote write is `host:pid`, so that two live processes never write the same series.',
    '',
    `**The series budget.** Each process start is ${SERIES_PER_START} new series. Mimir's default`,
    `\`max_global_series_per_user\` is ${fmt(MIMIR_SERIES_LIMIT, 0)}, so a tenant holds ${fmt(starts, 0)} process`,
    "starts at once. Series are counted while they are in the ingesters' memory, which lasts until the next head",
    'compaction (every two hours or so), not until their stale marker: after every process here had stopped,',
    `Prometheus still held ${fmt(held, 0)} series in its head block. Budget about ${fmt(starts, 0)} process starts`,
    'per head-compaction window per tenant, ask for a higher limit, or give short jobs a bounded `instance` (a',
    'slot, not a pid) so that reruns reuse their series; that is safe only when two processes never share one.',
    '',
    '**Stale markers keep dashboards honest.** `stop()` ends each series with a stale marker, and an instant',
    'query stops showing the process at once. A process that exits without it (`process.exit()`, SIGKILL, the',
    'OOM killer) keeps showing its last values for five minutes, so `sum(process_memory_bytes)` counts every',
    'process that ended in the last five minutes as still running. Let `stop()` run: the default shutdown hooks',
    'call it on SIGTERM, SIGINT and `beforeExit`, but `process.exit()` skips `beforeExit`, so `await',
    'reporter.stop()` before calling it. Nothing helps a SIGKILL; the lookback is the bound there.',
    '',
    '## Measured earlier',
    '',
    'Quoted for comparison, not produced by this run (same kind of machine, medians of three runs): Pushgateway',
    '1.5.1 with its default consistency check ~107 pushes/s at 1,000 groups, ~18/s at 3,500 groups (p50',
    '~440 ms), 2.5–2.9/s when it already holds 20,000; with `--push.disable-consistency-check` ~7,700 pushes/s at',
    '20,000 groups. Remote write with one request per process: 13k–58k samples/s into VictoriaMetrics 1.79.5 or',
    'Prometheus 2.42 on one box.',
    '',
    '## Reproduce',
    '',
    '```sh',
    `npm run sim:scale                 # the full run (this one took ${Math.round(result.seconds)} s)`,
    'SIM_QUICK=1 npm run sim:scale     # about a minute',
    'npm run sim:scale -- --n 5000 --concurrency 16 --budget 600   # or SIM_N, SIM_CONCURRENCY, SIM_BUDGET_S',
    '```',
    '',
    `The aggregated figures of the last run are in \`sim/results/${result.options.quick ? 'quick' : 'full'}.json\`.`,
    ...(noCheck.children.failures.length + check.children.failures.length > 0
      ? [
          '',
          `Processes that printed no report: ${[...check.children.failures, ...noCheck.children.failures].slice(0, 5).join('; ')}`,
        ]
      : []),
  ];
}

/**
 * The prose of SCALING.md, written from the run's figures: where the knee is, and what each way out costs.
 * Every number is read from the result; where the run did not reach a point, the text says so.
 */
import { bucketPoints, cpuGrowth, findKnee, levelPoints, type Point } from './analysis.js';
import type { SimResult } from './report.js';
import { LEVEL_CONCURRENCY } from './staircase.js';
import { costBuckets } from './stats.js';
import { fmt } from './table.js';

const at = (p: Point): string =>
  `${fmt(p.perSecond, 1)} pushes/s, p50 ${fmt(p.p50Ms, 0)} ms, p99 ${fmt(p.p99Ms, 0)} ms, ` +
  `${fmt(p.cpuMs, 1)} ms of gateway CPU per push (at most ${fmt(1000 / p.cpuMs, 0)} pushes per gateway CPU-second)`;
const groups = (p: Point): string => `${fmt(p.groups, 0)} groups`;

function growthLine(points: readonly Point[]): string {
  const fit = cpuGrowth(points);
  if (!fit) return 'too few points to fit a line';
  return `gateway CPU per push changed by ${fmt(fit.perThousandMs, 2)} ms for every 1,000 groups held (least squares)`;
}

/** "Summary": the headline figures and the knee. */
export function summary(result: SimResult): string[] {
  const { check, noCheck, levels } = result.pushgateway;
  const rw = result.remoteWrite;
  const growth = bucketPoints(check).filter((p) => p.pushes >= 10);
  const checked = levelPoints(levels, 'check');
  const unchecked = levelPoints(levels, 'noCheck');
  const knee = findKnee(checked);
  const top = checked.at(-1);
  const topNoCheck = unchecked.at(-1);
  const topLevel = levels.at(-1);
  const costs = [...check.children.reports, ...noCheck.children.reports];
  const procBuckets = costBuckets(costs, Math.max(result.options.bucket, 1));
  const cpu = procBuckets.map((c) => c.procpushCpuMs);
  const lines = ['## Summary', ''];
  const first = growth[0];
  const last = growth.at(-1);
  lines.push(
    '- **Pushgateway, default flags.** Every push re-checks the whole store, so its cost grows with the groups',
    `  held: ${growthLine(checked)}, over the levels up to ${fmt(top?.groups ?? 0, 0)} groups. Growing from empty, ` +
      (first && last && first !== last
        ? `at ${groups(first)} (bucket midpoint): ${at(first)}; at ${groups(last)}: ${at(last)}.`
        : 'the run had too few pushes to compare buckets.'),
  );
  // The last point before the knee: the knee lies between it and the knee's level.
  const before = knee ? checked.filter((p) => p.groups < knee.knee.groups).at(-1) : undefined;
  if (knee) {
    lines.push(
      `- **The knee**: with ${Math.min(result.options.concurrency, LEVEL_CONCURRENCY)} processes pushing at once, ` +
        `the best rate was ${at(knee.best)} at ${groups(knee.best)}` +
        (before && before !== knee.best ? `, and still ${at(before)} at ${groups(before)}` : '') +
        `; at ${groups(knee.knee)} it had fallen below half: ` +
        `${at(knee.knee)}. Past it the CPU each push costs the gateway keeps growing with every group, and groups never go away` +
        (top && top !== knee.knee ? `: at ${groups(top)}, ${at(top)}.` : '.'),
    );
  } else {
    lines.push(
      `- **The knee**: up to ${fmt(top?.groups ?? 0, 0)} groups the rate did not fall below half of its best, which ` +
        'was bounded by how fast this machine starts processes; the gateway CPU per push above still grows with ' +
        'every group.',
    );
  }
  if (top && topNoCheck && topLevel) {
    lines.push(
      `- **\`--push.disable-consistency-check\`** keeps the push flat: ${growthLine(unchecked)}; at ` +
        `${groups(topNoCheck)} ${at(topNoCheck)}. The check still runs on every scrape: one GET of \`/metrics\` ` +
        `at ${fmt(topLevel.check.scrape.groups, 0)} groups (${fmt(topLevel.check.scrape.bytes / 1e6, 1)} MB) took ` +
        `${fmt(topLevel.check.scrape.ms, 0)} ms.`,
    );
  }
  lines.push(
    "- **procpush's own cost per process does not grow with N**: the median CPU inside procpush (start, " +
      `${result.options.flushes} flushes, stop) was ${fmt(Math.min(...cpu), 1)}–${fmt(Math.max(...cpu), 1)} ms in every ` +
      `bucket of ${result.options.bucket} processes up to ${fmt(costs.length, 0)} (the two growth runs), plus ` +
      `${fmt(procBuckets[0]?.importCpuMs ?? Number.NaN, 1)} ms to import it and ` +
      `${fmt(procBuckets[0]?.rssAddedMiB ?? Number.NaN, 1)} MiB of RSS; the whole process used ` +
      `${fmt(procBuckets[0]?.totalCpuMs ?? Number.NaN, 0)} ms of CPU, most of it Node's own start-up. Only the wall ` +
      'time grows, and only where the gateway slows down.',
    '- **Remote write** has no store to re-check: p50 push ' +
      `${fmt(rw.rates.stale.victoriametrics.p50Ms, 1)} ms (VictoriaMetrics) and ` +
      `${fmt(rw.rates.stale.prometheus.p50Ms, 1)} ms (Prometheus) from the processes, and ` +
      `${fmt(rw.burst.victoriametrics.p50Ms, 1)} and ${fmt(rw.burst.prometheus.p50Ms, 1)} ms in the burst that ` +
      `followed, by when they had created ${fmt(rw.held.victoriametrics.created, 0)} and ` +
      `${fmt(rw.held.prometheus.created, 0)} series. One-request processes simulated in one process, 16 at a ` +
      `time, put ${fmt(rw.burst.victoriametrics.perSecond, 0)} samples/s into VictoriaMetrics and ` +
      `${fmt(rw.burst.prometheus.perSecond, 0)} into Prometheus, five new series a request; the sender itself used ` +
      `${fmt(senderCores(rw.burst.victoriametrics), 2)} and ${fmt(senderCores(rw.burst.prometheus), 2)} of a core ` +
      'doing it, so on this two-CPU machine that is a floor for the receivers, not their limit.',
    `- **Stale markers**: ${staleLine(result)}`,
  );
  return lines;
}

/** Cores the burst's sender used: its CPU per request times requests per second. */
function senderCores(r: SimResult['remoteWrite']['burst']['prometheus']): number {
  return (r.senderCpuMsPerRequest * (r.processes / r.seconds)) / 1000;
}

function staleLine(result: SimResult): string {
  const rw = result.remoteWrite;
  const end = rw.live.at(-1);
  const peak = (pick: (p: (typeof rw.live)[number]) => number): number => Math.max(0, ...rw.live.map(pick));
  if (!end) return 'no live-series readings were taken.';
  const [inside, outside] = rw.lookback;
  return (
    `processes that ended with \`stop()\` peaked at ${fmt(
      peak((p) => p.counts.victoriametrics.stale),
      0,
    )} ` +
    `(VictoriaMetrics) and ${fmt(
      peak((p) => p.counts.prometheus.stale),
      0,
    )} (Prometheus) live series and left ` +
    `${fmt(end.counts.victoriametrics.stale, 0)} and ${fmt(end.counts.prometheus.stale, 0)} once they had ended; ` +
    `those that exited or were killed without it still showed ${fmt(end.counts.victoriametrics.noStale, 0)} and ` +
    `${fmt(end.counts.prometheus.noStale, 0)} at the end of the run` +
    (inside && outside
      ? `, ${fmt(inside.counts.victoriametrics, 0)} and ${fmt(inside.counts.prometheus, 0)} ${inside.when}, and ` +
        `${fmt(outside.counts.victoriametrics, 0)} and ${fmt(outside.counts.prometheus, 0)} ${outside.when}: the ` +
        'five-minute lookback is all that ends them.'
      : '.')
  );
}

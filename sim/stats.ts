/** Turns the children's reports into per-bucket figures: rates, latency quantiles, cost per push and per process. */
import type { ChildReport } from './children.js';
import type { ProcSampler } from './proc-stat.js';

/** The value at quantile `q` by the nearest-rank method; NaN for no values. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The arithmetic mean; NaN for no values. */
export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Figures of the pushes made while the gateway held between `from` and `to` groups. */
export interface PushBucket {
  readonly from: number;
  readonly to: number;
  readonly pushes: number;
  readonly failed: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Server CPU over the bucket's window divided by its pushes. */
  readonly serverCpuMsPerPush: number;
  readonly serverRssBytes: number;
}

/**
 * Buckets every push by the number of groups the gateway held when it was made: `preloaded` plus the children
 * whose first push had completed before it (each child is its own group).
 */
export function pushBuckets(
  reports: readonly ChildReport[],
  width: number,
  server: ProcSampler,
  preloaded = 0,
): PushBucket[] {
  const events = reports
    .flatMap((r) => r.pushes.map((p) => ({ ...p, child: r.index })))
    .sort((a, b) => a.end - b.end);
  const grouped = new Set<number>();
  const byBucket = new Map<number, typeof events>();
  for (const event of events) {
    const bucket = Math.floor((preloaded + grouped.size) / width);
    if (event.ok) grouped.add(event.child);
    const list = byBucket.get(bucket) ?? [];
    list.push(event);
    byBucket.set(bucket, list);
  }
  return [...byBucket]
    .sort(([a], [b]) => a - b)
    .map(([bucket, list]) => {
      const first = list[0]!.end;
      const last = list.at(-1)!.end;
      const seconds = (last - first) / 1000;
      const latencies = list.map((e) => e.ms);
      return {
        from: bucket * width,
        to: (bucket + 1) * width,
        pushes: list.length,
        failed: list.filter((e) => !e.ok).length,
        seconds,
        perSecond: seconds > 0 ? (list.length - 1) / seconds : Number.NaN,
        p50Ms: quantile(latencies, 0.5),
        p99Ms: quantile(latencies, 0.99),
        serverCpuMsPerPush: server.cpuBetween(first, last) / Math.max(1, list.length - 1),
        serverRssBytes: server.rssBetween(first, last),
      };
    });
}

/** What procpush cost the processes launched in one bucket of the launch order. */
export interface CostBucket {
  readonly from: number;
  readonly to: number;
  readonly processes: number;
  readonly totalCpuMs: number;
  readonly importCpuMs: number;
  readonly procpushCpuMs: number;
  readonly procpushCpuP99Ms: number;
  readonly rssEndMiB: number;
  readonly rssAddedMiB: number;
  readonly wallMs: number;
}

/** Per-process cost by launch order, to show whether it grows with N. */
export function costBuckets(reports: readonly ChildReport[], width: number): CostBucket[] {
  const byBucket = new Map<number, ChildReport[]>();
  for (const report of reports) {
    const bucket = Math.floor(report.index / width);
    const list = byBucket.get(bucket) ?? [];
    list.push(report);
    byBucket.set(bucket, list);
  }
  const mib = (bytes: number): number => bytes / 1024 / 1024;
  return [...byBucket]
    .sort(([a], [b]) => a - b)
    .map(([bucket, list]) => {
      const at = (q: number, of: (r: ChildReport) => number): number => quantile(list.map(of), q);
      return {
        from: bucket * width,
        to: (bucket + 1) * width,
        processes: list.length,
        totalCpuMs: at(0.5, (r) => r.totalCpuMs),
        importCpuMs: at(0.5, (r) => r.cpu.importMs),
        procpushCpuMs: at(0.5, (r) => r.cpu.procpushMs),
        procpushCpuP99Ms: at(0.99, (r) => r.cpu.procpushMs),
        rssEndMiB: at(0.5, (r) => mib(r.rss.endBytes)),
        rssAddedMiB: at(0.5, (r) => mib(r.rss.endBytes - r.rss.bootBytes)),
        wallMs: at(0.5, (r) => r.end - r.start),
      };
    });
}

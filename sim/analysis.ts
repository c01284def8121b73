/** Reads the knee and the growth of the gateway's cost out of the measured points. */
import type { GatewayRun } from './pushgateway-phases.js';
import type { Level } from './staircase.js';

/** Batches or buckets with fewer pushes than this are too thin to judge by. */
const MIN_PUSHES = 10;

/** What one bucket or batch measured, at the groups the gateway held. */
export interface Point {
  readonly groups: number;
  readonly pushes: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuMs: number;
}

/** The buckets of a growth run, at their midpoints. */
export function bucketPoints(run: GatewayRun): Point[] {
  return run.buckets.map((b) => ({
    groups: (b.from + b.to) / 2,
    pushes: b.pushes,
    perSecond: b.perSecond,
    p50Ms: b.p50Ms,
    p99Ms: b.p99Ms,
    cpuMs: b.serverCpuMsPerPush,
  }));
}

/** The batches of the levels against one of the two gateways. */
export function levelPoints(levels: readonly Level[], which: 'check' | 'noCheck'): Point[] {
  return levels.flatMap((level) => {
    const b = level[which].overall;
    if (!b) return [];
    return [
      {
        groups: level[which].preloaded,
        pushes: b.pushes,
        perSecond: b.perSecond,
        p50Ms: b.p50Ms,
        p99Ms: b.p99Ms,
        cpuMs: b.serverCpuMsPerPush,
      },
    ];
  });
}

/** Where pushes/s first falls below half of the best point's, or undefined if it never does. */
export function findKnee(points: readonly Point[]): { knee: Point; best: Point } | undefined {
  const solid = points.filter((p) => p.pushes >= MIN_PUSHES && Number.isFinite(p.perSecond));
  const best = solid.reduce<Point | undefined>(
    (a, p) => (!a || p.perSecond > a.perSecond ? p : a),
    undefined,
  );
  if (!best) return undefined;
  const knee = solid.find((p) => p.groups > best.groups && p.perSecond < best.perSecond / 2);
  return knee ? { knee, best } : undefined;
}

/** Least-squares slope of gateway CPU per push against groups held, in ms per 1,000 groups. */
export function cpuGrowth(
  points: readonly Point[],
): { perThousandMs: number; interceptMs: number } | undefined {
  const solid = points.filter((p) => p.pushes >= MIN_PUSHES && Number.isFinite(p.cpuMs));
  if (solid.length < 2) return undefined;
  const n = solid.length;
  const mx = solid.reduce((s, p) => s + p.groups, 0) / n;
  const my = solid.reduce((s, p) => s + p.cpuMs, 0) / n;
  const sxx = solid.reduce((s, p) => s + (p.groups - mx) ** 2, 0);
  if (sxx === 0) return undefined;
  const slope = solid.reduce((s, p) => s + (p.groups - mx) * (p.cpuMs - my), 0) / sxx;
  return { perThousandMs: slope * 1000, interceptMs: my - slope * mx };
}

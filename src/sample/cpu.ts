/** The CPU maths: turns cumulative CPU seconds into a percentage of the capacity the process may use. */

/** Converts readings of cumulative CPU time into percentages, one interval at a time. */
export interface CpuMeter {
  /**
   * Percent (0–100) of `capacityCpus` used since the previous reading. The first reading covers the time since
   * the process started, so a job that lives one interval still reports its CPU.
   */
  next(cpuSeconds: number, wallSeconds: number): number;
}

/**
 * Creates a meter. `startWallSeconds` is the wall time the process started, on the same clock as later
 * `wallSeconds` readings; `capacityCpus` is the cgroup quota or the CPUs the process may run on.
 */
export function createCpuMeter(capacityCpus: number, startWallSeconds: number): CpuMeter {
  let lastCpu = 0;
  let lastWall = startWallSeconds;
  let lastPercent = 0;
  return {
    next(cpuSeconds, wallSeconds) {
      const wall = wallSeconds - lastWall;
      // Two readings within a millisecond say nothing new; keep the baseline so the next interval is whole.
      if (wall < 0.001) return lastPercent;
      lastPercent = cpuPercent(cpuSeconds - lastCpu, wall, capacityCpus);
      lastCpu = cpuSeconds;
      lastWall = wallSeconds;
      return lastPercent;
    },
  };
}

/** CPU seconds over wall seconds, as a percentage of `capacityCpus`, clamped to 0–100. */
export function cpuPercent(cpuSeconds: number, wallSeconds: number, capacityCpus: number): number {
  if (!(wallSeconds > 0) || !(capacityCpus > 0)) return 0;
  const percent = (100 * cpuSeconds) / (wallSeconds * capacityCpus);
  return Math.min(100, Math.max(0, percent));
}

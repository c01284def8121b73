/**
 * The Linux sampler: reads `/proc/self/stat` and `/proc/self/status` on each sample.
 *
 * The reads are synchronous on purpose: procfs files are generated from kernel memory on read and never wait
 * on a disk (https://docs.kernel.org/filesystems/proc.html), so a sync read takes microseconds, while an async
 * one would cost a thread-pool round trip per file and more than the read itself.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { SampleError } from '../errors.js';
import { createCpuMeter } from './cpu.js';
import { parseCgroupV2Path, parseCpuMax, parseProcStat, parseProcStatus } from './proc-parse.js';
import type { Sample, SampleResult, Sampler } from './types.js';

/**
 * Clock ticks per second of `utime` and `stime`. Linux reports them in USER_HZ, which is 100 on every
 * architecture Node supports (https://man7.org/linux/man-pages/man7/time.7.html).
 */
export const CLOCK_TICKS_PER_SECOND = 100;

/** Where the sampler reads from; the defaults are the running process, tests point them at fixtures. */
export interface ProcSamplerOptions {
  /** @default '/proc/self' */
  readonly procDir?: string;
  /** @default '/sys/fs/cgroup' */
  readonly cgroupRoot?: string;
  /** Monotonic seconds since the process started. @default performance.now() / 1000 */
  readonly uptimeSeconds?: () => number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Creates the `/proc` sampler; the CPU capacity is read once, here, not on every sample. */
export function createProcSampler(options: ProcSamplerOptions = {}): Sampler {
  const procDir = options.procDir ?? '/proc/self';
  const uptime = options.uptimeSeconds ?? (() => performance.now() / 1000);
  const now = options.now ?? Date.now;
  const meter = createCpuMeter(cpuCapacity(procDir, options.cgroupRoot ?? '/sys/fs/cgroup'), 0);
  const statPath = `${procDir}/stat`;
  const statusPath = `${procDir}/status`;

  return {
    sample(): SampleResult {
      const errors: SampleError[] = [];
      let sample: { -readonly [K in keyof Sample]: Sample[K] } = { timestampMs: now() };
      try {
        const stat = parseProcStat(readFileSync(statPath, 'latin1'));
        const cpuSeconds = (stat.utimeTicks + stat.stimeTicks) / CLOCK_TICKS_PER_SECOND;
        sample.cpuPercent = meter.next(cpuSeconds, uptime());
      } catch (error) {
        errors.push(new SampleError(`Could not read CPU time from ${statPath}`, { cause: error }));
      }
      try {
        const status = parseProcStatus(readFileSync(statusPath, 'latin1'));
        sample = { ...sample, memoryBytes: status.rssBytes, memoryPeakBytes: status.peakRssBytes };
      } catch (error) {
        errors.push(new SampleError(`Could not read memory from ${statusPath}`, { cause: error }));
      }
      return { sample, errors };
    },
  };
}

/**
 * The CPUs this process may use: the tightest cgroup v2 `cpu.max` quota on the path from its cgroup to the
 * root, else the CPUs it may run on (sched_getaffinity, through `os.availableParallelism`).
 */
export function cpuCapacity(procDir: string, cgroupRoot: string): number {
  let capacity = availableParallelism();
  let path: string | undefined;
  try {
    path = parseCgroupV2Path(readFileSync(`${procDir}/cgroup`, 'latin1'));
  } catch {
    return capacity;
  }
  if (path === undefined) return capacity;
  const parts = path.split('/').filter(Boolean);
  for (let depth = parts.length; depth >= 0; depth--) {
    try {
      const quota = parseCpuMax(
        readFileSync(`${cgroupRoot}/${parts.slice(0, depth).join('/')}/cpu.max`, 'latin1'),
      );
      if (quota !== undefined) capacity = Math.min(capacity, quota);
    } catch {
      // No cpu.max at this level (the root cgroup has none, and a cgroup namespace may hide the parents).
    }
  }
  return capacity;
}

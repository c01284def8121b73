/**
 * The process-tree sampler of the `procpush` command: the memory and CPU of a command and every process
 * below it, read from `/proc/<pid>` (proc_pid_stat(5), proc_pid_status(5)).
 *
 * The tree is found from the ppid field of every `/proc/[0-9]*` process on each sample; a process that exits
 * between the listing and the read is skipped. Reads are synchronous for the reason given in
 * `proc-reader.ts` (procfs never waits on a disk), and because procpush reaps the command on its own event
 * loop, the command cannot be reaped in the middle of a synchronous sample.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { SampleError } from '../errors.js';
import { createCpuMeter } from './cpu.js';
import { type ProcStat, parseProcStat, parseProcStatus } from './proc-parse.js';
import { CLOCK_TICKS_PER_SECOND, cpuCapacity } from './proc-reader.js';
import {
  createPeakTracker,
  isPidEntry,
  reapedChildTicks,
  treeMembers,
  treeTicks,
} from './process-tree-parse.js';
import type { Sample, SampleResult, Sampler } from './types.js';

/** Where and what the tree sampler reads; the defaults are the live system, tests point them at fixtures. */
export interface ProcessTreeOptions {
  /** The command procpush started (its child), the root of the tree. */
  readonly rootPid: number;
  /** Monotonic seconds at which the command started, on the clock of `uptimeSeconds`. */
  readonly startSeconds: number;
  /** @default '/proc' */
  readonly procDir?: string;
  /** procpush's own directory, whose cutime/cstime hold the command once reaped. @default `${procDir}/self` */
  readonly selfDir?: string;
  /** @default '/sys/fs/cgroup' */
  readonly cgroupRoot?: string;
  /** The CPUs the tree may use. @default the cgroup v2 quota of procpush, else its CPU affinity */
  readonly capacityCpus?: number;
  /** Monotonic seconds. @default performance.now() / 1000 */
  readonly uptimeSeconds?: () => number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** A sampler of the whole tree, with a cheap observation for the memory peak between samples. */
export interface ProcessTreeSampler extends Sampler {
  /**
   * Observes the tree's memory for the peak (call it often, e.g. every 100 ms). Cheaper than a sample: only
   * processes new since the last look have their stat read; the tree's members have their status read.
   */
  track(): void;
  /**
   * Marks the command as reaped: the tree is no longer scanned (its pid may be reused), its CPU is read from
   * procpush's own cutime/cstime, and its memory stays at the last observation.
   */
  end(): void;
}

interface MemoryReading {
  readonly rssBytes: number;
  readonly largestHwmBytes: number;
  /** Processes whose status could be read; a zombie has no memory lines and is not counted. */
  readonly read: number;
}

/** Creates the sampler; call it right after the command was spawned, before it can be reaped. */
export function createProcessTreeSampler(options: ProcessTreeOptions): ProcessTreeSampler {
  const { rootPid } = options;
  const procDir = options.procDir ?? '/proc';
  const selfStat = `${options.selfDir ?? `${procDir}/self`}/stat`;
  const uptime = options.uptimeSeconds ?? (() => performance.now() / 1000);
  const now = options.now ?? Date.now;
  const capacity =
    options.capacityCpus ??
    cpuCapacity(options.selfDir ?? `${procDir}/self`, options.cgroupRoot ?? '/sys/fs/cgroup');
  const meter = createCpuMeter(capacity, options.startSeconds);
  const peak = createPeakTracker();
  /** pid → ppid of every process seen, kept between looks so `track()` reads only new processes. */
  const parents = new Map<number, number>();
  // procpush spawns nothing else, but measure from here so nothing reaped before the command counts.
  let baselineTicks = 0;
  try {
    baselineTicks = readSelfChildTicks(0);
  } catch {
    // Reported by the first sample, which reads the same file.
  }
  let lastRssBytes: number | undefined;
  let ended = false;

  function listPids(): number[] {
    return readdirSync(procDir).filter(isPidEntry).map(Number);
  }

  function readStat(pid: number): ProcStat | undefined {
    try {
      return parseProcStat(readFileSync(`${procDir}/${pid}/stat`, 'latin1'));
    } catch {
      return undefined; // Exited between the listing and the read.
    }
  }

  function readSelfChildTicks(baseline: number): number {
    return reapedChildTicks(parseProcStat(readFileSync(selfStat, 'latin1'))) - baseline;
  }

  function readMemory(members: readonly number[]): MemoryReading {
    let rssBytes = 0;
    let largestHwmBytes = 0;
    let read = 0;
    for (const pid of members) {
      try {
        const status = parseProcStatus(readFileSync(`${procDir}/${pid}/status`, 'latin1'));
        rssBytes += status.rssBytes;
        largestHwmBytes = Math.max(largestHwmBytes, status.peakRssBytes);
        read++;
      } catch {
        // Exited since the listing, or a zombie (no memory of its own any more).
      }
    }
    return { rssBytes, largestHwmBytes, read };
  }

  function observe(memory: MemoryReading): void {
    if (memory.read === 0) return;
    lastRssBytes = memory.rssBytes;
    peak.observe(memory.rssBytes, memory.largestHwmBytes);
  }

  /** Reads every process's stat: fresh parents for all, CPU ticks for the tree. */
  function fullScan(): { members: number[]; ticks: number } {
    const stats = new Map<number, ProcStat>();
    parents.clear();
    for (const pid of listPids()) {
      const stat = readStat(pid);
      if (stat === undefined) continue;
      stats.set(pid, stat);
      parents.set(pid, stat.ppid);
    }
    const members = treeMembers(rootPid, parents);
    let ticks = 0;
    for (const pid of members) ticks += treeTicks(stats.get(pid) as ProcStat);
    return { members, ticks };
  }

  /** Reads the stat of new processes only; a known process keeps the parent it had at its last read. */
  function quickScan(): number[] {
    const listed = new Set(listPids());
    for (const pid of parents.keys()) if (!listed.has(pid)) parents.delete(pid);
    for (const pid of listed) {
      if (parents.has(pid)) continue;
      const stat = readStat(pid);
      if (stat !== undefined) parents.set(pid, stat.ppid);
    }
    return treeMembers(rootPid, parents);
  }

  return {
    sample(): SampleResult {
      const errors: SampleError[] = [];
      const sample: { -readonly [K in keyof Sample]: Sample[K] } = { timestampMs: now() };
      let liveTicks: number | undefined = 0;
      if (!ended) {
        try {
          const scan = fullScan();
          liveTicks = scan.ticks;
          observe(readMemory(scan.members));
        } catch (error) {
          liveTicks = undefined;
          errors.push(new SampleError(`Could not list the processes in ${procDir}`, { cause: error }));
        }
      }
      if (liveTicks !== undefined) {
        try {
          // Before the command is reaped the first term is 0; after, it holds the whole tree and liveTicks is 0.
          const ticks = readSelfChildTicks(baselineTicks) + liveTicks;
          sample.cpuPercent = meter.next(ticks / CLOCK_TICKS_PER_SECOND, uptime());
        } catch (error) {
          errors.push(new SampleError(`Could not read CPU time from ${selfStat}`, { cause: error }));
        }
      }
      if (lastRssBytes !== undefined) sample.memoryBytes = lastRssBytes;
      const peakBytes = peak.peak();
      if (peakBytes !== undefined) sample.memoryPeakBytes = peakBytes;
      return { sample, errors };
    },
    track() {
      if (ended) return;
      try {
        observe(readMemory(quickScan()));
      } catch {
        // /proc unreadable: the next sample reports it.
      }
    },
    end() {
      ended = true;
      parents.clear();
    },
  };
}

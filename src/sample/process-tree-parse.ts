/**
 * Pure helpers of the process-tree sampler: which processes belong to a tree, what the tree has used, and the
 * peak of its memory. No I/O here; `process-tree.ts` reads `/proc` and feeds these.
 */
import type { ProcStat } from './proc-parse.js';

/** Whether a `/proc` entry names a process (`/proc/[0-9]*`), not `self`, `net` or another file. */
export function isPidEntry(name: string): boolean {
  return /^[0-9]+$/.test(name);
}

/**
 * The root and every process below it, parents before children, given each process's parent
 * (`pid → ppid`). An empty list when the root is not among the processes. A ppid loop (impossible in the
 * kernel, possible in stale readings) cannot make it run forever.
 */
export function treeMembers(root: number, parents: ReadonlyMap<number, number>): number[] {
  if (!parents.has(root)) return [];
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parents) {
    const siblings = children.get(ppid);
    if (siblings) siblings.push(pid);
    else children.set(ppid, [pid]);
  }
  const members = [root];
  const seen = new Set(members);
  for (let i = 0; i < members.length; i++) {
    for (const child of children.get(members[i] as number) ?? []) {
      if (seen.has(child)) continue;
      seen.add(child);
      members.push(child);
    }
  }
  return members;
}

/**
 * CPU ticks a live process accounts for: its own user and system time plus that of the children it has
 * waited for. The kernel adds a child's utime+stime+cutime+cstime to its parent's cutime/cstime when the
 * parent reaps it (proc_pid_stat(5), fields 14–17), so summing this over the live members of a tree counts
 * every process the tree ever ran exactly once.
 */
export function treeTicks(stat: ProcStat): number {
  return stat.utimeTicks + stat.stimeTicks + stat.cutimeTicks + stat.cstimeTicks;
}

/** CPU ticks of the children a process has reaped (`cutime + cstime`). */
export function reapedChildTicks(stat: ProcStat): number {
  return stat.cutimeTicks + stat.cstimeTicks;
}

/** The largest memory a tree was seen to hold. */
export interface PeakTracker {
  /**
   * Records one observation: the RSS summed over the tree now, and the largest `VmHWM` of its processes
   * (each process's own peak, which also catches a spike between two observations).
   */
  observe(summedRssBytes: number, largestHwmBytes: number): void;
  /** The larger of the highest summed RSS and the highest single `VmHWM`; undefined before any observation. */
  peak(): number | undefined;
}

/** Creates a tracker with no observations. */
export function createPeakTracker(): PeakTracker {
  let peak: number | undefined;
  return {
    observe(summedRssBytes, largestHwmBytes) {
      peak = Math.max(peak ?? 0, summedRssBytes, largestHwmBytes);
    },
    peak: () => peak,
  };
}

/**
 * Pure parsers for the procfs and cgroup files the sampler reads. Formats: proc(5)
 * (https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html, proc_pid_status.5.html) and the cgroup v2
 * documentation (https://docs.kernel.org/admin-guide/cgroup-v2.html#cpu-interface-files).
 */

/** The fields of `/proc/<pid>/stat` that procpush uses; times are in clock ticks. */
export interface ProcStat {
  readonly pid: number;
  readonly comm: string;
  readonly ppid: number;
  readonly utimeTicks: number;
  readonly stimeTicks: number;
  /** CPU of waited-for children: the CLI adds it so the CPU of a finished child process is not lost. */
  readonly cutimeTicks: number;
  readonly cstimeTicks: number;
  /** Start time after system boot. */
  readonly startTicks: number;
  readonly rssPages: number;
}

/** Parses `/proc/<pid>/stat`; `comm` may hold spaces and parentheses, so it ends at the last `)`. */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open)
    throw new TypeError('Expected /proc/<pid>/stat to hold "pid (comm) ...", got no comm');
  // Fields after the comm, starting at field 3 (state): field n is rest[n - 3].
  const rest = text.slice(close + 2).split(' ');
  const field = (n: number): number => {
    const value = Number(rest[n - 3]);
    if (!Number.isFinite(value))
      throw new TypeError(`Expected field ${n} of /proc/<pid>/stat to be a number`);
    return value;
  };
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    ppid: field(4),
    utimeTicks: field(14),
    stimeTicks: field(15),
    cutimeTicks: field(16),
    cstimeTicks: field(17),
    startTicks: field(22),
    rssPages: field(24),
  };
}

/** The memory fields of `/proc/<pid>/status`, in bytes. */
export interface ProcStatus {
  /** `VmRSS`: resident set size now. */
  readonly rssBytes: number;
  /** `VmHWM`: peak resident set size (not `VmPeak`, which is virtual memory). */
  readonly peakRssBytes: number;
}

/** Parses `VmRSS` and `VmHWM` from `/proc/<pid>/status` (a kernel thread has neither: that is an error). */
export function parseProcStatus(text: string): ProcStatus {
  return { rssBytes: kibField(text, 'VmRSS:'), peakRssBytes: kibField(text, 'VmHWM:') };
}

function kibField(text: string, key: string): number {
  // Only at the start of a line: the `Name:` line holds the process name, which any process may set to "VmHWM: 1".
  const at = text.indexOf(`\n${key}`) + 1;
  if (at < 1) throw new TypeError(`Expected /proc/<pid>/status to have ${key.slice(0, -1)}, got none`);
  const value = Number.parseInt(text.slice(at + key.length, text.indexOf('\n', at) >>> 0), 10);
  if (!Number.isFinite(value)) throw new TypeError(`Expected ${key.slice(0, -1)} to be a number of kB`);
  return value * 1024;
}

/** Parses cgroup v2 `cpu.max` ("$MAX $PERIOD"): the CPUs the quota allows, or undefined for "max". */
export function parseCpuMax(text: string): number | undefined {
  const [max, period] = text.trim().split(/\s+/);
  if (max === 'max') return undefined;
  const quota = Number(max);
  const length = Number(period ?? 100_000);
  if (!(quota > 0) || !(length > 0))
    throw new TypeError(`Expected cpu.max to be "<quota> <period>" or "max", got "${text.trim()}"`);
  return quota / length;
}

/** Parses `/proc/<pid>/cgroup` and returns the cgroup v2 path (the `0::` line), or undefined on cgroup v1. */
export function parseCgroupV2Path(text: string): string | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('0::')) return line.slice(3).trim() || '/';
  }
  return undefined;
}

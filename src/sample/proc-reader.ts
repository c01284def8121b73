/**
 * The Linux sampler: reads `/proc/self/stat` and `/proc/self/status` on each sample.
 *
 * The reads are synchronous on purpose: procfs files are generated from kernel memory on read and never wait
 * on a disk (https://docs.kernel.org/filesystems/proc.html), so a sync read takes microseconds, while an async
 * one would cost a thread-pool round trip per file and more than the read itself.
 *
 * They go into one buffer the sampler keeps, not through `readFileSync`: procfs reports a size of 0, so
 * `readFileSync` reads such a file into fresh 64 KiB buffers, twice per file, 256 KiB per sample for the
 * garbage collector and the allocator (BENCHMARKS.md, 6c); the reused buffer also halves the time of a sample.
 * The files stay open between samples and are read again from offset 0, which makes procfs generate them afresh
 * (seq_file restarts at position 0): an open of `/proc/self/stat` walks the path and sets up the file each time,
 * and with the close it was half of a sample's cost in a push made once a second.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
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
  const reader = createProcFileReader();

  return {
    sample(): SampleResult {
      const errors: SampleError[] = [];
      const sample: { -readonly [K in keyof Sample]: Sample[K] } = { timestampMs: now() };
      try {
        const stat = parseProcStat(reader.read(statPath));
        const cpuSeconds = (stat.utimeTicks + stat.stimeTicks) / CLOCK_TICKS_PER_SECOND;
        sample.cpuPercent = meter.next(cpuSeconds, uptime());
      } catch (error) {
        reader.reopen(statPath);
        errors.push(new SampleError(`Could not read CPU time from ${statPath}`, { cause: error }));
      }
      try {
        const status = parseProcStatus(reader.read(statusPath));
        sample.memoryBytes = status.rssBytes;
        sample.memoryPeakBytes = status.peakRssBytes;
      } catch (error) {
        reader.reopen(statusPath);
        errors.push(new SampleError(`Could not read memory from ${statusPath}`, { cause: error }));
      }
      return { sample, errors };
    },
    close: () => reader.close(),
  };
}

/** Reads whole files as latin1 text through one buffer, keeping each file open from one read to the next. */
export interface ProcFileReader {
  /** The whole file, read from its start. */
  read(path: string): string;
  /** After a read or parse that failed: lets go of `path`, so that the next read opens it afresh. */
  reopen(path: string): void;
  /** Closes the files it keeps; a read after this opens and closes its file. */
  close(): void;
  /** The buffer's size now, in bytes. */
  capacity(): number;
}

/** A file the reader keeps open, with the identity it had when opened. */
interface OpenFile {
  readonly fd: number;
  readonly dev: number;
  readonly ino: number;
}

/**
 * Creates the reader. 4 KiB holds `stat` (about 300 bytes) and `status` (about 1.5 KiB) with room to spare; a
 * larger file grows the buffer, which is kept. A file is read until a read returns 0 bytes, as procfs requires:
 * its size says nothing (it is 0), and a read may return less than is left (seq_file fills one page at a time).
 *
 * A descriptor is only closed while it still is the file it was opened as (same device and inode): code that
 * closes descriptors it does not own could have given the number to another file, which is then left alone.
 */
export function createProcFileReader(initialBytes = 4096): ProcFileReader {
  let buffer = Buffer.allocUnsafe(initialBytes);
  let files: Map<string, OpenFile> | undefined = new Map();

  /** Reads at explicit positions (pread): the descriptor's offset never moves, so each read starts at 0. */
  function readWhole(fd: number): string {
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        const larger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(larger, 0, 0, length);
        buffer = larger;
      }
      const read = readSync(fd, buffer, length, buffer.length - length, length);
      if (read === 0) break;
      length += read;
    }
    return buffer.toString('latin1', 0, length);
  }

  function release(path: string): void {
    const file = files?.get(path);
    if (file === undefined) return;
    files?.delete(path);
    if (stillOwned(file)) closeSync(file.fd);
  }

  return {
    read(path) {
      if (files === undefined) {
        const fd = openSync(path, 'r');
        try {
          return readWhole(fd);
        } finally {
          closeSync(fd);
        }
      }
      let file = files.get(path);
      if (file === undefined) {
        const fd = openSync(path, 'r');
        try {
          const { dev, ino } = fstatSync(fd);
          file = { fd, dev, ino };
        } catch (error) {
          closeSync(fd);
          throw error;
        }
        files.set(path, file);
      }
      return readWhole(file.fd);
    },
    reopen: release,
    close() {
      for (const path of [...(files?.keys() ?? [])]) release(path);
      files = undefined;
    },
    capacity: () => buffer.length,
  };
}

function stillOwned(file: OpenFile): boolean {
  try {
    const { dev, ino } = fstatSync(file.fd);
    return dev === file.dev && ino === file.ino;
  } catch {
    return false;
  }
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

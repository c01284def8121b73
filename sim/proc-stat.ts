/**
 * CPU and RSS of a server process over time, from `/proc/<pid>/stat` (utime and stime, fields 14 and 15, in
 * clock ticks; rss, field 24, in pages: https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** One reading: wall-clock ms since the epoch, CPU ms used so far, RSS bytes now. */
export interface ProcReading {
  readonly t: number;
  readonly cpuMs: number;
  readonly rssBytes: number;
}

/** Readings taken on an interval, with the CPU used between two instants. */
export interface ProcSampler {
  readonly readings: ProcReading[];
  /** CPU ms the process used between `from` and `to` (epoch ms), interpolated between readings. */
  cpuBetween(from: number, to: number): number;
  /** The largest RSS read between `from` and `to`, or the nearest reading. */
  rssBetween(from: number, to: number): number;
  /** Takes a reading now (the interval may be too coarse for a short phase). */
  read(): void;
  stop(): void;
}

const TICKS_PER_S = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const PAGE_BYTES = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) || 4096;

/** Reads `/proc/<pid>/stat` once; undefined once the process is gone. */
export function readProc(pid: number): ProcReading | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields from the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const rssPages = Number(fields[21]);
  return { t: Date.now(), cpuMs: ((utime + stime) * 1000) / TICKS_PER_S, rssBytes: rssPages * PAGE_BYTES };
}

/** Samples `pid` every `intervalMs` until stopped. */
export function sampleProc(pid: number, intervalMs = 250): ProcSampler {
  const readings: ProcReading[] = [];
  const read = (): void => {
    const reading = readProc(pid);
    if (reading) readings.push(reading);
  };
  read();
  const timer = setInterval(read, intervalMs);
  timer.unref();

  const cpuAt = (t: number): number => {
    const after = readings.findIndex((r) => r.t >= t);
    if (after === -1) return readings.at(-1)?.cpuMs ?? 0;
    const next = readings[after]!;
    const prev = readings[after - 1];
    if (!prev || next.t === prev.t) return next.cpuMs;
    return prev.cpuMs + ((next.cpuMs - prev.cpuMs) * (t - prev.t)) / (next.t - prev.t);
  };

  return {
    readings,
    cpuBetween: (from, to) => Math.max(0, cpuAt(to) - cpuAt(from)),
    rssBetween(from, to) {
      const inside = readings.filter((r) => r.t >= from && r.t <= to).map((r) => r.rssBytes);
      if (inside.length > 0) return Math.max(...inside);
      const nearest = readings.reduce<ProcReading | undefined>(
        (best, r) => (!best || Math.abs(r.t - to) < Math.abs(best.t - to) ? r : best),
        undefined,
      );
      return nearest?.rssBytes ?? 0;
    },
    read,
    stop: () => clearInterval(timer),
  };
}

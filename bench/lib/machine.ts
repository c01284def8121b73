/** The machine a run measured on, and its load: the numbers mean little without both. */
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';

/** Where and when the benchmark ran. */
export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memory: string;
  readonly node: string;
  readonly kernel: string;
  readonly date: string;
}

/** Describes this machine now. */
export function describeMachine(): Machine {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    node: process.version,
    kernel: `${process.platform} ${release()}`,
    date: new Date().toISOString(),
  };
}

/** The 1-, 5- and 15-minute load averages, as `uptime` prints them. */
export function load(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}

/** Samples per second a receiver took, with its latency and its CPU per 1,000 samples. */
import type * as Procpush from '../src/node.js';
import type { TsdbServer } from '../test/e2e/servers.js';
import { procpushEntry } from './children.js';
import type { ProcSampler } from './proc-stat.js';
import { quantile } from './stats.js';

/** Samples a receiver took from the children of one run. */
export interface RateFigure {
  readonly processes: number;
  readonly samples: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failedPushes: number;
  readonly serverCpuMsPer1kSamples: number;
  readonly serverRssBytes: number;
}

export function rate(
  samples: number,
  from: number,
  to: number,
  proc: ProcSampler,
): Pick<RateFigure, 'seconds' | 'perSecond' | 'serverCpuMsPer1kSamples' | 'serverRssBytes'> {
  const seconds = (to - from) / 1000;
  return {
    seconds,
    perSecond: samples / seconds,
    serverCpuMsPer1kSamples: (proc.cpuBetween(from, to) / Math.max(1, samples)) * 1000,
    serverRssBytes: proc.rssBetween(from, to),
  };
}

export function latency(ms: readonly number[]): { p50Ms: number; p99Ms: number } {
  return { p50Ms: quantile(ms, 0.5), p99Ms: quantile(ms, 0.99) };
}

/**
 * The receiver's rate for processes that each send one request of five new series, without the cost of
 * starting a process: pushOnce() from the same build in this process, 16 at a time, each its own instance.
 */
export async function burstRun(
  server: TsdbServer,
  proc: ProcSampler,
  seconds: number,
): Promise<RateFigure & { senderCpuMsPerRequest: number }> {
  const { pushOnce } = (await import(procpushEntry.url)) as typeof Procpush;
  const latencies: number[] = [];
  let failed = 0;
  let next = 0;
  const cpu = process.cpuUsage();
  const from = Date.now();
  const until = from + seconds * 1000;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (Date.now() < until) {
        const index = next++;
        const t0 = performance.now();
        const result = await pushOnce({
          target: { type: 'remote-write', url: server.remoteWriteUrl },
          job: 'sim-burst',
          instance: `burst-${index}`,
          flushTimeoutMs: 10_000,
        });
        latencies.push(performance.now() - t0);
        if (!result.ok) failed++;
      }
    }),
  );
  const to = Date.now();
  proc.read();
  const used = process.cpuUsage(cpu);
  const samples = (latencies.length - failed) * 5;
  return {
    processes: latencies.length,
    samples,
    ...rate(samples, from, to, proc),
    ...latency(latencies),
    failedPushes: failed,
    senderCpuMsPerRequest: (used.user + used.system) / 1000 / Math.max(1, latencies.length),
  };
}

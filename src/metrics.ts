/** The five metric families (DESIGN.md, "The five metrics"): names, help texts, and values from a sample. */
import type { Sample } from './sample/types.js';

/** One gauge value ready to encode. */
export interface MetricPoint {
  readonly name: string;
  readonly help: string;
  readonly value: number;
  /** Remote write only: this sample is the stale marker that ends the series. */
  readonly stale?: boolean;
}

/** Names and help texts of the five gauges. */
export const METRICS = {
  memory: { name: 'process_memory_bytes', help: 'Resident set size of the process (VmRSS), in bytes.' },
  memoryPeak: {
    name: 'process_memory_peak_bytes',
    help: 'Peak resident set size of the process (VmHWM), in bytes.',
  },
  cpu: {
    name: 'process_cpu_percent',
    help: 'CPU used since the previous sample, in percent of the CPU capacity available to the process.',
  },
  tracingMemory: {
    name: 'tracing_memory_overhead_bytes',
    help: 'Estimated memory overhead of tracing: a configured ratio of the resident set size, in bytes.',
  },
  tracingCpu: {
    name: 'tracing_cpu_overhead_percent',
    help: 'Estimated CPU overhead of tracing, in percent.',
  },
} as const;

/** The configured overhead estimates. */
export interface Overhead {
  readonly memoryRatio: number;
  readonly cpuPercent: number;
}

/** The gauges of one sample; a metric the sampler could not read is left out, not reported as zero. */
export function toMetricPoints(sample: Sample, overhead: Overhead): MetricPoint[] {
  const points: MetricPoint[] = [];
  if (sample.memoryBytes !== undefined) points.push({ ...METRICS.memory, value: sample.memoryBytes });
  if (sample.memoryPeakBytes !== undefined)
    points.push({ ...METRICS.memoryPeak, value: sample.memoryPeakBytes });
  if (sample.cpuPercent !== undefined) points.push({ ...METRICS.cpu, value: round(sample.cpuPercent, 3) });
  if (sample.memoryBytes !== undefined) {
    points.push({ ...METRICS.tracingMemory, value: Math.round(sample.memoryBytes * overhead.memoryRatio) });
  }
  points.push({ ...METRICS.tracingCpu, value: overhead.cpuPercent });
  if (sample.extra) points.push(...sample.extra);
  return points;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

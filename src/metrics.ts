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
  const { memoryBytes, memoryPeakBytes, cpuPercent } = sample;
  if (memoryBytes !== undefined) points.push(point(METRICS.memory, memoryBytes));
  if (memoryPeakBytes !== undefined) points.push(point(METRICS.memoryPeak, memoryPeakBytes));
  if (cpuPercent !== undefined) points.push(point(METRICS.cpu, round(cpuPercent, 3)));
  if (memoryBytes !== undefined)
    points.push(point(METRICS.tracingMemory, Math.round(memoryBytes * overhead.memoryRatio)));
  points.push(point(METRICS.tracingCpu, overhead.cpuPercent));
  if (sample.extra) points.push(...sample.extra);
  return points;
}

/**
 * A point built as one literal, not by spreading a family's definition: every point then has the same shape, and
 * the encoders' reads of `name`, `help` and `value` stay monomorphic (spreading five differently shaped constants
 * cost more than encoding the body).
 */
function point(family: { readonly name: string; readonly help: string }, value: number): MetricPoint {
  return { name: family.name, help: family.help, value };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

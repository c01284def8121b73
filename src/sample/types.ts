import type { SampleError } from '../errors.js';
import type { MetricPoint } from '../metrics.js';

/** One reading of the process. A metric that could not be read is absent, never zero. */
export interface Sample {
  /** Wall-clock time of the reading, in ms since the epoch. */
  readonly timestampMs: number;
  /** Resident set size now, in bytes. */
  readonly memoryBytes?: number;
  /** Peak resident set size, in bytes. */
  readonly memoryPeakBytes?: number;
  /** CPU used since the previous reading, as a percentage (0–100) of the capacity the process may use. */
  readonly cpuPercent?: number;
  /** Further gauges pushed with this sample under the same labels (the CLI's job duration and exit code). */
  readonly extra?: readonly MetricPoint[];
}

/** What a sampler could read, and the errors for what it could not. */
export interface SampleResult {
  readonly sample: Sample;
  readonly errors: readonly SampleError[];
}

/** Reads the process; created once per reporter because it keeps the CPU baseline. */
export interface Sampler {
  sample(): SampleResult;
  /** Releases what the sampler keeps between samples (the `/proc` sampler's open files); called on stop. */
  close?(): void;
}

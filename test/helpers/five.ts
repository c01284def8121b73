/**
 * What the tests check pushed metrics against, written out here rather than taken from src/metrics.ts, so a
 * renamed metric fails the tests instead of changing their expectation with it.
 */
import { readFileSync } from 'node:fs';

/** The five metric names, sorted. */
export const FIVE = [
  'process_cpu_percent',
  'process_memory_bytes',
  'process_memory_peak_bytes',
  'tracing_cpu_overhead_percent',
  'tracing_memory_overhead_bytes',
];

/** `VmRSS` or `VmHWM` of this process, in bytes, read independently of the code under test. */
export function statusBytes(field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  if (!match?.[1]) throw new Error(`no ${field} in /proc/self/status`);
  return Number(match[1]) * 1024;
}

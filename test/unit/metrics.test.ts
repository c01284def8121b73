import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { METRICS, toMetricPoints } from '../../src/metrics.js';

const DEFAULTS = resolveConfig(undefined, {
  env: {},
  hostname: 'host-a',
  pid: 42,
  defaultJob: 'job-a',
}).overhead;

const FULL = {
  timestampMs: 1_764_000_000_000,
  memoryBytes: 200_000_000,
  memoryPeakBytes: 250_000_000,
  cpuPercent: 37.5,
};

describe('the five gauges', () => {
  it('are named and described as the metrics reference says', () => {
    expect(toMetricPoints(FULL, DEFAULTS).map(({ name, help }) => [name, help])).toEqual([
      ['process_memory_bytes', 'Resident set size of the process (VmRSS), in bytes.'],
      ['process_memory_peak_bytes', 'Peak resident set size of the process (VmHWM), in bytes.'],
      [
        'process_cpu_percent',
        'CPU used since the previous sample, in percent of the CPU capacity available to the process.',
      ],
      [
        'tracing_memory_overhead_bytes',
        'Estimated memory overhead of tracing: a configured ratio of the resident set size, in bytes.',
      ],
      ['tracing_cpu_overhead_percent', 'Estimated CPU overhead of tracing, in percent.'],
    ]);
    expect(Object.values(METRICS).map((metric) => metric.name)).toEqual([
      'process_memory_bytes',
      'process_memory_peak_bytes',
      'process_cpu_percent',
      'tracing_memory_overhead_bytes',
      'tracing_cpu_overhead_percent',
    ]);
  });

  it('estimate tracing at 1.5 % of the RSS and 0.5 % CPU by default', () => {
    expect(DEFAULTS).toEqual({ memoryRatio: 0.015, cpuPercent: 0.5 });
    expect(toMetricPoints(FULL, DEFAULTS).map(({ name, value }) => [name, value])).toEqual([
      ['process_memory_bytes', 200_000_000],
      ['process_memory_peak_bytes', 250_000_000],
      ['process_cpu_percent', 37.5],
      ['tracing_memory_overhead_bytes', 3_000_000],
      ['tracing_cpu_overhead_percent', 0.5],
    ]);
  });

  it('use the configured overhead estimates', () => {
    const overhead = resolveConfig(
      { overhead: { memoryRatio: 0.1, cpuPercent: 2 } },
      { env: {}, hostname: 'h', pid: 1, defaultJob: 'j' },
    ).overhead;
    const values = Object.fromEntries(toMetricPoints(FULL, overhead).map((p) => [p.name, p.value]));
    expect(values.tracing_memory_overhead_bytes).toBe(20_000_000);
    expect(values.tracing_cpu_overhead_percent).toBe(2);
  });

  it('round the memory overhead to whole bytes and the CPU to thousandths of a percent', () => {
    const values = Object.fromEntries(
      toMetricPoints({ ...FULL, memoryBytes: 55_624_704, cpuPercent: 12.34567 }, DEFAULTS).map((p) => [
        p.name,
        p.value,
      ]),
    );
    // 55 624 704 × 0.015 = 834 370.56
    expect(values.tracing_memory_overhead_bytes).toBe(834_371);
    expect(values.process_cpu_percent).toBe(12.346);
  });

  it('leave out the memory gauges and the tracing memory estimate when memory could not be read', () => {
    const { memoryBytes: _m, memoryPeakBytes: _p, ...noMemory } = FULL;
    expect(toMetricPoints(noMemory, DEFAULTS).map(({ name, value }) => [name, value])).toEqual([
      ['process_cpu_percent', 37.5],
      ['tracing_cpu_overhead_percent', 0.5],
    ]);
  });

  it('leave out only the CPU gauge when CPU could not be read', () => {
    const { cpuPercent: _c, ...noCpu } = FULL;
    expect(toMetricPoints(noCpu, DEFAULTS).map(({ name }) => name)).toEqual([
      'process_memory_bytes',
      'process_memory_peak_bytes',
      'tracing_memory_overhead_bytes',
      'tracing_cpu_overhead_percent',
    ]);
  });

  it('invent no zeros where no sampler works: only the configured CPU estimate remains', () => {
    const points = toMetricPoints({ timestampMs: FULL.timestampMs }, DEFAULTS);
    expect(points.map(({ name, value }) => [name, value])).toEqual([['tracing_cpu_overhead_percent', 0.5]]);
  });

  it('report a real zero as zero', () => {
    const points = toMetricPoints({ ...FULL, cpuPercent: 0 }, DEFAULTS);
    expect(points.find((p) => p.name === 'process_cpu_percent')?.value).toBe(0);
  });

  it('are never stale markers', () => {
    expect(toMetricPoints(FULL, DEFAULTS).some((point) => point.stale)).toBe(false);
  });
});

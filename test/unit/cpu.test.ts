import { describe, expect, it } from 'vitest';
import { cpuPercent, createCpuMeter } from '../../src/sample/cpu.js';

describe('the CPU percentage', () => {
  it('averages the first reading over the time since the process started', () => {
    // Started at wall 100 s; at 110 s it has used 2.5 CPU seconds of 1 CPU: 25 %.
    const meter = createCpuMeter(1, 100);
    expect(meter.next(2.5, 110)).toBe(25);
  });

  it('reports a job that lives less than one interval with the CPU it used', () => {
    const meter = createCpuMeter(2, 0);
    // 0.3 s busy on one of two CPUs over 0.4 s of life: 37.5 % of the capacity.
    expect(meter.next(0.3, 0.4)).toBe(37.5);
  });

  it('reports later readings over the interval since the previous one, not since the start', () => {
    const meter = createCpuMeter(1, 0);
    expect(meter.next(1, 10)).toBe(10);
    // 4 CPU seconds more in the next 5 s: 80 %, where an average since the start would say 33 %.
    expect(meter.next(5, 15)).toBe(80);
    // Idle for the next 5 s.
    expect(meter.next(5, 20)).toBe(0);
  });

  it('doubles the percentage under a quota of half a CPU', () => {
    const full = createCpuMeter(1, 0);
    const half = createCpuMeter(0.5, 0);
    expect(full.next(1, 10)).toBe(10);
    expect(half.next(1, 10)).toBe(20);
  });

  it('spreads the use over every CPU the process may run on', () => {
    expect(cpuPercent(3, 1, 4)).toBe(75);
  });

  it('never reports more than 100 %', () => {
    // More CPU than the capacity allows: a quota read wrong, or a burst the cgroup throttles later.
    expect(createCpuMeter(1, 0).next(30, 10)).toBe(100);
    expect(cpuPercent(8, 1, 2)).toBe(100);
  });

  it('never reports less than 0 %, even if the CPU counter went backwards', () => {
    const meter = createCpuMeter(1, 0);
    expect(meter.next(5, 10)).toBe(50);
    expect(meter.next(4, 20)).toBe(0);
  });

  it('reports 0 for no elapsed time or no capacity instead of dividing by zero', () => {
    expect(cpuPercent(1, 0, 1)).toBe(0);
    expect(cpuPercent(1, 10, 0)).toBe(0);
    expect(cpuPercent(1, Number.NaN, 1)).toBe(0);
  });

  it('keeps the previous value and the baseline for two readings within a millisecond', () => {
    const meter = createCpuMeter(1, 0);
    expect(meter.next(2, 10)).toBe(20);
    // 0.5 ms later, with a little more CPU: nothing new to say, the previous value stands.
    expect(meter.next(2.0004, 10.0005)).toBe(20);
    // The next interval runs from the reading at 10 s, not from the one at 10.0005 s: 3 s of CPU over 10 s.
    expect(meter.next(5, 20)).toBe(30);
  });

  it('keeps 0 for a first reading right at the start', () => {
    const meter = createCpuMeter(1, 50);
    expect(meter.next(0.1, 50.0002)).toBe(0);
    // The baseline stayed at the start: 1 s of CPU over the 10 s since.
    expect(meter.next(1, 60)).toBe(10);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  parseCgroupV2Path,
  parseCpuMax,
  parseProcStat,
  parseProcStatus,
} from '../../src/sample/proc-parse.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/proc/${name}`, import.meta.url), 'latin1');

describe('reading /proc/<pid>/stat', () => {
  it('reads every field procpush uses from a process whose name holds spaces and parentheses', () => {
    expect(parseProcStat(fixture('stat-weird-comm'))).toEqual({
      pid: 1234,
      comm: 'my (weird) proc',
      ppid: 4321,
      utimeTicks: 1500,
      stimeTicks: 500,
      cutimeTicks: 70,
      cstimeTicks: 30,
      startTicks: 47813,
      rssPages: 10099,
    });
  });

  it('is not fooled by a process name that looks like the fields after it', () => {
    const stat = parseProcStat(fixture('stat-fake-fields'));
    expect(stat.comm).toBe('x) R 1 2 3 (y');
    expect(stat.ppid).toBe(4321);
    expect(stat.utimeTicks).toBe(1500);
    expect(stat.stimeTicks).toBe(500);
    expect(stat.rssPages).toBe(10099);
  });

  it("reads this machine's own stat line", () => {
    const stat = parseProcStat(readFileSync('/proc/self/stat', 'latin1'));
    expect(stat.pid).toBe(process.pid);
    expect(stat.ppid).toBe(process.ppid);
    expect(stat.rssPages).toBeGreaterThan(0);
  });

  it('refuses a line without a name in parentheses', () => {
    expect(() => parseProcStat('1234 node S 1 2 3')).toThrow(
      'Expected /proc/<pid>/stat to hold "pid (comm) ...", got no comm',
    );
  });

  it('refuses a line cut short before the fields it needs', () => {
    expect(() => parseProcStat('1234 (node) S 1 1234 1200 0 -1 4194560 2179 11 3 5\n')).toThrow(
      'Expected field 14 of /proc/<pid>/stat to be a number',
    );
  });
});

describe('reading /proc/<pid>/status', () => {
  it('gives VmRSS and VmHWM in bytes, not the virtual VmPeak', () => {
    // status-node: VmPeak 1234560 kB, VmHWM 65432 kB, VmRSS 54321 kB.
    expect(parseProcStatus(fixture('status-node'))).toEqual({
      rssBytes: 55_624_704,
      peakRssBytes: 67_002_368,
    });
  });

  it('is not fooled by a process named like a status field', () => {
    // Any process may set its name (prctl PR_SET_NAME, or process.title in Node) to "VmHWM: 1 kB".
    expect(parseProcStatus(fixture('status-name-looks-like-a-field'))).toEqual({
      rssBytes: 55_624_704,
      peakRssBytes: 67_002_368,
    });
  });

  it('reports a kernel thread, which has no memory of its own, as an error', () => {
    expect(() => parseProcStatus(fixture('status-kthread'))).toThrow(
      'Expected /proc/<pid>/status to have VmRSS, got none',
    );
  });

  it('refuses a VmRSS that is not a number', () => {
    expect(() => parseProcStatus('Name:\tnode\nVmHWM:\t   12 kB\nVmRSS:\t   ? kB\n')).toThrow(
      'Expected VmRSS to be a number of kB',
    );
  });
});

describe('reading cgroup v2 cpu.max', () => {
  it('reads "max" as no quota', () => {
    expect(parseCpuMax(fixture('cpu.max-unlimited'))).toBeUndefined();
  });

  it('reads a quota of half the period as half a CPU', () => {
    expect(parseCpuMax(fixture('cpu.max-half'))).toBe(0.5);
  });

  it('reads a quota longer than the period as more than one CPU', () => {
    expect(parseCpuMax(fixture('cpu.max-one-and-a-half'))).toBe(1.5);
  });

  it('refuses a zero or non-numeric quota', () => {
    expect(() => parseCpuMax('0 100000\n')).toThrow(
      'Expected cpu.max to be "<quota> <period>" or "max", got "0 100000"',
    );
    expect(() => parseCpuMax('lots 100000')).toThrow(
      'Expected cpu.max to be "<quota> <period>" or "max", got "lots 100000"',
    );
  });
});

describe('reading /proc/<pid>/cgroup', () => {
  it('gives the cgroup v2 path', () => {
    expect(parseCgroupV2Path(fixture('cgroup-v2'))).toBe('/system.slice/foo.service');
  });

  it('gives the v2 path on a hybrid system that also lists v1 controllers', () => {
    expect(parseCgroupV2Path(fixture('cgroup-hybrid'))).toBe('/system.slice/foo.service');
  });

  it('gives no path on cgroup v1', () => {
    expect(parseCgroupV2Path(fixture('cgroup-v1'))).toBeUndefined();
  });

  it('gives the root inside a container with its own cgroup namespace', () => {
    expect(parseCgroupV2Path('0::/\n')).toBe('/');
  });
});

import {
  closeSync,
  cpSync,
  fstatSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SampleError } from '../../src/errors.js';
import { cpuCapacity, createProcFileReader, createProcSampler } from '../../src/sample/proc-reader.js';
import { createRuntimeSampler } from '../../src/sample/runtime-sampler.js';

// A machine with a chosen number of CPUs, where a test sets one; the real machine otherwise.
const machine = vi.hoisted(() => ({ cpus: undefined as number | undefined }));
vi.mock('node:os', async (importOriginal) => {
  const os = await importOriginal<typeof import('node:os')>();
  return { ...os, availableParallelism: () => machine.cpus ?? os.availableParallelism() };
});
afterEach(() => {
  machine.cpus = undefined;
});

const proc = (name: string): string => fileURLToPath(new URL(`../fixtures/proc/${name}`, import.meta.url));
const cgroup = (name: string): string =>
  fileURLToPath(new URL(`../fixtures/cgroup/${name}`, import.meta.url));

const NOW = 1_764_000_000_000;
// status-node: VmRSS 54321 kB, VmHWM 65432 kB.
const RSS_BYTES = 55_624_704;
const PEAK_BYTES = 67_002_368;

/** VmRSS and VmHWM of this process, read here independently of the code under test. */
function ownStatus(): { rss: number; hwm: number } {
  const text = readFileSync('/proc/self/status', 'latin1');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(text)?.[1]) * 1024;
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

/** The descriptors this process has open, sorted (without the one the listing itself used). */
const openFiles = (): string[] => readdirSync('/proc/self/fd').filter(isOpen).sort();

function isOpen(fd: string): boolean {
  try {
    readlinkSync(`/proc/self/fd/${fd}`);
    return true;
  } catch {
    return false;
  }
}

/** CPU seconds this process has used, by the runtime's own count. */
const cpuSeconds = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
};

/** Spins until this process has used `seconds` more CPU, however long a busy machine makes that take. */
function burnCpu(seconds: number): void {
  const end = cpuSeconds() + seconds;
  while (cpuSeconds() < end) {
    // busy
  }
}

interface Reading {
  percent: number;
  cpu: [number, number];
  wall: [number, number];
}

/** Takes a sample between two readings of the runtime's CPU time and the monotonic clock. */
function read(sample: () => number | undefined): Reading {
  const cpuBefore = cpuSeconds();
  const wallBefore = performance.now() / 1000;
  const percent = sample() ?? Number.NaN;
  const wallAfter = performance.now() / 1000;
  const cpuAfter = cpuSeconds();
  return { percent, cpu: [cpuBefore, cpuAfter], wall: [wallBefore, wallAfter] };
}

/**
 * The range a percentage over the interval between two readings must fall in, from the runtime's clocks alone,
 * whatever else the machine is doing; `slack` is the CPU seconds the sampler's source may round away.
 */
function expectedRange(first: Reading, second: Reading, capacity: number, slack: number): [number, number] {
  const low = (second.cpu[0] - first.cpu[1] - slack) / ((second.wall[1] - first.wall[0]) * capacity);
  const high = (second.cpu[1] - first.cpu[0] + slack) / ((second.wall[0] - first.wall[1]) * capacity);
  return [Math.max(0, 100 * low), Math.min(100, 100 * high)];
}

describe('sampling a process from /proc', () => {
  it('gives the resident and peak bytes and the CPU percentage of the quota', () => {
    // self-ok: 150 + 50 ticks = 2 CPU seconds, 10 s after start, under the parent slice's 0.5 CPU quota.
    const sampler = createProcSampler({
      procDir: proc('self-ok'),
      cgroupRoot: cgroup('quota-on-parent'),
      uptimeSeconds: () => 10,
      now: () => NOW,
    });
    expect(sampler.sample()).toEqual({
      sample: { timestampMs: NOW, cpuPercent: 40, memoryBytes: RSS_BYTES, memoryPeakBytes: PEAK_BYTES },
      errors: [],
    });
  });

  it('reports the CPU of each later interval from the change in the stat file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procpush-proc-'));
    try {
      cpSync(proc('self-ok'), dir, { recursive: true });
      let uptime = 10;
      const sampler = createProcSampler({
        procDir: dir,
        cgroupRoot: cgroup('quota-on-parent'),
        uptimeSeconds: () => uptime,
        now: () => NOW,
      });
      expect(sampler.sample().sample.cpuPercent).toBe(40);
      // 5 s later: utime 250, stime 100, so 1.5 CPU seconds more of the 2.5 the quota allowed.
      const stat = readFileSync(join(dir, 'stat'), 'latin1');
      writeFileSync(join(dir, 'stat'), stat.replace(' 150 50 0 0 ', ' 250 100 0 0 '));
      uptime = 15;
      expect(sampler.sample().sample.cpuPercent).toBe(60);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves out only the memory metrics, with one error, when status cannot be read', () => {
    const sampler = createProcSampler({
      procDir: proc('self-no-status'),
      cgroupRoot: cgroup('quota-on-parent'),
      uptimeSeconds: () => 10,
      now: () => NOW,
    });
    const { sample, errors } = sampler.sample();
    expect(sample).toStrictEqual({ timestampMs: NOW, cpuPercent: 40 });
    expect(errors).toHaveLength(1);
    const [error] = errors;
    expect(error).toBeInstanceOf(SampleError);
    expect(error?.code).toBe('ERR_PROCPUSH_SAMPLE');
    expect(error?.message).toBe(`Could not read memory from ${proc('self-no-status')}/status`);
    expect((error?.cause as NodeJS.ErrnoException | undefined)?.code).toBe('ENOENT');
  });

  it('leaves out only the CPU metric, with one error, when stat cannot be read', () => {
    const sampler = createProcSampler({
      procDir: proc('self-no-stat'),
      cgroupRoot: cgroup('quota-on-parent'),
      uptimeSeconds: () => 10,
      now: () => NOW,
    });
    const { sample, errors } = sampler.sample();
    expect(sample).toStrictEqual({ timestampMs: NOW, memoryBytes: RSS_BYTES, memoryPeakBytes: PEAK_BYTES });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(SampleError);
    expect(errors[0]?.message).toBe(`Could not read CPU time from ${proc('self-no-stat')}/stat`);
  });

  it('reports a kernel-thread-like status (no VmRSS) as an error, not as zero bytes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procpush-proc-'));
    try {
      cpSync(proc('self-ok'), dir, { recursive: true });
      cpSync(proc('status-kthread'), join(dir, 'status'));
      const { sample, errors } = createProcSampler({ procDir: dir, cgroupRoot: cgroup('no-quota') }).sample();
      expect(sample).not.toHaveProperty('memoryBytes');
      expect(sample).not.toHaveProperty('memoryPeakBytes');
      expect(errors.map((error) => (error.cause as Error).message)).toEqual([
        'Expected /proc/<pid>/status to have VmRSS, got none',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('reading /proc through one reused buffer', () => {
  it('reads a file larger than the buffer whole, and keeps the grown buffer', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procpush-proc-'));
    try {
      // Not a multiple of the buffer size, and latin1 bytes that must come back unchanged.
      const text = `${'Name:\tnode\n'.repeat(1000)}VmRSS:\t  54321 kB\n\u00e9\u00ff`;
      writeFileSync(join(dir, 'big'), text, 'latin1');
      writeFileSync(join(dir, 'small'), 'pid (comm) R', 'latin1');
      const reader = createProcFileReader(64);
      expect(reader.read(join(dir, 'small'))).toBe('pid (comm) R');
      expect(reader.capacity()).toBe(64);
      expect(reader.read(join(dir, 'big'))).toBe(text);
      expect(reader.capacity()).toBe(16_384);
      // A shorter file after a longer one: only its own bytes, nothing left over from the last read.
      expect(reader.read(join(dir, 'small'))).toBe('pid (comm) R');
      expect(reader.capacity()).toBe(16_384);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('samples a status file larger than the initial 4 KiB buffer', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procpush-proc-'));
    try {
      cpSync(proc('self-ok'), dir, { recursive: true });
      const status = readFileSync(join(dir, 'status'), 'latin1');
      // A process with many supplementary groups or a long Cpus_allowed_list has a long status file.
      writeFileSync(join(dir, 'status'), `${status}${'Groups:\t1 2 3 4 5 6 7 8 9\n'.repeat(400)}`, 'latin1');
      const sampler = createProcSampler({ procDir: dir, cgroupRoot: cgroup('no-quota'), now: () => NOW });
      const { sample, errors } = sampler.sample();
      expect(errors).toEqual([]);
      expect(sample).toMatchObject({ memoryBytes: RSS_BYTES, memoryPeakBytes: PEAK_BYTES });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps its two files open between samples and closes them on close()', () => {
    const before = openFiles();
    const sampler = createProcSampler();
    sampler.sample();
    const during = openFiles();
    expect(during.length - before.length).toBe(2);
    for (let i = 0; i < 50; i++) sampler.sample();
    expect(openFiles()).toEqual(during);
    sampler.close?.();
    expect(openFiles()).toEqual(before);
    // A sample after close() still works, and keeps nothing open.
    expect(sampler.sample().errors).toEqual([]);
    expect(openFiles()).toEqual(before);
  });

  it('reads the current content at every read of a file it keeps open', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procpush-proc-'));
    const reader = createProcFileReader();
    try {
      const path = join(dir, 'stat');
      writeFileSync(path, 'one two three');
      expect(reader.read(path)).toBe('one two three');
      // Rewritten in place, as procfs regenerates a file: shorter, then longer.
      writeFileSync(path, 'four');
      expect(reader.read(path)).toBe('four');
      writeFileSync(path, 'five six seven eight');
      expect(reader.read(path)).toBe('five six seven eight');
      expect(readFileSync('/proc/self/stat', 'latin1').split(' ')[0]).toBe(String(process.pid));
    } finally {
      reader.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lets go of a descriptor closed behind its back without closing the file that took its number', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procpush-proc-'));
    const reader = createProcFileReader();
    let other: number | undefined;
    try {
      writeFileSync(join(dir, 'ours'), 'ours');
      writeFileSync(join(dir, 'theirs'), 'theirs');
      expect(reader.read(join(dir, 'ours'))).toBe('ours');
      const kept = Number(
        openFiles().find((fd) => readlinkSync(`/proc/self/fd/${fd}`) === join(dir, 'ours')),
      );
      // Code that closes descriptors it does not own, and a file that then gets the same number.
      closeSync(kept);
      other = openSync(join(dir, 'theirs'), 'r');
      expect(other).toBe(kept);
      // The sampler calls reopen() when what it read does not parse.
      reader.reopen(join(dir, 'ours'));
      expect(() => fstatSync(other as number)).not.toThrow();
      expect(reader.read(join(dir, 'ours'))).toBe('ours');
      reader.close();
      expect(() => fstatSync(other as number)).not.toThrow();
    } finally {
      if (other !== undefined) closeSync(other);
      reader.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens a file afresh after a sample that could not parse it, and keeps no descriptor of it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procpush-proc-'));
    try {
      cpSync(proc('self-ok'), dir, { recursive: true });
      cpSync(proc('status-kthread'), join(dir, 'status'));
      const sampler = createProcSampler({ procDir: dir, cgroupRoot: cgroup('no-quota') });
      sampler.sample();
      const during = openFiles();
      for (let i = 0; i < 20; i++) expect(sampler.sample().errors).toHaveLength(1);
      expect(openFiles()).toEqual(during);
      cpSync(proc('self-ok/status'), join(dir, 'status'));
      expect(sampler.sample().errors).toEqual([]);
      sampler.close?.();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the CPU capacity a process may use', () => {
  it('takes the tightest quota on the path to the root: a parent slice under a looser service quota', () => {
    expect(cpuCapacity(proc('self-ok'), cgroup('quota-on-parent'))).toBe(0.5);
  });

  it('takes the quota of the service itself under an unlimited parent', () => {
    expect(cpuCapacity(proc('self-ok'), cgroup('quota-on-leaf'))).toBe(0.25);
  });

  it("takes the quota at the root of a container's own cgroup namespace", () => {
    machine.cpus = 4;
    expect(cpuCapacity(proc('self-in-container'), cgroup('container-root'))).toBe(1.5);
  });

  it('never counts more CPUs than the process may run on', () => {
    machine.cpus = 1;
    expect(cpuCapacity(proc('self-in-container'), cgroup('container-root'))).toBe(1);
    expect(cpuCapacity(proc('self-ok'), cgroup('quota-above-machine'))).toBe(1);
    machine.cpus = undefined;
    expect(cpuCapacity(proc('self-ok'), cgroup('quota-above-machine'))).toBe(availableParallelism());
  });

  it('counts the CPUs the process may run on where no quota is set', () => {
    machine.cpus = 6;
    expect(cpuCapacity(proc('self-ok'), cgroup('no-quota'))).toBe(6);
  });

  it('counts the CPUs the process may run on under cgroup v1, which has no cpu.max', () => {
    machine.cpus = 6;
    expect(cpuCapacity(proc('self-cgroup-v1'), cgroup('quota-on-parent'))).toBe(6);
  });

  it('counts the CPUs the process may run on where /proc/<pid>/cgroup cannot be read', () => {
    machine.cpus = 6;
    expect(cpuCapacity(proc('self-no-such-dir'), cgroup('quota-on-parent'))).toBe(6);
  });

  it('uses the quota in the CPU percentage', () => {
    const percent = (root: string) =>
      createProcSampler({
        procDir: proc('self-ok'),
        cgroupRoot: cgroup(root),
        uptimeSeconds: () => 10,
      }).sample().sample.cpuPercent;
    // 2 CPU seconds over 10 s: 20 % of one CPU, 40 % of a 0.5 CPU quota, 80 % of a 0.25 CPU quota.
    machine.cpus = 1;
    expect(percent('no-quota')).toBe(20);
    expect(percent('quota-on-parent')).toBe(40);
    expect(percent('quota-on-leaf')).toBe(80);
  });
});

describe.runIf(process.platform === 'linux')('sampling this process on this machine', () => {
  it('agrees with /proc/self/status read independently', () => {
    const before = ownStatus();
    const { sample, errors } = createProcSampler().sample();
    const after = ownStatus();
    expect(errors).toEqual([]);
    const tolerance = 4 * 1024 * 1024;
    expect(sample.memoryBytes).toBeGreaterThanOrEqual(Math.min(before.rss, after.rss) - tolerance);
    expect(sample.memoryBytes).toBeLessThanOrEqual(Math.max(before.rss, after.rss) + tolerance);
    expect(sample.memoryPeakBytes).toBeGreaterThanOrEqual(sample.memoryBytes ?? Number.POSITIVE_INFINITY);
    // Not bracketed exactly: VmHWM is max(the mark recorded at munmap/exit, current RSS), so pages freed with
    // madvise (V8, malloc) can lower a later reading; within the RSS tolerance of ours it must be.
    expect(sample.memoryPeakBytes).toBeLessThanOrEqual(Math.max(before.hwm, after.hwm) + tolerance);
    expect(sample.memoryPeakBytes).toBeGreaterThanOrEqual(Math.min(before.hwm, after.hwm) - tolerance);
  });

  it('counts the CPU seconds the runtime counts, since the process started', () => {
    const capacity = cpuCapacity('/proc/self', '/sys/fs/cgroup');
    // A wall time long enough that the percentage is never clamped: percent × wall × capacity / 100 = CPU s.
    const wallSeconds = 1_000_000;
    const before = process.cpuUsage();
    const { sample } = createProcSampler({ uptimeSeconds: () => wallSeconds }).sample();
    const after = process.cpuUsage();
    const cpuSeconds = ((sample.cpuPercent ?? Number.NaN) * wallSeconds * capacity) / 100;
    // /proc counts in ticks of 10 ms; allow a few ticks either side.
    expect(cpuSeconds).toBeGreaterThanOrEqual((before.user + before.system) / 1e6 - 0.05);
    expect(cpuSeconds).toBeLessThanOrEqual((after.user + after.system) / 1e6 + 0.05);
  });

  it('reports the share of the capacity a busy interval used, and a first sample since the start', () => {
    const capacity = cpuCapacity('/proc/self', '/sys/fs/cgroup');
    const sampler = createProcSampler();
    const first = read(() => sampler.sample().sample.cpuPercent);
    // Loading vitest and the sources took CPU before this test ran.
    expect(first.percent).toBeGreaterThan(0);
    expect(first.percent).toBeLessThanOrEqual(100);
    burnCpu(0.3);
    const second = read(() => sampler.sample().sample.cpuPercent);
    // /proc counts in ticks of 10 ms, per thread: allow a few ticks.
    const [low, high] = expectedRange(first, second, capacity, 0.05);
    expect(low).toBeGreaterThan(0);
    expect(second.percent).toBeGreaterThanOrEqual(low);
    expect(second.percent).toBeLessThanOrEqual(high);
  });
});

describe('sampling a process without /proc', () => {
  it('gives all three process metrics with plausible values', () => {
    const sampler = createRuntimeSampler(() => NOW);
    const rssBefore = process.memoryUsage.rss();
    const { sample, errors } = sampler.sample();
    const rssAfter = process.memoryUsage.rss();
    expect(errors).toEqual([]);
    expect(sample.timestampMs).toBe(NOW);
    const tolerance = 4 * 1024 * 1024;
    expect(sample.memoryBytes).toBeGreaterThanOrEqual(Math.min(rssBefore, rssAfter) - tolerance);
    expect(sample.memoryBytes).toBeLessThanOrEqual(Math.max(rssBefore, rssAfter) + tolerance);
    // maxRSS is in KiB: read as bytes it would be a thousand times too small to hold the current RSS.
    expect(sample.memoryPeakBytes).toBeGreaterThanOrEqual((sample.memoryBytes ?? 0) - tolerance);
    expect(sample.memoryPeakBytes).toBeLessThan(64 * 1024 ** 3);
    expect(sample.cpuPercent).toBeGreaterThan(0);
    expect(sample.cpuPercent).toBeLessThanOrEqual(100);
  });

  it('agrees with /proc/self/status on the RSS where both exist', {
    skip: process.platform !== 'linux',
  }, () => {
    const { sample } = createRuntimeSampler().sample();
    const { rss, hwm } = ownStatus();
    const tolerance = 4 * 1024 * 1024;
    expect(Math.abs((sample.memoryBytes ?? 0) - rss)).toBeLessThanOrEqual(tolerance);
    // getrusage's maxRSS is at least VmHWM; it can be more, since it also remembers the RSS before exec.
    expect(sample.memoryPeakBytes).toBeGreaterThanOrEqual(hwm - tolerance);
  });

  it('reports the share of the CPUs a busy interval used', () => {
    const sampler = createRuntimeSampler();
    const first = read(() => sampler.sample().sample.cpuPercent);
    burnCpu(0.3);
    const second = read(() => sampler.sample().sample.cpuPercent);
    const [low, high] = expectedRange(first, second, availableParallelism(), 0.001);
    expect(low).toBeGreaterThan(0);
    expect(second.percent).toBeGreaterThanOrEqual(low);
    expect(second.percent).toBeLessThanOrEqual(high);
  });
});

import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseProcStat } from '../../src/sample/proc-parse.js';
import { createProcessTreeSampler } from '../../src/sample/process-tree.js';
import {
  createPeakTracker,
  isPidEntry,
  treeMembers,
  treeTicks,
} from '../../src/sample/process-tree-parse.js';

const FIXTURE = new URL('../fixtures/tree/proc', import.meta.url).pathname;
const KIB = 1024;

/** The fixture's tree, as the README there describes it: 100 → 101 → 102, and the zombie 104 under 100. */
const TREE_RSS = (10_000 + 20_000 + 5_000) * KIB;
const TREE_TICKS = 200 + 100 + 50 + 10;

/** Percent of 2 CPUs that `ticks` (1/100 s each) are over `wallSeconds`. */
const percentOf = (ticks: number, wallSeconds = 10): number => (100 * ticks) / 100 / (wallSeconds * 2);

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A writable copy of the fixture, for tests that change the processes between looks. */
function copyOfFixture(): string {
  const dir = mkdtempSync(join(tmpdir(), 'procpush-tree-'));
  dirs.push(dir);
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

function setStatus(procDir: string, pid: number, rssKib: number, hwmKib: number): void {
  const path = join(procDir, String(pid), 'status');
  const text = readFileSync(path, 'latin1')
    .replace(/^VmRSS:.*$/m, `VmRSS:\t${rssKib} kB`)
    .replace(/^VmHWM:.*$/m, `VmHWM:\t${hwmKib} kB`);
  writeFileSync(path, text);
}

function sampler(procDir: string, seconds = { now: 10 }) {
  return createProcessTreeSampler({
    rootPid: 100,
    startSeconds: 0,
    procDir,
    capacityCpus: 2,
    uptimeSeconds: () => seconds.now,
    now: () => 1_700_000_000_000,
  });
}

describe('finding the process tree', () => {
  const parents = new Map([
    [1, 0],
    [50, 1],
    [100, 50],
    [101, 100],
    [102, 101],
    [104, 100],
    [200, 1],
  ]);

  it('lists the command and its descendants, parents first, and not its parent or unrelated processes', () => {
    expect(treeMembers(100, parents)).toEqual([100, 101, 104, 102]);
  });

  it('is empty when the command is gone', () => {
    expect(treeMembers(999, parents)).toEqual([]);
  });

  it('ends on a ppid loop from stale readings', () => {
    const loop = new Map([
      [100, 50],
      [101, 100],
      [102, 101],
      [50, 102],
    ]);
    expect(treeMembers(100, loop)).toEqual([100, 101, 102, 50]);
  });

  it('takes only numeric /proc entries as processes', () => {
    expect(['1', '4242', 'self', 'thread-self', 'net', '12a'].filter(isPidEntry)).toEqual(['1', '4242']);
  });

  it("counts a process's own and its reaped children's CPU", () => {
    const stat = parseProcStat(readFileSync(join(FIXTURE, '100', 'stat'), 'latin1'));
    expect(treeTicks(stat)).toBe(100 + 50 + 30 + 20);
  });
});

describe('sampling the tree of a command', () => {
  it('sums the RSS and CPU of the tree and leaves out the unrelated process', () => {
    const { sample, errors } = sampler(FIXTURE).sample();
    expect(errors).toEqual([]);
    expect(sample.memoryBytes).toBe(TREE_RSS);
    // 3.6 CPU seconds over 10 s on 2 CPUs: 18 %.
    expect(sample.cpuPercent).toBeCloseTo(percentOf(TREE_TICKS), 6);
    expect(percentOf(TREE_TICKS)).toBe(18);
    // The summed RSS (35,000 KiB) beats the largest single VmHWM (30,000 KiB of 101).
    expect(sample.memoryPeakBytes).toBe(TREE_RSS);
    expect(sample.timestampMs).toBe(1_700_000_000_000);
  });

  it('skips a process that exited between the listing and the read, and a zombie without memory', () => {
    const procDir = copyOfFixture();
    rmSync(join(procDir, '102'), { recursive: true });
    mkdirSync(join(procDir, '102'));
    const { sample, errors } = sampler(procDir).sample();
    expect(errors).toEqual([]);
    expect(sample.memoryBytes).toBe((10_000 + 20_000) * KIB);
    expect(sample.cpuPercent).toBeCloseTo(percentOf(TREE_TICKS - 50), 6);
  });

  it('reports the highest summed RSS seen between samples as the peak', () => {
    const procDir = copyOfFixture();
    const tree = sampler(procDir);
    tree.track();
    // Both children hold 40,000 KiB at once: no single high-water mark shows the 90,000 KiB the tree held.
    setStatus(procDir, 101, 40_000, 40_000);
    setStatus(procDir, 102, 40_000, 40_000);
    tree.track();
    setStatus(procDir, 101, 20_000, 40_000);
    setStatus(procDir, 102, 5_000, 40_000);
    const { sample } = tree.sample();
    expect(sample.memoryBytes).toBe(TREE_RSS);
    expect(sample.memoryPeakBytes).toBe((10_000 + 40_000 + 40_000) * KIB);
  });

  it("reports a single process's VmHWM when it exceeds every summed RSS seen", () => {
    const procDir = copyOfFixture();
    setStatus(procDir, 102, 5_000, 400_000);
    const { sample } = sampler(procDir).sample();
    expect(sample.memoryPeakBytes).toBe(400_000 * KIB);
  });

  it('sees a process started between samples when tracking the peak', () => {
    const procDir = copyOfFixture();
    const tree = sampler(procDir);
    tree.track();
    mkdirSync(join(procDir, '105'));
    const stat = readFileSync(join(procDir, '102', 'stat'), 'latin1').replace(
      /^102 \(worker\) S 101/,
      '105 (late) S 102',
    );
    writeFileSync(join(procDir, '105', 'stat'), stat);
    writeFileSync(
      join(procDir, '105', 'status'),
      'Name:\tlate\nPPid:\t102\nVmHWM:\t1000 kB\nVmRSS:\t1000 kB\n',
    );
    tree.track();
    rmSync(join(procDir, '105'), { recursive: true });
    expect(tree.sample().sample.memoryPeakBytes).toBe(TREE_RSS + 1_000 * KIB);
  });

  it("after the command ended, takes the tree's CPU from procpush's reaped children and keeps the last memory", () => {
    const procDir = copyOfFixture();
    const seconds = { now: 10 };
    const tree = sampler(procDir, seconds);
    tree.sample();
    // procpush reaped the command: its whole tree (360 ticks so far + 40 more) moved into procpush's cstime.
    rmSync(join(procDir, '100'), { recursive: true });
    const self = readFileSync(join(procDir, 'self', 'stat'), 'latin1').replace(
      ' 300 100 0 0 ',
      ' 300 100 0 400 ',
    );
    writeFileSync(join(procDir, 'self', 'stat'), self);
    tree.end();
    seconds.now = 12;
    const { sample, errors } = tree.sample();
    expect(errors).toEqual([]);
    // 40 ticks in the last 2 s on 2 CPUs.
    expect(sample.cpuPercent).toBeCloseTo(percentOf(40, 2), 6);
    expect(sample.memoryBytes).toBe(TREE_RSS);
    expect(sample.memoryPeakBytes).toBe(TREE_RSS);
  });

  it('does not count what procpush reaped before the command started', () => {
    const procDir = copyOfFixture();
    const selfPath = join(procDir, 'self', 'stat');
    writeFileSync(selfPath, readFileSync(selfPath, 'latin1').replace(' 300 100 0 0 ', ' 300 100 70 30 '));
    const { sample } = sampler(procDir).sample();
    expect(sample.cpuPercent).toBeCloseTo(percentOf(TREE_TICKS), 6);
  });

  it('reports an unreadable /proc as an error and leaves the metrics out', () => {
    const { sample, errors } = createProcessTreeSampler({
      rootPid: 100,
      startSeconds: 0,
      procDir: join(tmpdir(), 'procpush-no-such-proc'),
      capacityCpus: 1,
    }).sample();
    expect(errors.map((error) => error.code)).toEqual(['ERR_PROCPUSH_SAMPLE']);
    expect(sample.cpuPercent).toBeUndefined();
    expect(sample.memoryBytes).toBeUndefined();
    expect(sample.memoryPeakBytes).toBeUndefined();
  });
});

describe('the peak tracker', () => {
  it('has no peak before an observation and keeps the largest of sums and high-water marks', () => {
    const peak = createPeakTracker();
    expect(peak.peak()).toBeUndefined();
    peak.observe(100, 60);
    peak.observe(50, 120);
    peak.observe(80, 10);
    expect(peak.peak()).toBe(120);
  });
});

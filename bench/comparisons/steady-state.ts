/**
 * 6. Steady-state overhead: a process pushing every second against the same process without a reporter,
 * both running at once so they see the same machine; then 10,000 pushes in a tight loop, for memory growth,
 * with prom-client's pushAdd in the same loop for reference.
 */
import { runChild } from '../lib/child.js';
import { type BenchContext, type Measured, measure, skipped } from '../lib/context.js';
import { type Row, verdict } from '../lib/report.js';
import { bytes, sig } from '../lib/stats.js';

interface SteadyResult {
  cpuMs: number;
  wallMs: number;
  cpuAfterWarmMs: number;
  wallAfterWarmMs: number;
  pushesAfterWarm: number;
  pushes: number;
  failures: number;
  rss: number;
  heapUsed: number;
}

interface Checkpoint {
  pushes: number;
  rss: number;
  heapUsed: number;
  newSpace: number;
  codeSpace: number;
}

interface LoopResult {
  pushes: number;
  failed: number;
  seconds: number;
  checkpoints: Checkpoint[];
}

/** The loop's length, from the issue: memory must not grow across this many pushes. */
const LOOP_PUSHES = 10_000;
/** "No growth" read as less than ~100 bytes of RSS per push: below that, RSS moves by itself. */
const RSS_TOLERANCE = 1024 * 1024;
const PUSHES = LOOP_PUSHES.toLocaleString('en');

const ROWS = [
  { id: '6a', measure: 'Steady state: CPU of pushing every 1 s', target: '< 0.1 % of a core' },
  { id: '6b', measure: 'Steady state: RSS difference', target: '—' },
  { id: '6c', measure: `RSS growth across ${PUSHES} pushes`, target: 'none (< 1 MiB)' },
  { id: '6d', measure: `Heap (after gc) growth across ${PUSHES} pushes`, target: '—' },
] as const;

export function steadyState(context: BenchContext) {
  return measure('6. Steady-state overhead', context, async (): Promise<Measured> => {
    const gateway = context.pushgateway;
    if (!gateway) return skipped(ROWS, context.serversMissing ?? 'no Pushgateway');
    const seconds = String(context.steadySeconds);
    const timeoutMs = (context.steadySeconds + 60) * 1000;
    context.log(`  two processes for ${seconds} s, side by side`);
    const [withReporter, without] = await Promise.all([
      runChild<SteadyResult>('steady.mjs', ['reporter', gateway.url, seconds], { timeoutMs }),
      runChild<SteadyResult>('steady.mjs', ['none', gateway.url, seconds], { timeoutMs }),
    ]);
    context.log(`  ${PUSHES} pushes in a loop, procpush then prom-client`);
    const loop = (
      await runChild<LoopResult>('flush-loop.mjs', ['procpush', gateway.url, String(LOOP_PUSHES)])
    ).result;
    const peerLoop = (
      await runChild<LoopResult>('flush-loop.mjs', ['prom-client', gateway.url, String(LOOP_PUSHES)])
    ).result;

    const a = withReporter.result;
    const b = without.result;
    const cpuShare = ((a.cpuMs - b.cpuMs) / a.wallMs) * 100;
    const warmShare = (a.cpuAfterWarmMs / a.wallAfterWarmMs - b.cpuAfterWarmMs / b.wallAfterWarmMs) * 100;
    const cpuOk = cpuShare < 0.1;
    const growth = (result: LoopResult, field: 'rss' | 'heapUsed'): number =>
      result.checkpoints.at(-1)![field] - result.checkpoints[0]![field];
    const rssGrowth = growth(loop, 'rss');
    const rssOk = rssGrowth < RSS_TOLERANCE && loop.failed === 0;
    const rows: Row[] = [
      {
        ...ROWS[0],
        procpush: `${sig(cpuShare, 2)} % (${sig(a.cpuMs - b.cpuMs)} ms CPU in ${sig(a.wallMs / 1000)} s, ${a.pushes} pushes)`,
        peer: 'no reporter',
        ratio: '—',
        verdict: verdict(cpuOk),
        ...(cpuOk ? {} : { why: steadyCpuMiss(cpuShare, warmShare, a) }),
      },
      { ...ROWS[1], procpush: bytes(a.rss - b.rss, true), peer: 'no reporter', ratio: '—', verdict: 'INFO' },
      {
        ...ROWS[2],
        procpush: bytes(rssGrowth, true),
        peer: `prom-client pushAdd ${bytes(growth(peerLoop, 'rss'), true)}`,
        ratio: '—',
        verdict: verdict(rssOk),
        ...(rssOk ? {} : { why: rssMiss(loop, peerLoop) }),
      },
      {
        ...ROWS[3],
        procpush: bytes(growth(loop, 'heapUsed'), true),
        peer: `prom-client pushAdd ${bytes(growth(peerLoop, 'heapUsed'), true)}`,
        ratio: '—',
        verdict: 'INFO',
      },
    ];
    const checkpointRow = (who: string, c: Checkpoint): string =>
      `| ${who} | ${c.pushes} | ${bytes(c.rss)} | ${bytes(c.heapUsed)} | ${bytes(c.newSpace)} | ${bytes(c.codeSpace)} |`;
    return {
      rows,
      details: [
        `Two processes side by side for ${seconds} s (BENCH_STEADY_SECONDS), each with the application’s own`,
        'ref’d 1 s timer: one with `startReporter({ intervalMs: 1000 })` to the Pushgateway, one without. CPU is',
        '`process.cpuUsage()` from just after the reporter started to the end (the judged figure, first push and',
        'lazy loading of `node:http` included), and from 2 s on (after the first push); RSS after three forced GCs.',
        '',
        '| Process | CPU, whole window | CPU from 2 s on | pushes (failed) | RSS | heapUsed |',
        '|---|---|---|---|---|---|',
        `| with reporter | ${sig(a.cpuMs)} ms | ${sig(a.cpuAfterWarmMs)} ms (${a.pushesAfterWarm} pushes) | ${a.pushes} (${a.failures}) | ${bytes(a.rss)} | ${bytes(a.heapUsed)} |`,
        `| without | ${sig(b.cpuMs)} ms | ${sig(b.cpuAfterWarmMs)} ms | — | ${bytes(b.rss)} | ${bytes(b.heapUsed)} |`,
        `| difference | ${sig(cpuShare, 2)} % of a core | ${sig(warmShare, 2)} % of a core | | ${bytes(a.rss - b.rss, true)} | |`,
        '',
        `Then, per contender, one process: 500 warm-up pushes to the Pushgateway, then ${PUSHES} more one after`,
        'another, memory read after three forced GCs at each quarter (procpush: `flush()`; prom-client:',
        '`pushAdd()` of five gauges, on a keep-alive agent). "New space" is what V8 has committed for its young',
        'generation; "code space" holds compiled code.',
        '',
        '| Contender | Pushes after warm-up | RSS | heapUsed | new space | code space |',
        '|---|---|---|---|---|---|',
        ...loop.checkpoints.map((c) => checkpointRow('procpush', c)),
        ...peerLoop.checkpoints.map((c) => checkpointRow('prom-client', c)),
        '',
        `procpush: ${sig(loop.seconds)} s, ${loop.failed} failed; prom-client: ${sig(peerLoop.seconds)} s, ${peerLoop.failed} failed.`,
      ],
    };
  });
}

function steadyCpuMiss(share: number, warmShare: number, a: SteadyResult): string {
  return (
    `Pushing every second cost ${sig(share, 2)} % of a core over the window, ${sig(warmShare, 2)} % after the first ` +
    `push (${sig(a.cpuAfterWarmMs / Math.max(1, a.pushesAfterWarm), 2)} ms of CPU per push in that process). ` +
    '0.1 % of a core at one push a second leaves 1 ms per push, everything included. Why: a push made once a ' +
    'second runs cold, so it costs more than the same push in the hot loop of 5b (measured while writing this ' +
    'bench: 1.2–1.7 ms per flush with 500 ms pauses against 0.6–1.0 ms back to back; the first push 11 ms, ' +
    'for loading `node:http`, creating the agent, connecting and compiling): with a few dozen calls V8 has ' +
    'little reason to optimise the push path, and caches are cold after a second of idling. What would close ' +
    'it: less work per push, which counts most in cold code: the savings listed under 5b (one deadline signal ' +
    'instead of three signals per attempt, no p-retry layer on a first attempt that succeeds, no `Error` per ' +
    'response, no per-request dynamic import, URL parse and proxy lookup) and `/proc` read into a reused buffer.'
  );
}

function rssMiss(loop: LoopResult, peer: LoopResult): string {
  const first = loop.checkpoints[0]!;
  const last = loop.checkpoints.at(-1)!;
  const newSpace = last.newSpace - first.newSpace;
  const heap = last.heapUsed - first.heapUsed;
  const peerFirst = peer.checkpoints[0]!;
  const peerLast = peer.checkpoints.at(-1)!;
  const peerGrowth = { rss: peerLast.rss - peerFirst.rss, newSpace: peerLast.newSpace - peerFirst.newSpace };
  return (
    `RSS grew by ${bytes(last.rss - first.rss)} (${loop.failed} failed pushes); the checkpoints show it level off ` +
    `rather than climb, and the heap after gc grew by only ${bytes(heap)}, so this is not retained objects. Why: ` +
    `V8 grew its young generation by ${bytes(newSpace)} under the loop’s garbage, and the /proc sampler's ` +
    '`readFileSync` (procfs reports size 0, so Node reads each file into fresh 64 KiB buffers, twice per file, ' +
    '256 KiB per sample) churns malloc’d memory that glibc keeps. prom-client’s pushAdd in the same loop: ' +
    `RSS ${bytes(peerGrowth.rss, true)}, young generation ${bytes(peerGrowth.newSpace, true)} (so by this ` +
    'measure it does not stay under 1 MiB either). What would close it: read `/proc/self/stat` and `status` ' +
    'with `openSync`/`readSync` into one reused 4 KiB buffer (measured while writing this bench: RSS +7 MiB ' +
    'instead of +28–64 MiB over 20,000 samples, and 2–2.5× faster than `readFileSync`), and make fewer ' +
    'short-lived objects that survive a scavenge per push (two `AbortSignal.timeout` timers and an ' +
    '`AbortSignal.any` per attempt, p-retry’s wrapper).'
  );
}

// Helpers shared by the child scripts. Plain JavaScript run by plain `node --expose-gc`: nothing here may
// load tsx or the orchestrator, since these processes are the ones being measured.
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';

/** procpush's build output: the run's snapshot of dist/ (see bench/lib/snapshot.ts), else dist/ itself. */
export const DIST = process.env.PROCPUSH_BENCH_DIST
  ? pathToFileURL(`${process.env.PROCPUSH_BENCH_DIST}/`)
  : new URL('../../dist/', import.meta.url);

/** Prints the result as the one JSON line the orchestrator reads. */
export function emit(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Collects garbage until the heap is steady, so that RSS and heap reflect what is retained. */
export async function settle() {
  if (typeof globalThis.gc !== 'function') throw new Error('Expected node --expose-gc');
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await sleep(20);
  }
}

/** Memory after `settle()`. */
export async function memory() {
  await settle();
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, external, arrayBuffers };
}

/** The value at quantile `q` of `values`, by the nearest-rank method. */
export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** CPU time (user + system) since `since`, a `process.cpuUsage()` reading, in milliseconds. */
export function cpuMs(since) {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1000;
}

/**
 * Times `op` (sync or async) in `batches` batches of about `batchMs` each, after `warmup` calls, and returns
 * the median time per call in microseconds: one batch disturbed by the machine's other load does not count.
 * A sync `op` is called in a plain loop, so no microtask per call is added to what it costs.
 */
export async function timePerOp(op, { warmup = 200, batches = 7, batchMs = 150 } = {}) {
  const first = op();
  const isAsync = first instanceof Promise;
  await first;
  const run = isAsync
    ? async (n) => {
        for (let i = 0; i < n; i++) await op();
      }
    : (n) => {
        for (let i = 0; i < n; i++) op();
      };
  await run(warmup);
  // Calls per batch from a short calibration, so that every batch does the same number of calls.
  let calls = 0;
  const calibrateStart = performance.now();
  while (performance.now() - calibrateStart < 30) {
    await run(10);
    calls += 10;
  }
  const perBatch = Math.max(10, Math.round((calls * batchMs) / 30));
  const perOp = [];
  for (let b = 0; b < batches; b++) {
    const start = performance.now();
    await run(perBatch);
    perOp.push(((performance.now() - start) * 1000) / perBatch);
  }
  return { usPerOp: quantile(perOp, 0.5), usPerOpMin: Math.min(...perOp), callsPerBatch: perBatch };
}

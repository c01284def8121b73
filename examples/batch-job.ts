/**
 * A batch job that reports its own memory and CPU while it runs: the pattern for cron jobs, CI steps and
 * one-off scripts that Prometheus cannot scrape. Run it with `npm run demo`.
 *
 * With no target configured the reporter prints what it would push, so this runs with no server at all. Point
 * it at a Pushgateway with `target: { type: 'pushgateway', url: 'http://localhost:9091' }`, or set
 * RESOURCE_ATTRIBUTION_PUSHGATEWAY_URL.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startReporter } from 'procpush';

// Samples every second; the timer is unref'd, so it never keeps the job alive on its own.
const reporter = startReporter({ intervalMs: 1000 });
// So you can compare the printed values with /proc/<pid>/status while it runs.
console.error(`batch-job: pid ${process.pid}`);

/** Stands in for the real work: holds on to memory and keeps a CPU busy for about 2.5 s. */
async function runJob(durationMs: number): Promise<{ steps: number; checksum: number }> {
  const kept: Uint8Array[] = [];
  let checksum = 0;
  const end = Date.now() + durationMs;
  while (Date.now() < end) {
    // 2 MiB a step, every page written, so the resident set size really grows.
    kept.push(new Uint8Array(2 * 1024 * 1024).fill(kept.length + 1));
    const busyUntil = Date.now() + 60;
    while (Date.now() < busyUntil) checksum = (checksum * 31 + kept.length) % 1_000_003;
    // Await between steps, as real I/O-bound work would: the reporter's timer fires in these gaps.
    await sleep(40);
  }
  return { steps: kept.length, checksum };
}

const { steps, checksum } = await runJob(2500);
console.error(`batch-job: done after ${steps} steps (checksum ${checksum})`);

// The final sample, pushed before the job ends. Without this call the reporter still pushes one on
// `beforeExit`, but an explicit stop also covers jobs that end with process.exit().
await reporter.stop();

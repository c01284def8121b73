// One short-lived process of the scaling simulation. Plain JavaScript run by plain `node`: these are the
// processes being counted, so nothing here may load tsx or the orchestrator. Reads its job from SIM_CHILD
// (JSON), starts procpush from the build at `job.entry` (a copy of dist/), pushes a few samples, and prints one
// JSON line with what it measured.
//
// Modes: "stop" ends with reporter.stop() (a final push; stale markers for remote write); "exit" calls
// process.exit() with shutdown hooks off, so no final push and no stale marker; "kill" prints its result and
// waits for the orchestrator's SIGKILL (a crash), exiting by itself after `killWaitMs` should none come.
import { setTimeout as sleep } from 'node:timers/promises';

const job = JSON.parse(process.env.SIM_CHILD ?? '{}');
const cpuAtBoot = process.cpuUsage();
const rssAtBoot = process.memoryUsage.rss();
const wallStart = performance.timeOrigin + performance.now();

const cpuMs = (since) => {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1000;
};
const now = () => performance.timeOrigin + performance.now();

const beforeImport = process.cpuUsage();
const { startReporter } = await import(job.entry ?? new URL('../dist/node.js', import.meta.url).href);
const importCpuMs = cpuMs(beforeImport);

// CPU inside procpush: start, each flush and stop, summed; the sleeps between them stand for the job's work
// and cost no CPU, so the part the process spends outside procpush is boot and this script's own lines.
let procpushCpuMs = 0;
const timed = async (work) => {
  const cpu = process.cpuUsage();
  const t0 = now();
  const value = await work();
  const t1 = now();
  procpushCpuMs += cpuMs(cpu);
  return { value, t0, t1 };
};

const target =
  job.kind === 'pushgateway' ? { type: 'pushgateway', url: job.url } : { type: 'remote-write', url: job.url };
const { value: reporter } = await timed(async () =>
  startReporter({
    target,
    job: job.job,
    instance: job.instance,
    intervalMs: 3_600_000,
    flushTimeoutMs: job.flushTimeoutMs,
    shutdown: false,
    onError: () => {},
  }),
);

const pushes = [];
for (let i = 0; i < job.flushes; i++) {
  await sleep(job.workMs);
  const { value: result, t0, t1 } = await timed(() => reporter.flush());
  pushes.push({ end: t1, ms: t1 - t0, ok: result.ok, status: result.status ?? 0 });
}
await sleep(job.workMs);
if (job.mode === 'stop') {
  const before = reporter.stats();
  const { t0, t1 } = await timed(() => reporter.stop());
  const after = reporter.stats();
  // For the Pushgateway stop() is one more PUT; for remote write the final sample and the stale markers.
  pushes.push({ end: t1, ms: t1 - t0, ok: after.failures === before.failures, status: 0, final: true });
}

const usage = process.resourceUsage();
process.stdout.write(
  `${JSON.stringify({
    index: job.index,
    start: wallStart,
    end: now(),
    pushes,
    stats: reporter.stats(),
    cpu: {
      bootMs: (cpuAtBoot.user + cpuAtBoot.system) / 1000,
      importMs: importCpuMs,
      procpushMs: procpushCpuMs,
    },
    totalCpuMs: cpuMs(),
    rss: { bootBytes: rssAtBoot, endBytes: process.memoryUsage.rss(), peakBytes: usage.maxRSS * 1024 },
  })}\n`,
);

if (job.mode === 'kill') {
  // Kept alive only until the orchestrator's SIGKILL; the simulation must end even if none comes.
  await sleep(job.killWaitMs);
}
process.exit(0);

// Steady-state overhead: an otherwise idle process, with or without a reporter pushing every second.
// Usage: node --expose-gc steady.mjs <reporter|none> <gateway-url> <seconds>
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuMs, DIST, emit, memory } from './common.mjs';

const [mode, url, seconds] = process.argv.slice(2);
const WARM_MS = 2000;
let reporter;
if (mode === 'reporter') {
  const { startReporter } = await import(new URL('node.js', DIST).href);
  reporter = startReporter({
    target: { type: 'pushgateway', url },
    job: 'bench-steady',
    instance: 'procpush',
    intervalMs: 1000,
    shutdown: false,
  });
} else if (mode !== 'none') {
  throw new Error(`Expected reporter or none, got ${mode}`);
}
// The application's own keep-alive: the reporter's timer is unref'd and would not hold the process open.
const keepAlive = setInterval(() => {}, 1000);
const cpuStart = process.cpuUsage();
const wallStart = performance.now();
// A second mark after the first push (due at 1 s): from there on, only what every further push costs.
await sleep(WARM_MS);
const cpuWarm = process.cpuUsage();
const pushesWarm = reporter?.stats().pushes ?? 0;
await sleep(Number(seconds) * 1000 - WARM_MS);
const cpu = cpuMs(cpuStart);
const cpuAfterWarmMs = cpuMs(cpuWarm);
const wallMs = performance.now() - wallStart;
clearInterval(keepAlive);
const stats = reporter?.stats();
emit({
  cpuMs: cpu,
  wallMs,
  cpuAfterWarmMs,
  wallAfterWarmMs: wallMs - WARM_MS,
  pushesAfterWarm: (stats?.pushes ?? 0) - pushesWarm,
  pushes: stats?.pushes ?? 0,
  failures: stats?.failures ?? 0,
  ...(await memory()),
});
process.exit(0);

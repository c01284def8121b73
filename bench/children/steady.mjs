// Steady-state overhead: an otherwise idle process, with or without a reporter pushing every second.
// Usage: node --expose-gc steady.mjs <reporter|none> <gateway-url> <seconds>
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuMs, DIST, emit, memory } from './common.mjs';

const [mode, url, seconds] = process.argv.slice(2);
const WARM_MS = 2000;
let reporter;
let pushes = 0;
let failures = 0;
if (mode === 'raw' || mode === 'prom-client') {
  // The floor (a bare keep-alive PUT of five gauges) and the peer, pushing on the same 1 s timer.
  const http = await import('node:http');
  const agent = new http.Agent({ keepAlive: true });
  let push;
  if (mode === 'raw') {
    const body = Array.from(
      { length: 5 },
      (_, i) => `# TYPE g${i} gauge\ng${i}{job="bench-steady"} ${i}\n`,
    ).join('');
    push = () =>
      new Promise((resolve, reject) => {
        const request = http.request(
          `${url}/metrics/job/bench-steady/instance/raw`,
          { method: 'PUT', agent },
          (response) => {
            response.resume();
            response.on('end', resolve);
          },
        );
        request.on('error', reject);
        request.end(body);
      });
  } else {
    const client = (await import('prom-client')).default;
    const registry = new client.Registry();
    const gauges = Array.from(
      { length: 5 },
      (_, i) => new client.Gauge({ name: `g${i}`, help: 'g', registers: [registry] }),
    );
    const gateway = new client.Pushgateway(url, { agent }, registry);
    push = () => {
      for (const gauge of gauges) gauge.set(Math.random());
      return gateway.pushAdd({ jobName: 'bench-steady', groupings: { instance: 'prom-client' } });
    };
  }
  const timer = setInterval(() => {
    push().then(
      () => pushes++,
      () => failures++,
    );
  }, 1000);
  timer.unref();
} else if (mode === 'reporter') {
  const { startReporter } = await import(new URL('node.js', DIST).href);
  reporter = startReporter({
    target: { type: 'pushgateway', url },
    job: 'bench-steady',
    instance: 'procpush',
    intervalMs: 1000,
    shutdown: false,
  });
} else if (mode !== 'none') {
  throw new Error(`Expected reporter, raw, prom-client or none, got ${mode}`);
}
// The application's own keep-alive: the reporter's timer is unref'd and would not hold the process open.
const keepAlive = setInterval(() => {}, 1000);
const cpuStart = process.cpuUsage();
const wallStart = performance.now();
// A second mark after the first push (due at 1 s): from there on, only what every further push costs.
await sleep(WARM_MS);
const cpuWarm = process.cpuUsage();
const pushesWarm = reporter?.stats().pushes ?? pushes;
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
  pushesAfterWarm: (stats?.pushes ?? pushes) - pushesWarm,
  pushes: stats?.pushes ?? pushes,
  failures: stats?.failures ?? failures,
  ...(await memory()),
});
process.exit(0);

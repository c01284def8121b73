// A push end to end on loopback, warm connection: latency of each push and CPU per push.
// Usage: node --expose-gc push.mjs <contender> <url> <pushes>
//   contenders: procpush-pushgateway, prom-client-pushgateway, procpush-remote-write,
//               prometheus-remote-write, procpush-withReporter
import { Agent } from 'node:http';
import { createRequire } from 'node:module';
import { cpuMs, DIST, emit, quantile } from './common.mjs';

const WARMUP = 30;
const NAMES = [
  'process_memory_bytes',
  'process_memory_peak_bytes',
  'process_cpu_percent',
  'tracing_memory_overhead_bytes',
  'tracing_cpu_overhead_percent',
];

/** procpush's reporter with no timer in the way: each push is one flush(), which also samples /proc. */
async function procpush(target) {
  const { startReporter } = await import(new URL('node.js', DIST).href);
  const reporter = startReporter({
    target,
    job: 'bench-push',
    instance: 'procpush',
    intervalMs: 3_600_000,
    shutdown: false,
  });
  return async () => {
    const result = await reporter.flush();
    if (!result.ok) throw result.error;
  };
}

/** prom-client's pushAdd of a registry holding the same five gauges, on a keep-alive agent like ours. */
async function promClient(url) {
  const { Gauge, Pushgateway, Registry } = await import('prom-client');
  const registry = new Registry();
  for (const name of NAMES) new Gauge({ name, help: `${name} help`, registers: [registry] }).set(123_456_789);
  const gateway = new Pushgateway(url, { agent: new Agent({ keepAlive: true, maxSockets: 2 }) }, registry);
  return () => gateway.pushAdd({ jobName: 'bench-push', groupings: { instance: 'prom-client' } });
}

/** prometheus-remote-write's pushTimeseries of the five series, on Node's fetch (keep-alive by default). */
function prometheusRemoteWrite(url) {
  const { pushTimeseries } = createRequire(import.meta.url)('prometheus-remote-write');
  let last = 0;
  return async () => {
    // Prometheus refuses a sample older than the newest of its series: keep timestamps strictly increasing.
    last = Math.max(Date.now(), last + 1);
    const series = NAMES.map((name) => ({
      labels: { __name__: name },
      samples: [{ value: 42, timestamp: last }],
    }));
    const result = await pushTimeseries(series, {
      url,
      fetch: globalThis.fetch,
      labels: { job: 'bench-push', instance: 'prometheus-remote-write' },
    });
    if (result.status >= 300) throw new Error(`${result.status} ${result.errorMessage}`);
  };
}

/** `withReporter` around a handler that does nothing: an invocation's time is the flush it adds. */
async function withReporter(url) {
  const { withReporter: wrap } = await import(new URL('node.js', DIST).href);
  const handler = wrap(async () => 'done', {
    target: { type: 'pushgateway', url },
    job: 'bench-lambda',
    instance: 'procpush',
    flushTimeoutMs: 1000,
  });
  return () => handler();
}

const [name, url, count] = process.argv.slice(2);
const pushes = Number(count);
const contenders = {
  'procpush-pushgateway': () => procpush({ type: 'pushgateway', url }),
  'prom-client-pushgateway': () => promClient(url),
  'procpush-remote-write': () => procpush({ type: 'remote-write', url }),
  'prometheus-remote-write': () => prometheusRemoteWrite(url),
  'procpush-withReporter': () => withReporter(url),
};
if (!(name in contenders))
  throw new Error(`Expected one of ${Object.keys(contenders).join(', ')}, got ${name}`);
const push = await contenders[name]();
for (let i = 0; i < WARMUP; i++) await push();
const latencies = [];
const cpuStart = process.cpuUsage();
for (let i = 0; i < pushes; i++) {
  const start = performance.now();
  await push();
  latencies.push(performance.now() - start);
}
const cpu = cpuMs(cpuStart);
emit({
  pushes,
  latenciesMs: latencies,
  p50Ms: quantile(latencies, 0.5),
  p99Ms: quantile(latencies, 0.99),
  cpuPerPushMs: cpu / pushes,
});
process.exit(0);

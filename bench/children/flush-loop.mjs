// Memory across many pushes: RSS and heap after gc, after a warm-up and then every quarter of the run.
// Usage: node --expose-gc flush-loop.mjs <procpush|prom-client> <gateway-url> <pushes>
import { Agent } from 'node:http';
import { getHeapSpaceStatistics } from 'node:v8';
import { DIST, emit, memory } from './common.mjs';

/** Memory after gc, with the committed size of V8's young generation and of its code space. */
async function checkpoint(done) {
  const measured = await memory();
  const space = (name) => getHeapSpaceStatistics().find((s) => s.space_name === name)?.space_size ?? 0;
  return { pushes: done, ...measured, newSpace: space('new_space'), codeSpace: space('code_space') };
}

/** One push: procpush's flush(), or prom-client's pushAdd() of five gauges on a keep-alive agent. */
async function pusher(name, url) {
  if (name === 'procpush') {
    const { startReporter } = await import(new URL('node.js', DIST).href);
    const reporter = startReporter({
      target: { type: 'pushgateway', url },
      job: 'bench-flush-loop',
      instance: 'procpush',
      intervalMs: 3_600_000,
      shutdown: false,
    });
    return async () => (await reporter.flush()).ok;
  }
  if (name !== 'prom-client') throw new Error(`Expected procpush or prom-client, got ${name}`);
  const { Gauge, Pushgateway, Registry } = await import('prom-client');
  const registry = new Registry();
  for (const metric of ['a', 'b', 'c', 'd', 'e']) {
    new Gauge({ name: `bench_${metric}`, help: 'A gauge.', registers: [registry] }).set(123_456_789);
  }
  const gateway = new Pushgateway(url, { agent: new Agent({ keepAlive: true, maxSockets: 2 }) }, registry);
  return () =>
    gateway.pushAdd({ jobName: 'bench-flush-loop', groupings: { instance: 'prom-client' } }).then(
      () => true,
      () => false,
    );
}

const [name, url, count] = process.argv.slice(2);
const pushes = Number(count);
const WARMUP = 500;
const push = await pusher(name, url);
let failed = 0;
const flush = async () => {
  if (!(await push())) failed++;
};
for (let i = 0; i < WARMUP; i++) await flush();
const checkpoints = [await checkpoint(0)];
const start = performance.now();
for (let i = 1; i <= pushes; i++) {
  await flush();
  if (i % (pushes / 4) === 0) checkpoints.push(await checkpoint(i));
}
emit({ pushes, failed, seconds: (performance.now() - start) / 1000, checkpoints });
process.exit(0);

// Memory footprint: RSS after gc of an otherwise idle process that imported a contender, started it and
// pushed once to the real Pushgateway. Usage: node --expose-gc memory.mjs <contender> <gateway-url>
import { setTimeout as sleep } from 'node:timers/promises';
import { DIST, emit, memory } from './common.mjs';

const [name, url] = process.argv.slice(2);
let pushed = true;
if (name === 'procpush') {
  const { startReporter } = await import(new URL('node.js', DIST).href);
  const reporter = startReporter({
    target: { type: 'pushgateway', url },
    job: 'bench-memory',
    instance: 'procpush',
    intervalMs: 60_000,
  });
  const result = await reporter.flush();
  pushed = result.ok;
  if (!pushed) throw result.error;
} else if (name === 'prom-client') {
  const { collectDefaultMetrics, Pushgateway, register } = await import('prom-client');
  collectDefaultMetrics();
  const gateway = new Pushgateway(url, {}, register);
  await gateway.pushAdd({ jobName: 'bench-memory', groupings: { instance: 'prom-client' } });
} else if (name !== 'baseline') {
  throw new Error(`Expected baseline, procpush or prom-client, got ${name}`);
}
// Idle for a moment, as a process between pushes is.
await sleep(200);
emit({ ...(await memory()), pushed });
process.exit(0);

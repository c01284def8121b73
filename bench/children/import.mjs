// Cold start: the time of one `await import()` of a contender in a fresh process, measured inside it.
// Usage: node --expose-gc import.mjs <contender> [file URL, for another build]
import { DIST, emit } from './common.mjs';

const SPECIFIERS = {
  baseline: undefined,
  'procpush (Node entry)': new URL('node.js', DIST).href,
  'procpush (edge entry)': new URL('index.js', DIST).href,
  'prom-client': 'prom-client',
  'prometheus-remote-write': 'prometheus-remote-write',
  '@opentelemetry/sdk-metrics': '@opentelemetry/sdk-metrics',
};

const [name, url] = process.argv.slice(2);
if (!(name in SPECIFIERS) && url === undefined) {
  throw new Error(`Expected one of ${Object.keys(SPECIFIERS).join(', ')}, or a name and a URL; got ${name}`);
}
await import('./empty.mjs');
const specifier = url ?? SPECIFIERS[name];
const start = performance.now();
if (specifier !== undefined) await import(specifier);
const importMs = performance.now() - start;
emit({ importMs, processMs: performance.now() });

// Encoding: one remote-write request body (protobuf + snappy) for the five series, and for 1,000 queued
// samples. Usage: node --expose-gc encoding.mjs <procpush|prometheus-remote-write|verify>
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { DIST, emit, timePerOp } from './common.mjs';

const NAMES = [
  'process_memory_bytes',
  'process_memory_peak_bytes',
  'process_cpu_percent',
  'tracing_memory_overhead_bytes',
  'tracing_cpu_overhead_percent',
];
const LABELS = { job: 'bench', instance: 'bench-host:4242' };
const T0 = 1_760_000_000_000;

/** `perSeries` samples of each of the five series, with values like the reporter's (deterministic). */
function input(perSeries) {
  let seed = 42;
  const next = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  return NAMES.map((name, n) => ({
    name,
    samples: Array.from({ length: perSeries }, (_, i) => ({
      value: n % 3 === 2 ? Math.round(next() * 10_000) / 100 : Math.round(40e6 + next() * 80e6),
      timestampMs: T0 + i * 1000,
    })),
  }));
}

const SIZES = { 'five series, one sample each': 1, '1,000 queued samples (200 × 5 series)': 200 };

/** procpush as its remote-write target uses it: labels encoded once, then one call per request. */
async function procpush() {
  const encode = await import(new URL('encode/remote-write.js', DIST).href);
  // Measure the path the target takes: the one-step compressor where it calls it. The target is bundled
  // (bench/lib/snapshot.ts), so the call may read `compressWriteRequest2(` where esbuild renamed a clash.
  const target = readFileSync(new URL('targets/remote-write.js', DIST), 'utf8');
  const oneStep =
    typeof encode.compressWriteRequest === 'function' &&
    /(?<!function\s+)\bcompressWriteRequest\d*\(/.test(target);
  const path = oneStep ? 'compressWriteRequest' : 'compressSnappy(encodeWriteRequest())';
  const body = oneStep
    ? (series) => encode.compressWriteRequest(series)
    : (series) => encode.compressSnappy(encode.encodeWriteRequest(series));
  const prepare = (perSeries) =>
    input(perSeries).map(({ name, samples }) => ({
      labels: encode.encodeLabels({ ...LABELS, __name__: name }),
      samples,
    }));
  // Not judged, for the breakdown: the protobuf writer alone, and the other compression path where the
  // encoder offers one the target does not call yet.
  const variants = { 'protobuf only (encodeWriteRequest)': (series) => encode.encodeWriteRequest(series) };
  if (typeof encode.compressWriteRequest === 'function' && !oneStep) {
    variants['compressWriteRequest (not called by the target yet)'] = (series) =>
      encode.compressWriteRequest(series);
  } else if (oneStep) {
    variants['compressSnappy(encodeWriteRequest())'] = (series) =>
      encode.compressSnappy(encode.encodeWriteRequest(series));
  }
  return { path, body, prepare, variants };
}

/** prometheus-remote-write's own steps: serialize (protobufjs verify + encode), then its snappyjs. */
async function peer() {
  const require = createRequire(import.meta.url);
  const prw = require('prometheus-remote-write');
  const snappy = createRequire(require.resolve('prometheus-remote-write'))('snappyjs');
  const prepare = (perSeries) => ({
    timeseries: input(perSeries).map(({ name, samples }) => ({
      labels: Object.entries({ __name__: name, ...LABELS }).map(([n, value]) => ({ name: n, value })),
      samples: samples.map((s) => ({ value: s.value, timestamp: s.timestampMs })),
    })),
  });
  return {
    path: 'serialize() + snappyjs.compress()',
    body: async (request) => snappy.compress(await prw.serialize(request)),
    prepare,
    variants: { 'protobuf only (serialize)': (request) => prw.serialize(request) },
  };
}

/** Both bodies decoded with the peer's own decoder, labels sorted, as plain numbers. */
async function verify() {
  const require = createRequire(import.meta.url);
  const prw = require('prometheus-remote-write');
  const snappy = createRequire(require.resolve('prometheus-remote-write'))('snappyjs');
  const decode = async (body) => {
    const request = await prw.deserialize(snappy.uncompress(body));
    return request.timeseries.map((series) => ({
      labels: series.labels
        .map(({ name, value }) => `${name}=${value}`)
        .sort()
        .join(','),
      samples: series.samples.map(({ value, timestamp }) => [value, Number(timestamp)]),
    }));
  };
  const ours = await procpush();
  const theirs = await peer();
  const checks = {};
  for (const [size, perSeries] of Object.entries(SIZES)) {
    const a = ours.body(ours.prepare(perSeries));
    const b = await theirs.body(theirs.prepare(perSeries));
    const same = JSON.stringify(await decode(a)) === JSON.stringify(await decode(b));
    checks[size] = { same, procpushBytes: a.length, peerBytes: b.length };
  }
  return checks;
}

const name = process.argv[2];
if (name === 'verify') {
  emit(await verify());
} else {
  const contender =
    name === 'procpush' ? await procpush() : name === 'prometheus-remote-write' ? await peer() : undefined;
  if (!contender) throw new Error(`Expected procpush, prometheus-remote-write or verify, got ${name}`);
  const result = { path: contender.path, variants: {} };
  for (const [size, perSeries] of Object.entries(SIZES)) {
    const request = contender.prepare(perSeries);
    result[size] = await timePerOp(() => contender.body(request));
    for (const [variant, body] of Object.entries(contender.variants)) {
      result.variants[variant] ??= {};
      result.variants[variant][size] = await timePerOp(() => body(request), { batches: 3 });
    }
  }
  emit(result);
}
process.exit(0);

import { createRequire } from 'node:module';
import fc from 'fast-check';
import { uncompress } from 'snappyjs';
import { describe, expect, it } from 'vitest';
import {
  compressSnappy,
  compressWriteRequest,
  type EncodedLabels,
  encodeLabels,
  encodeWriteRequest,
  type RemoteWriteSample,
  type RemoteWriteSeries,
} from '../../src/encode/remote-write.js';
import { SnappyBuilder } from '../../src/encode/snappy-builder.js';

// prometheus-remote-write's own decoding: its snappyjs (an older release than ours) and protobufjs.
const requireFromReference = createRequire(createRequire(import.meta.url).resolve('prometheus-remote-write'));
const referenceSnappy = requireFromReference('snappyjs') as { uncompress(bytes: Uint8Array): Uint8Array };
const reference = createRequire(import.meta.url)('prometheus-remote-write') as {
  deserialize(bytes: Uint8Array): Promise<{
    timeseries: { samples: { value: number; timestamp: { toString(): string } }[] }[];
  }>;
};

const NOW = 1_764_000_000_123;
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/**
 * A decoder written from the format description alone, stricter than snappyjs: every element must be
 * well formed, no copy may reach before the start, and the output must be exactly the announced length.
 * https://github.com/google/snappy/blob/main/format_description.txt
 */
function strictUncompress(block: Uint8Array): Uint8Array {
  let pos = 0;
  let length = 0;
  for (let shift = 1; ; shift *= 128) {
    const byte = block[pos++]!;
    length += (byte & 0x7f) * shift;
    if (byte < 0x80) break;
  }
  const out = new Uint8Array(length);
  let produced = 0;
  const read = (count: number) => {
    if (pos + count > block.length) throw new Error(`element at ${pos} runs past the block`);
    let value = 0;
    for (let i = 0; i < count; i++) value += block[pos + i]! * 2 ** (8 * i);
    pos += count;
    return value;
  };
  while (pos < block.length) {
    const tag = block[pos++]!;
    const type = tag & 3;
    if (type === 0) {
      const small = tag >>> 2;
      const size = (small < 60 ? small : read(small - 59)) + 1;
      if (pos + size > block.length || produced + size > length)
        throw new Error(`literal at ${pos} overruns`);
      out.set(block.subarray(pos, pos + size), produced);
      pos += size;
      produced += size;
      continue;
    }
    const size = type === 1 ? ((tag >>> 2) & 7) + 4 : (tag >>> 2) + 1;
    const distance = type === 1 ? ((tag >>> 5) << 8) + read(1) : read(type === 2 ? 2 : 4);
    if (distance === 0 || distance > produced)
      throw new Error(`copy reaches ${distance} back from ${produced}`);
    if (produced + size > length) throw new Error(`copy at ${produced} overruns`);
    for (let i = 0; i < size; i++, produced++) out[produced] = out[produced - distance]!;
  }
  if (produced !== length) throw new Error(`produced ${produced} of ${length} bytes`);
  return out;
}

/** The compressed request decodes, with three decoders, to exactly what `encodeWriteRequest` writes. */
async function expectRoundTrip(series: readonly RemoteWriteSeries[]): Promise<Uint8Array> {
  const compressed = compressWriteRequest(series);
  const expected = hex(encodeWriteRequest(series));
  expect(hex(strictUncompress(compressed))).toBe(expected);
  expect(hex(uncompress(compressed))).toBe(expected);
  const decoded = await reference.deserialize(referenceSnappy.uncompress(compressed));
  expect(decoded.timeseries).toHaveLength(series.length);
  series.forEach((one, i) => {
    const samples = decoded.timeseries[i]!.samples;
    expect(samples).toHaveLength(one.samples.length);
    one.samples.forEach((sample, j) => {
      if (sample.stale === true) expect(samples[j]!.value).toBeNaN();
      else expect(samples[j]!.value).toBe(sample.value);
      expect(samples[j]!.timestamp.toString()).toBe(String(sample.timestampMs));
    });
  });
  expect(compressed.byteOffset).toBe(0);
  expect(compressed.buffer.byteLength).toBe(compressed.length);
  return compressed;
}

const FIVE = [
  'process_memory_bytes',
  'process_memory_peak_bytes',
  'process_cpu_percent',
  'tracing_memory_overhead_bytes',
  'tracing_cpu_overhead_percent',
];

function tick(labels: readonly EncodedLabels[], values: readonly number[], timestampMs: number) {
  return labels.map((one, i) => ({ labels: one, samples: [{ value: values[i]!, timestampMs }] }));
}

// Label names as Prometheus allows them, weighted towards those that sort before `__name__`.
const labelName = fc.oneof(
  fc.stringMatching(/^[a-z][a-zA-Z0-9_]{0,12}$/),
  fc.stringMatching(/^[A-Z][a-zA-Z0-9_]{0,12}$/),
  fc.stringMatching(/^_[a-zA-Z0-9_]{0,12}$/),
);
const labelValue = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }) },
  // Longer than one copy element (64 bytes), and long enough to put copies beyond 2 KiB.
  { weight: 1, arbitrary: fc.string({ minLength: 65, maxLength: 200, unit: 'grapheme' }) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 2_100, max: 9_000 }).map((n) => `${'0123456789abcdef'.repeat(n >> 4)}`),
  },
);
const value = fc.oneof(
  fc.double(),
  fc.constantFrom(0, -0, 0.5, 12.5, 48_234_496, Number.NaN, Number.POSITIVE_INFINITY),
);
const timestamp = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: NOW - 1e9, max: NOW + 1e9 }) },
  { weight: 1, arbitrary: fc.integer({ min: -(2 ** 40), max: 2 ** 20 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 127, 128, 2 ** 31, 2 ** 35, Number.MAX_SAFE_INTEGER) },
);
const sample = fc.record(
  { value, timestampMs: timestamp, stale: fc.boolean() },
  { requiredKeys: ['value', 'timestampMs'] },
);

/** Requests as the reporter makes them: shared labels, one name each, samples mostly of shared ticks. */
const request = fc
  .record({
    shared: fc.dictionary(labelName, labelValue, { maxKeys: 4 }),
    names: fc.array(fc.constantFrom(...FIVE, 'up', 'a', 'process_memory_bytes_total'), { maxLength: 6 }),
    own: fc.array(fc.dictionary(labelName, labelValue, { maxKeys: 2 }), { minLength: 6, maxLength: 6 }),
    ticks: fc.array(timestamp, { maxLength: 5 }),
    values: fc.array(fc.array(value, { minLength: 5, maxLength: 5 }), { minLength: 6, maxLength: 6 }),
    counts: fc.array(fc.nat({ max: 5 }), { minLength: 6, maxLength: 6 }),
    stray: fc.array(sample, { maxLength: 3 }),
  })
  .map(({ shared, names, own, ticks, values, counts, stray }) =>
    names.map((name, i): RemoteWriteSeries => {
      const samples: RemoteWriteSample[] = ticks.slice(0, counts[i]!).map((timestampMs, j) => ({
        value: values[i]![j]!,
        timestampMs,
        ...(j === 3 ? { stale: true } : {}),
      }));
      if (i === names.length - 1) samples.push(...stray);
      return { labels: encodeLabels({ ...shared, ...own[i], __name__: name }), samples };
    }),
  );

describe('structure-aware snappy compression of remote write requests', () => {
  it('decodes to the encoded request for arbitrary label sets, samples and timestamps', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (series) => {
        await expectRoundTrip(series);
      }),
      { numRuns: 300 },
    );
  });

  it('decodes correctly tick after tick as values, stale markers and timestamp sizes change', async () => {
    const tickRequest = fc.record({
      values: fc.array(value, { minLength: 5, maxLength: 5 }),
      stale: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
      timestamps: fc.oneof(
        timestamp.map((t) => [t, t, t, t, t]),
        fc.array(timestamp, { minLength: 5, maxLength: 5 }),
      ),
      batch: fc.nat({ max: 9 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(tickRequest, { minLength: 1, maxLength: 12 }), async (ticks) => {
        const labels = FIVE.map((name) => encodeLabels({ __name__: name, job: 'j', instance: 'host:1' }));
        for (const one of ticks) {
          const series = labels.map((own, i) => ({
            labels: own,
            samples: [{ value: one.values[i]!, timestampMs: one.timestamps[i]!, stale: one.stale[i]! }],
          }));
          // Now and then a queued backlog: several samples per series.
          if (one.batch === 0) series[0]!.samples.push({ value: 1, timestampMs: NOW, stale: false });
          await expectRoundTrip(series);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('compresses the request of every interval below its encoded size, close to snappy', async () => {
    const labels = FIVE.map((name) =>
      encodeLabels({ __name__: name, job: 'nightly-import', instance: 'w-7:4242' }),
    );
    const values = [48_234_496, 52_428_800, 12.5, 723_517.44, 0.5];
    for (let i = 0; i < 3; i++) {
      const series = tick(
        labels,
        values.map((v) => v + i),
        NOW + i * 15_000,
      );
      const compressed = await expectRoundTrip(series);
      const body = encodeWriteRequest(series);
      expect(compressed.length).toBeLessThan(body.length * 0.55);
      expect(compressed.length).toBeLessThan(compressSnappy(body).length * 1.2);
    }
  });

  it('copies shared labels when a user label sorts before __name__', async () => {
    const labels = FIVE.map((name) =>
      encodeLabels({ __name__: name, Zone: 'eu-central-1a', _tier: 'batch', job: 'j', instance: 'host:1' }),
    );
    const series = tick(labels, [1, 2, 3, 4, 5], NOW);
    const compressed = await expectRoundTrip(series);
    expect(compressed.length).toBeLessThan(encodeWriteRequest(series).length * 0.5);
  });

  it('keeps each body its own: a later request does not change an earlier one', async () => {
    const labels = FIVE.map((name) => encodeLabels({ __name__: name, job: 'j' }));
    const first = await expectRoundTrip(tick(labels, [1, 2, 3, 4, 5], NOW));
    const copy = hex(first);
    await expectRoundTrip(tick(labels, [6, 7, 8, 9, 10], NOW + 15_000));
    expect(hex(first)).toBe(copy);
  });

  it('ends every series with stale markers whose values are copied', async () => {
    const labels = FIVE.map((name) => encodeLabels({ __name__: name, job: 'j' }));
    const series = labels.map((own) => ({
      labels: own,
      samples: [{ value: 0, timestampMs: NOW, stale: true }],
    }));
    await expectRoundTrip(series);
  });

  it('still refuses a timestamp that is not a safe integer once a request has been compressed', () => {
    const labels = FIVE.map((name) => encodeLabels({ __name__: name }));
    compressWriteRequest(tick(labels, [1, 2, 3, 4, 5], NOW));
    expect(() => compressWriteRequest(tick(labels, [1, 2, 3, 4, 5], 2 ** 53))).toThrow(RangeError);
    expect(() => compressWriteRequest(tick(labels, [1, 2, 3, 4, 5], 1.5))).toThrow(RangeError);
  });

  it('round-trips the queued backlog of an outage, and an empty request', async () => {
    const labels = FIVE.map((name) => encodeLabels({ __name__: name, job: 'j', instance: 'host:1' }));
    for (const count of [200, 2_000]) {
      const series = labels.map((own, i) => ({
        labels: own,
        samples: Array.from({ length: count }, (_, j) => ({
          value: i * 1e6 + j * 4096,
          timestampMs: NOW + j * 15_000,
        })),
      }));
      await expectRoundTrip(series);
    }
    expect([...compressWriteRequest([])]).toEqual([0]);
  });

  it("gives a backlog above 32 KiB snappy's own, smaller compression", () => {
    const labels = FIVE.map((name) => encodeLabels({ __name__: name, job: 'j', instance: 'host:1' }));
    const series = labels.map((own, i) => ({
      labels: own,
      samples: Array.from({ length: 400 }, (_, j) => ({
        value: i * 1e6 + j * 4096,
        timestampMs: NOW + j * 15_000,
      })),
    }));
    const body = encodeWriteRequest(series);
    expect(body.length).toBeGreaterThan(32 * 1024);
    expect(hex(compressWriteRequest(series))).toBe(hex(compressSnappy(body)));
  });
});

describe('snappy block builder', () => {
  it('writes copies from 2 KiB, 64 KiB and further back, and literals of every tag size', () => {
    const lengths = [1, 60, 61, 256, 257, 65_536, 65_537, 70_000];
    // Room for five 50-byte copies after each literal; what they leave over ends the block as a literal.
    const total = lengths.reduce((sum, n) => sum + n + 5 * 50, 0);
    const source = Uint8Array.from({ length: total }, (_, i) => (i * 7919) % 251);
    const out = new Uint8Array(2 * total + 64);
    const builder = new SnappyBuilder(out, new DataView(out.buffer), total);
    let at = 0;
    for (const length of lengths) {
      builder.bytes(source, at, length);
      at += length;
      // Distances beyond each element form's reach: 1-byte offsets (< 2 KiB), 2-byte (< 64 KiB), 4-byte.
      for (const distance of [length, 2_047, 65_535, 65_536, at]) {
        if (distance > at) continue;
        // Byte by byte, as a decoder copies: a copy may overlap what it produces.
        for (let i = 0; i < 50; i++) source[at + i] = source[at - distance + i]!;
        expect(builder.copy(distance, 50)).toBe(true);
        at += 50;
      }
    }
    builder.bytes(source, at, total - at);
    const block = out.subarray(0, builder.finish());
    expect(hex(strictUncompress(block))).toBe(hex(source));
    expect(hex(uncompress(block))).toBe(hex(source));
  });
});

import { createRequire } from 'node:module';
import fc from 'fast-check';
import { uncompress } from 'snappyjs';
import { describe, expect, it } from 'vitest';
import {
  compressSnappy,
  encodeLabels,
  encodeWriteRequest,
  type RemoteWriteSample,
} from '../../src/encode/remote-write.js';

// The independent implementation: prometheus-remote-write encodes with protobufjs code generated from
// Prometheus' remote.proto, and decodes with it too. Its own types describe the wrong shapes, hence ours.
interface ReferenceLabel {
  name: string;
  value: string;
}
interface ReferenceRequest {
  timeseries: { labels: ReferenceLabel[]; samples: { value: number; timestamp: number }[] }[];
}
interface DecodedRequest {
  // int64 decodes to a `Long` (or a number); both print the exact decimal.
  timeseries: { labels: ReferenceLabel[]; samples: { value: number; timestamp: { toString(): string } }[] }[];
}
const reference = createRequire(import.meta.url)('prometheus-remote-write') as {
  serialize(request: ReferenceRequest): Promise<Uint8Array>;
  deserialize(bytes: Uint8Array): Promise<DecodedRequest>;
};

interface PlainSeries {
  labels: Record<string, string>;
  samples: RemoteWriteSample[];
}

const NOW = 1_764_000_000_123;
const FIVE_METRICS = [
  'process_memory_bytes',
  'process_memory_peak_bytes',
  'process_cpu_percent',
  'tracing_memory_overhead_bytes',
  'tracing_cpu_overhead_percent',
];

function fiveSeries(): PlainSeries[] {
  const values = [48_234_496, 52_428_800, 12.5, 723_517.44, 0.5];
  return FIVE_METRICS.map((name, i) => ({
    labels: { __name__: name, job: 'nightly-import', instance: 'worker-7:4242' },
    samples: [{ value: values[i]!, timestampMs: NOW }],
  }));
}

function encodeOurs(series: readonly PlainSeries[]): Uint8Array {
  return encodeWriteRequest(series.map((s) => ({ labels: encodeLabels(s.labels), samples: s.samples })));
}

/** What the remote write spec asks for, built independently: empty values dropped, UTF-8 byte order. */
function expectedLabels(labels: Record<string, string>): ReferenceLabel[] {
  return Object.entries(labels)
    .filter(([, value]) => value !== '')
    .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    .map(([name, value]) => ({ name, value }));
}

async function encodeReference(series: readonly PlainSeries[]): Promise<Uint8Array> {
  return reference.serialize({
    timeseries: series.map((s) => ({
      labels: expectedLabels(s.labels),
      samples: s.samples.map((sample) => ({ value: sample.value, timestamp: sample.timestampMs })),
    })),
  });
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** Our bytes equal protobufjs' byte for byte, and protobufjs reads back exactly the input. */
async function expectLikeReference(series: readonly PlainSeries[]): Promise<Uint8Array> {
  const ours = encodeOurs(series);
  expect(hex(ours)).toBe(hex(await encodeReference(series)));
  const decoded = await reference.deserialize(ours);
  expect(decoded.timeseries).toHaveLength(series.length);
  series.forEach((input, i) => {
    const output = decoded.timeseries[i]!;
    expect(output.labels.map(({ name, value }) => ({ name, value }))).toEqual(expectedLabels(input.labels));
    expect(output.samples).toHaveLength(input.samples.length);
    input.samples.forEach((sample, j) => {
      // toBe is Object.is: NaN equals NaN, -0 differs from 0.
      expect(output.samples[j]!.value).toBe(sample.value);
      expect(output.samples[j]!.timestamp.toString()).toBe(String(sample.timestampMs));
    });
  });
  return ours;
}

/** The 8 bytes of `Sample.value` in a request holding only this sample of the series `up`. */
function onlyValueBytes(sample: RemoteWriteSample): Uint8Array {
  const labels = encodeLabels({ __name__: 'up' });
  const bytes = encodeWriteRequest([{ labels, samples: [sample] }]);
  // Series tag and one-byte length, the labels, sample tag and one-byte length, then the value's tag.
  const tagAt = 2 + labels.bytes.length + 2;
  expect(bytes[tagAt]).toBe(0x09);
  return bytes.subarray(tagAt + 1, tagAt + 9);
}

function readVarint(bytes: Uint8Array): number {
  let value = 0;
  for (let i = 0, shift = 1; i < bytes.length; i++, shift *= 128) {
    value += (bytes[i]! & 0x7f) * shift;
    if (bytes[i]! < 0x80) return value;
  }
  throw new Error('truncated varint');
}

function oneSeries(samples: RemoteWriteSample[], labels: Record<string, string> = { __name__: 'up' }) {
  return [{ labels, samples }];
}

describe('remote write request', () => {
  it('encodes the five metrics of one tick exactly as protobufjs does', async () => {
    const bytes = await expectLikeReference(fiveSeries());
    expect(bytes.length).toBeGreaterThan(0);
  });

  it('matches a request built by hand from the wire format', () => {
    const bytes = encodeOurs(oneSeries([{ value: 1, timestampMs: 2 ** 32 }], { job: 'j', __name__: 'up' }));
    const expected = [
      '0a 2b', // WriteRequest.timeseries, 43 bytes
      '0a 0e', // TimeSeries.labels, 14 bytes
      '0a 08 5f5f6e616d655f5f 12 02 7570', // Label.name "__name__", Label.value "up"
      '0a 08', // TimeSeries.labels, 8 bytes
      '0a 03 6a6f62 12 01 6a', // Label.name "job", Label.value "j"
      '12 0f', // TimeSeries.samples, 15 bytes
      '09 000000000000f03f', // Sample.value 1.0 as a little-endian double
      '10 8080808010', // Sample.timestamp 2^32 as a varint
    ];
    expect(hex(bytes)).toBe(expected.join('').replaceAll(' ', ''));
  });

  it('keeps several samples of a series in the order given', async () => {
    const samples = [3, 1, 2].map((value, i) => ({ value, timestampMs: NOW + i * 15_000 }));
    await expectLikeReference([
      ...fiveSeries(),
      ...oneSeries(samples, { __name__: 'queue_depth', job: 'x' }),
    ]);
  });

  it('carries NaN, infinities, -0 and large numbers bit for bit', async () => {
    const values = [
      NaN,
      Infinity,
      -Infinity,
      -0,
      0,
      2 ** 53,
      -(2 ** 53),
      2 ** 64,
      Number.MAX_VALUE,
      5e-324,
      0.1,
    ];
    await expectLikeReference(oneSeries(values.map((value, i) => ({ value, timestampMs: NOW + i }))));
    // The 8 value bytes of -0 are the sign bit alone: a writer that skips zeros would lose it.
    expect(hex(onlyValueBytes({ value: -0, timestampMs: NOW }))).toBe('0000000000000080');
  });

  it('writes timestamps past 2^32, near now and up to 2^53 as exact int64 varints', async () => {
    const timestamps = [0, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, Date.now(), 2 ** 53 - 1];
    // Each side of every varint length step: 2^7, 2^14, ... 2^49.
    for (let bits = 7; bits < 53; bits += 7) timestamps.push(2 ** bits - 1, 2 ** bits);
    await expectLikeReference(oneSeries(timestamps.map((timestampMs) => ({ value: 1, timestampMs }))));
  });

  it('writes timestamps before 1970 as ten-byte two’s complement', async () => {
    const timestamps = [-1, -(2 ** 31), -(2 ** 32) - 1, -(2 ** 53) + 1];
    await expectLikeReference(oneSeries(timestamps.map((timestampMs) => ({ value: 1, timestampMs }))));
  });

  it('refuses a timestamp that is not a safe integer', () => {
    for (const timestampMs of [1.5, NaN, Infinity, 2 ** 53]) {
      expect(() => encodeOurs(oneSeries([{ value: 1, timestampMs }]))).toThrow(RangeError);
    }
  });

  it('writes unicode label values as UTF-8', async () => {
    const labels = { __name__: 'up', city: 'Zürich', region: '東京', mood: '🚀 launch', quote: '"\\\n' };
    await expectLikeReference(oneSeries([{ value: 1, timestampMs: NOW }], labels));
  });

  it('sorts labels by name in UTF-8 byte order, not JS string order', async () => {
    const labels = {
      zeta: 'z',
      '\u{1F600}': 'emoji',
      __name__: 'up',
      alpha: 'a',
      '\uFFFD': 'bmp',
      Beta: 'b',
    };
    const bytes = await expectLikeReference(oneSeries([{ value: 1, timestampMs: NOW }], labels));
    const decoded = await reference.deserialize(bytes);
    // U+FFFD (EF BF BD) sorts before U+1F600 (F0 9F 98 80), though its UTF-16 unit 0xFFFD sorts after 0xD83D.
    expect(decoded.timeseries[0]!.labels.map((label) => label.name)).toEqual([
      'Beta',
      '__name__',
      'alpha',
      'zeta',
      '\uFFFD',
      '\u{1F600}',
    ]);
  });

  it('leaves out labels with an empty value', async () => {
    const labels = { __name__: 'up', job: 'j', instance: '' };
    const bytes = await expectLikeReference(oneSeries([{ value: 1, timestampMs: NOW }], labels));
    const decoded = await reference.deserialize(bytes);
    expect(decoded.timeseries[0]!.labels.map((label) => label.name)).toEqual(['__name__', 'job']);
  });

  it('throws a TypeError for a label set without __name__', () => {
    expect(() => encodeLabels({ job: 'j' })).toThrow(TypeError);
    expect(() => encodeLabels({ __name__: '', job: 'j' })).toThrow(/__name__/);
  });

  it('throws a TypeError for two names with the same UTF-8 bytes', () => {
    // Lone surrogates both become U+FFFD: the only way a record's distinct keys can collide on the wire.
    expect(() => encodeLabels({ __name__: 'up', '\uD800': 'a', '\uDC00': 'b' })).toThrow(TypeError);
  });

  it('writes the stale marker as the exact bits 0x7ff0000000000002', async () => {
    const value = onlyValueBytes({ value: 42, timestampMs: NOW, stale: true });
    const view = new DataView(value.buffer, value.byteOffset, 8);
    expect(view.getUint32(4, true).toString(16)).toBe('7ff00000');
    expect(view.getUint32(0, true)).toBe(2);
    const bytes = encodeOurs(oneSeries([{ value: 42, timestampMs: NOW, stale: true }]));
    const decoded = await reference.deserialize(bytes);
    expect(decoded.timeseries[0]!.samples[0]!.value).toBeNaN();
  });

  it('encodes an empty request as zero bytes, as protobufjs does', async () => {
    expect(encodeWriteRequest([])).toHaveLength(0);
    await expectLikeReference([]);
  });

  it('agrees with protobufjs on arbitrary values, timestamps and label values', async () => {
    const sample = fc.record({ value: fc.double(), timestampMs: fc.maxSafeInteger() });
    const series = fc.record({
      labels: fc.dictionary(fc.string({ minLength: 1, unit: 'grapheme' }), fc.string({ unit: 'grapheme' })),
      samples: fc.array(sample, { maxLength: 4 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(series, { maxLength: 4 }), async (all) => {
        const named = all.map((s) => ({ ...s, labels: { ...s.labels, __name__: 'm' } }));
        await expectLikeReference(named);
      }),
      { numRuns: 200 },
    );
  });
});

describe('snappy compression', () => {
  const SNAPPY_FRAMED_MAGIC = 'ff060000734e61507059'; // stream identifier chunk of the framing format

  it('compresses the five-series request in the block format that snappyjs decodes to the same bytes', () => {
    const body = encodeOurs(fiveSeries());
    const compressed = compressSnappy(body);
    expect(compressed.length).toBeLessThan(body.length);
    expect(hex(compressed).startsWith(SNAPPY_FRAMED_MAGIC)).toBe(false);
    // The block format starts with the uncompressed length as a varint.
    expect(readVarint(compressed)).toBe(body.length);
    expect(hex(uncompress(compressed))).toBe(hex(body));
  });

  it('round-trips a request larger than one 64 KiB snappy block', () => {
    const samples = Array.from({ length: 5_000 }, (_, i) => ({ value: Math.sin(i), timestampMs: NOW + i }));
    const body = encodeOurs(oneSeries(samples));
    expect(body.length).toBeGreaterThan(65_536);
    expect(hex(uncompress(compressSnappy(body)))).toBe(hex(body));
  });

  it('compresses an empty body to the single length byte', () => {
    expect([...compressSnappy(new Uint8Array(0))]).toEqual([0]);
  });

  it('returns a body of its own that later compressions do not overwrite', () => {
    const first = compressSnappy(encodeOurs(fiveSeries()));
    const copy = hex(first);
    compressSnappy(encodeOurs(oneSeries([{ value: 9, timestampMs: NOW }])));
    expect(hex(first)).toBe(copy);
    expect(first.byteOffset).toBe(0);
    expect(first.buffer.byteLength).toBe(first.length);
  });
});

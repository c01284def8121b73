/**
 * The Prometheus remote write 1.0 request body: a protobuf `prometheus.WriteRequest`, snappy-compressed in
 * the block format. Spec: https://prometheus.io/docs/specs/prw/remote_write_spec/
 * Schema: https://github.com/prometheus/prometheus/blob/main/prompb/remote.proto and `prompb/types.proto`.
 */

// The compressor module itself, not the package entry: `snappyjs`'s `compress()` calls `Buffer.isBuffer`
// whenever `process.versions.node` is set, which throws where a runtime emulates `process` without `Buffer`.
import { SnappyCompressor } from 'snappyjs/snappy_compressor.js';
import {
  encodeUtf8,
  fieldTag,
  lengthDelimitedSize,
  varintSize,
  WIRE_I64,
  WIRE_LEN,
  WIRE_VARINT,
  writeDouble,
  writeFixed64Bits,
  writeLengthDelimited,
  writeVarint,
} from './protobuf.js';

/** One sample of a series; `stale: true` writes the stale marker NaN 0x7ff0000000000002 as raw bits. */
export interface RemoteWriteSample {
  /** The sample value; NaN, infinities and `-0` are written bit for bit. */
  value: number;
  /** Milliseconds since the Unix epoch, a safe integer. */
  timestampMs: number;
  /** Write the stale marker instead of `value`, to end the series. */
  stale?: boolean;
}

/** Labels of one series, encoded once (they do not change between samples). */
export interface EncodedLabels {
  /** The repeated `TimeSeries.labels` fields, tags included, ready to copy into a request. */
  readonly bytes: Uint8Array;
}

/** One series of a request: its encoded labels and its samples, oldest first. */
export interface RemoteWriteSeries {
  /** The output of `encodeLabels`. */
  labels: EncodedLabels;
  /** Written in the order given; remote write wants them in increasing time. */
  samples: readonly RemoteWriteSample[];
}

// prometheus.WriteRequest { repeated TimeSeries timeseries = 1; }
const WRITE_REQUEST_TIMESERIES = fieldTag(1, WIRE_LEN);
// prometheus.TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
const TIMESERIES_LABELS = fieldTag(1, WIRE_LEN);
const TIMESERIES_SAMPLES = fieldTag(2, WIRE_LEN);
// prometheus.Label { string name = 1; string value = 2; }
const LABEL_NAME = fieldTag(1, WIRE_LEN);
const LABEL_VALUE = fieldTag(2, WIRE_LEN);
// prometheus.Sample { double value = 1; int64 timestamp = 2; }
const SAMPLE_VALUE = fieldTag(1, WIRE_I64);
const SAMPLE_TIMESTAMP = fieldTag(2, WIRE_VARINT);

// Prometheus marks a series stale with this NaN (value.StaleNaN in model/value/value.go):
// https://github.com/prometheus/prometheus/blob/main/model/value/value.go
const STALE_NAN_LO = 0x0000_0002;
const STALE_NAN_HI = 0x7ff0_0000;

const MAX_SCRATCH_BYTES = 64 * 1024;
let scratch: Uint8Array | undefined;

interface EncodedLabel {
  readonly key: string;
  readonly name: Uint8Array;
  readonly value: Uint8Array;
}

/**
 * Encodes a label set (it must contain `__name__`) as the repeated Label fields of a TimeSeries, sorted by
 * name; labels with an empty value are left out; a missing `__name__` or a duplicate name throws a TypeError.
 */
export function encodeLabels(labels: Readonly<Record<string, string>>): EncodedLabels {
  const encoded: EncodedLabel[] = [];
  let hasName = false;
  for (const key of Object.keys(labels)) {
    const value = labels[key];
    // Prometheus treats an empty label value as absent: https://prometheus.io/docs/concepts/data_model/
    if (value === undefined || value === '') continue;
    if (key === '__name__') hasName = true;
    encoded.push({ key, name: encodeUtf8(key), value: encodeUtf8(value) });
  }
  if (!hasName) {
    throw new TypeError(
      `Expected a non-empty \`__name__\` label, got labels ${JSON.stringify(Object.keys(labels))}`,
    );
  }
  // The spec sorts names in byte order; JS string order (UTF-16 units) differs above U+FFFF: compare bytes.
  encoded.sort((a, b) => compareBytes(a.name, b.name));

  let size = 0;
  let previous: EncodedLabel | undefined;
  for (const label of encoded) {
    if (previous !== undefined && compareBytes(previous.name, label.name) === 0) {
      // Only distinct strings with the same UTF-8 (lone surrogates become U+FFFD) reach this.
      const names = `${JSON.stringify(previous.key)} and ${JSON.stringify(label.key)}`;
      throw new TypeError(`Expected unique label names, got ${names}, which encode to the same UTF-8`);
    }
    previous = label;
    size += 1 + lengthDelimitedSize(labelSize(label));
  }

  const bytes = new Uint8Array(size);
  let pos = 0;
  for (const label of encoded) {
    bytes[pos++] = TIMESERIES_LABELS;
    pos = writeVarint(bytes, pos, labelSize(label));
    bytes[pos++] = LABEL_NAME;
    pos = writeLengthDelimited(bytes, pos, label.name);
    bytes[pos++] = LABEL_VALUE;
    pos = writeLengthDelimited(bytes, pos, label.value);
  }
  return { bytes };
}

/** Encodes a prometheus.WriteRequest (remote write 1.0) holding the given series. */
export function encodeWriteRequest(series: readonly RemoteWriteSeries[]): Uint8Array {
  const seriesSizes = new Array<number>(series.length);
  let size = 0;
  let index = 0;
  for (const one of series) {
    const bodySize = seriesSize(one);
    seriesSizes[index++] = bodySize;
    size += 1 + lengthDelimitedSize(bodySize);
  }

  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let pos = 0;
  index = 0;
  for (const one of series) {
    out[pos++] = WRITE_REQUEST_TIMESERIES;
    pos = writeVarint(out, pos, seriesSizes[index++]!);
    out.set(one.labels.bytes, pos);
    pos += one.labels.bytes.length;
    for (const sample of one.samples) {
      out[pos++] = TIMESERIES_SAMPLES;
      pos = writeVarint(out, pos, sampleSize(sample.timestampMs));
      // Both fields are always written, even a zero: proto3 would skip 0 and, with it, the sign of -0.
      out[pos++] = SAMPLE_VALUE;
      pos =
        sample.stale === true
          ? writeFixed64Bits(out, pos, STALE_NAN_LO, STALE_NAN_HI)
          : writeDouble(view, pos, sample.value);
      out[pos++] = SAMPLE_TIMESTAMP;
      pos = writeVarint(out, pos, sample.timestampMs);
    }
  }
  return out;
}

/** Snappy block-format compression (never the framed format), as remote write 1.0 requires. */
export function compressSnappy(bytes: Uint8Array): Uint8Array {
  const compressor = new SnappyCompressor(bytes);
  const maxLength = compressor.maxCompressedLength();
  // Allocating a typed array costs more than compressing a small request, so the worst-case output goes
  // into a reused scratch buffer; only small ones are kept, so an idle reporter holds little memory.
  let out = scratch;
  if (out === undefined || out.length < maxLength) {
    out = new Uint8Array(Math.max(maxLength, 1024));
    if (out.length <= MAX_SCRATCH_BYTES) scratch = out;
  }
  const length = compressor.compressToBuffer(out);
  // A copy, not a view: callers keep the body for retries and may hand `.buffer` to a transport.
  return out.slice(0, length);
}

function labelSize(label: EncodedLabel): number {
  return 1 + lengthDelimitedSize(label.name.length) + 1 + lengthDelimitedSize(label.value.length);
}

function seriesSize(series: RemoteWriteSeries): number {
  let size = series.labels.bytes.length;
  for (const sample of series.samples) size += 1 + lengthDelimitedSize(sampleSize(sample.timestampMs));
  return size;
}

function sampleSize(timestampMs: number): number {
  if (!Number.isSafeInteger(timestampMs)) {
    throw new RangeError(`Expected \`timestampMs\` to be a safe integer, got ${timestampMs}`);
  }
  return 1 + 8 + 1 + varintSize(timestampMs);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const difference = a[i]! - b[i]!;
    if (difference !== 0) return difference;
  }
  return a.length - b.length;
}

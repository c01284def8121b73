/**
 * A tiny protobuf writer: sizes first, then writes into one preallocated `Uint8Array`. It uses no code
 * generation and no `Buffer`, so it runs where `eval` is forbidden (Cloudflare Workers, other edge runtimes).
 * Every writer takes the output and an offset and returns the offset after what it wrote.
 * Wire format: https://protobuf.dev/programming-guides/encoding/
 */

/** Wire type of varint fields (`int64`, `uint32`, `bool`, enums). */
export const WIRE_VARINT = 0;
/** Wire type of 8-byte little-endian fields (`double`, `fixed64`). */
export const WIRE_I64 = 1;
/** Wire type of length-delimited fields (`string`, `bytes`, embedded messages, packed repeated). */
export const WIRE_LEN = 2;

const TWO_POW_32 = 0x1_0000_0000;

/** The key that precedes a field on the wire: field number and wire type in one varint. */
export function fieldTag(fieldNumber: number, wireType: number): number {
  return (fieldNumber << 3) | wireType;
}

/**
 * Bytes the varint of a safe integer takes. A negative value is a 64-bit two's complement number, always 10
 * bytes, as `int64` requires (https://protobuf.dev/programming-guides/encoding/#signed-ints).
 */
export function varintSize(value: number): number {
  if (value < 0) return 10;
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x20_0000) return 3;
  if (value < 0x1000_0000) return 4;
  // Constants, not `>>>`: bit operators truncate to 32 bits, and timestamps in ms need 41.
  if (value < 2 ** 35) return 5;
  if (value < 2 ** 42) return 6;
  if (value < 2 ** 49) return 7;
  if (value < 2 ** 56) return 8;
  return value < 2 ** 63 ? 9 : 10;
}

/** Writes a safe integer as a varint; negative values as 10-byte two's complement `int64`. */
export function writeVarint(out: Uint8Array, offset: number, value: number): number {
  let pos = offset;
  if (value >= 0 && value < 0x8000_0000) {
    let rest = value;
    while (rest > 0x7f) {
      out[pos++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    out[pos++] = rest;
    return pos;
  }
  if (value > 0 && value <= Number.MAX_SAFE_INTEGER) {
    // Timestamps in ms (about 2^41): the low 28 bits go out as four bytes, the rest (below 2^25) as above.
    let high = Math.floor(value / 0x1000_0000);
    const low = value - high * 0x1000_0000;
    out[pos++] = (low & 0x7f) | 0x80;
    out[pos++] = ((low >>> 7) & 0x7f) | 0x80;
    out[pos++] = ((low >>> 14) & 0x7f) | 0x80;
    out[pos++] = (low >>> 21) | 0x80;
    while (high > 0x7f) {
      out[pos++] = (high & 0x7f) | 0x80;
      high >>>= 7;
    }
    out[pos++] = high;
    return pos;
  }
  // Below 0 (or unsafe) split into two 32-bit words, so no BigInt is needed up to 2^53.
  const magnitude = Math.abs(value);
  let lo = magnitude >>> 0;
  let hi = Math.floor(magnitude / TWO_POW_32) >>> 0;
  if (value < 0) {
    // Two's complement of the 64-bit magnitude: invert, then add one with the carry into the high word.
    lo = (~lo + 1) >>> 0;
    hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
  }
  while (hi > 0 || lo > 0x7f) {
    out[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  out[pos++] = lo;
  return pos;
}

/** Bytes a length-delimited payload of `length` bytes takes after its tag: length varint plus payload. */
export function lengthDelimitedSize(length: number): number {
  return varintSize(length) + length;
}

/** Writes a length-delimited payload (the length varint, then the bytes); the caller writes the tag. */
export function writeLengthDelimited(out: Uint8Array, offset: number, bytes: Uint8Array): number {
  const pos = writeVarint(out, offset, bytes.length);
  out.set(bytes, pos);
  return pos + bytes.length;
}

/** Writes a `double` as 8 little-endian bytes; `-0`, infinities and the quiet NaN keep their exact bits. */
export function writeDouble(view: DataView, offset: number, value: number): number {
  view.setFloat64(offset, value, true);
  return offset + 8;
}

/**
 * Writes 64 raw bits as 8 little-endian bytes, for NaN payloads that must survive exactly: V8 may
 * canonicalise a signalling NaN that passes through a number, so such values never become a JS number.
 */
export function writeFixed64Bits(out: Uint8Array, offset: number, lo: number, hi: number): number {
  out[offset] = lo & 0xff;
  out[offset + 1] = (lo >>> 8) & 0xff;
  out[offset + 2] = (lo >>> 16) & 0xff;
  out[offset + 3] = lo >>> 24;
  out[offset + 4] = hi & 0xff;
  out[offset + 5] = (hi >>> 8) & 0xff;
  out[offset + 6] = (hi >>> 16) & 0xff;
  out[offset + 7] = hi >>> 24;
  return offset + 8;
}

// Structural, not `TextEncoder`: the lib has no DOM types, and @types/node declares it only as a value.
let utf8: { encode(text: string): Uint8Array } | undefined;

/** Encodes a string as UTF-8, the encoding protobuf `string` fields require. */
export function encodeUtf8(text: string): Uint8Array {
  utf8 ??= new TextEncoder();
  return utf8.encode(text);
}

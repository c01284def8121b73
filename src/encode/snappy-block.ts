/**
 * Writers for the elements of a snappy block: literals and back-references ("copies"). The caller decides
 * what to copy from where; these only encode it. Every writer takes the output and an offset and returns the
 * offset after what it wrote. Format: https://github.com/google/snappy/blob/main/format_description.txt
 */

// Element tags (the low two bits of the tag byte), section 2 of the format description.
const TAG_LITERAL = 0;
const TAG_COPY_1 = 1;
const TAG_COPY_2 = 2;
const TAG_COPY_4 = 3;

// Below this a byte loop beats `set(subarray())`, which allocates a view.
const LOOP_COPY_LIMIT = 32;

/**
 * The shortest copy from `distance` bytes back that saves at least one byte over leaving the bytes in a
 * literal, counting the tag of the literal the copy splits: 2-byte elements (up to 2 KiB back) from 4 bytes,
 * 3-byte ones (up to 64 KiB) from 5, 5-byte ones from 7.
 */
export function minCopyLength(distance: number): number {
  if (distance < 2048) return 4;
  return distance < 0x1_0000 ? 5 : 7;
}

/**
 * The largest block `length` input bytes can become when every copy is at least `minCopyLength` long: the
 * length preamble (at most 5 bytes), every byte in a literal, and the tag of each literal (one byte up to 60
 * bytes, at most 5 above), so never more than snappy's own bound, `32 + n + n / 6`.
 */
export function maxBlockLength(length: number): number {
  return 32 + length + Math.ceil(length / 6);
}

/** Writes `length` bytes of `source` from `start` as one literal element. */
export function writeLiteral(
  out: Uint8Array,
  offset: number,
  source: Uint8Array,
  start: number,
  length: number,
): number {
  const pos = writeLiteralTag(out, offset, length);
  if (length < LOOP_COPY_LIMIT) {
    for (let i = 0; i < length; i++) out[pos + i] = source[start + i]!;
  } else {
    out.set(source.subarray(start, start + length), pos);
  }
  return pos + length;
}

/** Bytes the tag of a literal of `length` bytes takes. */
export function literalTagSize(length: number): number {
  if (length <= 60) return 1;
  if (length <= 0x100) return 2;
  if (length <= 0x1_0000) return 3;
  return length <= 0x100_0000 ? 4 : 5;
}

/** Writes the tag of a literal of `length` bytes; the bytes themselves follow it. */
export function writeLiteralTag(out: Uint8Array, offset: number, length: number): number {
  let pos = offset;
  const n = length - 1;
  // Lengths up to 60 live in the tag; longer ones follow it in 1 to 4 little-endian bytes.
  if (n < 60) {
    out[pos++] = (n << 2) | TAG_LITERAL;
  } else if (n < 0x100) {
    out[pos++] = (60 << 2) | TAG_LITERAL;
    out[pos++] = n;
  } else if (n < 0x1_0000) {
    out[pos++] = (61 << 2) | TAG_LITERAL;
    out[pos++] = n & 0xff;
    out[pos++] = n >>> 8;
  } else if (n < 0x100_0000) {
    out[pos++] = (62 << 2) | TAG_LITERAL;
    out[pos++] = n & 0xff;
    out[pos++] = (n >>> 8) & 0xff;
    out[pos++] = n >>> 16;
  } else {
    out[pos++] = (63 << 2) | TAG_LITERAL;
    out[pos++] = n & 0xff;
    out[pos++] = (n >>> 8) & 0xff;
    out[pos++] = (n >>> 16) & 0xff;
    out[pos++] = n >>> 24;
  }
  return pos;
}

/**
 * Writes a copy of `length` bytes from `distance` bytes back in the uncompressed output, in as many elements
 * as it takes (at most 64 bytes each). A copy may overlap what it produces (`length > distance`).
 */
export function writeCopy(out: Uint8Array, offset: number, distance: number, length: number): number {
  let pos = offset;
  let rest = length;
  // Leave at least 4 for the last element, so it can still take the short 1-byte-offset form.
  while (rest >= 68) {
    pos = writeCopyElement(out, pos, distance, 64);
    rest -= 64;
  }
  if (rest > 64) {
    pos = writeCopyElement(out, pos, distance, 60);
    rest -= 60;
  }
  return writeCopyElement(out, pos, distance, rest);
}

function writeCopyElement(out: Uint8Array, offset: number, distance: number, length: number): number {
  if (length >= 4 && length < 12 && distance < 2048) {
    out[offset] = TAG_COPY_1 | ((length - 4) << 2) | ((distance >>> 8) << 5);
    out[offset + 1] = distance & 0xff;
    return offset + 2;
  }
  if (distance < 0x1_0000) {
    out[offset] = TAG_COPY_2 | ((length - 1) << 2);
    out[offset + 1] = distance & 0xff;
    out[offset + 2] = distance >>> 8;
    return offset + 3;
  }
  // Snappy's own compressor works in 64 KiB fragments and never writes this form, but every decoder reads
  // it (the format allows offsets up to 2^32 - 1); it spares a literal when a series lies further back.
  out[offset] = TAG_COPY_4 | ((length - 1) << 2);
  out[offset + 1] = distance & 0xff;
  out[offset + 2] = (distance >>> 8) & 0xff;
  out[offset + 3] = (distance >>> 16) & 0xff;
  out[offset + 4] = distance >>> 24;
  return offset + 5;
}

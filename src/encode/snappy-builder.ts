/**
 * Builds a snappy block from what the caller knows about its input: bytes it writes (gathered into
 * literals) and runs it knows repeat earlier output (copies). Consecutive copies from the same distance
 * become one, so a caller may copy field by field. No input buffer and no hashing are involved.
 * Format: https://github.com/google/snappy/blob/main/format_description.txt
 */
import { writeFixed64Bits, writeVarint } from './protobuf.js';
import { literalTagSize, minCopyLength, writeCopy, writeLiteralTag } from './snappy-block.js';

// Below this a byte loop beats `set(subarray())`, which allocates a view.
const LOOP_COPY_LIMIT = 32;

/** A snappy block under construction, written into a buffer the caller sized with `maxBlockLength`. */
export class SnappyBuilder {
  /** Uncompressed bytes produced so far: the position the next byte will have once decompressed. */
  length = 0;
  private pos: number;
  // Where the open literal's tag goes (one byte is reserved), or -1.
  private literalAt = -1;
  private copyDistance = 0;
  private copyLength = 0;
  private readonly marks: number[] = [];
  // The first mark inside the open literal: those move if the literal's tag outgrows its reserved byte.
  private literalMarks = 0;

  /** Starts a block of `uncompressedLength` bytes in `out`, which `view` views from its start. */
  constructor(
    private readonly out: Uint8Array,
    private readonly view: DataView,
    uncompressedLength: number,
  ) {
    // The block starts with its uncompressed length as a varint.
    this.pos = writeVarint(out, 0, uncompressedLength);
  }

  /** Appends one literal byte. */
  byte(value: number): void {
    this.openLiteral();
    this.out[this.pos++] = value;
    this.length++;
  }

  /** Appends `length` literal bytes of `source` from `start`. */
  bytes(source: Uint8Array, start: number, length: number): void {
    if (length === 0) return;
    this.openLiteral();
    const out = this.out;
    const pos = this.pos;
    if (length < LOOP_COPY_LIMIT) {
      for (let i = 0; i < length; i++) out[pos + i] = source[start + i]!;
    } else {
      out.set(source.subarray(start, start + length), pos);
    }
    this.pos = pos + length;
    this.length += length;
  }

  /** Appends a varint (a non-negative integer below 2^31 or a safe integer, as `writeVarint` takes). */
  varint(value: number): void {
    this.openLiteral();
    const end = writeVarint(this.out, this.pos, value);
    this.length += end - this.pos;
    this.pos = end;
  }

  /** Appends 8 literal bytes: `value` as a little-endian double. */
  double(value: number): void {
    this.openLiteral();
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
    this.length += 8;
  }

  /** Appends 8 literal bytes: 64 raw bits, little-endian (see `writeFixed64Bits`). */
  fixed64(lo: number, hi: number): void {
    this.openLiteral();
    this.pos = writeFixed64Bits(this.out, this.pos, lo, hi);
    this.length += 8;
  }

  /**
   * Appends `length` bytes that repeat output `distance` bytes back, if a copy is shorter than the bytes;
   * returns false, having appended nothing, when the caller should append them as literals instead.
   */
  copy(distance: number, length: number): boolean {
    if (this.copyLength > 0 && this.copyDistance === distance) {
      this.copyLength += length;
    } else {
      if (length < minCopyLength(distance)) return false;
      this.closeLiteral();
      this.flushCopy();
      this.copyDistance = distance;
      this.copyLength = length;
    }
    this.length += length;
    return true;
  }

  /** Appends finished elements that produce `produced` bytes. */
  elements(bytes: Uint8Array, produced: number): void {
    this.closeLiteral();
    this.flushCopy();
    this.out.set(bytes, this.pos);
    this.pos += bytes.length;
    this.length += produced;
  }

  /** Remembers where the next literal byte lands in `out`, for `position` to tell after `finish`. */
  mark(): number {
    this.openLiteral();
    return this.marks.push(this.pos) - 1;
  }

  /** Where the byte after `mark()` landed; final once the literal holding it is closed. */
  position(mark: number): number {
    return this.marks[mark]!;
  }

  /** Ends the block; returns its length in `out`. */
  finish(): number {
    this.closeLiteral();
    this.flushCopy();
    return this.pos;
  }

  private openLiteral(): void {
    if (this.literalAt >= 0) return;
    this.flushCopy();
    this.literalAt = this.pos++;
    this.literalMarks = this.marks.length;
  }

  private closeLiteral(): void {
    const at = this.literalAt;
    if (at < 0) return;
    this.literalAt = -1;
    const length = this.pos - at - 1;
    const extra = literalTagSize(length) - 1;
    // Only literals over 60 bytes need a longer tag than the byte reserved: move their bytes up.
    if (extra > 0) {
      this.out.copyWithin(at + 1 + extra, at + 1, this.pos);
      this.pos += extra;
      for (let m = this.literalMarks; m < this.marks.length; m++) this.marks[m]! += extra;
    }
    writeLiteralTag(this.out, at, length);
  }

  private flushCopy(): void {
    if (this.copyLength === 0) return;
    this.pos = writeCopy(this.out, this.pos, this.copyDistance, this.copyLength);
    this.copyLength = 0;
  }
}

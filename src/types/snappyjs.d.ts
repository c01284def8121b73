/**
 * Minimal types for snappyjs 0.7.0, which ships none. Snappy block format only:
 * https://github.com/google/snappy/blob/main/format_description.txt
 */

declare module 'snappyjs/snappy_compressor.js' {
  /** The block compressor behind `compress()`, free of the package entry's `Buffer` checks. */
  export class SnappyCompressor {
    constructor(uncompressed: Uint8Array);
    /** An upper bound of the compressed size, to size the output. */
    maxCompressedLength(): number;
    /** Compresses into `output` and returns the number of bytes written. */
    compressToBuffer(output: Uint8Array): number;
  }
}

declare module 'snappyjs' {
  /** Compresses in the block format; returns the kind (Uint8Array, ArrayBuffer, Buffer) it was given. */
  export function compress(uncompressed: Uint8Array): Uint8Array;
  /** Decompresses the block format; throws on a malformed stream or one longer than `maxLength`. */
  export function uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array;
}

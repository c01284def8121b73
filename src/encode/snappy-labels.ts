/**
 * The compressed form of a series' labels, as snappy elements that copy what they share with the labels of
 * the series before them. Labels are encoded once per series and sent every interval, so the matching runs
 * once per pair of label sets and the elements once per distance between them; a request reuses both.
 * Format: https://github.com/google/snappy/blob/main/format_description.txt
 */
import { maxBlockLength, minCopyLength, writeCopy, writeLiteral } from './snappy-block.js';

/**
 * How to produce a series' label bytes: a literal head the caller joins to the literal before it, finished
 * elements, then a copy the caller may stretch over the bytes after the labels.
 */
export interface LabelBlock {
  /** Label bytes before the first copy, to be written as literal bytes. */
  readonly headLength: number;
  /** Finished elements for what lies between the head and the tail. */
  readonly elements: Uint8Array;
  /** Bytes those elements produce. */
  readonly produced: number;
  /** Length of the copy that ends the labels; 0 if they end in literal bytes (the head or `elements`). */
  readonly tailLength: number;
  /** How far back that copy reaches. */
  readonly tailDistance: number;
}

interface CachedBlock extends LabelBlock {
  readonly from: Uint8Array | undefined;
  readonly distance: number;
}

interface Plan {
  readonly from: Uint8Array;
  /** Triples: position in the labels, length, position in `from`. */
  readonly copies: Int32Array;
}

// Shorter common runs are not worth a copy even 2 KiB back (`minCopyLength`).
const MIN_MATCH = 4;
// Positions tried per 4-byte key when matching; bounds the work for label values like "aaaa…".
const MAX_CANDIDATES = 16;
const NO_COPIES = new Int32Array(0);

// Keyed by the label bytes, which `encodeLabels` makes once per series; one entry each, the latest pairing.
let blocks: WeakMap<Uint8Array, CachedBlock> | undefined;
let plans: WeakMap<Uint8Array, Plan> | undefined;

/**
 * The elements for `labels` when the labels `from` start `distance` bytes before them in the uncompressed
 * request (`from` undefined: nothing to copy from, all literal).
 */
export function labelBlock(labels: Uint8Array, from: Uint8Array | undefined, distance: number): LabelBlock {
  blocks ??= new WeakMap();
  const known = blocks.get(labels);
  if (known !== undefined && known.from === from && known.distance === distance) return known;
  const block = buildBlock(labels, from, distance);
  blocks.set(labels, block);
  return block;
}

function buildBlock(labels: Uint8Array, from: Uint8Array | undefined, distance: number): CachedBlock {
  const copies = from === undefined ? NO_COPIES : planFor(labels, from);
  const out = new Uint8Array(maxBlockLength(labels.length));
  let pos = 0;
  let headLength = -1;
  let literalStart = 0;
  let tailLength = 0;
  let tailDistance = 0;
  for (let c = 0; c < copies.length; c += 3) {
    const at = copies[c]!;
    const length = copies[c + 1]!;
    const copyDistance = distance + at - copies[c + 2]!;
    // Planned without knowing how far back the other labels would lie: too short a copy stays literal.
    if (length < minCopyLength(copyDistance)) continue;
    if (headLength < 0) headLength = at;
    else if (at > literalStart) pos = writeLiteral(out, pos, labels, literalStart, at - literalStart);
    literalStart = at + length;
    if (literalStart === labels.length) {
      tailLength = length;
      tailDistance = copyDistance;
    } else {
      pos = writeCopy(out, pos, copyDistance, length);
    }
  }
  if (headLength < 0) {
    headLength = labels.length;
  } else if (labels.length > literalStart) {
    pos = writeLiteral(out, pos, labels, literalStart, labels.length - literalStart);
  }
  const elements = out.slice(0, pos);
  const produced = labels.length - headLength - tailLength;
  return { from, distance, headLength, elements, produced, tailLength, tailDistance };
}

function planFor(labels: Uint8Array, from: Uint8Array): Int32Array {
  plans ??= new WeakMap();
  const known = plans.get(labels);
  if (known !== undefined && known.from === from) return known.copies;
  const copies = planCopies(labels, from);
  plans.set(labels, { from, copies });
  return copies;
}

/** Greedy longest matches of `labels` in `from`; runs once per pair of label sets, so clarity over speed. */
function planCopies(labels: Uint8Array, from: Uint8Array): Int32Array {
  const index = new Map<number, number[]>();
  for (let i = 0; i + MIN_MATCH <= from.length; i++) {
    const key = load32(from, i);
    const positions = index.get(key);
    if (positions === undefined) index.set(key, [i]);
    else if (positions.length < MAX_CANDIDATES) positions.push(i);
  }
  const copies: number[] = [];
  let at = 0;
  while (at + MIN_MATCH <= labels.length) {
    let best = 0;
    let bestFrom = 0;
    for (const candidate of index.get(load32(labels, at)) ?? []) {
      let length = 0;
      while (at + length < labels.length && candidate + length < from.length) {
        if (labels[at + length] !== from[candidate + length]) break;
        length++;
      }
      if (length > best) {
        best = length;
        bestFrom = candidate;
      }
    }
    if (best >= MIN_MATCH) {
      copies.push(at, best, bestFrom);
      at += best;
    } else {
      at++;
    }
  }
  return Int32Array.from(copies);
}

function load32(bytes: Uint8Array, at: number): number {
  return bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
}

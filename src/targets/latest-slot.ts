/** The "keep only the newest" buffer of the Pushgateway, textfile and console targets. */
import type { Sample } from '../sample/types.js';

/** Holds the newest unsent sample; an older unsent one is replaced and counted as dropped. */
export interface LatestSlot {
  put(sample: Sample): void;
  /** The sample to send, which stays in the slot until `delivered` (so a failed push keeps it). */
  peek(): Sample | undefined;
  /** Clears the slot if it still holds `sample` (a newer one may have arrived meanwhile). */
  delivered(sample: Sample): void;
  size(): number;
  dropped(): number;
}

/** Creates an empty slot. */
export function createLatestSlot(): LatestSlot {
  let current: Sample | undefined;
  let dropped = 0;
  return {
    put(sample) {
      if (current !== undefined) dropped++;
      current = sample;
    },
    peek: () => current,
    delivered(sample) {
      if (current === sample) current = undefined;
    },
    size: () => (current === undefined ? 0 : 1),
    dropped: () => dropped,
  };
}

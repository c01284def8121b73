/**
 * The remote-write queue: samples wait here, oldest first, until a receiver takes them. The head batch is
 * frozen once sent, so a retry resends the very same bytes and a newer batch never overtakes an older one.
 * Only the bounds change a frozen batch: its oldest samples go first, one sample time at a time, and the
 * rest is encoded anew; dropping the whole batch would lose a whole outage's backlog to make room for one.
 */
import type { MetricPoint } from '../metrics.js';

/** One sample of every metric, taken at one time. */
export interface QueueEntry {
  readonly timestampMs: number;
  readonly points: readonly MetricPoint[];
}

/** A frozen batch and the samples it holds. */
export interface Batch {
  readonly entries: readonly QueueEntry[];
  readonly samples: number;
  /** Set by the target: the encoded request, reused byte for byte on every retry (until the bounds trim it). */
  body?: Uint8Array;
  /** Set by the target once the batch went out, so a later refusal can be told from a first one. */
  sent?: boolean;
}

/** Bounds of the queue. */
export interface QueueLimits {
  readonly maxSamples: number;
  readonly maxAgeMs: number;
}

/** The queue of one remote-write target. */
export interface RemoteWriteQueue {
  push(entry: QueueEntry): void;
  /** The batch to send: the frozen head, or everything waiting, frozen now. Undefined when empty. */
  head(now: number): Batch | undefined;
  /** Removes the head batch: delivered, or refused for good (`dropped`). */
  shift(dropped: boolean): void;
  /** Marks the head as being sent, so an overflow meanwhile drops newer entries instead. */
  sending(active: boolean): void;
  size(): number;
  dropped(): number;
}

/** Creates an empty queue. */
export function createRemoteWriteQueue(limits: QueueLimits): RemoteWriteQueue {
  let batch: Batch | undefined;
  let waiting: QueueEntry[] = [];
  let waitingSamples = 0;
  let dropped = 0;
  let inFlight = false;

  const size = () => (batch?.samples ?? 0) + waitingSamples;

  function dropOldestWaiting(): void {
    const entry = waiting.shift();
    if (entry) {
      waitingSamples -= entry.points.length;
      dropped += entry.points.length;
    }
  }

  function dropBatch(): void {
    if (batch) dropped += batch.samples;
    batch = undefined;
  }

  /** Drops the batch's oldest `count` entries; what is left is a new batch, to be encoded again. */
  function dropOldestOfBatch(count: number): void {
    if (!batch || count <= 0) return;
    if (count >= batch.entries.length) {
      dropBatch();
      return;
    }
    const gone = batch.entries.slice(0, count).reduce((sum, entry) => sum + entry.points.length, 0);
    dropped += gone;
    batch = { entries: batch.entries.slice(count), samples: batch.samples - gone };
  }

  return {
    push(entry) {
      waiting.push(entry);
      waitingSamples += entry.points.length;
      while (size() > limits.maxSamples) {
        // The oldest go first; a batch on the wire stays whole, so the oldest waiting entry goes instead.
        if (batch && !inFlight) dropOldestOfBatch(1);
        else if (waiting.length > 1) dropOldestWaiting();
        else break;
      }
    },
    head(now) {
      const oldest = now - limits.maxAgeMs;
      if (batch) {
        const fresh = batch.entries.findIndex((entry) => entry.timestampMs >= oldest);
        dropOldestOfBatch(fresh === -1 ? batch.entries.length : fresh);
      }
      while (waiting.length > 0 && (waiting[0]?.timestampMs ?? now) < oldest) dropOldestWaiting();
      if (!batch && waiting.length > 0) {
        batch = { entries: waiting, samples: waitingSamples };
        waiting = [];
        waitingSamples = 0;
      }
      return batch;
    },
    shift(isDropped) {
      if (isDropped) dropBatch();
      batch = undefined;
    },
    sending(active) {
      inFlight = active;
    },
    size,
    dropped: () => dropped,
  };
}

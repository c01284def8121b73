/** The target contract: a target holds what is unsent and delivers it when the scheduler asks. */
import type { Sample } from '../sample/types.js';
import type { PushResult } from '../types.js';

/** Deadline and bookkeeping for one delivery. */
export interface DeliverOptions {
  /** Ends the delivery, all attempts and waits included. */
  readonly deadline: AbortSignal;
  /** The last delivery before `close`: a target that deletes its data on close may skip it. */
  readonly final?: boolean;
}

/** A delivery's result plus the attempts it spent, for `stats()`. */
export interface DeliverResult extends PushResult {
  /** Samples this delivery dropped for good (refused by the target). */
  readonly dropped?: number;
}

/** A place metrics go; the scheduler guarantees one `deliver` or `close` at a time. */
export interface TargetDriver {
  /** Takes a fresh sample: the Pushgateway and textfile keep only the newest, remote write queues it. */
  offer(sample: Sample): void;
  /** Sends what is unsent; resolves with `attempts: 0` when there is nothing to send. Never rejects. */
  deliver(options: DeliverOptions): Promise<DeliverResult>;
  /** Ends this process's series on stop (DELETE, stale markers, unlink), after the final delivery. */
  close(options: DeliverOptions): Promise<DeliverResult | undefined>;
  /** Samples waiting now. */
  pending(): number;
  /** Samples dropped so far without delivery. */
  dropped(): number;
}

/**
 * The delivery policy, on p-retry: exponential backoff with jitter, `Retry-After` honoured (capped), a
 * per-attempt timeout, and a deadline that every attempt and wait of one push fits inside.
 */
import pRetry, { AbortError } from 'p-retry';
import { PushError, PushErrorCode } from '../errors.js';
import type { HttpRequest, Outcome, Transport } from './types.js';

/** Backoff and caps of the retry policy. */
export interface RetryPolicy {
  /** Retries after the first attempt, at most; the deadline usually ends them first. */
  readonly retries: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  /** A server's `Retry-After` is honoured up to this. */
  readonly maxRetryAfterMs: number;
}

/** The default policy: 200 ms doubling to 10 s, `Retry-After` capped at 30 s. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 20,
  minDelayMs: 200,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 30_000,
};

/** The result of one push with all its attempts. */
export interface Delivery {
  readonly outcome: Outcome;
  readonly attempts: number;
}

/** Options of one push. */
export interface SendOptions {
  /** Ends the whole push: the flush or shutdown deadline. */
  readonly deadline: AbortSignal;
  /** Time one attempt may take. */
  readonly timeoutMs: number;
  readonly policy?: RetryPolicy;
}

class RetryableOutcome extends Error {
  constructor(readonly outcome: Outcome & { kind: 'retryable' }) {
    super(outcome.error.message);
  }
}

/** Sends `request`, retrying retryable outcomes until success, a final failure, or the deadline. */
export async function sendWithRetry(
  transport: Transport,
  request: HttpRequest,
  options: SendOptions,
): Promise<Delivery> {
  const { deadline } = options;
  if (deadline.aborted)
    return { outcome: beforeFirstAttempt(request, deadline, deadline.reason), attempts: 0 };
  // The first attempt runs on its own: almost every push succeeds at once, and p-retry's loop, its option
  // checks and its rejection-based control flow cost more than the rest of a push's bookkeeping together.
  let first: unknown;
  try {
    const outcome = await attempt(transport, request, deadline, options.timeoutMs);
    if (outcome.kind !== 'retryable') return { outcome, attempts: 1 };
    first = new RetryableOutcome(outcome);
  } catch (error) {
    // A transport must not reject; if one does, the retry policy treats it as p-retry always did.
    first = error;
  }
  return retry(transport, request, options, first);
}

/** The attempts after a first one that failed retryably (`first` is what it threw), on p-retry. */
async function retry(
  transport: Transport,
  request: HttpRequest,
  options: SendOptions,
  first: unknown,
): Promise<Delivery> {
  const policy = options.policy ?? DEFAULT_RETRY_POLICY;
  const { deadline } = options;
  let attempts = 1;
  let last: Outcome | undefined = first instanceof RetryableOutcome ? first.outcome : undefined;
  try {
    return await pRetry(
      async (n) => {
        // p-retry's first attempt is the one already made: replaying its result keeps p-retry's accounting of
        // attempts, its backoff before the second attempt and the Retry-After wait exactly as if it had run it.
        if (n === 1) throw first;
        attempts = n;
        // Retry-Attempt tells the server which retry this is (the first attempt carries none).
        const headers = { ...request.headers, 'Retry-Attempt': String(n - 1) };
        const outcome = await attempt(transport, { ...request, headers }, deadline, options.timeoutMs);
        last = outcome;
        if (outcome.kind === 'retryable') throw new RetryableOutcome(outcome);
        if (outcome.kind === 'failure') throw new AbortError(outcome.error);
        return { outcome, attempts: n };
      },
      {
        retries: policy.retries,
        minTimeout: policy.minDelayMs,
        maxTimeout: policy.maxDelayMs,
        factor: 2,
        randomize: true,
        signal: deadline,
        unref: true,
        onFailedAttempt: async ({ error }) => {
          const wait = error instanceof RetryableOutcome ? error.outcome.retryAfterMs : undefined;
          if (wait !== undefined && wait > 0) await sleep(Math.min(wait, policy.maxRetryAfterMs), deadline);
        },
      },
    );
  } catch (error) {
    // p-retry rethrows the last error, or the deadline's reason: the last outcome says more.
    const outcome = last ?? beforeFirstAttempt(request, deadline, error);
    if (deadline.aborted && outcome.kind === 'retryable') {
      // No attempt count in the message: the default warning is printed once per distinct message, and a dead
      // target fails after a jittered number of attempts. `PushResult.attempts` carries the count.
      const error = new PushError(
        PushErrorCode.timeout,
        `Gave up at the deadline; last: ${outcome.error.message}`,
        { status: outcome.error.status, body: outcome.error.body, cause: outcome.error },
      );
      return { outcome: { ...outcome, kind: 'failure', error }, attempts };
    }
    return { outcome, attempts };
  }
}

/** One attempt, ended by its own timeout or by the push's deadline, whichever comes first. */
function attempt(
  transport: Transport,
  request: HttpRequest,
  deadline: AbortSignal,
  timeoutMs: number,
): Promise<Outcome> {
  if (transport.sendWithin) return transport.sendWithin(request, deadline, timeoutMs);
  const timeout = startTimeout(timeoutMs, deadline);
  return transport.send(request, timeout.signal).finally(timeout.clear);
}

function beforeFirstAttempt(request: HttpRequest, deadline: AbortSignal, cause: unknown): Outcome {
  const message = deadline.aborted
    ? `${request.method} gave up before the first attempt: the deadline had passed`
    : `${request.method} could not be attempted: ${String((cause as Error | undefined)?.message ?? cause)}`;
  const code = deadline.aborted ? PushErrorCode.timeout : PushErrorCode.network;
  return { kind: 'failure', error: new PushError(code, message, { cause }) };
}

/** Waits `ms`, or until `signal` aborts (then it rejects, which ends the retries). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    (timer as { unref?: () => void }).unref?.();
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The longest delay a Node timer takes (about 24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Calls `callback` after `ms` on a timer that never keeps the process alive; clear it with `clearTimeout`. */
export function unrefTimeout(callback: () => void, ms: number): ReturnType<typeof setTimeout> {
  const timer = setTimeout(callback, Math.min(ms, MAX_TIMER_MS));
  (timer as { unref?: () => void }).unref?.();
  return timer;
}

/** The reason a timeout aborts with, as `AbortSignal.timeout` gives it. */
export function timeoutReason(): DOMException {
  return new DOMException('The operation was aborted due to timeout', 'TimeoutError');
}

/** A signal that aborts after a time, or when a linked signal aborts first; `clear()` ends both watches. */
export interface Timeout {
  readonly signal: AbortSignal;
  /** Clears the timer and stops following the linked signal; call it when the work settles. */
  clear(): void;
}

/**
 * Starts a timeout on `controller`: after `ms` its signal aborts with a `TimeoutError` (as `AbortSignal.timeout`
 * does), and when `linked` aborts first it aborts with `linked`'s reason. An unref'd timer that `clear()` removes,
 * instead of `AbortSignal.timeout` and `AbortSignal.any`: on Node 20 those two cost about 35 µs per attempt, and
 * their timers stay pending until they fire, however early the work ended. Never keeps the process alive. A
 * controller whose signal never aborted may be passed in again once its work is over and nothing listens to it.
 */
export function startTimeout(
  ms: number,
  linked?: AbortSignal,
  controller: AbortController = new AbortController(),
): Timeout {
  const onLinked = () => controller.abort(linked?.reason);
  const timer = unrefTimeout(() => {
    linked?.removeEventListener('abort', onLinked);
    controller.abort(timeoutReason());
  }, ms);
  if (linked?.aborted) controller.abort(linked.reason);
  else linked?.addEventListener('abort', onLinked, { once: true });
  return {
    signal: controller.signal,
    clear() {
      clearTimeout(timer);
      linked?.removeEventListener('abort', onLinked);
    },
  };
}

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
  const policy = options.policy ?? DEFAULT_RETRY_POLICY;
  const { deadline } = options;
  let attempts = 0;
  let last: Outcome | undefined;
  try {
    return await pRetry(
      async (attempt) => {
        attempts = attempt;
        // Retry-Attempt tells the server which retry this is (the first attempt carries none).
        const headers =
          attempt > 1 ? { ...request.headers, 'Retry-Attempt': String(attempt - 1) } : request.headers;
        const signal = AbortSignal.any([deadline, AbortSignal.timeout(options.timeoutMs)]);
        const outcome = await transport.send({ ...request, headers }, signal);
        last = outcome;
        if (outcome.kind === 'retryable') throw new RetryableOutcome(outcome);
        if (outcome.kind === 'failure') throw new AbortError(outcome.error);
        return { outcome, attempts: attempt };
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

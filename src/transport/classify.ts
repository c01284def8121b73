/**
 * The retry decision, shared by every transport: 2xx delivered; 5xx, 429, network errors and timeouts retried;
 * other 4xx refused for good; 3xx a failure, never followed: a redirect means the URL is wrong, and following
 * it would send credentials and data to wherever it points (client_golang's push treats it the same way).
 */
import { PushError, PushErrorCode } from '../errors.js';
import { redactUrl } from '../redact.js';
import type { Outcome } from './types.js';

/** The parts of a response the decision needs. */
export interface ResponseFacts {
  readonly status: number;
  readonly location?: string | undefined;
  readonly retryAfter?: string | undefined;
  /** The first KiB of the body, as text. */
  readonly body: string;
}

/** Classifies a response; `what` names the request in messages, without credentials. */
export function classifyResponse(facts: ResponseFacts, what: string, now: number = Date.now()): Outcome {
  const { status, body } = facts;
  if (status >= 200 && status < 300) return { kind: 'success', status };
  const detail = body.trim() === '' ? '' : `: ${body}`;
  if (status >= 300 && status < 400) {
    const location = facts.location === undefined ? 'no Location' : `Location ${redactUrl(facts.location)}`;
    const error = new PushError(
      PushErrorCode.redirected,
      `${what} answered ${status} with ${location}; redirects are not followed, configure the final URL`,
      { status, body },
    );
    return { kind: 'failure', status, error };
  }
  if (status === 429 || status >= 500) {
    const error = new PushError(PushErrorCode.unavailable, `${what} answered ${status}${detail}`, {
      status,
      body,
    });
    const retryAfterMs = parseRetryAfter(facts.retryAfter, now);
    return retryAfterMs === undefined
      ? { kind: 'retryable', status, error }
      : { kind: 'retryable', status, retryAfterMs, error };
  }
  return {
    kind: 'failure',
    status,
    error: new PushError(PushErrorCode.rejected, `${what} refused the push with ${status}${detail}`, {
      status,
      body,
    }),
  };
}

/** Classifies an error thrown while sending: a timeout or a network failure, both retryable. */
export function classifyError(error: unknown, what: string, signal: AbortSignal): Outcome {
  if (signal.aborted) {
    const reason = signal.reason as { name?: string } | undefined;
    const timedOut = reason?.name === 'TimeoutError';
    const message = timedOut ? `${what} timed out` : `${what} was aborted`;
    return {
      kind: 'retryable',
      error: new PushError(PushErrorCode.timeout, message, { cause: signal.reason }),
    };
  }
  const cause = error as { code?: string; message?: string } | undefined;
  const code = cause?.code ? ` (${cause.code})` : '';
  const message = `${what} failed: ${redactUrl(String(cause?.message ?? error))}${code}`;
  return { kind: 'retryable', error: new PushError(PushErrorCode.network, message, { cause: error }) };
}

/**
 * Parses `Retry-After` in both forms of RFC 9110 section 10.2.3: delay-seconds or an HTTP date.
 * Returns ms to wait, or undefined when absent or unparseable.
 */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Every HTTP-date form has an hh:mm:ss time and is GMT, also asctime's, which names no zone: without both
  // checks Date.parse would read "-5" or "1.5" as dates and an asctime date as local time.
  if (!/\d\d:\d\d:\d\d/.test(trimmed)) return undefined;
  const date = Date.parse(/ GMT$/.test(trimmed) ? trimmed : `${trimmed} GMT`);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The transport contract: send one request, get an outcome as a value (never a rejection). */
import type { PushError } from '../errors.js';

/** One HTTP request as a target builds it. */
export interface HttpRequest {
  readonly url: string;
  readonly method: 'PUT' | 'POST' | 'DELETE';
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | string;
}

/** What became of one attempt. */
export type Outcome =
  | { readonly kind: 'success'; readonly status: number }
  | { readonly kind: 'failure'; readonly status?: number; readonly error: PushError }
  | {
      readonly kind: 'retryable';
      readonly status?: number;
      /** The server's `Retry-After`, in ms, where it sent one. */
      readonly retryAfterMs?: number;
      readonly error: PushError;
    };

/** Sends bytes over HTTP; created once per reporter so connections are reused. */
export interface Transport {
  /** Sends one request; `signal` ends the attempt (its timeout or the push's deadline). */
  send(request: HttpRequest, signal: AbortSignal): Promise<Outcome>;
  /**
   * Optional: `send` with the attempt's timeout kept by the transport, on a timer: `timeoutMs` after the call the
   * attempt ends as timed out, exactly as if `deadline` had aborted with a `TimeoutError`. Without it, the retry
   * policy combines the deadline and the timeout into a new signal per attempt; creating an AbortSignal costs
   * Node 20 more than the rest of a push's bookkeeping (BENCHMARKS.md, 5b).
   */
  sendWithin?(request: HttpRequest, deadline: AbortSignal, timeoutMs: number): Promise<Outcome>;
  /** Releases pooled connections. */
  close(): void;
}

/** How much of an error body is kept, verbatim, for the error message. */
export const ERROR_BODY_BYTES = 1024;

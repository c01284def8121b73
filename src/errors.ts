/**
 * Error classes with stable `code` strings. Match on `code`, not on messages: messages may improve, codes
 * do not change. Messages never contain credentials (see `redact.ts`).
 */

/** Base class of every error procpush creates. */
export class ProcpushError extends Error {
  /** A stable machine-readable code, e.g. `ERR_PROCPUSH_CONFIG`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A bad option or environment variable: thrown by `startReporter` and `withReporter`, the rejection of `pushOnce`. */
export class ConfigError extends ProcpushError {
  /** The option path (`intervalMs`, `target.url`) or environment variable that was wrong. */
  readonly field: string;

  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super('ERR_PROCPUSH_CONFIG', message, options);
    this.field = field;
  }
}

/** A push the target refused or that could not be delivered before its deadline. */
export class PushError extends ProcpushError {
  /** The HTTP status, where the target answered. */
  readonly status: number | undefined;
  /** The first KiB of the response body, verbatim, where the target answered. */
  readonly body: string | undefined;

  constructor(
    code: string,
    message: string,
    details: { status?: number | undefined; body?: string | undefined; cause?: unknown } = {},
  ) {
    super(code, message, { cause: details.cause });
    this.status = details.status;
    this.body = details.body;
  }
}

/** Stable codes of `PushError`. */
export const PushErrorCode = {
  /** The target answered with a status that is not retried (a 4xx other than 429). */
  rejected: 'ERR_PROCPUSH_REJECTED',
  /** The target answered with a redirect; procpush never follows one (a 3xx is not a delivery). */
  redirected: 'ERR_PROCPUSH_REDIRECTED',
  /** The target kept failing (5xx, 429) until retries or the deadline ran out. */
  unavailable: 'ERR_PROCPUSH_UNAVAILABLE',
  /** The connection failed (refused, reset, DNS); retried. */
  network: 'ERR_PROCPUSH_NETWORK',
  /**
   * TLS failed for a reason a retry cannot fix: the server's certificate is not trusted (configure `tls.ca`), or
   * the server refused the client certificate (configure `tls.cert` and `tls.key`). Never retried.
   */
  tls: 'ERR_PROCPUSH_TLS',
  /** An attempt or the whole push ran out of time. */
  timeout: 'ERR_PROCPUSH_TIMEOUT',
  /** Writing a file (the textfile target) failed. */
  io: 'ERR_PROCPUSH_IO',
} as const;

/** A metric that could not be sampled; the other metrics of the sample are still pushed. */
export class SampleError extends ProcpushError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_PROCPUSH_SAMPLE', message, options);
  }
}

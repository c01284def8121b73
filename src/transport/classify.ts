/**
 * The retry decision, shared by every transport: 2xx delivered; 5xx, 429, network errors and timeouts retried;
 * other 4xx and TLS trust failures refused for good; 3xx a failure, never followed: a redirect means the URL is
 * wrong, and following it would send credentials and data to wherever it points (client_golang's push treats it
 * the same way).
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

/** Whether a status means delivered (2xx); such a response is classified by its status alone. */
export function isSuccessStatus(status: number): boolean {
  return status >= 200 && status < 300;
}

/** Classifies a response; `what` names the request in messages, without credentials. */
export function classifyResponse(facts: ResponseFacts, what: string, now: number = Date.now()): Outcome {
  const { status, body } = facts;
  if (isSuccessStatus(status)) return { kind: 'success', status };
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

/**
 * Classifies an error thrown while sending: a timeout or a network failure, both retryable, or a TLS failure
 * (an untrusted certificate, a refused client certificate), which a retry cannot fix and which is never silently
 * downgraded.
 */
export function classifyError(error: unknown, what: string, signal: AbortSignal): Outcome {
  if (signal.aborted) return classifyAbort(signal.reason, what);
  const tls = tlsFailure(error, what);
  if (tls) return { kind: 'failure', error: tls };
  const cause = error as { code?: string; message?: string } | undefined;
  const code = cause?.code ? ` (${cause.code})` : '';
  const message = `${what} failed: ${redactUrl(String(cause?.message ?? error))}${code}`;
  return { kind: 'retryable', error: new PushError(PushErrorCode.network, message, { cause: error }) };
}

/** Classifies an attempt ended by its timeout (`reason` a `TimeoutError`) or by the push's deadline: retryable. */
export function classifyAbort(reason: unknown, what: string): Outcome {
  const timedOut = (reason as { name?: string } | undefined)?.name === 'TimeoutError';
  const message = timedOut ? `${what} timed out` : `${what} was aborted`;
  return { kind: 'retryable', error: new PushError(PushErrorCode.timeout, message, { cause: reason }) };
}

/**
 * OpenSSL's verification results as Node reports them (https://nodejs.org/api/tls.html#x509-certificate-error-codes)
 * plus Node's host name check: the server's certificate is not trusted, and no retry changes that.
 */
const UNTRUSTED_CERT_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** TLS alerts by which a server refuses the handshake, in practice for a missing or untrusted client certificate. */
const REFUSED_HANDSHAKE =
  /ALERT_(CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|ACCESS_DENIED)|alert (certificate required|handshake failure|bad certificate|unknown ca|certificate unknown|certificate expired|certificate revoked|access denied)/i;

/**
 * A TLS failure that a retry cannot fix, found in `error` or its causes (undici wraps the socket's error), as a
 * `PushError` with code `ERR_PROCPUSH_TLS` that says what to configure; undefined for anything else.
 */
export function tlsFailure(error: unknown, what: string): PushError | undefined {
  let current = error as { code?: unknown; message?: unknown; reason?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth++) {
    const code = typeof current.code === 'string' ? current.code : '';
    const text = typeof current.message === 'string' ? current.message : '';
    // OpenSSL's errors carry a short `reason` ("tlsv13 alert certificate required") and a long multi-line message.
    const shown = typeof current.reason === 'string' ? current.reason : (text.split('\n')[0] ?? '');
    const detail = `(${code}${code && shown ? ': ' : ''}${redactUrl(shown)})`;
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') {
      return new PushError(
        PushErrorCode.tls,
        `${what} failed: the server's certificate is not trusted for this host name ${detail}; connect with a host ` +
          'name the certificate lists (a CA in `tls.ca` does not change which names it covers)',
        { cause: error },
      );
    }
    if (UNTRUSTED_CERT_CODES.has(code)) {
      return new PushError(
        PushErrorCode.tls,
        `${what} failed: the server's certificate is not trusted ${detail}; if a private CA issued it, pass that ` +
          "CA's PEM as `tls.ca` (or its path in RESOURCE_ATTRIBUTION_TLS_CA_FILE), trusted in addition to the " +
          "system's CAs",
        { cause: error },
      );
    }
    if (REFUSED_HANDSHAKE.test(code) || REFUSED_HANDSHAKE.test(text)) {
      return new PushError(
        PushErrorCode.tls,
        `${what} failed: the server refused the TLS handshake ${detail}; it may require a client certificate it ` +
          'trusts: pass `tls.cert` and `tls.key` (or RESOURCE_ATTRIBUTION_TLS_CERT_FILE and _KEY_FILE)',
        { cause: error },
      );
    }
    current = current.cause as typeof current;
  }
  return undefined;
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

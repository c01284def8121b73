/** What the HTTP targets share: credentials into headers, and results with every secret scrubbed. */
import { PushError } from '../errors.js';
import { redactCutSecret, redactSecrets } from '../redact.js';
import type { Delivery } from '../transport/retry.js';
import { ERROR_BODY_BYTES } from '../transport/types.js';
import type { Auth } from '../types.js';
import type { DeliverResult } from './types.js';

/** A target's URL without user info, the headers that carry its credentials, and the secrets to scrub. */
export interface HttpBase {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly secrets: readonly string[];
}

/**
 * Moves user info out of the URL (fetch refuses URLs with credentials, and a URL ends up in messages) into an
 * `Authorization` header, with `auth` winning over user info.
 */
export function prepareHttp(
  rawUrl: string,
  auth: Auth | undefined,
  headers: Readonly<Record<string, string>> = {},
): HttpBase {
  const url = new URL(rawUrl);
  const secrets: string[] = Object.values(headers).filter((value) => value.length >= 8);
  let authorization: string | undefined;
  if (url.username || url.password) {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    authorization = basic(user, password);
    secrets.push(url.password, password);
    url.username = '';
    url.password = '';
  }
  if (auth && 'bearerToken' in auth) {
    authorization = `Bearer ${auth.bearerToken}`;
    secrets.push(auth.bearerToken);
  } else if (auth) {
    authorization = basic(auth.username, auth.password);
    secrets.push(auth.password);
  }
  // The credential alone too (base64 of user:password, or the token): a server may echo it without the scheme.
  if (authorization !== undefined)
    secrets.push(authorization, authorization.slice(authorization.indexOf(' ') + 1));
  return {
    url: url.href,
    headers: authorization === undefined ? { ...headers } : { ...headers, Authorization: authorization },
    secrets: secrets.filter((secret) => secret.length > 0),
  };
}

function basic(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

/** Turns a delivery into a result; a server that echoes a credential does not get it into a log. */
export function toDeliverResult(delivery: Delivery, secrets: readonly string[]): DeliverResult {
  const { outcome, attempts } = delivery;
  if (outcome.kind === 'success') return { ok: true, status: outcome.status, attempts };
  const scrubbed = scrub(outcome.error, secrets);
  return outcome.status === undefined
    ? { ok: false, attempts, error: scrubbed }
    : { ok: false, status: outcome.status, attempts, error: scrubbed };
}

/** Scrubs an error and the `PushError`s in its cause chain (a deadline error keeps the last answer as cause). */
function scrub(error: PushError, secrets: readonly string[]): PushError {
  // A body cut at the first KiB (a character cut in half decodes to U+FFFD, 3 bytes) may end in part of an
  // echoed credential, and the message ends with that body.
  const cut = error.body !== undefined && new TextEncoder().encode(error.body).length >= ERROR_BODY_BYTES - 3;
  const clean = (text: string) => {
    const redacted = redactSecrets(text, secrets);
    return cut ? redactCutSecret(redacted, secrets) : redacted;
  };
  return new PushError(error.code, clean(error.message), {
    status: error.status,
    body: error.body === undefined ? undefined : clean(error.body),
    cause: error.cause instanceof PushError ? scrub(error.cause, secrets) : error.cause,
  });
}

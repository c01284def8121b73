/**
 * The valibot schemas of the options. Each message is what was expected; `toConfigError` adds the field and
 * what was received, so errors read "Expected `intervalMs` to be a positive number, got -5".
 */
import * as v from 'valibot';
import { ConfigError } from './errors.js';

const expect = (text: string) => () => text;

/** Label names of the Prometheus data model (https://prometheus.io/docs/concepts/data_model/). */
export const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const positive = (what: string) =>
  v.pipe(
    v.number(expect(what)),
    v.check((n) => Number.isFinite(n) && n > 0, expect(what)),
  );
const nonNegative = (what: string) =>
  v.pipe(
    v.number(expect(what)),
    v.check((n) => Number.isFinite(n) && n >= 0, expect(what)),
  );
const text = (what = 'a string') => v.string(expect(what));
const nonEmpty = (what: string) => v.pipe(v.string(expect(what)), v.minLength(1, expect(what)));
const httpUrl = v.pipe(
  v.string(expect('an http(s) URL')),
  v.check((url) => URL.canParse(url) && /^https?:$/.test(new URL(url).protocol), expect('an http(s) URL')),
);
const headerValue = v.pipe(
  text(),
  v.check((s) => !/[\r\n\0]/.test(s), expect('a header value without CR, LF or NUL')),
);
const headers = v.record(
  v.pipe(text(), v.regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, expect('an HTTP header name'))),
  headerValue,
  expect('an object of header names to strings'),
);
const labelMap = (what: string) =>
  v.record(
    v.pipe(text(), v.regex(LABEL_NAME, expect(what))),
    text(),
    expect('an object of label names to strings'),
  );
const auth = v.union(
  [
    v.strictObject({ username: nonEmpty('a user name'), password: text('a password string') }),
    v.strictObject({ bearerToken: nonEmpty('a bearer token') }),
  ],
  expect('{ username, password } or { bearerToken }'),
);

const targetSchema = v.variant(
  'type',
  [
    v.strictObject(
      {
        type: v.literal('pushgateway'),
        url: httpUrl,
        method: v.optional(v.picklist(['PUT', 'POST'], expect('"PUT" or "POST"'))),
        grouping: v.optional(labelMap('a label name ([a-zA-Z_][a-zA-Z0-9_]*)')),
        deleteOnStop: v.optional(v.boolean(expect('a boolean'))),
        auth: v.optional(auth),
        headers: v.optional(headers),
      },
      expect('a pushgateway target with only known fields'),
    ),
    v.strictObject(
      {
        type: v.literal('remote-write'),
        url: httpUrl,
        auth: v.optional(auth),
        tenant: v.optional(nonEmpty('a tenant ID')),
        headers: v.optional(headers),
        queue: v.optional(
          v.strictObject(
            {
              maxSamples: v.optional(
                v.pipe(positive('a positive integer'), v.integer(expect('a positive integer'))),
              ),
              maxAgeMs: v.optional(positive('a positive number of milliseconds')),
            },
            expect('{ maxSamples?, maxAgeMs? }'),
          ),
        ),
      },
      expect('a remote-write target with only known fields'),
    ),
    v.strictObject(
      {
        type: v.literal('textfile'),
        path: nonEmpty('a file path'),
        deleteOnStop: v.optional(v.boolean(expect('a boolean'))),
      },
      expect('a textfile target with only known fields'),
    ),
    v.strictObject({ type: v.literal('console') }, expect('a console target with no other fields')),
  ],
  expect('one of "pushgateway", "remote-write", "textfile", "console"'),
);

/** The schema of `ReporterOptions`. */
export const optionsSchema = v.strictObject(
  {
    target: v.optional(targetSchema),
    intervalMs: v.optional(
      v.pipe(
        positive('a positive number'),
        v.minValue(10, expect('a number of milliseconds of at least 10')),
      ),
    ),
    enabled: v.optional(v.boolean(expect('a boolean'))),
    job: v.optional(nonEmpty('a non-empty string')),
    instance: v.optional(nonEmpty('a non-empty string')),
    labels: v.optional(labelMap('a label name ([a-zA-Z_][a-zA-Z0-9_]*)')),
    overhead: v.optional(
      v.strictObject(
        {
          memoryRatio: v.optional(nonNegative('a non-negative number')),
          cpuPercent: v.optional(nonNegative('a non-negative number')),
        },
        expect('{ memoryRatio?, cpuPercent? }'),
      ),
    ),
    timeoutMs: v.optional(positive('a positive number')),
    flushTimeoutMs: v.optional(positive('a positive number')),
    tls: v.optional(
      v.strictObject(
        {
          ca: v.optional(text('PEM text')),
          cert: v.optional(text('PEM text')),
          key: v.optional(text('PEM text')),
          rejectUnauthorized: v.optional(v.boolean(expect('a boolean'))),
        },
        expect('{ ca?, cert?, key? } of PEM text, and rejectUnauthorized?'),
      ),
    ),
    shutdown: v.optional(
      v.union(
        [
          v.literal(false),
          v.strictObject(
            {
              signals: v.optional(
                v.array(v.pipe(text(), v.regex(/^SIG[A-Z0-9]+$/, expect('a signal name')))),
              ),
              timeoutMs: v.optional(positive('a positive number')),
            },
            expect('false or { signals?, timeoutMs? }'),
          ),
        ],
        expect('false or { signals?, timeoutMs? }'),
      ),
    ),
    onError: v.optional(v.function(expect('a function'))),
  },
  expect('an options object'),
);

const SECRET_KEYS = new Set(['password', 'bearerToken', 'key', 'headers', 'auth']);

/** Turns the first valibot issue into a `ConfigError` naming the field; secrets are never echoed. */
export function toConfigError(issue: v.BaseIssue<unknown>): ConfigError {
  const keys = (issue.path ?? []).map((item) => String(item.key));
  const field = keys.join('.') || 'options';
  const isObjectIssue = issue.type === 'strict_object' || issue.type === 'object';
  if (isObjectIssue && keys.length > 0 && issue.input === keys.at(-1)) {
    return new ConfigError(field, `Unknown option \`${field}\`; check its spelling`);
  }
  if (isObjectIssue && keys.length > 0 && issue.input === undefined) {
    return new ConfigError(field, `Expected \`${field}\` to be set`);
  }
  const secret = keys.some((key) => SECRET_KEYS.has(key));
  return new ConfigError(
    field,
    `Expected \`${field}\` to be ${issue.message}, got ${describeInput(issue.input, secret)}`,
  );
}

/** Describes a received value for an error message; a secret is described by its type only. */
export function describeInput(input: unknown, secret = false): string {
  if (secret) return `a ${typeof input} (not shown)`;
  if (typeof input === 'string') {
    // A rejected URL may be malformed anywhere ("user:pass@host" without a scheme, a "/" in the password), so
    // hide everything before the last "@", and do it before truncating, which could cut the "@" off.
    const shown = input.replace(/^([a-z][a-z0-9+.-]*:?\/+)?.*@/is, '$1***@');
    return JSON.stringify(shown.length > 200 ? `${shown.slice(0, 200)}…` : shown);
  }
  if (typeof input === 'number' || typeof input === 'boolean' || input === null || input === undefined) {
    return String(input);
  }
  if (Array.isArray(input)) return 'an array';
  return typeof input === 'object' ? 'an object' : `a ${typeof input}`;
}

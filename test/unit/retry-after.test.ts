import { afterEach, describe, expect, it } from 'vitest';
import { PushError } from '../../src/errors.js';
import { classifyError, classifyResponse, parseRetryAfter } from '../../src/transport/classify.js';

const NOW = Date.parse('2015-10-21T07:28:00Z');
const WHAT = 'PUT http://pushgateway.example:9091/metrics/job/nightly';

describe('Retry-After', () => {
  const zone = process.env.TZ;
  afterEach(() => {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  });

  it('reads delay-seconds as milliseconds to wait', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter(' 5 ', NOW)).toBe(5_000);
  });

  it('reads an HTTP date as the time left until then', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', NOW)).toBe(30_000);
  });

  it('reads the obsolete RFC 850 and asctime date forms, which a recipient must accept', () => {
    expect(parseRetryAfter('Wednesday, 21-Oct-15 07:29:00 GMT', NOW)).toBe(60_000);
    expect(parseRetryAfter('Wed Oct 21 07:28:10 2015', NOW)).toBe(10_000);
  });

  it('reads an asctime date as GMT, not as local time', () => {
    // asctime names no zone, but every HTTP date is GMT (RFC 9110 section 5.6.7).
    process.env.TZ = 'Asia/Tokyo';
    expect(parseRetryAfter('Wed Oct 21 07:28:10 2015', NOW)).toBe(10_000);
    process.env.TZ = 'America/New_York';
    expect(parseRetryAfter('Wed Oct 21 07:28:10 2015', NOW)).toBe(10_000);
  });

  it('waits no time for a date in the past', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', NOW)).toBe(0);
  });

  it('ignores a missing header and anything that is neither form', () => {
    for (const garbage of [
      undefined,
      '',
      'soon',
      'in 5 minutes',
      '1e3',
      '-5',
      '1.5',
      '5s',
      'Mon 1',
      'abc 1',
    ]) {
      expect(parseRetryAfter(garbage, NOW), String(garbage)).toBeUndefined();
    }
  });
});

describe('what becomes of a response', () => {
  it('counts every 2xx as delivered', () => {
    for (const status of [200, 202, 204]) {
      expect(classifyResponse({ status, body: '' }, WHAT, NOW)).toEqual({ kind: 'success', status });
    }
  });

  it('fails a redirect without following it, naming where it pointed with the credentials hidden', () => {
    const outcome = classifyResponse(
      { status: 301, location: 'http://user:s3cr3t@other.example:9091/metrics', body: 'Moved' },
      WHAT,
      NOW,
    );
    expect(outcome.kind).toBe('failure');
    expect(outcome).toHaveProperty('status', 301);
    const error = (outcome as { error: PushError }).error;
    expect(error).toBeInstanceOf(PushError);
    expect(error.code).toBe('ERR_PROCPUSH_REDIRECTED');
    expect(error.status).toBe(301);
    expect(error.message).toBe(
      `${WHAT} answered 301 with Location http://***@other.example:9091/metrics; redirects are not followed, configure the final URL`,
    );
    expect(error.message).not.toContain('s3cr3t');
  });

  it('fails a redirect without a Location too', () => {
    const outcome = classifyResponse({ status: 308, body: '' }, WHAT, NOW);
    expect(outcome.kind).toBe('failure');
    expect((outcome as { error: PushError }).error.message).toBe(
      `${WHAT} answered 308 with no Location; redirects are not followed, configure the final URL`,
    );
  });

  it('refuses a 400 for good, with the body verbatim', () => {
    const body = `text format parsing error in line 3: expected float as value, got "\\"x\\""\n${'é'.repeat(100)}`;
    const outcome = classifyResponse({ status: 400, body }, WHAT, NOW);
    expect(outcome.kind).toBe('failure');
    const error = (outcome as { error: PushError }).error;
    expect(error.code).toBe('ERR_PROCPUSH_REJECTED');
    expect(error.status).toBe(400);
    expect(error.body).toBe(body);
    expect(error.message).toBe(`${WHAT} refused the push with 400: ${body}`);
  });

  it('keeps the first KiB of a long body, as the transport read it, unchanged', () => {
    const body = `${'x'.repeat(1023)}y`;
    const error = (classifyResponse({ status: 400, body }, WHAT, NOW) as { error: PushError }).error;
    expect(error.body).toBe(body);
    expect(error.message.endsWith(`: ${body}`)).toBe(true);
  });

  it('refuses other 4xx for good and says nothing of an empty body', () => {
    for (const status of [401, 403, 404, 413]) {
      const outcome = classifyResponse({ status, body: '  \n' }, WHAT, NOW);
      expect(outcome.kind).toBe('failure');
      expect((outcome as { error: PushError }).error.message).toBe(`${WHAT} refused the push with ${status}`);
    }
  });

  it("retries a 429 and a 5xx, with the server's Retry-After", () => {
    const throttled = classifyResponse({ status: 429, retryAfter: '7', body: 'slow down' }, WHAT, NOW);
    expect(throttled).toMatchObject({ kind: 'retryable', status: 429, retryAfterMs: 7_000 });
    const error = (throttled as { error: PushError }).error;
    expect(error.code).toBe('ERR_PROCPUSH_UNAVAILABLE');
    expect(error.message).toBe(`${WHAT} answered 429: slow down`);
    expect(error.body).toBe('slow down');

    const unavailable = classifyResponse(
      { status: 503, retryAfter: 'Wed, 21 Oct 2015 07:28:20 GMT', body: '' },
      WHAT,
      NOW,
    );
    expect(unavailable).toMatchObject({ kind: 'retryable', status: 503, retryAfterMs: 20_000 });
    expect((unavailable as { error: PushError }).error.message).toBe(`${WHAT} answered 503`);
  });

  it('retries a 5xx without Retry-After, or with one it cannot read, on its own backoff', () => {
    for (const retryAfter of [undefined, 'later']) {
      const outcome = classifyResponse({ status: 502, retryAfter, body: 'Bad Gateway' }, WHAT, NOW);
      expect(outcome.kind).toBe('retryable');
      expect(outcome).not.toHaveProperty('retryAfterMs');
    }
  });
});

describe('what becomes of a failed request', () => {
  it('retries an attempt that timed out, saying so', () => {
    const signal = AbortSignal.abort(new DOMException('The operation timed out.', 'TimeoutError'));
    const outcome = classifyError(new Error('This operation was aborted'), WHAT, signal);
    expect(outcome.kind).toBe('retryable');
    const error = (outcome as { error: PushError }).error;
    expect(error.code).toBe('ERR_PROCPUSH_TIMEOUT');
    expect(error.message).toBe(`${WHAT} timed out`);
    expect(error.cause).toBe(signal.reason);
  });

  it('tells an attempt cut off by the deadline from one that timed out', () => {
    const signal = AbortSignal.abort(new DOMException('Aborted', 'AbortError'));
    const outcome = classifyError(new Error('aborted'), WHAT, signal);
    expect(outcome.kind).toBe('retryable');
    expect((outcome as { error: PushError }).error.message).toBe(`${WHAT} was aborted`);
  });

  it('retries a network failure, naming its code', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9091'), { code: 'ECONNREFUSED' });
    const outcome = classifyError(refused, WHAT, new AbortController().signal);
    expect(outcome.kind).toBe('retryable');
    const error = (outcome as { error: PushError }).error;
    expect(error.code).toBe('ERR_PROCPUSH_NETWORK');
    expect(error.message).toBe(`${WHAT} failed: connect ECONNREFUSED 127.0.0.1:9091 (ECONNREFUSED)`);
    expect(error.cause).toBe(refused);
  });

  it('retries a failure that is not even an Error', () => {
    const outcome = classifyError('socket hang up', WHAT, new AbortController().signal);
    expect(outcome.kind).toBe('retryable');
    expect((outcome as { error: PushError }).error.message).toBe(`${WHAT} failed: socket hang up`);
  });
});

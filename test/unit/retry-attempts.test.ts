/**
 * The retry policy's attempts, with a scripted transport: the first attempt outside p-retry, the retries inside
 * it, and the timers and listeners behind the attempt timeout and the deadline, which must all be gone once a
 * push is over (a leftover timer keeps a finished process alive; a leftover listener grows with every push).
 */
import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PushError } from '../../src/errors.js';
import { DEFAULT_RETRY_POLICY, sendWithRetry, startTimeout } from '../../src/transport/retry.js';
import type { HttpRequest, Outcome, Transport } from '../../src/transport/types.js';

const REQUEST: HttpRequest = {
  url: 'http://gw.test/metrics/job/x',
  method: 'PUT',
  headers: {},
  body: 'x 1\n',
};
const POLICY = { ...DEFAULT_RETRY_POLICY, minDelayMs: 100, maxDelayMs: 100 };
const OK: Outcome = { kind: 'success', status: 200 };
const UNAVAILABLE: Outcome = {
  kind: 'retryable',
  status: 503,
  error: new PushError('ERR_PROCPUSH_UNAVAILABLE', 'PUT http://gw.test/metrics/job/x answered 503'),
};

interface Call {
  readonly request: HttpRequest;
  readonly signal: AbortSignal;
  readonly timeoutMs: number | undefined;
}

/**
 * A transport that answers with `answers` in turn (a function may wait on the signal); with `within`, it keeps
 * the attempt timeout itself (`sendWithin`), as the Node transport does.
 */
function scripted(answers: ((signal: AbortSignal) => Promise<Outcome>)[], within = false) {
  const calls: Call[] = [];
  const answer = (request: HttpRequest, signal: AbortSignal, timeoutMs?: number) => {
    calls.push({ request, signal, timeoutMs });
    const next = answers.shift();
    return next ? next(signal) : Promise.resolve(OK);
  };
  const transport: Transport = {
    send: (request, signal) => answer(request, signal),
    ...(within ? { sendWithin: answer } : {}),
    close() {},
  };
  return { transport, calls };
}

/** Resolves with a timeout or abort outcome when the signal aborts, as a transport does for a hung request. */
const hang = (signal: AbortSignal): Promise<Outcome> =>
  new Promise((resolve) => {
    signal.addEventListener('abort', () => {
      const name = (signal.reason as { name?: string }).name;
      const message = name === 'TimeoutError' ? 'PUT timed out' : 'PUT was aborted';
      resolve({ kind: 'retryable', error: new PushError('ERR_PROCPUSH_TIMEOUT', message) });
    });
  });

afterEach(() => {
  vi.useRealTimers();
});

describe('the attempts of one push', () => {
  it('delivers on the first attempt with no Retry-Attempt header, and leaves no timer or listener behind', async () => {
    vi.useFakeTimers();
    const deadline = new AbortController().signal;
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const { transport, calls } = scripted([
      async () => {
        // While the attempt runs, its timer exists and does not keep the process alive.
        const timer = setTimeoutSpy.mock.results.at(-1)?.value as NodeJS.Timeout;
        expect(timer.hasRef()).toBe(false);
        return OK;
      },
    ]);
    const delivery = await sendWithRetry(transport, REQUEST, { deadline, timeoutMs: 2_000, policy: POLICY });
    expect(delivery).toEqual({ outcome: OK, attempts: 1 });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.request.headers).toEqual({});
    expect(vi.getTimerCount()).toBe(0);
    expect(getEventListeners(deadline, 'abort')).toHaveLength(0);
    setTimeoutSpy.mockRestore();
  });

  it('hands the deadline and the timeout to a transport that keeps the timeout itself', async () => {
    const deadline = new AbortController().signal;
    const { transport, calls } = scripted([], true);
    await sendWithRetry(transport, REQUEST, { deadline, timeoutMs: 2_000, policy: POLICY });
    expect(calls).toEqual([{ request: REQUEST, signal: deadline, timeoutMs: 2_000 }]);
    expect(getEventListeners(deadline, 'abort')).toHaveLength(0);
  });

  it('retries a retryable first answer after the backoff, with Retry-Attempt: 1', async () => {
    vi.useFakeTimers();
    const { transport, calls } = scripted([async () => UNAVAILABLE]);
    const deadline = new AbortController().signal;
    const pushed = sendWithRetry(transport, REQUEST, { deadline, timeoutMs: 2_000, policy: POLICY });
    // p-retry's backoff before the second attempt: 100 ms × a random factor in [1, 2).
    await vi.advanceTimersByTimeAsync(99);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(101);
    expect(await pushed).toEqual({ outcome: OK, attempts: 2 });
    expect(calls.map((call) => call.request.headers)).toEqual([{}, { 'Retry-Attempt': '1' }]);
    expect(vi.getTimerCount()).toBe(0);
    expect(getEventListeners(deadline, 'abort')).toHaveLength(0);
  });

  it('ends a hung attempt at its timeout, as timed out, and retries it', async () => {
    vi.useFakeTimers();
    const { transport, calls } = scripted([hang]);
    const pushed = sendWithRetry(transport, REQUEST, {
      deadline: new AbortController().signal,
      timeoutMs: 300,
      policy: POLICY,
    });
    await vi.advanceTimersByTimeAsync(299);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect((calls[0]?.signal.reason as DOMException | undefined)?.name).toBe('TimeoutError');
    await vi.advanceTimersByTimeAsync(200);
    expect(await pushed).toEqual({ outcome: OK, attempts: 2 });
  });

  it('gives up when the deadline ends the attempt in flight, with the last answer in the error', async () => {
    const deadline = new AbortController();
    const { transport } = scripted([
      (signal) => {
        setTimeout(() => deadline.abort(new DOMException('stopped', 'AbortError')), 10);
        return hang(signal);
      },
    ]);
    const delivery = await sendWithRetry(transport, REQUEST, {
      deadline: deadline.signal,
      timeoutMs: 10_000,
      policy: POLICY,
    });
    expect(delivery.attempts).toBe(1);
    expect(delivery.outcome).toMatchObject({ kind: 'failure', error: { code: 'ERR_PROCPUSH_TIMEOUT' } });
    expect((delivery.outcome as { error: Error }).error.message).toBe(
      'Gave up at the deadline; last: PUT was aborted',
    );
  });

  it('makes no attempt when the deadline has already passed', async () => {
    const { transport, calls } = scripted([]);
    const delivery = await sendWithRetry(transport, REQUEST, {
      deadline: AbortSignal.abort(new DOMException('late', 'TimeoutError')),
      timeoutMs: 2_000,
    });
    expect(calls).toHaveLength(0);
    expect(delivery).toMatchObject({ attempts: 0, outcome: { kind: 'failure' } });
    expect((delivery.outcome as { error: Error }).error.message).toBe(
      'PUT gave up before the first attempt: the deadline had passed',
    );
  });

  it('does not retry a final failure', async () => {
    const refused: Outcome = {
      kind: 'failure',
      status: 400,
      error: new PushError('ERR_PROCPUSH_REJECTED', 'PUT refused the push with 400'),
    };
    const { transport, calls } = scripted([async () => refused]);
    const delivery = await sendWithRetry(transport, REQUEST, {
      deadline: new AbortController().signal,
      timeoutMs: 2_000,
      policy: POLICY,
    });
    expect(delivery).toEqual({ outcome: refused, attempts: 1 });
    expect(calls).toHaveLength(1);
  });

  it('retries a transport that rejects, as p-retry always did, instead of rejecting', async () => {
    const { transport, calls } = scripted([() => Promise.reject(new Error('transport bug'))]);
    const delivery = await sendWithRetry(transport, REQUEST, {
      deadline: new AbortController().signal,
      timeoutMs: 2_000,
      policy: { ...POLICY, minDelayMs: 1, maxDelayMs: 1 },
    });
    expect(delivery).toEqual({ outcome: OK, attempts: 2 });
    expect(calls).toHaveLength(2);
  });
});

describe('a timeout that follows a deadline', () => {
  it('aborts with a TimeoutError after its time, and stops following the deadline', () => {
    vi.useFakeTimers();
    const deadline = new AbortController();
    const timeout = startTimeout(500, deadline.signal);
    expect(getEventListeners(deadline.signal, 'abort')).toHaveLength(1);
    vi.advanceTimersByTime(500);
    expect((timeout.signal.reason as DOMException).name).toBe('TimeoutError');
    expect(getEventListeners(deadline.signal, 'abort')).toHaveLength(0);
  });

  it('aborts with the reason of the deadline when that comes first', () => {
    const deadline = new AbortController();
    const timeout = startTimeout(10_000, deadline.signal);
    const reason = new Error('stopped');
    deadline.abort(reason);
    expect(timeout.signal.reason).toBe(reason);
    timeout.clear();
  });

  it('starts aborted when the deadline already has', () => {
    const reason = new Error('late');
    const timeout = startTimeout(10_000, AbortSignal.abort(reason));
    expect(timeout.signal.reason).toBe(reason);
    timeout.clear();
  });

  it('once cleared, neither fires nor keeps a listener or a timer', () => {
    vi.useFakeTimers();
    const deadline = new AbortController();
    const timeout = startTimeout(500, deadline.signal);
    timeout.clear();
    expect(vi.getTimerCount()).toBe(0);
    expect(getEventListeners(deadline.signal, 'abort')).toHaveLength(0);
    deadline.abort();
    vi.advanceTimersByTime(1_000);
    expect(timeout.signal.aborted).toBe(false);
  });

  it('never waits longer than a Node timer can (a longer delay would fire at once)', () => {
    vi.useFakeTimers();
    const timeout = startTimeout(2 ** 40);
    vi.advanceTimersByTime(1_000);
    expect(timeout.signal.aborted).toBe(false);
    timeout.clear();
  });
});

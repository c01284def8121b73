import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { start } from '../../src/api.js';
import type { ResolvedConfig } from '../../src/config.js';
import { PushError, SampleError } from '../../src/errors.js';
import type { Platform } from '../../src/platform.js';
import { createReporter, type ManagedReporter, type ReporterParts } from '../../src/reporter.js';
import type { Sample, SampleResult, Sampler } from '../../src/sample/types.js';
import type { DeliverOptions, DeliverResult, TargetDriver } from '../../src/targets/types.js';
import type { Transport } from '../../src/transport/types.js';

// The scheduler under fake timers: a fake sampler and a fake target record what the reporter asks of them,
// and each delivery's result is decided by the test.

const INTERVAL = 1000;

function config(overrides: Partial<ResolvedConfig> = {}): ResolvedConfig {
  return {
    enabled: true,
    target: { type: 'console' },
    intervalMs: INTERVAL,
    job: 'nightly',
    instance: 'box-1',
    labels: { job: 'nightly', instance: 'box-1' },
    overhead: { memoryRatio: 0.015, cpuPercent: 0.5 },
    timeoutMs: 500,
    flushTimeoutMs: 500,
    tls: undefined,
    shutdown: false,
    onError: undefined,
    ...overrides,
  };
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A sampler that counts its readings; `next` decides the next one (a throw, or errors alongside). */
function fakeSampler() {
  let count = 0;
  const state = {
    get count() {
      return count;
    },
    next: undefined as (() => SampleResult) | undefined,
    sampler: {
      sample(): SampleResult {
        count++;
        if (state.next) return state.next();
        return { sample: { timestampMs: Date.now(), memoryBytes: count * 1024 }, errors: [] };
      },
    } satisfies Sampler,
  };
  return state;
}

type Delivery = (options: DeliverOptions) => Promise<DeliverResult>;

interface FakeTarget {
  readonly offers: Sample[];
  deliveries: number;
  closes: number;
  inFlight: number;
  maxInFlight: number;
  pending: number;
  dropped: number;
  /** Results of the next deliveries, in order; when empty, a delivery succeeds at once. */
  readonly queue: Delivery[];
  readonly driver: TargetDriver;
}

/** A target that records offers, deliveries and closes, and notices two deliveries at once. */
function fakeTarget(): FakeTarget {
  const state: FakeTarget = {
    offers: [],
    deliveries: 0,
    closes: 0,
    inFlight: 0,
    maxInFlight: 0,
    pending: 0,
    dropped: 0,
    queue: [],
    driver: {
      offer: (sample) => {
        state.offers.push(sample);
      },
      async deliver(options) {
        state.deliveries++;
        state.inFlight++;
        state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
        try {
          const next = state.queue.shift();
          return next ? await next(options) : { ok: true, status: 200, attempts: 1 };
        } finally {
          state.inFlight--;
        }
      },
      async close() {
        state.closes++;
        return undefined;
      },
      pending: () => state.pending,
      dropped: () => state.dropped,
    },
  };
  return state;
}

function fakeTransport() {
  const state = {
    closed: 0,
    transport: {
      send: () => Promise.reject(new Error('the scheduler never sends')),
      close: () => {
        state.closed++;
      },
    } satisfies Transport,
  };
  return state;
}

const failure = (message: string, attempts = 1): Delivery => {
  return async () => ({
    ok: false,
    attempts,
    error: new PushError('ERR_PROCPUSH_NETWORK', message),
  });
};

function setup(overrides: Partial<ResolvedConfig> = {}, parts: Partial<ReporterParts> = {}) {
  const sampler = fakeSampler();
  const target = fakeTarget();
  const transport = fakeTransport();
  const warnings: string[] = [];
  const reporter = createReporter(config(overrides), {
    sampler: sampler.sampler,
    target: target.driver,
    transport: transport.transport,
    warn: (message) => warnings.push(message),
    ...parts,
  });
  reporters.push(reporter);
  return { reporter, sampler, target, transport, warnings };
}

const reporters: ManagedReporter[] = [];

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(async () => {
  for (const reporter of reporters.splice(0)) reporter.dispose();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('the interval timer', () => {
  it('never keeps the process alive: the timer is unref’d', () => {
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval');
    setup();
    expect(setIntervalSpy).toHaveBeenCalledTimes(1);
    const timer = setIntervalSpy.mock.results[0]?.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
  });

  it('samples and pushes once per interval', async () => {
    const { sampler, target } = setup();
    await vi.advanceTimersByTimeAsync(INTERVAL - 1);
    expect(sampler.count).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(sampler.count).toBe(1);
    expect(target.deliveries).toBe(1);
    await vi.advanceTimersByTimeAsync(2 * INTERVAL);
    expect(sampler.count).toBe(3);
    expect(target.deliveries).toBe(3);
  });

  it('samples on every tick but never starts a second delivery while one is in flight', async () => {
    const { sampler, target } = setup();
    const slow = deferred<DeliverResult>();
    target.queue.push(() => slow.promise);

    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(target.deliveries).toBe(1);
    await vi.advanceTimersByTimeAsync(3 * INTERVAL);
    // Three more ticks sampled and offered their samples to the target, which keeps them for the next delivery.
    expect(sampler.count).toBe(4);
    expect(target.offers).toHaveLength(4);
    expect(target.deliveries).toBe(1);

    slow.resolve({ ok: true, status: 200, attempts: 1 });
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(target.deliveries).toBe(2);
    expect(target.maxInFlight).toBe(1);
  });
});

describe('flush()', () => {
  it('waits for the delivery in flight, then delivers and resolves with its own result', async () => {
    const { reporter, target } = setup();
    const slow = deferred<DeliverResult>();
    target.queue.push(
      () => slow.promise,
      async () => ({ ok: true, status: 202, attempts: 2 }),
    );
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(target.deliveries).toBe(1);

    let settled = false;
    const flushed = reporter.flush().finally(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(target.offers).toHaveLength(2);
    expect(target.deliveries).toBe(1);
    expect(settled).toBe(false);

    slow.resolve({ ok: true, status: 200, attempts: 1 });
    await expect(flushed).resolves.toEqual({ ok: true, status: 202, attempts: 2 });
    expect(target.deliveries).toBe(2);
    expect(target.maxInFlight).toBe(1);
  });

  it('resolves with ok: false when the target throws instead of returning a result', async () => {
    const { reporter, target } = setup();
    const boom = new Error('target bug');
    target.driver.deliver = () => {
      throw boom;
    };
    await expect(reporter.flush()).resolves.toEqual({ ok: false, attempts: 0, error: boom });
  });

  it('resolves with ok: false when the target rejects', async () => {
    const { reporter, target } = setup();
    const boom = new Error('target rejected');
    target.queue.push(() => Promise.reject(boom));
    await expect(reporter.flush()).resolves.toEqual({ ok: false, attempts: 0, error: boom });
  });

  it('resolves with ok: false when the sampler throws', async () => {
    const { reporter, sampler, target } = setup();
    const boom = new Error('sampler bug');
    sampler.next = () => {
      throw boom;
    };
    await expect(reporter.flush()).resolves.toEqual({ ok: false, attempts: 0, error: boom });
    expect(target.deliveries).toBe(0);
  });

  it('returns a failed push to the caller instead of also reporting it to onError', async () => {
    const onError = vi.fn();
    const { reporter, target } = setup({ onError });
    target.queue.push(failure('connect ECONNREFUSED'));
    const result = await reporter.flush();
    expect(result.ok).toBe(false);
    expect(result.error?.message).toBe('connect ECONNREFUSED');
    expect(onError).not.toHaveBeenCalled();
  });
});

describe('stop()', () => {
  it('takes a final sample, delivers it, closes the target and the transport', async () => {
    const { reporter, sampler, target, transport } = setup();
    await reporter.stop();
    expect(sampler.count).toBe(1);
    expect(target.deliveries).toBe(1);
    expect(target.closes).toBe(1);
    expect(transport.closed).toBe(1);
  });

  it('returns the same promise when called again, and delivers and closes only once', async () => {
    const { reporter, target } = setup();
    const first = reporter.stop();
    const second = reporter.stop();
    expect(second).toBe(first);
    await first;
    await reporter.stop();
    expect(target.deliveries).toBe(1);
    expect(target.closes).toBe(1);
  });

  it('clears the timer: no tick samples after it', async () => {
    const { reporter, sampler, target } = setup();
    await vi.advanceTimersByTimeAsync(INTERVAL);
    await reporter.stop();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10 * INTERVAL);
    expect(sampler.count).toBe(2);
    expect(target.deliveries).toBe(2);
  });

  it('waits for the delivery in flight before the final one', async () => {
    const { reporter, target } = setup();
    const slow = deferred<DeliverResult>();
    target.queue.push(() => slow.promise);
    await vi.advanceTimersByTimeAsync(INTERVAL);
    const stopped = reporter.stop();
    await vi.advanceTimersByTimeAsync(0);
    expect(target.deliveries).toBe(1);
    slow.resolve({ ok: true, status: 200, attempts: 1 });
    await stopped;
    expect(target.deliveries).toBe(2);
    expect(target.maxInFlight).toBe(1);
  });

  it('cuts a background push short, so the final push starts at once and nothing is warned about', async () => {
    const { reporter, target, warnings } = setup({ flushTimeoutMs: 60_000 });
    let aborted = false;
    // A background push that would hang for the whole flush deadline, were it not aborted.
    target.queue.push(
      ({ deadline }) =>
        new Promise((resolve) =>
          deadline.addEventListener('abort', () => {
            aborted = true;
            resolve({ ok: false, attempts: 1, error: new PushError('ERR_PROCPUSH_TIMEOUT', 'aborted') });
          }),
        ),
    );
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(target.inFlight).toBe(1);
    await reporter.stopWithin(1000);
    expect(aborted).toBe(true);
    expect(target.deliveries).toBe(2);
    expect(target.offers).toHaveLength(2);
    expect(warnings).toEqual([]);
  });

  it('makes a later flush() resolve with ERR_PROCPUSH_STOPPED without sampling', async () => {
    const { reporter, sampler, target } = setup();
    await reporter.stop();
    const result = await reporter.flush();
    expect(result).toMatchObject({ ok: false, attempts: 0, error: { code: 'ERR_PROCPUSH_STOPPED' } });
    expect(sampler.count).toBe(1);
    expect(target.deliveries).toBe(1);
  });

  it('reports a failed final push to onError', async () => {
    const onError = vi.fn();
    const { reporter, target } = setup({ onError });
    target.queue.push(failure('503 Service Unavailable'));
    await reporter.stop();
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]?.[0]).toMatchObject({ message: '503 Service Unavailable' });
  });
});

describe('stats()', () => {
  it('counts delivered and failed pushes and the retries they took', async () => {
    const { reporter, target } = setup({ onError: () => {} });
    target.queue.push(
      async () => ({ ok: true, status: 200, attempts: 3 }),
      failure('503', 2),
      async () => ({ ok: true, status: 200, attempts: 1 }),
      // Nothing to send is neither a push nor a failure.
      async () => ({ ok: true, attempts: 0 }),
    );
    await vi.advanceTimersByTimeAsync(4 * INTERVAL);
    expect(reporter.stats()).toEqual({
      pushes: 2,
      failures: 1,
      retries: 3,
      samplesQueued: 0,
      samplesDropped: 0,
    });
  });

  it('reports the samples waiting in the target and those dropped, refused ones included', async () => {
    const { reporter, target } = setup({ onError: () => {} });
    target.queue.push(async () => ({
      ok: false,
      status: 400,
      attempts: 1,
      dropped: 2,
      error: new PushError('ERR_PROCPUSH_REJECTED', '400 Bad Request'),
    }));
    await vi.advanceTimersByTimeAsync(INTERVAL);
    target.pending = 3;
    target.dropped = 4;
    expect(reporter.stats()).toMatchObject({ failures: 1, samplesQueued: 3, samplesDropped: 6 });
  });
});

describe('enabled: false', () => {
  function fakePlatform() {
    const calls = { samplers: 0, writes: [] as string[], warnings: [] as string[], hooks: 0 };
    const platform: Platform = {
      context: () => ({ env: {}, hostname: 'box-1', pid: 42, defaultJob: 'nightly' }),
      createSampler: () => {
        calls.samplers++;
        return fakeSampler().sampler;
      },
      createTransport: () => fakeTransport().transport,
      write: (text) => calls.writes.push(text),
      warn: (message) => calls.warnings.push(message),
      installShutdown: () => {
        calls.hooks++;
        return () => {};
      },
    };
    return { platform, calls };
  }

  it('gives a reporter that starts no timer, prints nothing and installs no hooks', async () => {
    const { platform, calls } = fakePlatform();
    const reporter = start(platform, { enabled: false, intervalMs: INTERVAL });
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(5 * INTERVAL);
    await expect(reporter.flush()).resolves.toEqual({ ok: true, attempts: 0 });
    await reporter.stop();
    expect(calls).toEqual({ samplers: 0, writes: [], warnings: [], hooks: 0 });
    expect(reporter.stats()).toEqual({
      pushes: 0,
      failures: 0,
      retries: 0,
      samplesQueued: 0,
      samplesDropped: 0,
    });
  });

  it('is the only difference from an enabled reporter on the same platform', async () => {
    // The control for the test above: the same platform and options with enabled: true do print.
    const { platform, calls } = fakePlatform();
    const reporter = start(platform, { enabled: true, intervalMs: INTERVAL });
    reporters.push(reporter);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(calls.writes).toHaveLength(1);
    expect(calls.hooks).toBe(1);
  });
});

describe('background failures', () => {
  it('go to onError, once per failed interval', async () => {
    const onError = vi.fn();
    const { target, warnings } = setup({ onError });
    target.queue.push(failure('connect ECONNREFUSED'), failure('connect ECONNREFUSED'));
    await vi.advanceTimersByTimeAsync(2 * INTERVAL);
    expect(onError).toHaveBeenCalledTimes(2);
    expect(onError.mock.calls[0]?.[0]).toBeInstanceOf(PushError);
    expect(warnings).toEqual([]);
  });

  it('include what the sampler could not read, while the rest is still pushed', async () => {
    const onError = vi.fn();
    const { sampler, target } = setup({ onError });
    const unreadable = new SampleError('Could not read CPU time from /proc/self/stat');
    sampler.next = () => ({ sample: { timestampMs: Date.now(), memoryBytes: 1024 }, errors: [unreadable] });
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(onError).toHaveBeenCalledWith(unreadable);
    expect(target.deliveries).toBe(1);
  });

  it('without onError print one warning per distinct cause, not one per interval', async () => {
    const { target, warnings } = setup();
    target.queue.push(
      failure('connect ECONNREFUSED 127.0.0.1:9091'),
      failure('connect ECONNREFUSED 127.0.0.1:9091'),
      failure('connect ECONNREFUSED 127.0.0.1:9091'),
      failure('503 Service Unavailable'),
      failure('503 Service Unavailable'),
    );
    await vi.advanceTimersByTimeAsync(5 * INTERVAL);
    expect(warnings).toEqual([
      'procpush: connect ECONNREFUSED 127.0.0.1:9091',
      'procpush: 503 Service Unavailable',
    ]);
  });

  it('without onError warn once per cause even when two causes take turns', async () => {
    const { target, warnings } = setup();
    target.queue.push(
      failure('timed out'),
      failure('503 Service Unavailable'),
      failure('timed out'),
      failure('503 Service Unavailable'),
    );
    await vi.advanceTimersByTimeAsync(4 * INTERVAL);
    expect(warnings).toEqual(['procpush: timed out', 'procpush: 503 Service Unavailable']);
  });

  it('without onError warn again when a cause returns after a push got through', async () => {
    const { target, warnings } = setup();
    target.queue.push(
      failure('connect ECONNREFUSED 127.0.0.1:9091'),
      async () => ({ ok: true, status: 200, attempts: 1 }),
      failure('connect ECONNREFUSED 127.0.0.1:9091'),
      failure('connect ECONNREFUSED 127.0.0.1:9091'),
    );
    await vi.advanceTimersByTimeAsync(4 * INTERVAL);
    expect(warnings).toEqual([
      'procpush: connect ECONNREFUSED 127.0.0.1:9091',
      'procpush: connect ECONNREFUSED 127.0.0.1:9091',
    ]);
  });

  it('without onError warn once about files the sampler cannot read, though pushes get through', async () => {
    const { sampler, target, warnings } = setup();
    sampler.next = () => ({
      sample: { timestampMs: Date.now() },
      errors: [
        new SampleError('Could not read CPU time from /proc/self/stat'),
        new SampleError('Could not read memory from /proc/self/status'),
      ],
    });
    await vi.advanceTimersByTimeAsync(3 * INTERVAL);
    expect(target.deliveries).toBe(3);
    expect(warnings).toEqual([
      'procpush: Could not read CPU time from /proc/self/stat',
      'procpush: Could not read memory from /proc/self/status',
    ]);

    // Once the file is readable again, a new failure is news.
    sampler.next = undefined;
    await vi.advanceTimersByTimeAsync(INTERVAL);
    sampler.next = () => ({
      sample: { timestampMs: Date.now() },
      errors: [new SampleError('Could not read CPU time from /proc/self/stat')],
    });
    await vi.advanceTimersByTimeAsync(2 * INTERVAL);
    expect(warnings).toHaveLength(3);
    expect(warnings[2]).toBe('procpush: Could not read CPU time from /proc/self/stat');
  });

  it('from a throwing onError neither crash the process nor stop the reporter', async () => {
    const onError = vi.fn(() => {
      throw new Error('the application’s handler is broken');
    });
    const { reporter, target, sampler, warnings } = setup({ onError });
    target.queue.push(failure('connect ECONNREFUSED'), failure('connect ECONNREFUSED'));
    await vi.advanceTimersByTimeAsync(3 * INTERVAL);
    expect(onError).toHaveBeenCalledTimes(2);
    expect(sampler.count).toBe(3);
    expect(target.deliveries).toBe(3);
    expect(warnings).toEqual([]);
    await expect(reporter.flush()).resolves.toMatchObject({ ok: true });
  });

  it('from a throwing sampler on a tick go to onError and the next tick runs', async () => {
    const onError = vi.fn();
    const { sampler, target } = setup({ onError });
    const boom = new Error('sampler bug');
    sampler.next = () => {
      throw boom;
    };
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(onError).toHaveBeenCalledWith(boom);
    expect(target.deliveries).toBe(0);
    sampler.next = undefined;
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(target.deliveries).toBe(1);
  });
});

describe('the deadline of a push', () => {
  it('ends the push after flushTimeoutMs, and leaves no timer or listener once the push is over', async () => {
    const { reporter, target } = setup({ flushTimeoutMs: 300 }, { timer: false });
    const seen: AbortSignal[] = [];
    target.queue.push(
      ({ deadline }) =>
        new Promise((resolve) => {
          seen.push(deadline);
          deadline.addEventListener('abort', () => resolve({ ok: false, attempts: 1 }), { once: true });
        }),
    );
    const flushed = reporter.flush();
    await vi.advanceTimersByTimeAsync(299);
    expect(seen[0]?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await flushed;
    expect((seen[0]?.reason as DOMException | undefined)?.name).toBe('TimeoutError');
    await reporter.flush();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('is used again by the next push while it never aborted, and never once it has', async () => {
    const { reporter, target } = setup({ flushTimeoutMs: 300 }, { timer: false });
    const seen: AbortSignal[] = [];
    const record = async ({ deadline }: DeliverOptions) => {
      seen.push(deadline);
      return { ok: true, status: 200, attempts: 1 };
    };
    target.queue.push(record, record, ({ deadline }) => {
      seen.push(deadline);
      return new Promise((resolve) => {
        deadline.addEventListener('abort', () => resolve({ ok: false, attempts: 1 }), { once: true });
      });
    });
    target.queue.push(record);
    await reporter.flush();
    await reporter.flush();
    expect(seen[1]).toBe(seen[0]);
    const timedOut = reporter.flush();
    await vi.advanceTimersByTimeAsync(300);
    await timedOut;
    expect(seen[2]).toBe(seen[0]);
    expect(seen[2]?.aborted).toBe(true);
    await reporter.flush();
    expect(seen[3]).not.toBe(seen[2]);
    expect(seen[3]?.aborted).toBe(false);
  });

  it('of a background push follows stop(), and is not reused once stop() aborted it', async () => {
    const { reporter, target } = setup({ flushTimeoutMs: 60_000 });
    const seen: AbortSignal[] = [];
    target.queue.push(({ deadline }) => {
      seen.push(deadline);
      return new Promise((resolve) => {
        deadline.addEventListener('abort', () => resolve({ ok: false, attempts: 1 }), { once: true });
      });
    });
    target.queue.push(async ({ deadline }) => {
      seen.push(deadline);
      return { ok: true, status: 200, attempts: 1 };
    });
    await vi.advanceTimersByTimeAsync(INTERVAL);
    await reporter.stopWithin(1000);
    expect(seen[0]?.aborted).toBe(true);
    expect(seen[1]).not.toBe(seen[0]);
  });
});

describe('the sampler on stop', () => {
  it('is closed after the final sample of stop(), and by dispose()', async () => {
    for (const end of ['stop', 'dispose'] as const) {
      const { reporter, sampler } = setup();
      const events: string[] = [];
      const sample = sampler.sampler.sample.bind(sampler.sampler);
      const parts = {
        sample: () => {
          events.push('sample');
          return sample();
        },
        close: () => {
          events.push('close');
        },
      };
      Object.assign(sampler.sampler, parts);
      if (end === 'stop') await reporter.stop();
      else reporter.dispose();
      expect(events).toEqual(end === 'stop' ? ['sample', 'close'] : ['close']);
    }
  });
});

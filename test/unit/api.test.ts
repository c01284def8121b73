import { hostname } from 'node:os';
import { ConfigError, pushOnce, startReporter, withReporter } from 'procpush';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentServer } from '../helpers/silent-server.js';

// The public functions of the Node entry, as a user calls them. The console target prints to stdout, which
// these tests capture.

const METRIC_NAMES = [
  'process_memory_bytes',
  'process_memory_peak_bytes',
  'process_cpu_percent',
  'tracing_memory_overhead_bytes',
  'tracing_cpu_overhead_percent',
];

const HOOK_EVENTS = ['SIGTERM', 'SIGINT', 'beforeExit'] as const;

function captureStdout(): string[] {
  const writes: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    writes.push(String(chunk));
    return true;
  });
  return writes;
}

function listenerCounts(): Record<string, number> {
  return Object.fromEntries(HOOK_EVENTS.map((event) => [event, process.listenerCount(event)]));
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('pushOnce', () => {
  it('prints the five metrics once and leaves no timer and no hooks behind', async () => {
    vi.useFakeTimers();
    const writes = captureStdout();
    const before = listenerCounts();

    const result = await pushOnce({ job: 'edge-job', instance: 'isolate-1' });

    expect(result).toEqual({ ok: true, attempts: 1 });
    expect(writes).toHaveLength(1);
    for (const name of METRIC_NAMES) expect(writes[0]).toContain(`${name}{`);
    expect(vi.getTimerCount()).toBe(0);
    expect(listenerCounts()).toEqual(before);
  });

  it('does not even briefly start a timer or listen for signals', async () => {
    captureStdout();
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval');
    const onSpy = vi.spyOn(process, 'on');
    await pushOnce({ job: 'edge-job' });
    expect(setIntervalSpy).not.toHaveBeenCalled();
    expect(onSpy.mock.calls.map(([event]) => event)).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/^(SIGTERM|SIGINT|beforeExit)$/)]),
    );
  });

  it('is measured against a reporter, which does leave a timer and hooks until stopped', async () => {
    // The control for the test above: the same measures see what startReporter installs.
    vi.useFakeTimers();
    captureStdout();
    const before = listenerCounts();
    const reporter = startReporter({ job: 'edge-job' });
    expect(vi.getTimerCount()).toBe(1);
    expect(listenerCounts()).toEqual({
      SIGTERM: (before.SIGTERM ?? 0) + 1,
      SIGINT: (before.SIGINT ?? 0) + 1,
      beforeExit: (before.beforeExit ?? 0) + 1,
    });
    await reporter.stop();
    expect(vi.getTimerCount()).toBe(0);
    expect(listenerCounts()).toEqual(before);
  });

  it('rejects with ConfigError for a bad option, naming the field', async () => {
    await expect(pushOnce({ intervalMs: -5 })).rejects.toMatchObject({
      name: 'ConfigError',
      code: 'ERR_PROCPUSH_CONFIG',
      field: 'intervalMs',
    });
  });
});

describe('withReporter', () => {
  it('passes the handler’s result through unchanged and pushes once per invocation', async () => {
    const writes = captureStdout();
    const answer = { statusCode: 200, body: 'resized' };
    const handler = withReporter(async (event: { id: number }) => ({ ...answer, id: event.id }), {
      job: 'resize-images',
      shutdown: false,
    });

    await expect(handler({ id: 1 })).resolves.toEqual({ ...answer, id: 1 });
    expect(writes).toHaveLength(1);
    await expect(handler({ id: 2 })).resolves.toEqual({ ...answer, id: 2 });
    await handler({ id: 3 });
    expect(writes).toHaveLength(3);
    expect(writes[2]).toContain('job="resize-images"');
  });

  it('passes the very same object through', async () => {
    captureStdout();
    const result = { large: new Uint8Array(16) };
    const handler = withReporter(() => result, { shutdown: false });
    await expect(handler()).resolves.toBe(result);
  });

  it('rethrows the handler’s error unchanged, after pushing', async () => {
    const writes = captureStdout();
    const failure = new TypeError('bad event');
    const handler = withReporter(
      async () => {
        throw failure;
      },
      { shutdown: false },
    );
    await expect(handler()).rejects.toBe(failure);
    expect(writes).toHaveLength(1);
  });

  it('adds at most flushTimeoutMs to an invocation when the target hangs', async () => {
    const server = await silentServer();
    const handler = withReporter(async () => 'done', {
      target: { type: 'pushgateway', url: server.url },
      flushTimeoutMs: 300,
      shutdown: false,
      onError: () => {},
    });

    const started = performance.now();
    await expect(handler()).resolves.toBe('done');
    const elapsed = performance.now() - started;

    expect(server.requests()).toBeGreaterThanOrEqual(1);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1000);
  });

  it('throws ConfigError when wrapping, before any invocation', () => {
    expect(() => withReporter(async () => 1, { flushTimeoutMs: 0 })).toThrow(ConfigError);
  });
});

describe('startReporter', () => {
  it('throws ConfigError synchronously for a bad option, saying what it got', () => {
    let thrown: unknown;
    try {
      startReporter({ intervalMs: -5 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(thrown).toMatchObject({ code: 'ERR_PROCPUSH_CONFIG', field: 'intervalMs' });
    expect((thrown as Error).message).toContain('-5');
  });

  it('installs nothing when the options are bad', () => {
    vi.useFakeTimers();
    const before = listenerCounts();
    expect(() =>
      startReporter({ target: { type: 'pushgateway', url: 'ftp://gateway:9091' }, job: 'x' }),
    ).toThrow(ConfigError);
    expect(vi.getTimerCount()).toBe(0);
    expect(listenerCounts()).toEqual(before);
  });
});

describe('the console target', () => {
  it('prints all five metrics with the job, instance and user labels', async () => {
    const writes = captureStdout();
    const reporter = startReporter({
      job: 'nightly',
      instance: 'box-1',
      labels: { team: 'data' },
      shutdown: false,
    });
    await reporter.flush();
    await reporter.stop();

    const printed = writes.join('');
    for (const name of METRIC_NAMES) {
      expect(printed).toContain(`# TYPE ${name} gauge`);
      expect(printed).toMatch(
        new RegExp(`^${name}\\{instance="box-1",job="nightly",team="data"\\} \\S+$`, 'm'),
      );
    }
  });

  it('labels the samples with the host name when no instance is given', async () => {
    const writes = captureStdout();
    const reporter = startReporter({ job: 'nightly', shutdown: false });
    await reporter.stop();
    expect(writes.join('')).toContain(`process_memory_bytes{instance="${hostname()}",job="nightly"}`);
  });
});

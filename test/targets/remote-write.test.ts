/**
 * The remote-write target on the production path: the Node entry sends with `node:http`, which msw intercepts.
 * Bodies are read back with snappyjs and prometheus-remote-write's protobufjs decoder, never with our encoder.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { delay, HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import {
  ConfigError,
  PushError,
  pushOnce,
  type Reporter,
  type ReporterOptions,
  startReporter,
} from 'procpush';
import { uncompress } from 'snappyjs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Sample } from '../../src/sample/types.js';
import { createRemoteWriteTarget } from '../../src/targets/remote-write.js';
import type { TargetDriver } from '../../src/targets/types.js';
import { createNodeTransport } from '../../src/transport/node-http.js';
import type { RemoteWriteTarget } from '../../src/types.js';
import { FIVE } from '../helpers/five.js';

// Every sample the reporter takes, so a test can compare what arrived with what was taken.
const taken = vi.hoisted(() => [] as number[]);
vi.mock(import('../../src/sample/proc-reader.js'), async (importOriginal) =>
  (await import('../helpers/recording-sampler.js')).recordingSamplers(await importOriginal(), taken),
);

const URL_WRITE = 'http://receiver.test/api/v1/write';
const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
// value.StaleNaN as written on the wire: the Sample.value tag, then 0x7ff0000000000002 little-endian.
const STALE_MARKER = Buffer.from('09020000000000f07f', 'hex');

// ---------------------------------------------------------------------------------------------------------
// Decoding with an independent implementation

interface DecodedRequest {
  timeseries: {
    labels: { name: string; value: string }[];
    samples: { value: number; timestamp: { toString(): string } }[];
  }[];
}
const reference = createRequire(import.meta.url)('prometheus-remote-write') as {
  deserialize(bytes: Uint8Array): Promise<DecodedRequest>;
};

interface Series {
  /** Label names in wire order. */
  names: string[];
  labels: Record<string, string>;
  samples: { value: number; timestampMs: number }[];
}

async function decode(body: Uint8Array): Promise<Series[]> {
  const request = await reference.deserialize(uncompress(body));
  return request.timeseries.map((series) => ({
    names: series.labels.map((label) => label.name),
    labels: Object.fromEntries(series.labels.map((label) => [label.name, label.value])),
    samples: series.samples.map((sample) => ({
      value: sample.value,
      timestampMs: Number(sample.timestamp.toString()),
    })),
  }));
}

// ---------------------------------------------------------------------------------------------------------
// The receiver

/** What the receiver answers: a status, a status with a body and headers, or no answer at all. */
type Reply = number | { status: number; body?: string; headers?: Record<string, string> } | 'hang';

interface Received {
  readonly headers: Headers;
  /** The raw, still compressed body. */
  readonly body: Uint8Array;
  readonly status: number | 'hang';
}

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

/** Installs a receiver on URL_WRITE answering request n (from 0) with `reply(n)`; returns what it saw. */
function receiver(reply: (n: number) => Reply = () => 204): Received[] {
  const requests: Received[] = [];
  server.use(
    http.post(URL_WRITE, async ({ request }) => {
      const body = new Uint8Array(await request.arrayBuffer());
      const answer = reply(requests.length);
      const status = typeof answer === 'object' ? answer.status : answer;
      requests.push({ headers: request.headers, body, status });
      if (answer === 'hang') {
        await delay('infinite');
        return new HttpResponse(null, { status: 504 });
      }
      if (typeof answer === 'number') return new HttpResponse(null, { status: answer });
      return new HttpResponse(answer.body ?? null, { status: answer.status, headers: answer.headers ?? {} });
    }),
  );
  return requests;
}

const accepted = (requests: readonly Received[]) =>
  requests.filter((r) => typeof r.status === 'number' && r.status < 300);

/** The samples of each series across `requests`, in arrival order. */
async function samplesByName(requests: readonly Received[]): Promise<Map<string, Series['samples']>> {
  const byName = new Map<string, Series['samples']>();
  for (const request of requests) {
    for (const series of await decode(request.body)) {
      const name = series.labels.__name__!;
      byName.set(name, [...(byName.get(name) ?? []), ...series.samples]);
    }
  }
  return byName;
}

const timestamps = (samples: Series['samples'] | undefined) => (samples ?? []).map((s) => s.timestampMs);

function expectStrictlyIncreasing(values: readonly number[]): void {
  values.forEach((value, i) => {
    if (i > 0) expect(value, `position ${i} of ${JSON.stringify(values)}`).toBeGreaterThan(values[i - 1]!);
  });
}

// ---------------------------------------------------------------------------------------------------------
// Reporters and targets under test

const running: Reporter[] = [];
const transports: { close(): void }[] = [];

function start(options: ReporterOptions = {}): Reporter {
  const reporter = startReporter({
    target: { type: 'remote-write', url: URL_WRITE },
    intervalMs: 60_000,
    shutdown: false,
    job: 'nightly-import',
    onError: () => {},
    ...options,
  });
  running.push(reporter);
  return reporter;
}

beforeEach(() => {
  taken.length = 0;
});

afterEach(async () => {
  // Before the handlers go: a final push to a missing handler would be retried until its deadline.
  await Promise.all(running.splice(0).map((reporter) => reporter.stop()));
  for (const transport of transports.splice(0)) transport.close();
  server.resetHandlers();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

// Recent enough for the default maxAgeMs (an hour), on a whole second for readable failures.
const T0 = Math.floor(Date.now() / 1000) * 1000 - 60_000;

/** A hand-made sample: 64 MiB resident, a 128 MiB peak, 12.5 % CPU. */
function sample(timestampMs: number): Sample {
  return { timestampMs, memoryBytes: 64 * 2 ** 20, memoryPeakBytes: 128 * 2 ** 20, cpuPercent: 12.5 };
}

/** The target alone, on the Node transport, with hand-made samples and, where given, an injected clock. */
function target(options: { queue?: RemoteWriteTarget['queue']; now?: () => number } = {}): TargetDriver {
  const transport = createNodeTransport();
  const driver = createRemoteWriteTarget(
    {
      target: {
        type: 'remote-write',
        url: URL_WRITE,
        ...(options.queue ? { queue: options.queue } : {}),
      },
      labels: { job: 'direct', instance: 'box-1:42' },
      overhead: { memoryRatio: 0.015, cpuPercent: 0.5 },
      timeoutMs: 1000,
      ...(options.now ? { now: options.now } : {}),
    },
    transport,
  );
  transports.push(transport);
  return driver;
}

const deliver = (driver: TargetDriver, ms = 2000) => driver.deliver({ deadline: AbortSignal.timeout(ms) });

// ---------------------------------------------------------------------------------------------------------

describe('remote write: what a receiver gets', () => {
  it('pushes one snappy protobuf WriteRequest with the protocol headers and sorted labels', async () => {
    const requests = receiver();
    const before = Date.now();
    const result = await pushOnce({
      target: { type: 'remote-write', url: URL_WRITE },
      job: 'nightly-import',
      labels: { zone: 'eu-1', app: 'billing', empty: '' },
    });
    expect(result).toEqual({ ok: true, status: 204, attempts: 1 });
    expect(requests).toHaveLength(1);
    const { headers, body } = requests[0]!;
    expect(headers.get('content-encoding')).toBe('snappy');
    expect(headers.get('content-type')).toBe('application/x-protobuf');
    expect(headers.get('x-prometheus-remote-write-version')).toBe('0.1.0');
    expect(headers.get('user-agent')).toBe(`procpush/${VERSION}`);
    expect(headers.get('content-length')).toBe(String(body.byteLength));
    for (const absent of ['retry-attempt', 'authorization', 'x-scope-orgid'])
      expect(headers.has(absent)).toBe(false);

    const series = await decode(body);
    expect(series.map((s) => s.labels.__name__).sort()).toEqual(FIVE);
    for (const one of series) {
      // Byte order of the names; an empty value is no label at all.
      expect(one.names).toEqual(['__name__', 'app', 'instance', 'job', 'zone']);
      expect(one.labels).toMatchObject({
        job: 'nightly-import',
        instance: `${hostname()}:${process.pid}`,
        app: 'billing',
        zone: 'eu-1',
      });
      expect(one.samples).toHaveLength(1);
      expect(one.samples[0]!.timestampMs).toBe(series[0]!.samples[0]!.timestampMs);
    }
    const at = series[0]!.samples[0]!.timestampMs;
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
    const value = (name: string) => series.find((s) => s.labels.__name__ === name)!.samples[0]!.value;
    expect(value('process_memory_bytes')).toBeGreaterThan(1024 * 1024);
    expect(value('process_memory_peak_bytes')).toBeGreaterThanOrEqual(value('process_memory_bytes'));
    expect(value('tracing_memory_overhead_bytes')).toBe(Math.round(value('process_memory_bytes') * 0.015));
    expect(value('tracing_cpu_overhead_percent')).toBe(0.5);
    expect(value('process_cpu_percent')).toBeGreaterThanOrEqual(0);
    expect(value('process_cpu_percent')).toBeLessThanOrEqual(100);
  });

  it('uses the instance option instead of host:pid', async () => {
    const requests = receiver();
    await pushOnce({ target: { type: 'remote-write', url: URL_WRITE }, instance: 'worker-7' });
    for (const series of await decode(requests[0]!.body)) expect(series.labels.instance).toBe('worker-7');
  });

  it('sends Grafana Cloud credentials as basic auth: the instance ID and an access-policy token', async () => {
    const requests = receiver();
    const token = 'glc_eyJvIjoiMTIzNDU2IiwibiI6InByb2NwdXNoIn0=';
    const result = await pushOnce({
      target: { type: 'remote-write', url: URL_WRITE, auth: { username: '1234567', password: token } },
    });
    expect(result.ok).toBe(true);
    const expected = `Basic ${Buffer.from(`1234567:${token}`).toString('base64')}`;
    expect(requests[0]!.headers.get('authorization')).toBe(expected);
  });

  it('sends a bearer token', async () => {
    const requests = receiver();
    await pushOnce({
      target: { type: 'remote-write', url: URL_WRITE, auth: { bearerToken: 'tok-1234567890' } },
    });
    expect(requests[0]!.headers.get('authorization')).toBe('Bearer tok-1234567890');
  });

  it('keeps a token the receiver echoes out of the error', async () => {
    receiver(() => ({ status: 401, body: 'invalid token: Bearer tok-1234567890' }));
    const result = await pushOnce({
      target: { type: 'remote-write', url: URL_WRITE, auth: { bearerToken: 'tok-1234567890' } },
    });
    expect(result).toMatchObject({ ok: false, status: 401, attempts: 1 });
    expect(result.error?.message).toContain('invalid token: Bearer ***');
    expect(result.error?.message).not.toContain('tok-1234567890');
    expect((result.error as PushError).body).not.toContain('tok-1234567890');
  });

  it('sends the tenant as X-Scope-OrgID, from `tenant` or from RESOURCE_ATTRIBUTION_TENANT_ID', async () => {
    const requests = receiver();
    await pushOnce({ target: { type: 'remote-write', url: URL_WRITE, tenant: 'team-a' } });
    expect(requests[0]!.headers.get('x-scope-orgid')).toBe('team-a');

    // Configured by the environment alone, as in a container spec.
    vi.stubEnv('RESOURCE_ATTRIBUTION_REMOTE_WRITE_URL', URL_WRITE);
    vi.stubEnv('RESOURCE_ATTRIBUTION_TENANT_ID', 'team-b');
    vi.stubEnv('RESOURCE_ATTRIBUTION_USERNAME', 'mimir-user');
    vi.stubEnv('RESOURCE_ATTRIBUTION_PASSWORD', 'mimir-password');
    await pushOnce();
    expect(requests[1]!.headers.get('x-scope-orgid')).toBe('team-b');
    expect(requests[1]!.headers.get('authorization')).toBe(
      `Basic ${Buffer.from('mimir-user:mimir-password').toString('base64')}`,
    );

    // An option wins over the environment.
    await pushOnce({ target: { type: 'remote-write', url: URL_WRITE, tenant: 'team-c' } });
    expect(requests[2]!.headers.get('x-scope-orgid')).toBe('team-c');
  });

  it('passes custom headers through next to the protocol headers', async () => {
    const requests = receiver();
    await pushOnce({
      target: {
        type: 'remote-write',
        url: URL_WRITE,
        headers: { 'X-Custom-Source': 'batch', 'cf-access-client-id': 'abc.access' },
      },
    });
    const { headers } = requests[0]!;
    expect(headers.get('x-custom-source')).toBe('batch');
    expect(headers.get('cf-access-client-id')).toBe('abc.access');
    expect(headers.get('content-encoding')).toBe('snappy');
  });

  it('numbers retries in Retry-Attempt and resends the same bytes', async () => {
    const requests = receiver((n) => (n < 2 ? 503 : 204));
    const result = await pushOnce({
      target: { type: 'remote-write', url: URL_WRITE },
      flushTimeoutMs: 10_000,
    });
    expect(result).toEqual({ ok: true, status: 204, attempts: 3 });
    expect(requests.map((r) => r.headers.get('retry-attempt'))).toEqual([null, '1', '2']);
    for (const request of requests) expect(request.body).toEqual(requests[0]!.body);
  });
});

describe('remote write: configuration refused at start', () => {
  it.each([
    'Content-Type',
    'content-encoding',
    'X-Prometheus-Remote-Write-Version',
    'User-Agent',
    'Authorization',
    'x-scope-orgid',
    'Retry-Attempt',
    'Content-Length',
  ])('refuses a user header that would override %s', (name) => {
    const requests = receiver();
    const options = { target: { type: 'remote-write', url: URL_WRITE, headers: { [name]: 'x' } } } as const;
    expect(() => startReporter({ ...options, shutdown: false })).toThrow(ConfigError);
    expect(() => startReporter({ ...options, shutdown: false })).toThrow(
      expect.objectContaining({
        code: 'ERR_PROCPUSH_CONFIG',
        field: 'target.headers',
        message: expect.stringContaining(`"${name}"`),
      }),
    );
    expect(requests).toHaveLength(0);
  });

  it.each([
    [{ 'bad-name': 'x' }, 'labels.bad-name'],
    [{ '0zone': 'x' }, 'labels.0zone'],
    [{ __tenant: 'x' }, 'labels'],
    [{ job: 'x' }, 'labels'],
    [{ zone: 'ok', 'dotted.name': 'x' }, 'labels.dotted.name'],
  ])('refuses the label names %j', (labels, field) => {
    expect(() => start({ labels })).toThrow(ConfigError);
    expect(() => start({ labels })).toThrow(expect.objectContaining({ field }));
  });

  it('refuses a bad label name from RESOURCE_ATTRIBUTION_LABELS', async () => {
    vi.stubEnv('RESOURCE_ATTRIBUTION_LABELS', 'team=core,bad-name=x');
    await expect(pushOnce({ target: { type: 'remote-write', url: URL_WRITE } })).rejects.toMatchObject({
      code: 'ERR_PROCPUSH_CONFIG',
      field: 'RESOURCE_ATTRIBUTION_LABELS',
    });
  });
});

describe('remote write: delivery in order, through outages', () => {
  it('delivers every sample exactly once and in order after a receiver fails for several intervals', async () => {
    let failing = true;
    const requests = receiver(() => (failing ? 503 : 204));
    // A deadline of several intervals: a 204 that a loaded machine reads too late would be resent, and counted twice.
    const reporter = start({ intervalMs: 100, flushTimeoutMs: 1000 });
    // Fail for several intervals: at least 4 refused requests and 6 samples taken.
    await vi.waitFor(() => expect(requests.length >= 4 && taken.length >= 6).toBe(true), { timeout: 10_000 });
    failing = false;
    const recoveredAfter = requests.length;
    await vi.waitFor(() => expect(accepted(requests).length).toBeGreaterThanOrEqual(3), { timeout: 10_000 });
    await reporter.stop();
    expect(requests.slice(0, recoveredAfter).every((r) => r.status === 503)).toBe(true);

    const byName = await samplesByName(accepted(requests));
    for (const name of FIVE) {
      const delivered = timestamps(byName.get(name));
      // The stop's stale marker closes the series; every other sample is one the reporter took.
      expect(Number.isNaN(byName.get(name)!.at(-1)!.value)).toBe(true);
      const real = delivered.slice(0, -1);
      expect(real).toEqual(taken);
      expectStrictlyIncreasing(delivered);
    }

    // A batch is frozen when first sent: every request that starts with the same sample is the same bytes.
    const byFirst = new Map<number, Received[]>();
    for (const request of requests) {
      const first = (await decode(request.body))[0]!.samples[0]!.timestampMs;
      byFirst.set(first, [...(byFirst.get(first) ?? []), request]);
    }
    const retried = [...byFirst.values()].filter((group) => group.length > 1);
    expect(retried.length).toBeGreaterThan(0);
    for (const group of retried) for (const request of group) expect(request.body).toEqual(group[0]!.body);
    // The batch held at the head during the outage went out first once the receiver recovered.
    expect(requests[recoveredAfter]!.body).toEqual(requests[0]!.body);
    expect(reporter.stats()).toMatchObject({ samplesDropped: 0, samplesQueued: 0 });
    expect(reporter.stats().failures).toBeGreaterThan(0);
  });

  it('resends a failed batch byte for byte, with newer samples waiting behind it', async () => {
    let failing = true;
    const requests = receiver(() => (failing ? 503 : 200));
    const driver = target();
    driver.offer(sample(T0));
    expect(await deliver(driver, 300)).toMatchObject({ ok: false, status: 503 });
    driver.offer(sample(T0 + 1000));
    driver.offer(sample(T0 + 2000));
    expect(await deliver(driver, 300)).toMatchObject({ ok: false, status: 503 });
    expect(driver.pending()).toBe(15);
    const failed = requests.length;
    for (const request of requests) expect(request.body).toEqual(requests[0]!.body);

    failing = false;
    expect(await deliver(driver)).toMatchObject({ ok: true, status: 200, attempts: 2 });
    expect(requests.slice(failed).map((r) => r.status)).toEqual([200, 200]);
    expect(requests[failed]!.body).toEqual(requests[0]!.body);
    expect((await decode(requests[failed]!.body))[0]!.samples.map((s) => s.timestampMs)).toEqual([T0]);
    const byName = await samplesByName(accepted(requests));
    for (const name of FIVE) expect(timestamps(byName.get(name))).toEqual([T0, T0 + 1000, T0 + 2000]);
    expect(driver.pending()).toBe(0);
    expect(driver.dropped()).toBe(0);
  });

  it('keeps per-series timestamps strictly increasing when samples share a millisecond', async () => {
    const requests = receiver();
    const driver = target();
    // The clock stood still, then stepped back.
    driver.offer(sample(T0));
    driver.offer(sample(T0));
    driver.offer(sample(T0 - 10));
    await deliver(driver);
    const byName = await samplesByName(requests);
    for (const name of FIVE) expect(timestamps(byName.get(name))).toEqual([T0, T0 + 1, T0 + 2]);
  });

  it('keeps timestamps strictly increasing when flush() follows a tick in the same millisecond', async () => {
    const requests = receiver();
    // Every clock read in the same millisecond: the tick, two flushes and the stop's stale marker.
    vi.spyOn(Date, 'now').mockReturnValue(T0);
    const reporter = start({ intervalMs: 20 });
    await vi.waitFor(() => expect(taken.length).toBeGreaterThanOrEqual(1));
    await Promise.all([reporter.flush(), reporter.flush()]);
    await reporter.stop();
    expect(taken.every((t) => t === T0)).toBe(true);
    const byName = await samplesByName(requests);
    for (const name of FIVE) {
      const delivered = timestamps(byName.get(name));
      expect(delivered).toHaveLength(taken.length + 1);
      expect(delivered).toEqual(delivered.map((_, i) => T0 + i));
    }
  });

  it('drops a batch the receiver refuses with 400, counts it, and quotes the first KiB of the answer', async () => {
    const message = `out of order sample: series {__name__="process_memory_bytes"} "ü" ${'x'.repeat(2000)}`;
    const requests = receiver((n) => (n === 0 ? { status: 400, body: message } : 204));
    const reporter = start();
    const refused = await reporter.flush();
    expect(refused).toMatchObject({ ok: false, status: 400, attempts: 1 });
    expect(refused.error).toBeInstanceOf(PushError);
    expect(refused.error).toMatchObject({ code: 'ERR_PROCPUSH_REJECTED', status: 400 });
    const firstKiB = new TextDecoder().decode(Buffer.from(message).subarray(0, 1024));
    expect((refused.error as PushError).body).toBe(firstKiB);
    expect(refused.error!.message).toContain(`400: ${firstKiB}`);
    expect(refused.error!.message).not.toContain(message);
    expect(reporter.stats()).toMatchObject({ samplesDropped: 5, samplesQueued: 0, failures: 1 });

    // Not retried, not resent: the next flush carries only the next sample.
    expect(await reporter.flush()).toMatchObject({ ok: true, attempts: 1 });
    expect(requests).toHaveLength(2);
    const byName = await samplesByName(requests.slice(1));
    expect(timestamps(byName.get('process_memory_bytes'))).toEqual([taken[1]]);
  });
});

describe('remote write: the queue bounds', () => {
  it('drops the oldest samples beyond queue.maxSamples and counts them', async () => {
    const requests = receiver();
    const driver = target({ queue: { maxSamples: 15 } });
    for (let i = 0; i < 6; i++) driver.offer(sample(T0 + i * 1000));
    expect(driver.pending()).toBe(15);
    expect(driver.dropped()).toBe(15);
    await deliver(driver);
    const byName = await samplesByName(requests);
    for (const name of FIVE) expect(timestamps(byName.get(name))).toEqual([T0 + 3000, T0 + 4000, T0 + 5000]);
  });

  it('drops the oldest samples of a batch held for retry, and sends the rest', async () => {
    let failing = true;
    const requests = receiver(() => (failing ? 503 : 204));
    const driver = target({ queue: { maxSamples: 20 } });
    driver.offer(sample(T0));
    driver.offer(sample(T0 + 1000));
    driver.offer(sample(T0 + 2000));
    expect(await deliver(driver, 300)).toMatchObject({ ok: false });
    // The held batch has T0..T0+2000; two more overflow the queue by two samples' worth.
    driver.offer(sample(T0 + 3000));
    driver.offer(sample(T0 + 4000));
    expect(driver.pending()).toBe(20);
    expect(driver.dropped()).toBe(5);
    failing = false;
    expect(await deliver(driver)).toMatchObject({ ok: true });
    const byName = await samplesByName(accepted(requests));
    for (const name of FIVE) {
      expect(timestamps(byName.get(name))).toEqual([T0 + 1000, T0 + 2000, T0 + 3000, T0 + 4000]);
    }
  });

  it('counts what the bound drops in stats() while a receiver is down', async () => {
    receiver(() => 503);
    const reporter = start({
      target: { type: 'remote-write', url: URL_WRITE, queue: { maxSamples: 10 } },
      flushTimeoutMs: 100,
    });
    for (let i = 0; i < 5; i++) await reporter.flush();
    const stats = reporter.stats();
    expect(stats.samplesQueued).toBeLessThanOrEqual(10);
    expect(stats.samplesDropped).toBeGreaterThanOrEqual(15);
    expect(stats.samplesQueued + stats.samplesDropped).toBe(5 * taken.length);
  });

  it('drops samples older than queue.maxAgeMs, also from a batch held for retry', async () => {
    let failing = false;
    const requests = receiver(() => (failing ? 503 : 204));
    let now = T0;
    const driver = target({ queue: { maxAgeMs: 1000 }, now: () => now });
    driver.offer(sample(T0));
    driver.offer(sample(T0 + 500));
    driver.offer(sample(T0 + 1500));
    now = T0 + 2000;
    await deliver(driver);
    expect(driver.dropped()).toBe(10);
    expect(timestamps((await samplesByName(requests)).get('process_memory_bytes'))).toEqual([T0 + 1500]);

    failing = true;
    driver.offer(sample(T0 + 2500));
    driver.offer(sample(T0 + 3000));
    expect(await deliver(driver, 300)).toMatchObject({ ok: false });
    failing = false;
    now = T0 + 3800;
    driver.offer(sample(T0 + 3500));
    const before = requests.length;
    expect(await deliver(driver)).toMatchObject({ ok: true });
    expect(driver.dropped()).toBe(15);
    const late = await samplesByName(requests.slice(before));
    expect(timestamps(late.get('process_memory_bytes'))).toEqual([T0 + 3000, T0 + 3500]);
  });
});

describe('remote write: stop and deadlines', () => {
  it('ends each series with a stale marker after the final sample on stop', async () => {
    const requests = receiver();
    const reporter = start();
    await reporter.flush();
    await reporter.stop();
    expect(taken).toHaveLength(2);
    const last = requests.at(-1)!;
    const raw = Buffer.from(uncompress(last.body));
    let markers = 0;
    for (let at = raw.indexOf(STALE_MARKER); at >= 0; at = raw.indexOf(STALE_MARKER, at + 1)) markers++;
    expect(markers).toBe(5);
    for (const request of requests.slice(0, -1)) {
      expect(Buffer.from(uncompress(request.body)).includes(STALE_MARKER)).toBe(false);
    }
    const byName = await samplesByName(requests);
    for (const name of FIVE) {
      const samples = byName.get(name)!;
      expect(timestamps(samples).slice(0, -1)).toEqual(taken);
      expect(Number.isNaN(samples.at(-1)!.value)).toBe(true);
      expect(samples.at(-1)!.timestampMs).toBeGreaterThan(taken.at(-1)!);
    }
    expect(reporter.stats()).toMatchObject({ samplesQueued: 0, samplesDropped: 0 });
  });

  it('counts a resent batch as delivered when the receiver refuses it as out of order: the first attempt landed', async () => {
    // The first attempt is stored but its answer never comes (a timeout); the resend finds the samples there.
    const requests = receiver((n) =>
      n === 0 ? 'hang' : n === 1 ? { status: 400, body: 'out of order sample' } : 204,
    );
    const reporter = start({ flushTimeoutMs: 300 });
    expect(await reporter.flush()).toMatchObject({ ok: false, error: { code: 'ERR_PROCPUSH_TIMEOUT' } });
    const second = await reporter.flush();
    expect(second).toMatchObject({ ok: true });
    expect(requests.map((r) => r.status)).toEqual(['hang', 400, 204]);
    expect(requests[1]!.body).toEqual(requests[0]!.body);
    expect(reporter.stats()).toMatchObject({ samplesQueued: 0, samplesDropped: 0 });
  });

  it('ends a flush at its deadline but keeps the batch, and resends it on the next flush', async () => {
    let hanging = true;
    const requests = receiver(() => (hanging ? 'hang' : 204));
    const reporter = start({ flushTimeoutMs: 300 });
    const started = performance.now();
    const first = await reporter.flush();
    expect(performance.now() - started).toBeLessThan(5000);
    expect(first).toMatchObject({ ok: false });
    expect(first.error).toMatchObject({ code: 'ERR_PROCPUSH_TIMEOUT' });
    expect(reporter.stats()).toMatchObject({ samplesQueued: 5, samplesDropped: 0 });

    hanging = false;
    const hung = requests.length;
    expect(await reporter.flush()).toMatchObject({ ok: true, attempts: 2 });
    expect(requests[hung]!.body).toEqual(requests[0]!.body);
    const byName = await samplesByName(requests.slice(hung));
    for (const name of FIVE) expect(timestamps(byName.get(name))).toEqual(taken);
    expect(reporter.stats()).toMatchObject({ samplesQueued: 0, samplesDropped: 0 });
  });
});

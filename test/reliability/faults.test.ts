/**
 * Faults: targets that are down, flaky, silent, stalled, reset, huge, slow to forgive, refusing, or untrusted,
 * and signals in the middle of a retry. Nothing may be lost (within the queue bound), leaked (sockets, file
 * descriptors) or hung (an attempt outliving its timeout, an interval delayed). Scenarios that count sockets
 * run in child processes under --unhandled-rejections=strict; the rest run here, where an unhandled rejection
 * fails the test as well.
 */
import { createServer as createHttpsServer } from 'node:https';
import { hostname } from 'node:os';
import { type Reporter, type ReporterOptions, startReporter } from 'procpush';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  describeE2E,
  type E2EServer,
  type PromPoint,
  promQuery,
  promQueryRange,
  pushgatewayGroups,
  startPrometheus,
  startPushgateway,
  startVictoriaMetrics,
  type TsdbServer,
  type VictoriaMetricsServer,
  waitFor,
} from '../e2e/servers.js';
import { type ChildExit, report, runFixture, runToEnd } from './child.js';
import { cleanupAll, defer } from './cleanup.js';
import {
  type FaultServer,
  type RawBehaviour,
  type SeenRequest,
  startFlakyProxy,
  startHugeBodyServer,
  startRawServer,
  startScriptedServer,
} from './fault-servers.js';
import { selfSignedCertificate } from './tls-cert.js';

// Every sample the in-process reporters take, oldest first: what a receiver must end up with, exactly.
const taken = vi.hoisted(() => [] as number[]);
vi.mock(import('../../src/sample/proc-reader.js'), async (importOriginal) =>
  (await import('../helpers/recording-sampler.js')).recordingSamplers(await importOriginal(), taken),
);

// In this process an unhandled rejection would only be logged by vitest after the fact: fail the test instead.
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  expect(unhandled.splice(0), 'unhandled rejections').toEqual([]);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await cleanupAll();
});

const running: Reporter[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((reporter) => reporter.stop()));
});
function start(options: ReporterOptions): Reporter {
  const reporter = startReporter({ shutdown: false, onError: () => {}, ...options });
  running.push(reporter);
  return reporter;
}

let jobs = 0;
const nextJob = (what: string) => `reliability-${what}-${process.pid}-${++jobs}`;

/** The raw samples of the one series `selector` matches over the last `seconds`, as ms timestamps. */
async function rawSamples(url: string, selector: string, seconds = 300): Promise<PromPoint[]> {
  const result = await promQuery(url, `${selector}[${seconds}s]`);
  if (result.resultType !== 'matrix') throw new Error(`Expected a matrix, got ${result.resultType}`);
  if (result.result.length > 1) throw new Error(`Expected at most one series for ${selector}`);
  return (result.result[0]?.values ?? []).map((p) => ({
    timestamp: Math.round(p.timestamp * 1000),
    value: p.value,
  }));
}

/** The number of samples of `selector` in the `seconds` before `end`, counted by the server with query_range. */
async function countedByServer(url: string, selector: string, end: number, seconds = 300): Promise<number> {
  const range = await promQueryRange(url, `count_over_time(${selector}[${seconds}s])`, end, end, 1);
  return range[0]?.values[0]?.value ?? 0;
}

// ---------------------------------------------------------------------------------------------------------
// Socket-level faults, each in its own child, side by side (they wait on timeouts, not on the CPU).

interface IntervalReport {
  before: { fds: number; resources: string[] };
  during: { at: number; fds: number; sockets: number }[];
  after: { fds: number; resources: string[] };
  stats: { pushes: number; failures: number; retries: number; samplesQueued: number; samplesDropped: number };
  errors: { code: string | undefined; message: string; at: number }[];
  warnings: string[];
  stopMs: number;
}

const FAULT_INTERVAL_MS = 400;
const FAULT_TIMEOUT_MS = 150;
const FAULT_FLUSH_TIMEOUT_MS = 350;
const FAULT_RUN_MS = 10_000;
const FAULT_INTERVALS = FAULT_RUN_MS / FAULT_INTERVAL_MS;

type SocketFault = RawBehaviour | 'closed-port';
const socketFaults: Record<SocketFault, { server?: FaultServer; exit: Promise<ChildExit> }> = {} as never;

/** A port nothing listens on: a server's, closed again. */
async function closedPort(): Promise<string> {
  const server = await startRawServer('silent');
  await server.close();
  return server.url;
}

function runInterval(url: string): Promise<ChildExit> {
  const options: ReporterOptions = {
    target: { type: 'pushgateway', url },
    job: 'faults',
    intervalMs: FAULT_INTERVAL_MS,
    timeoutMs: FAULT_TIMEOUT_MS,
    flushTimeoutMs: FAULT_FLUSH_TIMEOUT_MS,
  };
  return runToEnd('interval-run.ts', [JSON.stringify(options), String(FAULT_RUN_MS)], { timeoutMs: 60_000 });
}

// A Retry-After of a day, with a flush deadline longer than the cap: the retry comes at the cap (30 s).
let longRetryAfter: { server: FaultServer; exit: Promise<ChildExit> };

beforeAll(async () => {
  for (const fault of ['silent', 'stall-body', 'reset'] as const) {
    const server = await startRawServer(fault);
    socketFaults[fault] = { server, exit: runInterval(server.url) };
  }
  socketFaults['closed-port'] = { exit: runInterval(await closedPort()) };

  const server = await startScriptedServer((_request, n) =>
    n === 0
      ? { status: 503, headers: { 'Retry-After': '86400' }, body: 'come back tomorrow' }
      : { status: 200 },
  );
  const options: ReporterOptions = {
    target: { type: 'pushgateway', url: server.url },
    job: 'retry-after-a-day',
    flushTimeoutMs: 45_000,
  };
  longRetryAfter = {
    server,
    exit: runToEnd('push-once.ts', [JSON.stringify(options)], { timeoutMs: 60_000 }),
  };
  // Errors surface in the tests that await them; an early failure must not be an unhandled rejection here.
  for (const { exit } of [...Object.values(socketFaults), longRetryAfter]) exit.catch(() => {});
});

describe('a target that fails at the socket', () => {
  const expected: Record<SocketFault, RegExp> = {
    silent: /timed out/,
    'stall-body': /timed out/,
    reset: /ECONNRESET|socket hang up|closed before the response ended/,
    'closed-port': /ECONNREFUSED/,
  };

  it.each(['silent', 'stall-body', 'reset', 'closed-port'] as const)(
    '%s: every attempt ends by its timeout, every interval still pushes, and no socket or fd accumulates',
    async (fault) => {
      const { server, exit } = socketFaults[fault];
      const result = report<IntervalReport>(await exit);
      const context = JSON.stringify({ ...result, during: result.during.slice(-5) }, null, 1);

      // Every interval's push failed and was reported, with the real cause; none was delivered.
      expect(result.stats.pushes, context).toBe(0);
      expect(result.errors.length, context).toBeGreaterThanOrEqual(FAULT_INTERVALS * 0.6);
      // Each names its cause; where the flush deadline cut a last attempt short, that attempt "timed out".
      for (const error of result.errors)
        expect(error.message).toMatch(new RegExp(`${expected[fault].source}|timed out`));
      const named = result.errors.filter((error) => expected[fault].test(error.message));
      expect(named.length, context).toBeGreaterThanOrEqual(result.errors.length / 2);

      if (server) {
        // A push starts on (nearly) every interval: a first attempt carries no Retry-Attempt header.
        const firsts = server.requests.filter((r) => r.headers['retry-attempt'] === undefined);
        expect(firsts.length, context).toBeGreaterThanOrEqual(FAULT_INTERVALS * 0.6);
        // Each attempt's connection was closed by the client within its timeout (plus scheduling slack).
        const open = server.requests.filter((r) => r.closedAt === undefined);
        expect(open, 'connections left open after the child ended').toEqual([]);
        const longest = Math.max(...server.requests.map((r) => (r.closedAt ?? Infinity) - r.at));
        expect(longest).toBeLessThan(FAULT_TIMEOUT_MS + 1000);
      }

      // Flat: the second half of the run holds no more descriptors or sockets than the first, and stop()
      // returns the process to where it was before the reporter started.
      const half = Math.floor(result.during.length / 2);
      const maxFds = (from: number, to: number) =>
        Math.max(...result.during.slice(from, to).map((d) => d.fds));
      expect(maxFds(half, result.during.length), context).toBeLessThanOrEqual(maxFds(0, half) + 2);
      expect(Math.max(...result.during.map((d) => d.sockets)), context).toBeLessThanOrEqual(2);
      expect(result.after.fds, context).toBeLessThanOrEqual(result.before.fds);
      expect(result.after.resources.sort(), context).toEqual(result.before.resources.sort());
      expect(result.stopMs, context).toBeLessThan(FAULT_FLUSH_TIMEOUT_MS + 1000);
    },
  );
});

describe('error bodies, Retry-After and refusals', () => {
  it('keeps only the first KiB of a 16 MiB error body, and stops reading it', async () => {
    const size = 16 * 2 ** 20;
    const server = await startHugeBodyServer(400, size);
    const reporter = start({ target: { type: 'pushgateway', url: server.url }, job: nextJob('huge') });
    const result = await reporter.flush();

    expect(result).toMatchObject({ ok: false, status: 400, attempts: 1 });
    const body = (result.error as { body?: string }).body ?? '';
    expect(body.length).toBeLessThanOrEqual(1024);
    expect(body).toMatch(/^first line of a very large error body\nx+$/);
    expect(result.error?.message.length).toBeLessThan(1024 + 200);
    const transfer = await server.transfers[0]!;
    // The server saw the connection end long before it could write the body.
    expect(transfer.complete).toBe(false);
    expect(transfer.written).toBeLessThan(size / 2);
  });

  it('retries a 503 with a 16 MiB body, cutting every transfer short', async () => {
    const size = 16 * 2 ** 20;
    const server = await startHugeBodyServer(503, size);
    const reporter = start({
      target: { type: 'pushgateway', url: server.url },
      job: nextJob('huge-503'),
      flushTimeoutMs: 1500,
    });
    const result = await reporter.flush();

    expect(result.ok).toBe(false);
    expect(result.attempts).toBeGreaterThanOrEqual(2);
    expect(((result.error as { body?: string }).body ?? '').length).toBeLessThanOrEqual(1024);
    const transfers = await Promise.all(server.transfers);
    expect(transfers.length).toBe(result.attempts);
    for (const transfer of transfers) expect(transfer.complete).toBe(false);
  });

  it('caps a Retry-After of a day: the retry comes at the 30 s cap and delivers', async () => {
    const result = report<{ ok: boolean; attempts: number; elapsedMs: number }>(await longRetryAfter.exit);
    const [first, second] = longRetryAfter.server.requests;
    expect(result).toMatchObject({ ok: true, attempts: 2 });
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(29_000);
    expect(second!.at - first!.at).toBeLessThan(35_000);
    expect(second!.headers['retry-attempt']).toBe('1');
  });

  it.each([
    ['delay-seconds', () => '86400'],
    ['an HTTP date', () => new Date(Date.now() + 86_400_000).toUTCString()],
  ])(
    'on its interval, a Retry-After of a day (%s) delays the next push by no more than an interval',
    async (_form, value) => {
      const server = await startScriptedServer((_request, n) =>
        n === 0 ? { status: 503, headers: { 'Retry-After': value() } } : { status: 200 },
      );
      const reporter = start({
        target: { type: 'pushgateway', url: server.url },
        job: nextJob('retry-after'),
        intervalMs: 500,
      });
      await waitFor(() => reporter.stats().pushes >= 1, { timeoutMs: 5000 });
      const [first, second] = server.requests;
      expect(second!.at - first!.at).toBeLessThan(3000);
    },
  );

  it('reports a storm of 4xx with changing bodies once, and never retries them', async () => {
    let id = 0;
    const server = await startScriptedServer(() => ({
      status: 400,
      body: `bad request, request id ${++id} at ${new Date().toISOString()}`,
    }));
    const options: ReporterOptions = {
      target: { type: 'pushgateway', url: server.url },
      job: 'storm',
      intervalMs: 100,
      // Long enough that a slow answer on a busy machine is not a timeout, which would be a second cause.
      flushTimeoutMs: 5000,
    };
    const exit = await runToEnd('interval-run.ts', [JSON.stringify(options), '4000', 'warn']);
    const result = report<IntervalReport>(exit);

    // One request per interval (each with the newest sample), none retried, and a single warning for all.
    expect(server.requests.length).toBeGreaterThanOrEqual(15);
    expect(server.requests.filter((r) => r.headers['retry-attempt'] !== undefined)).toEqual([]);
    expect(result.stats).toMatchObject({ pushes: 0, retries: 0 });
    expect(result.stats.failures).toBeGreaterThanOrEqual(15);
    const warnings = result.warnings.filter((w) => w.startsWith('procpush:'));
    expect(warnings, exit.stderr).toHaveLength(1);
    expect(warnings[0]).toMatch(/refused the push with 400: bad request, request id 1 /);
  });
});

describe('TLS with an unknown CA', () => {
  it('fails with ERR_PROCPUSH_TLS on every interval, never retried, never downgraded, nothing delivered', async () => {
    const { cert, key } = selfSignedCertificate();
    let requests = 0;
    let clientErrors = 0;
    const server = createHttpsServer({ cert, key }, (_req, res) => {
      requests++;
      res.end();
    });
    server.on('tlsClientError', () => clientErrors++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    defer(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as { port: number };
    const errors: Error[] = [];
    const reporter = start({
      target: { type: 'pushgateway', url: `https://127.0.0.1:${port}` },
      job: nextJob('tls'),
      intervalMs: 200,
      onError: (error) => errors.push(error),
    });
    const flushed = await reporter.flush();
    await waitFor(() => errors.length >= 5, { timeoutMs: 5000 });

    expect(flushed).toMatchObject({ ok: false, attempts: 1 });
    expect(flushed.error).toMatchObject({ code: 'ERR_PROCPUSH_TLS' });
    expect(flushed.error?.message).toMatch(/certificate is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT/);
    expect(flushed.error?.message).toMatch(/tls\.ca/);
    for (const error of errors) expect(error).toMatchObject({ code: 'ERR_PROCPUSH_TLS' });
    expect(reporter.stats()).toMatchObject({ pushes: 0, retries: 0 });
    expect(requests).toBe(0);
    expect(clientErrors).toBeGreaterThanOrEqual(errors.length);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Signals during a retry, in a child (shutdown.test.ts covers a silent target and console reporters).

describe('SIGTERM while a push is retrying', () => {
  it('delivers the final sample once the target recovers, within shutdown.timeoutMs, then exits by SIGTERM', async () => {
    let recovered = false;
    const server = await startScriptedServer(() =>
      recovered ? { status: 200 } : { status: 503, body: 'warming up' },
    );
    const child = runFixture('signal-push.ts', [
      JSON.stringify([
        {
          target: { type: 'pushgateway', url: server.url },
          job: 'sigterm-retry',
          intervalMs: 200,
          flushTimeoutMs: 20_000,
          shutdown: { timeoutMs: 6000 },
        },
      ]),
    ]);
    await child.waitFor('ready');
    // The interval's push is retrying the 503s.
    await waitFor(() => server.requests.length >= 3, { timeoutMs: 10_000 });
    const sent = performance.now();
    child.process.kill('SIGTERM');
    setTimeout(() => {
      recovered = true;
    }, 1500);
    const exit = await child.exit(15_000);

    expect(exit, exit.stderr).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(exit.at - sent).toBeGreaterThanOrEqual(1400);
    expect(exit.at - sent).toBeLessThan(6000 + 1500);
    const delivered = server.requests.filter((r) => r.at > sent + 1400);
    expect(delivered.length, 'the final push reached the recovered target').toBeGreaterThanOrEqual(1);
    expect(delivered.at(-1)!.body.toString()).toMatch(/^process_memory_bytes \d+$/m);
    expect(exit.stdout).toMatch(/raised SIGTERM\n$/);
    expect(exit.stdout.match(/raised /g)).toHaveLength(1);
  });

  it('exits at once on a second SIGTERM while the final push waits between retries', async () => {
    const server = await startScriptedServer(() => ({ status: 503, headers: { 'Retry-After': '2' } }));
    const child = runFixture('signal-push.ts', [
      JSON.stringify([
        {
          target: { type: 'pushgateway', url: server.url },
          job: 'second-sigterm',
          intervalMs: 60_000,
          shutdown: { timeoutMs: 10_000 },
        },
      ]),
    ]);
    await child.waitFor('ready');
    child.process.kill('SIGTERM');
    // The final push got its 503 and now sleeps the 2 s Retry-After.
    await waitFor(() => server.requests.length >= 1, { timeoutMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = performance.now();
    child.process.kill('SIGTERM');
    const exit = await child.exit(5000);

    expect(exit).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(exit.at - second).toBeLessThan(1000);
    expect(server.requests).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Real servers: down at start, flaky in front of a TSDB, and two reporters flushing to one on SIGTERM.

describeE2E(
  'faults against the real servers',
  ['prometheus-pushgateway', 'prometheus', 'victoria-metrics'],
  () => {
    let gateway: E2EServer;
    let prom: TsdbServer;
    let vm: VictoriaMetricsServer;

    beforeAll(async () => {
      [gateway, prom, vm] = await Promise.all([
        startPushgateway(),
        startPrometheus(),
        startVictoriaMetrics(),
      ]);
    });
    beforeEach(() => {
      // A reporter stopped after the previous test took its final sample after that test's cleanup.
      taken.length = 0;
    });

    it('a Pushgateway down when the reporter starts: delivery begins once it is up on that port', async () => {
      await gateway.stop();
      const job = nextJob('pg-late');
      const reporter = start({ target: { type: 'pushgateway', url: gateway.url }, job, intervalMs: 250 });
      await waitFor(() => reporter.stats().failures >= 4, { timeoutMs: 10_000 });
      expect(reporter.stats().pushes).toBe(0);

      await gateway.restart();
      const upAt = Date.now() / 1000;
      const group = await waitFor(
        async () => (await pushgatewayGroups(gateway.url)).find((g) => g.labels.job === job),
        { timeoutMs: 10_000 },
      );
      expect(group.lastPushSuccessful).toBe(true);
      expect(group.pushTimeSeconds).toBeGreaterThanOrEqual(upAt - 1);
      expect(Object.keys(group.families).sort()).toHaveLength(5);
      // And it keeps going: later intervals push again.
      const pushes = reporter.stats().pushes;
      await waitFor(() => reporter.stats().pushes >= pushes + 3, { timeoutMs: 10_000 });
    });

    it.each([
      ['Prometheus', () => prom],
      ['VictoriaMetrics', () => vm],
    ] as const)(
      'remote write to %s down when the reporter starts: every sample taken in the outage arrives once',
      async (name, server) => {
        const tsdb = server();
        await tsdb.stop();
        const job = nextJob(`rw-late-${name}`);
        const reporter = start({
          target: { type: 'remote-write', url: tsdb.remoteWriteUrl },
          job,
          intervalMs: 250,
          flushTimeoutMs: 2000,
        });
        await waitFor(() => taken.length >= 10, { timeoutMs: 15_000 });
        expect(reporter.stats().pushes).toBe(0);
        await tsdb.restart();
        await waitFor(() => reporter.stats().pushes >= 1 && reporter.stats().samplesQueued === 0, {
          timeoutMs: 15_000,
        });
        await reporter.stop();
        expect(reporter.stats()).toMatchObject({ samplesDropped: 0, samplesQueued: 0 });

        const selector = `process_memory_bytes{job="${job}"}`;
        const real = await waitFor(
          async () => {
            if ('flush' in tsdb) await (tsdb as VictoriaMetricsServer).flush();
            const samples = (await rawSamples(tsdb.url, selector)).filter((p) => !Number.isNaN(p.value));
            return samples.length >= taken.length && samples;
          },
          { timeoutMs: 15_000, intervalMs: 250 },
        );
        expect(
          real.map((p) => p.timestamp),
          tsdb.logs(),
        ).toEqual(taken);
        const last = taken.at(-1)! / 1000;
        await waitFor(async () => (await countedByServer(tsdb.url, selector, last)) === taken.length, {
          timeoutMs: 10_000,
          intervalMs: 250,
        });
      },
    );

    it('an outage longer than the queue bound: every sample is stored or counted as dropped, none twice', async () => {
      await prom.stop();
      const job = nextJob('rw-bounded');
      const bound = 5; // sample times of the five gauges
      const reporter = start({
        target: { type: 'remote-write', url: prom.remoteWriteUrl, queue: { maxSamples: bound * 5 } },
        job,
        intervalMs: 200,
        flushTimeoutMs: 1000,
      });
      await waitFor(() => taken.length >= 3 * bound, { timeoutMs: 15_000 });
      await prom.restart();
      await waitFor(() => reporter.stats().pushes >= 1 && reporter.stats().samplesQueued === 0, {
        timeoutMs: 15_000,
      });
      await reporter.stop();
      const { samplesDropped, samplesQueued } = reporter.stats();
      expect(samplesQueued).toBe(0);
      expect(samplesDropped).toBeGreaterThan(0);
      expect(samplesDropped % 5).toBe(0);

      const selector = `process_memory_bytes{job="${job}"}`;
      const stored = (await rawSamples(prom.url, selector)).map((p) => p.timestamp);
      // Accounted for: stored plus dropped is everything taken; stored is in order, taken, and never repeated.
      expect(stored.length + samplesDropped / 5).toBe(taken.length);
      expect(new Set(stored).size).toBe(stored.length);
      expect(stored.filter((t) => !taken.includes(t))).toEqual([]);
      expect([...stored].sort((a, b) => a - b)).toEqual(stored);
      // The bound kept its worth of samples (the frozen batch stays whole while on the wire, so room for newer
      // ones is made among the waiting), and the final sample of stop() arrived.
      const shape = `stored, as indexes of taken: ${stored.map((t) => taken.indexOf(t)).join(',')} of ${taken.length}`;
      expect(stored.length, shape).toBeGreaterThanOrEqual(bound);
      expect(stored.at(-1), shape).toBe(taken.at(-1));
    });

    it.each([
      ['Prometheus', () => prom],
      ['VictoriaMetrics', () => vm],
    ] as const)(
      'behind a proxy that fails every other request with 503, %s gets every sample exactly once, in order',
      async (name, server) => {
        const tsdb = server();
        const proxy = await startFlakyProxy(tsdb.url);
        const job = nextJob(`flaky-${name}`);
        const errors: string[] = [];
        const reporter = start({
          target: { type: 'remote-write', url: `${proxy.url}/api/v1/write` },
          job,
          intervalMs: 200,
          // The fault here is the 503s. An answer slower than the attempt timeout is another fault (the batch
          // landed, its resend is refused as out of order: test/targets/remote-write.test.ts), and a CI machine
          // busy with other suites once made the receiver take over 3 s; give attempts room to finish.
          timeoutMs: 10_000,
          flushTimeoutMs: 20_000,
          onError: (error) => errors.push(error.message),
        });
        await waitFor(() => taken.length >= 40, { timeoutMs: 30_000 });
        await reporter.stop();
        const stats = reporter.stats();
        // Nothing dropped or left behind. (A flush may still end at its deadline: it keeps sending the batches
        // that arrive meanwhile, and the one cut short is resent by the next.)
        expect(stats, `${errors.join('\n')}\n${proxy.answers.join('\n')}`).toMatchObject({
          samplesDropped: 0,
          samplesQueued: 0,
        });
        // Half of all requests failed; every batch went through on the attempt after its 503.
        expect(proxy.requests.length).toBe(2 * proxy.forwarded());
        expect(proxy.forwarded()).toBeGreaterThanOrEqual(10);
        expect(
          proxy.answers.filter((a) => a !== '503' && a !== 'upstream 204 '),
          proxy.answers.join('\n'),
        ).toEqual([]);
        expect(stats.retries).toBeGreaterThan(0);

        const selector = `process_memory_bytes{job="${job}"}`;
        const real = await waitFor(
          async () => {
            if ('flush' in tsdb) await (tsdb as VictoriaMetricsServer).flush();
            const samples = (await rawSamples(tsdb.url, selector)).filter((p) => !Number.isNaN(p.value));
            return samples.length >= taken.length && samples;
          },
          { timeoutMs: 15_000, intervalMs: 250 },
        );
        // Exactly once (VictoriaMetrics keeps duplicates, so equality says it), oldest first.
        expect(real.map((p) => p.timestamp)).toEqual(taken);
        expect([...taken].sort((a, b) => a - b)).toEqual(taken);
        // The batches went out in order: each forwarded request is the one after the 503 before it.
        const forwarded = proxy.requests.filter((_r, i) => i % 2 === 1);
        const failed = proxy.requests.filter((_r, i) => i % 2 === 0);
        forwarded.forEach((request: SeenRequest, i) => {
          expect(request.body.equals(failed[i]!.body), `batch ${i} resent unchanged`).toBe(true);
        });
      },
    );

    it('on SIGTERM, two reporters in one process both deliver to the real Pushgateway; the signal is raised once', async () => {
      const jobs = [nextJob('two-a'), nextJob('two-b')];
      const child = runFixture('signal-push.ts', [
        JSON.stringify(
          jobs.map((job) => ({
            target: { type: 'pushgateway', url: gateway.url },
            job,
            intervalMs: 60_000,
          })),
        ),
      ]);
      await child.waitFor('ready');
      const sent = Date.now() / 1000;
      child.process.kill('SIGTERM');
      const exit = await child.exit(10_000);

      expect(exit, exit.stderr).toMatchObject({ code: null, signal: 'SIGTERM' });
      expect(exit.stdout).toContain('ready, SIGTERM listeners: 1');
      expect(exit.stdout.match(/raised /g)).toEqual(['raised ']);
      expect(exit.stdout).not.toContain('error ');
      const groups = await pushgatewayGroups(gateway.url);
      for (const job of jobs) {
        const group = groups.find((g) => g.labels.job === job);
        expect(group, `group ${job}`).toBeDefined();
        expect(group!.pushTimeSeconds).toBeGreaterThanOrEqual(sent - 1);
        expect(Object.keys(group!.families)).toHaveLength(5);
        expect(group!.labels.instance).toBe(hostname());
      }
    });
  },
);

import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeAll, expect, it, vi } from 'vitest';
import type { ResizeEvent, ResizeResult } from '../../examples/lambda-handler.js';
import {
  describeE2E,
  type E2EServer,
  freePort,
  type PushgatewayGroup,
  pushgatewayGroups,
  startPushgateway,
} from './servers.js';

// The Lambda example under a simulated runtime loop: one process, the module imported once (the cold start),
// then the handler invoked one event at a time with the process idle ("frozen") in between, against a real
// Pushgateway on loopback.

const FUNCTION_NAME = 'resize-images';
const FLUSH_TIMEOUT_MS = 1_000; // what the example configures
const MARGIN_MS = 300;

type Handler = (event: ResizeEvent) => Promise<ResizeResult>;

/** A cold start: imports the example afresh with this environment, as a new execution environment would. */
async function coldStart(env: Record<string, string>): Promise<Handler> {
  vi.resetModules();
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  try {
    const { handler } = await import('../../examples/lambda-handler.js');
    return handler;
  } finally {
    vi.unstubAllEnvs();
  }
}

function event(i: number): ResizeEvent {
  return { images: [{ width: 100 + i, height: 50 }], scale: 0.5 };
}

function expected(i: number): ResizeResult {
  return { statusCode: 200, pixels: Math.round((100 + i) * 0.5 * 50 * 0.5) };
}

/** A loopback TCP forwarder that counts the connections it accepts and reads the request lines sent. */
interface Forwarder {
  readonly url: string;
  /** TCP connections accepted so far. */
  connections(): number;
  /** `METHOD /path` of every HTTP request seen, in order. */
  requests(): string[];
  close(): Promise<void>;
}

async function startForwarder(to: E2EServer): Promise<Forwarder> {
  const sockets = new Set<Socket>();
  const sent: string[] = [];
  const server = createServer((client) => {
    const index = sent.push('') - 1;
    const upstream = connect(to.port, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      sent[index] += chunk.toString('latin1');
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => sent.length,
    // A request line starts the stream or follows the previous request's body, which is text ending in \n.
    requests: () =>
      sent.flatMap((text) =>
        [...text.matchAll(/(?:^|\n)([A-Z]+) (\S+) HTTP\/1\.1\r\n/g)].map((m) => `${m[1]} ${m[2]}`),
      ),
    close: () => closeServer(server, sockets),
  };
}

/** A server that accepts connections, reads everything and never answers. */
async function startBlackHole(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.resume();
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, close: () => closeServer(server, sockets) };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
}

function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function group(gateway: E2EServer, job: string): Promise<PushgatewayGroup | undefined> {
  return (await pushgatewayGroups(gateway.url)).find((g) => g.labels.job === job);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

describeE2E('the Lambda handler example in a simulated runtime loop', ['prometheus-pushgateway'], () => {
  let gateway: E2EServer;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    gateway = await startPushgateway();
  });

  afterEach(async () => {
    await Promise.allSettled(cleanups.splice(0).map((cleanup) => cleanup()));
  });

  it('pushes exactly one sample per invocation, over one kept-alive connection', async () => {
    const forwarder = await startForwarder(gateway);
    cleanups.push(forwarder.close);
    const handler = await coldStart({
      PUSHGATEWAY_URL: forwarder.url,
      AWS_LAMBDA_FUNCTION_NAME: FUNCTION_NAME,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    });
    // The cold start configures; it does not connect or push.
    expect(forwarder.connections()).toBe(0);

    let lastPush = 0;
    for (let i = 0; i < 20; i++) {
      const before = forwarder.requests().length;
      expect(await handler(event(i))).toEqual(expected(i));
      // Pushed before the result came back: the request is through the forwarder and stored by the gateway.
      expect(forwarder.requests().slice(before), `invocation ${i}`).toEqual([
        `PUT /metrics/job/${FUNCTION_NAME}/instance@base64/${Buffer.from('$LATEST').toString('base64url')}`,
      ]);
      const stored = await group(gateway, FUNCTION_NAME);
      expect(stored?.lastPushSuccessful).toBe(true);
      expect(stored?.pushTimeSeconds).toBeGreaterThan(lastPush);
      lastPush = stored?.pushTimeSeconds ?? Number.POSITIVE_INFINITY;
      // Frozen between invocations: no work, no timers of ours.
      await sleep(20 + (i % 3) * 20);
    }

    const stored = await group(gateway, FUNCTION_NAME);
    expect(stored?.labels).toEqual({ job: FUNCTION_NAME, instance: '$LATEST' });
    expect(Object.keys(stored?.families ?? {}).sort()).toEqual([
      'process_cpu_percent',
      'process_memory_bytes',
      'process_memory_peak_bytes',
      'tracing_cpu_overhead_percent',
      'tracing_memory_overhead_bytes',
    ]);
    // Nothing between invocations either: the 20 requests above are all there are.
    await sleep(200);
    expect(forwarder.requests()).toHaveLength(20);
    console.log(`lambda: 20 invocations used ${forwarder.connections()} TCP connection(s) to the gateway`);
    expect(forwarder.connections()).toBeGreaterThanOrEqual(1);
    expect(forwarder.connections()).toBeLessThanOrEqual(2);
  });

  it("passes the handler's errors through unchanged, and still pushes for the failed invocation", async () => {
    const forwarder = await startForwarder(gateway);
    cleanups.push(forwarder.close);
    const handler = await coldStart({ PUSHGATEWAY_URL: forwarder.url, AWS_LAMBDA_FUNCTION_NAME: 'failing' });

    await expect(handler({ images: [], scale: -1 })).rejects.toThrow(
      new RangeError('Expected `scale` to be a positive number, got -1'),
    );
    const thrown = new Error('the event could not be read');
    const unreadable = {
      scale: 1,
      get images(): ResizeEvent['images'] {
        throw thrown;
      },
    };
    await expect(handler(unreadable)).rejects.toBe(thrown);
    expect(await handler(event(1))).toEqual(expected(1));
    expect(forwarder.requests()).toHaveLength(3);
  });

  it.each([
    ['a closed port', async () => ({ url: `http://127.0.0.1:${await freePort()}`, close: async () => {} })],
    ['a server that never answers', startBlackHole],
  ])('adds at most flushTimeoutMs to an invocation when the target is %s', async (_name, startTarget) => {
    const target = await startTarget();
    cleanups.push(target.close);
    const handler = await coldStart({ PUSHGATEWAY_URL: target.url, AWS_LAMBDA_FUNCTION_NAME: 'dead' });
    for (let i = 0; i < 2; i++) {
      const started = performance.now();
      expect(await handler(event(i))).toEqual(expected(i));
      const elapsed = performance.now() - started;
      console.log(`lambda: invocation against ${_name} took ${elapsed.toFixed(0)} ms`);
      expect(elapsed).toBeLessThanOrEqual(FLUSH_TIMEOUT_MS + MARGIN_MS);
    }
    const thrown = new Error('boom');
    const unreadable = {
      scale: 1,
      get images(): ResizeEvent['images'] {
        throw thrown;
      },
    };
    const started = performance.now();
    await expect(handler(unreadable)).rejects.toBe(thrown);
    expect(performance.now() - started).toBeLessThanOrEqual(FLUSH_TIMEOUT_MS + MARGIN_MS);
  });

  it('records the flush time withReporter adds on loopback with a warm connection', async () => {
    const invocations = 500;
    const measure = async (handler: Handler): Promise<{ sorted: number[]; cpuMs: number }> => {
      for (let i = 0; i < 20; i++) await handler(event(i)); // warm: connection open, code optimised
      const times: number[] = [];
      const cpu = process.cpuUsage();
      for (let i = 0; i < invocations; i++) {
        const started = performance.now();
        await handler(event(i));
        times.push(performance.now() - started);
      }
      const used = process.cpuUsage(cpu);
      return { sorted: times.sort((a, b) => a - b), cpuMs: (used.user + used.system) / 1000 / invocations };
    };
    const env = { PUSHGATEWAY_URL: gateway.url, AWS_LAMBDA_FUNCTION_NAME: 'bench' };
    // The same handler with the reporter disabled (`enabled` falls back to the environment): the baseline.
    const bare = await measure(await coldStart({ ...env, RESOURCE_ATTRIBUTION_ENABLED: 'false' }));
    const wrapped = await measure(await coldStart(env));

    const ms = (value: number) => `${value.toFixed(3)} ms`;
    const p50 = percentile(wrapped.sorted, 50) - percentile(bare.sorted, 50);
    const p99 = percentile(wrapped.sorted, 99) - percentile(bare.sorted, 99);
    console.log(
      `lambda: flush added by withReporter, loopback Pushgateway, warm connection, ${invocations} invocations ` +
        `(Node ${process.version}): p50 ${ms(p50)}, p99 ${ms(p99)}, max ${ms(wrapped.sorted.at(-1) ?? 0)}; ` +
        `CPU ${ms(wrapped.cpuMs - bare.cpuMs)} per invocation; bare handler p50 ${ms(percentile(bare.sorted, 50))}`,
    );
    const stored = await group(gateway, 'bench');
    expect(stored?.lastPushSuccessful).toBe(true);
    expect(p99).toBeLessThan(FLUSH_TIMEOUT_MS);
  });
});

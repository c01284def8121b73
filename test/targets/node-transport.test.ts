/**
 * The Node transport against real loopback servers: the attempt timeout it keeps itself (`sendWithin`), the
 * deadline, and what it keeps between requests (the proxy decision, the parsed URL). A push must leave no timer
 * and no listener behind: the deadline's signal is used again by the next push.
 */
import { getEventListeners } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createNodeTransport } from '../../src/transport/node-http.js';
import type { HttpRequest, Transport } from '../../src/transport/types.js';

const servers: Server[] = [];
const transports: Transport[] = [];

afterEach(async () => {
  vi.useRealTimers();
  for (const transport of transports.splice(0)) transport.close();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise((resolve) => {
          server.closeAllConnections();
          server.close(resolve);
        }),
    ),
  );
});

/** A loopback server answering with `answer`; resolves with its base URL. */
async function serve(answer: (response: ServerResponse, body: string) => void, host = '127.0.0.1') {
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => answer(response, body));
  });
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}

function transport(options: Parameters<typeof createNodeTransport>[0] = {}): Transport {
  const created = createNodeTransport(options);
  transports.push(created);
  return created;
}

const put = (url: string): HttpRequest => ({
  url: `${url}/metrics/job/x`,
  method: 'PUT',
  headers: { 'Content-Type': 'text/plain' },
  body: 'x 1\n',
});

/** `sendWithin`, which the Node transport always has. */
function sendWithin(t: Transport, request: HttpRequest, deadline: AbortSignal, timeoutMs: number) {
  if (!t.sendWithin) throw new Error('Expected the Node transport to keep the attempt timeout itself');
  return t.sendWithin(request, deadline, timeoutMs);
}

describe('the Node transport', () => {
  it('delivers, and leaves neither a timer nor a listener on the deadline behind', async () => {
    let received = '';
    const url = await serve((response, body) => {
      received = body;
      response.end();
    });
    const t = transport();
    const deadline = new AbortController().signal;
    // Our timers only: Node's own HTTP internals keep their references to the real ones.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    for (let i = 0; i < 3; i++) {
      await expect(sendWithin(t, put(url), deadline, 10_000)).resolves.toEqual({
        kind: 'success',
        status: 200,
      });
      expect(vi.getTimerCount()).toBe(0);
      expect(getEventListeners(deadline, 'abort')).toHaveLength(0);
    }
    expect(received).toBe('x 1\n');
  });

  it('ends an attempt whose response never comes at its timeout, as timed out', async () => {
    const url = await serve(() => {});
    const started = performance.now();
    const outcome = await sendWithin(transport(), put(url), new AbortController().signal, 200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(outcome).toMatchObject({ kind: 'retryable', error: { code: 'ERR_PROCPUSH_TIMEOUT' } });
    expect((outcome as { error: Error }).error.message).toBe(`PUT ${url}/metrics/job/x timed out`);
  });

  it('ends an attempt whose body stalls after the head at its timeout too', async () => {
    const url = await serve((response) => {
      response.writeHead(503, { 'Content-Length': '100' });
      response.write('partial');
    });
    const outcome = await sendWithin(transport(), put(url), new AbortController().signal, 200);
    expect((outcome as { error: Error }).error.message).toBe(`PUT ${url}/metrics/job/x timed out`);
  });

  it('ends an attempt when the deadline aborts, as aborted, and can send again afterwards', async () => {
    let hang = true;
    const url = await serve((response) => {
      if (!hang) response.end();
    });
    const t = transport();
    const deadline = new AbortController();
    setTimeout(() => deadline.abort(new DOMException('stopped', 'AbortError')), 50);
    const outcome = await sendWithin(t, put(url), deadline.signal, 10_000);
    expect((outcome as { error: Error }).error.message).toBe(`PUT ${url}/metrics/job/x was aborted`);
    expect(getEventListeners(deadline.signal, 'abort')).toHaveLength(0);
    hang = false;
    await expect(t.send(put(url), new AbortController().signal)).resolves.toEqual({
      kind: 'success',
      status: 200,
    });
  });

  it("reads a failure's status, Retry-After and body", async () => {
    const url = await serve((response) => {
      response.writeHead(503, { 'Retry-After': '7' });
      response.end('try later');
    });
    const outcome = await sendWithin(transport(), put(url), new AbortController().signal, 2_000);
    expect(outcome).toMatchObject({ kind: 'retryable', status: 503, retryAfterMs: 7_000 });
    expect((outcome as { error: Error }).error.message).toBe(
      `PUT ${url}/metrics/job/x answered 503: try later`,
    );
  });

  it('keeps the proxy variables it was created with', async () => {
    const url = await serve((response) => response.end());
    const env: Record<string, string> = {};
    const t = transport({ env });
    // Set after the transport was created: a proxy on a closed port would fail the push if it were read now.
    env.HTTP_PROXY = 'http://127.0.0.1:9';
    await expect(t.send(put(url), new AbortController().signal)).resolves.toEqual({
      kind: 'success',
      status: 200,
    });
  });

  it('sends to an IPv6 literal', async (context) => {
    let url: string;
    try {
      url = await serve((response) => response.end(), '::1');
    } catch {
      context.skip();
      return;
    }
    await expect(transport().send(put(url), new AbortController().signal)).resolves.toEqual({
      kind: 'success',
      status: 200,
    });
  });
});

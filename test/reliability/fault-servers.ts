/**
 * Misbehaving loopback servers for the fault suite, each on 127.0.0.1 and port 0 (never DNS): one that accepts
 * and never answers, one that stalls the body, one that resets mid-response, one that answers from a script,
 * and a proxy that fails every other request in front of a real server. Each records what reached it.
 */
import { createServer as createHttpServer, type IncomingMessage, request, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { defer } from './cleanup.js';

/** One request as a server saw it. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  /** performance.now() at arrival of the whole request. */
  readonly at: number;
  /** performance.now() when the client's connection closed; undefined while open. */
  closedAt: number | undefined;
}

/** A server under the test's control. */
export interface FaultServer {
  readonly url: string;
  readonly port: number;
  readonly requests: SeenRequest[];
  /** Connections open now. */
  openConnections(): number;
  close(): Promise<void>;
}

/** What a raw server does after it has read a request. */
export type RawBehaviour = 'silent' | 'stall-body' | 'reset';

/**
 * A TCP server that reads one HTTP request per connection and then: `silent` never writes a byte; `stall-body`
 * sends a 200 with `Content-Length: 1000` and 10 bytes of it; `reset` sends a 503's headers and half its body,
 * then resets the connection (RST).
 */
export async function startRawServer(behaviour: RawBehaviour): Promise<FaultServer> {
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    let buffer = Buffer.alloc(0);
    let seen: SeenRequest | undefined;
    socket.on('close', () => {
      sockets.delete(socket);
      if (seen) seen.closedAt = performance.now();
    });
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      if (seen) return;
      buffer = Buffer.concat([buffer, chunk]);
      const parsed = parseRequest(buffer);
      if (!parsed) return;
      seen = { ...parsed, at: performance.now(), closedAt: undefined };
      requests.push(seen);
      if (behaviour === 'stall-body') {
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n0123456789');
      } else if (behaviour === 'reset') {
        socket.write('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100\r\n\r\nhalf of a body', () =>
          setTimeout(() => socket.resetAndDestroy(), 20),
        );
      }
    });
  });
  return listen(server, requests, () => sockets.size, sockets);
}

/** Parses a complete request (head and `Content-Length` body) from the start of `buffer`, else undefined. */
function parseRequest(buffer: Buffer): Omit<SeenRequest, 'at' | 'closedAt'> | undefined {
  const end = buffer.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [start = '', ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  if (buffer.length < end + 4 + length) return undefined;
  const [method = '', path = ''] = start.split(' ');
  return { method, path, headers, body: buffer.subarray(end + 4, end + 4 + length) };
}

/** An answer of a scripted server; `body` may be a function that writes it (and sees the socket). */
export interface Answer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/** An HTTP server that answers the n-th request (from 0) with `answer(request, n)`. */
export async function startScriptedServer(
  answer: (request: SeenRequest, n: number) => Answer,
): Promise<FaultServer> {
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createHttpServer(async (req, res) => {
    const seen: SeenRequest = { ...(await readRequest(req)), at: performance.now(), closedAt: undefined };
    requests.push(seen);
    const { status, headers = {}, body = '' } = answer(seen, requests.length - 1);
    res.writeHead(status, { 'Content-Type': 'text/plain', ...headers });
    res.end(body);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return listen(server, requests, () => sockets.size, sockets);
}

/** Result of {@link startHugeBodyServer}: how much of the body it managed to write before the client hung up. */
export interface HugeBodyServer extends FaultServer {
  /** Resolves per request with the bytes written before the socket closed or the write ended. */
  readonly transfers: Promise<{ written: number; complete: boolean }>[];
}

/** Answers every request with `status` and a body of `bytes`, written with backpressure in 64 KiB chunks. */
export async function startHugeBodyServer(status: number, bytes: number): Promise<HugeBodyServer> {
  const requests: SeenRequest[] = [];
  const transfers: Promise<{ written: number; complete: boolean }>[] = [];
  const sockets = new Set<Socket>();
  const server = createHttpServer(async (req, res) => {
    requests.push({ ...(await readRequest(req)), at: performance.now(), closedAt: undefined });
    transfers.push(
      new Promise((resolve) => {
        res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': String(bytes) });
        const chunk = Buffer.alloc(64 * 1024, 'x');
        chunk.write('first line of a very large error body\n');
        let written = 0;
        let closed = false;
        res.on('close', () => {
          closed = true;
          resolve({ written, complete: written >= bytes && res.writableFinished });
        });
        const pump = () => {
          while (!closed && written < bytes) {
            const size = Math.min(chunk.length, bytes - written);
            written += size;
            // Only the first chunk carries the first line; the rest is filler.
            const ok = res.write(written === size ? chunk.subarray(0, size) : Buffer.alloc(size, 'y'));
            if (!ok) {
              res.once('drain', pump);
              return;
            }
          }
          if (!closed) res.end();
        };
        pump();
      }),
    );
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const base = await listen(server, requests, () => sockets.size, sockets);
  return { ...base, transfers };
}

/**
 * A proxy that answers every other request (the 1st, 3rd, ...) with 503 itself and forwards the rest to
 * `upstream`, returning the upstream's answer: half of all attempts fail, none of the failed ones got through.
 */
export async function startFlakyProxy(
  upstream: string,
): Promise<FaultServer & { forwarded: () => number; answers: string[] }> {
  const requests: SeenRequest[] = [];
  /** Each request's answer: "503" from the proxy, or the upstream's status and body. */
  const answers: string[] = [];
  const sockets = new Set<Socket>();
  let forwarded = 0;
  const server = createHttpServer(async (req, res) => {
    const seen: SeenRequest = { ...(await readRequest(req)), at: performance.now(), closedAt: undefined };
    requests.push(seen);
    if (requests.length % 2 === 1) {
      answers.push('503');
      res.writeHead(503, { 'Content-Type': 'text/plain' });
      res.end('flaky proxy: try again');
      return;
    }
    forwarded++;
    const target = new URL(seen.path, upstream);
    const headers = { ...seen.headers, host: target.host };
    const upstreamRequest = request(target, { method: seen.method, headers }, async (upstreamResponse) => {
      const chunks: Buffer[] = [];
      for await (const chunk of upstreamResponse) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      answers.push(`upstream ${upstreamResponse.statusCode} ${body.toString().slice(0, 200)}`);
      res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
      res.end(body);
    });
    upstreamRequest.on('error', (error) => {
      answers.push(`upstream failed: ${error.message}`);
      res.writeHead(502);
      res.end(`upstream failed: ${error.message}`);
    });
    upstreamRequest.end(seen.body);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const base = await listen(server, requests, () => sockets.size, sockets);
  return { ...base, forwarded: () => forwarded, answers };
}

async function readRequest(req: IncomingMessage): Promise<Omit<SeenRequest, 'at' | 'closedAt'>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { method: req.method ?? '', path: req.url ?? '', headers, body: Buffer.concat(chunks) };
}

async function listen(
  server: Server | NetServer,
  requests: SeenRequest[],
  openConnections: () => number,
  sockets: Set<Socket>,
): Promise<FaultServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
    return closed;
  };
  defer(close);
  return { url: `http://127.0.0.1:${port}`, port, requests, openConnections, close };
}

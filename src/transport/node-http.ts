/**
 * The Node transport, on `node:http(s)` with a keep-alive agent: about 0.4 ms of CPU per request and little
 * memory, where Node's built-in fetch costs about 1.4 ms and 13–40 MB of RSS on first use (BENCHMARKS.md).
 * The modules load on the first send, so importing procpush costs nothing for them. A request that
 * `HTTPS_PROXY`/`HTTP_PROXY` send through a proxy goes through npm undici instead (`node-undici.ts`), imported only
 * then.
 */
import type * as Http from 'node:http';
import { redactUrl } from '../redact.js';
import type { TlsOptions } from '../types.js';
import { classifyError, classifyResponse } from './classify.js';
import type { TargetTls } from './node-undici.js';
import { type ProxyEnv, proxyFor, proxyVariable } from './proxy-env.js';
import { ERROR_BODY_BYTES, type HttpRequest, type Outcome, type Transport } from './types.js';

/** Options of the Node transport. */
export interface NodeTransportOptions {
  readonly tls?: TlsOptions | undefined;
  /** Where `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` are read, at each request. @default process.env */
  readonly env?: ProxyEnv | undefined;
  /** Sockets per origin, at most. @default 2 */
  readonly maxSockets?: number;
}

/** A body larger than this is not drained for reuse of the connection: the socket is closed instead. */
const DRAIN_LIMIT = 64 * 1024;

/** Creates the transport; agents are created on the first request to each protocol, or through each proxy. */
export function createNodeTransport(options: NodeTransportOptions = {}): Transport {
  const agents = new Map<string, Http.Agent>();
  const proxied = new Map<string, Promise<Transport>>();

  function viaProxy(proxy: string, url: URL): Promise<Transport> {
    let transport = proxied.get(proxy);
    if (!transport) {
      transport = Promise.all([import('./node-undici.js'), targetTls(options.tls)]).then(
        ([{ createUndiciTransport }, tls]) =>
          createUndiciTransport({
            proxy,
            variable: proxyVariable(url),
            tls,
            ...(options.maxSockets !== undefined ? { maxSockets: options.maxSockets } : {}),
          }),
      );
      proxied.set(proxy, transport);
    }
    return transport;
  }

  // Imported once and kept: each `import()` passes through the module loader's hooks, which a loader such as
  // tsx or an APM's runs on a worker thread that the main thread waits for, synchronously, on every push.
  let httpModule: Promise<typeof Http> | undefined;
  let httpsModule: Promise<typeof import('node:https')> | undefined;

  async function agentFor(protocol: string): Promise<{ agent: Http.Agent; request: typeof Http.request }> {
    const https = protocol === 'https:';
    // The module object (`default`), not the ESM namespace: Node never updates a builtin's named exports
    // when the module is patched, so `namespace.request` would bypass msw and APM instrumentation. Its
    // `request` is read at every call, so a patch applied later is still seen.
    if (https) httpsModule ??= import('node:https').then((m) => m.default);
    else httpModule ??= import('node:http').then((m) => m.default);
    const mod = https ? await httpsModule! : await httpModule!;
    let agent = agents.get(protocol);
    if (!agent) {
      const common = { keepAlive: true, maxSockets: options.maxSockets ?? 2, scheduling: 'lifo' as const };
      if (https) {
        agent = new (mod as typeof import('node:https')).Agent({
          ...common,
          ...(await targetTls(options.tls)),
        });
      } else {
        agent = new mod.Agent(common);
      }
      agents.set(protocol, agent);
    }
    return { agent, request: mod.request };
  }

  return {
    async send(request, signal) {
      const what = `${request.method} ${redactUrl(request.url)}`;
      if (signal.aborted) return classifyError(signal.reason, what, signal);
      try {
        const url = new URL(request.url);
        const proxy = proxyFor(url, options.env ?? process.env);
        if (proxy !== undefined) return await (await viaProxy(proxy, url)).send(request, signal);
        const { agent, request: httpRequest } = await agentFor(url.protocol);
        return await exchange(httpRequest, agent, url, request, signal, what);
      } catch (error) {
        return classifyError(error, what, signal);
      }
    },
    close() {
      for (const agent of agents.values()) agent.destroy();
      agents.clear();
      for (const transport of proxied.values()) void transport.then((t) => t.close()).catch(() => {});
      proxied.clear();
    },
  };
}

/** The TLS settings of a target connection, on both paths; verification is off only when asked explicitly. */
async function targetTls(tls: TlsOptions | undefined): Promise<TargetTls | undefined> {
  if (tls === undefined) return undefined;
  const { rootCertificates } = await import('node:tls');
  return {
    // A custom CA is trusted in addition to the system's, not instead of them.
    ...(tls.ca !== undefined ? { ca: [...rootCertificates, tls.ca] } : {}),
    ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
    ...(tls.key !== undefined ? { key: tls.key } : {}),
    ...(tls.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
  };
}

function exchange(
  httpRequest: typeof Http.request,
  agent: Http.Agent,
  url: URL,
  request: HttpRequest,
  signal: AbortSignal,
  what: string,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const body = typeof request.body === 'string' ? Buffer.from(request.body) : request.body;
    const headers: Record<string, string> = { ...request.headers };
    if (body !== undefined) headers['Content-Length'] = String(body.byteLength);
    const req = httpRequest(url, { method: request.method, headers, agent, signal });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      let seen = 0;
      const onAbort = () => res.destroy(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      res.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (kept < ERROR_BODY_BYTES) {
          chunks.push(chunk.subarray(0, ERROR_BODY_BYTES - kept));
          kept += Math.min(chunk.length, ERROR_BODY_BYTES - kept);
        }
        // Only the first KiB is kept; a huge body is not drained, the socket is dropped instead.
        if (seen > DRAIN_LIMIT) {
          res.destroy();
          done();
        }
      });
      let finished = false;
      res.on('end', done);
      res.on('error', fail);
      // A reset mid-body may end the stream with 'close' alone.
      res.on('close', () => fail(new Error('the connection closed before the response ended')));
      function fail(error: Error) {
        if (finished) return;
        finished = true;
        signal.removeEventListener('abort', onAbort);
        reject(error);
      }
      function done() {
        if (finished) return;
        finished = true;
        signal.removeEventListener('abort', onAbort);
        const text = new TextDecoder().decode(Buffer.concat(chunks));
        resolve(
          classifyResponse(
            {
              status: res.statusCode ?? 0,
              location: res.headers.location,
              retryAfter: header(res.headers['retry-after']),
              body: text,
            },
            what,
          ),
        );
      }
    });
    req.end(body);
  });
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The Node transport, on `node:http(s)` with a keep-alive agent: about 0.4 ms of CPU per request and little
 * memory, where Node's built-in fetch costs about 1.4 ms and 13–40 MB of RSS on first use (BENCHMARKS.md).
 * The modules load on the first send, so importing procpush costs nothing for them. A request that
 * `HTTPS_PROXY`/`HTTP_PROXY` send through a proxy goes through npm undici instead (`node-undici.ts`), imported only
 * then.
 *
 * A reporter sends the same one or two URLs for its whole life, so everything a request needs besides its body is
 * worked out on the first send and kept: the module and agent per protocol, and per URL its parsed form and
 * whether it goes through a proxy.
 */
import type * as Http from 'node:http';
import { redactUrl } from '../redact.js';
import type { TlsOptions } from '../types.js';
import { classifyAbort, classifyError, classifyResponse, isSuccessStatus } from './classify.js';
import type { TargetTls } from './node-undici.js';
import { type ProxyEnv, proxyFor, proxyVariable, snapshotProxyEnv } from './proxy-env.js';
import { startTimeout, timeoutReason, unrefTimeout } from './retry.js';
import { ERROR_BODY_BYTES, type HttpRequest, type Outcome, type Transport } from './types.js';

/** Options of the Node transport. */
export interface NodeTransportOptions {
  readonly tls?: TlsOptions | undefined;
  /**
   * Where `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` are read, once, when the transport is created: a reporter
   * keeps the proxy settings it started with, and a change to them later applies to reporters started after it.
   * @default process.env
   */
  readonly env?: ProxyEnv | undefined;
  /** Sockets per origin, at most. @default 2 */
  readonly maxSockets?: number;
}

/** A body larger than this is not drained for reuse of the connection: the socket is closed instead. */
const DRAIN_LIMIT = 64 * 1024;

/** Routes kept at most; a reporter uses one or two, so more means a caller sending to ever new URLs. */
const MAX_ROUTES = 64;

/** The loaded `node:http` or `node:https` and its keep-alive agent. */
interface Client {
  /** The module object (see `load`), whose `request` is read at every call. */
  readonly module: typeof Http;
  readonly agent: Http.Agent;
}

/** How requests to one URL go: to the origin on the agent of its protocol, or through a proxy. */
type Route =
  | {
      readonly proxy: undefined;
      readonly https: boolean;
      /** The URL as `http.request` options, taken apart once rather than at every request. */
      readonly target: Readonly<Pick<Http.RequestOptions, 'protocol' | 'hostname' | 'port' | 'path'>>;
      /** The URL without credentials, for messages. */
      readonly shown: string;
    }
  | { readonly proxy: string; readonly url: URL; readonly shown: string };

/** Creates the transport; agents are created on the first request to each protocol, or through each proxy. */
export function createNodeTransport(options: NodeTransportOptions = {}): Transport {
  const env = snapshotProxyEnv(options.env ?? process.env);
  const routes = new Map<string, Route>();
  const proxied = new Map<string, Promise<Transport>>();
  const clients: { http?: Client | undefined; https?: Client | undefined } = {};
  const loading: { http?: Promise<Client> | undefined; https?: Promise<Client> | undefined } = {};
  let decoder: InstanceType<typeof TextDecoder> | undefined;

  function routeOf(rawUrl: string): Route {
    let route = routes.get(rawUrl);
    if (route) return route;
    const url = new URL(rawUrl);
    const shown = redactUrl(rawUrl);
    const proxy = proxyFor(url, env);
    route =
      proxy !== undefined
        ? { proxy, url, shown }
        : {
            proxy: undefined,
            https: url.protocol === 'https:',
            target: {
              protocol: url.protocol,
              // An IPv6 literal without its brackets, as `http.request` expects (and `urlToHttpOptions` gives).
              hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
              port: url.port,
              path: `${url.pathname}${url.search}`,
            },
            shown,
          };
    if (routes.size >= MAX_ROUTES) routes.clear();
    routes.set(rawUrl, route);
    return route;
  }

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
  function load(https: boolean): Promise<Client> {
    const key = https ? 'https' : 'http';
    const pending = loading[key];
    if (pending) return pending;
    const created = (async (): Promise<Client> => {
      const common = { keepAlive: true, maxSockets: options.maxSockets ?? 2, scheduling: 'lifo' as const };
      // The module object (`default`), not the ESM namespace: Node never updates a builtin's named exports
      // when the module is patched, so `namespace.request` would bypass msw and APM instrumentation. Its
      // `request` is read at every call, so a patch applied later is still seen.
      if (https) {
        const module = (await import('node:https')).default;
        const agent = new module.Agent({ ...common, ...(await targetTls(options.tls)) });
        return { module: module as unknown as typeof Http, agent };
      }
      const module = (await import('node:http')).default;
      return { module, agent: new module.Agent(common) };
    })();
    loading[key] = created;
    created.then(
      (client) => {
        // Kept for the sends that follow, unless close() came first: then it is closed too.
        if (loading[key] === created) clients[key] = client;
        else client.agent.destroy();
      },
      () => {
        if (loading[key] === created) loading[key] = undefined;
      },
    );
    return created;
  }

  function decode(chunks: readonly Buffer[]): string {
    decoder ??= new TextDecoder();
    return decoder.decode(Buffer.concat(chunks));
  }

  async function sendWithin(
    request: HttpRequest,
    signal: AbortSignal,
    timeoutMs: number | undefined,
  ): Promise<Outcome> {
    let route: Route;
    try {
      route = routeOf(request.url);
    } catch (error) {
      return classifyError(error, `${request.method} ${redactUrl(request.url)}`, signal);
    }
    const what = `${request.method} ${route.shown}`;
    if (signal.aborted) return classifyError(signal.reason, what, signal);
    try {
      if (route.proxy !== undefined) {
        const proxied = await viaProxy(route.proxy, route.url);
        if (timeoutMs === undefined) return await proxied.send(request, signal);
        const timeout = startTimeout(timeoutMs, signal);
        return await proxied.send(request, timeout.signal).finally(timeout.clear);
      }
      const client = (route.https ? clients.https : clients.http) ?? (await load(route.https));
      return await exchange(client, route.target, request, signal, timeoutMs, what, decode);
    } catch (error) {
      return classifyError(error, what, signal);
    }
  }

  return {
    send: (request, signal) => sendWithin(request, signal, undefined),
    sendWithin,
    close() {
      for (const client of [clients.http, clients.https]) client?.agent.destroy();
      clients.http = clients.https = undefined;
      loading.http = loading.https = undefined;
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

/**
 * One request and response. Ends early, as a timeout, when `signal` aborts or `timeoutMs` passes: one listener on
 * the signal and one plain timer, rather than `http.request`'s `signal` option (which also watches the stream's
 * end) plus a listener on the response and a signal per attempt.
 */
function exchange(
  client: Client,
  target: Extract<Route, { proxy: undefined }>['target'],
  request: HttpRequest,
  signal: AbortSignal,
  timeoutMs: number | undefined,
  what: string,
  decode: (chunks: readonly Buffer[]) => string,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return resolve(classifyAbort(signal.reason, what));
    const { body } = request;
    const req = client.module.request({
      ...target,
      method: request.method,
      headers: request.headers,
      agent: client.agent,
    });
    // A string body goes out as a string: Node then writes the head and the body in one piece.
    if (body !== undefined)
      req.setHeader('Content-Length', typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
    let response: Http.IncomingMessage | undefined;
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (timer !== undefined) clearTimeout(timer);
      return true;
    };
    const abort = (reason: unknown) => {
      if (!settle()) return;
      req.destroy(reason as Error);
      response?.destroy(reason as Error);
      resolve(classifyAbort(reason, what));
    };
    const onAbort = () => abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = timeoutMs === undefined ? undefined : unrefTimeout(() => abort(timeoutReason()), timeoutMs);
    const fail = (error: Error) => {
      if (settle()) reject(error);
    };
    req.on('error', fail);
    req.on('response', (res) => {
      response = res;
      const status = res.statusCode ?? 0;
      // Only a failure's body is read (its first KiB): a success is classified by its status alone.
      const keep = !isSuccessStatus(status);
      const chunks: Buffer[] = [];
      let kept = 0;
      let seen = 0;
      res.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (keep && kept < ERROR_BODY_BYTES) {
          chunks.push(chunk.subarray(0, ERROR_BODY_BYTES - kept));
          kept += Math.min(chunk.length, ERROR_BODY_BYTES - kept);
        }
        // Only the first KiB is kept; a huge body is not drained, the socket is dropped instead.
        if (seen > DRAIN_LIMIT) {
          res.destroy();
          done();
        }
      });
      res.on('end', done);
      res.on('error', fail);
      // A reset mid-body may end the stream with 'close' alone; after 'end' it is the normal last event.
      res.on('close', () => {
        if (!settled) fail(new Error('the connection closed before the response ended'));
      });
      function done() {
        if (!settle()) return;
        if (!keep) return resolve(classifyResponse({ status, body: '' }, what));
        resolve(
          classifyResponse(
            {
              status,
              location: res.headers.location,
              retryAfter: header(res.headers['retry-after']),
              body: kept === 0 ? '' : decode(chunks),
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

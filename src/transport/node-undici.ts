/**
 * The proxied Node transport: npm undici's `request` through a `ProxyAgent`, for the requests that `HTTPS_PROXY`
 * or `HTTP_PROXY` send through a proxy. undici is imported on the first proxied send, never before: importing it
 * costs 106–157 ms (DESIGN.md, Runtimes), which a process without a proxy must not pay.
 *
 * An `http:` target goes to the proxy in absolute form (`PUT http://gw:9091/metrics/...`), as curl does, because
 * proxies commonly allow CONNECT to port 443 only; an `https:` target goes through a CONNECT tunnel, so TLS (the
 * CA, the client certificate) is end to end with the target.
 */
import type * as Undici from 'undici';
import { PushError, PushErrorCode } from '../errors.js';
import { redactSecrets, redactUrl } from '../redact.js';
import { classifyError, classifyResponse, tlsFailure } from './classify.js';
import { ERROR_BODY_BYTES, type HttpRequest, type Outcome, type Transport } from './types.js';

/** TLS settings of the target connection, as Node's `tls.connect` takes them. */
export interface TargetTls {
  readonly ca?: string[];
  readonly cert?: string;
  readonly key?: string;
  readonly rejectUnauthorized?: boolean;
}

/** Options of the proxied transport. */
export interface UndiciTransportOptions {
  /** The proxy URL, credentials allowed (`http://user:pass@proxy:3128`); they are never shown. */
  readonly proxy: string;
  /** Which variable named the proxy, for messages. */
  readonly variable: string;
  readonly tls?: TargetTls | undefined;
  /** Connections per origin, at most. @default 2 */
  readonly maxSockets?: number;
}

/** A body larger than this is not drained for reuse of the connection: the socket is closed instead. */
const DRAIN_LIMIT = 64 * 1024;

/** Creates a transport that sends every request through `options.proxy`. */
export function createUndiciTransport(options: UndiciTransportOptions): Transport {
  const shownProxy = redactUrl(options.proxy);
  const secrets = proxySecrets(options.proxy);
  let loaded: Promise<{ request: typeof Undici.request; agent: Undici.ProxyAgent }> | undefined;
  // A TLS alert from the target (a refused client certificate) arrives as a socket error that undici replaces
  // with "other side closed" (lib/dispatcher/client-h1.js); the sockets are watched so the real cause is reported.
  // One request is in flight per reporter, so the last one seen belongs to the current attempt.
  let tlsAlert: unknown;
  const watch =
    (connect: Undici.buildConnector.connector): Undici.buildConnector.connector =>
    (connectOptions, callback) =>
      connect(connectOptions, (...result) => {
        result[1]?.on('error', (socketError) => {
          if (tlsFailure(socketError, '') !== undefined) tlsAlert = socketError;
        });
        callback(...result);
      });

  function load() {
    loaded ??= import('undici').then(({ Pool, ProxyAgent, request }) => {
      const agent = new ProxyAgent({
        uri: options.proxy,
        proxyTunnel: false,
        connections: options.maxSockets ?? 2,
        factory: (origin, factoryOptions) => {
          const { connect, ...rest } = factoryOptions as Undici.Pool.Options;
          return new Pool(
            origin,
            typeof connect === 'function' ? { ...rest, connect: watch(connect) } : factoryOptions,
          );
        },
        ...(options.tls ? { requestTls: { ...options.tls } } : {}),
        // The extra CA also verifies an https:// proxy; the client certificate is for the target only.
        ...(options.tls?.ca ? { proxyTls: { ca: options.tls.ca } } : {}),
      });
      return { request, agent };
    });
    return loaded;
  }

  return {
    async send(request, signal) {
      const what = `${request.method} ${redactUrl(request.url)} via proxy ${shownProxy}`;
      if (!URL.canParse(options.proxy)) {
        const message = `${what} failed: ${options.variable} is not a URL; expected http://[user:password@]host:port`;
        return { kind: 'failure', error: new PushError(PushErrorCode.network, message) };
      }
      if (signal.aborted) return classifyError(signal.reason, what, signal);
      tlsAlert = undefined;
      try {
        const { request: send, agent } = await load();
        return await exchange(send, agent, request, signal, what, reset);
      } catch (error) {
        const alert = signal.aborted || tlsAlert === undefined ? undefined : tlsFailure(tlsAlert, what);
        const outcome: Outcome = alert
          ? { kind: 'failure', error: alert }
          : (proxyRefusal(error, what, options.variable) ?? classifyError(error, what, signal));
        return scrub(outcome, secrets);
      }
    },
    close: reset,
  };

  /** Destroys the agent, its sockets and a CONNECT in progress; the next send creates a new one. */
  function reset() {
    const current = loaded;
    loaded = undefined;
    void current?.then(({ agent }) => agent.destroy()).catch(() => {});
  }
}

async function exchange(
  send: typeof Undici.request,
  agent: Undici.ProxyAgent,
  request: HttpRequest,
  signal: AbortSignal,
  what: string,
  reset: () => void,
): Promise<Outcome> {
  // undici 7 follows no redirect unless its redirect interceptor is composed in; `maxRedirections: 0` states it,
  // and undici refuses any other value (lib/core/request.js). A 3xx is a failure, never followed (classify.ts).
  const requestOptions: NonNullable<Parameters<typeof Undici.request>[1]> & { maxRedirections: 0 } = {
    method: request.method,
    headers: { ...request.headers },
    dispatcher: agent,
    signal,
    maxRedirections: 0,
    ...(request.body !== undefined ? { body: request.body } : {}),
  };
  const response = await beforeAbort(send(request.url, requestOptions), signal, reset);
  const body = await readPrefix(response.body);
  return classifyResponse(
    {
      status: response.statusCode,
      location: header(response.headers.location),
      retryAfter: header(response.headers['retry-after']),
      body,
    },
    what,
  );
}

/**
 * Settles with `promise`, or rejects when `signal` aborts first. undici honours `signal` only once a request is
 * on a connection: while the proxy has not answered CONNECT (or the connection to it hangs) the request waits in
 * the pool, so an abort there also destroys the agent, which ends the connection attempt.
 */
function beforeAbort<T>(promise: Promise<T>, signal: AbortSignal, onAbort: () => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const abort = () => {
      onAbort();
      reject(signal.reason);
    };
    if (signal.aborted) return abort();
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error);
      },
    );
  });
}

/** Reads the first KiB; drains up to `DRAIN_LIMIT` so the connection is reused, else drops it. */
async function readPrefix(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let kept = 0;
  let seen = 0;
  for await (const chunk of body) {
    seen += chunk.length;
    if (kept < ERROR_BODY_BYTES) {
      chunks.push(chunk.subarray(0, ERROR_BODY_BYTES - kept));
      kept += Math.min(chunk.length, ERROR_BODY_BYTES - kept);
    }
    if (seen > DRAIN_LIMIT) {
      body.destroy();
      break;
    }
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/**
 * undici reports a proxy's refusal as an error whose message holds the proxy's status: "Proxy response (407)
 * !== 200 when HTTP Tunneling" (CONNECT), "Proxy Authentication Required (407)" (absolute form). A 407 or another
 * 4xx is the proxy's final answer; anything else may pass.
 */
function proxyRefusal(error: unknown, what: string, variable: string): Outcome | undefined {
  const message = (error as { message?: unknown } | undefined)?.message;
  if (typeof message !== 'string') return undefined;
  const match = /^Proxy response \((\d{3})\)|^Proxy Authentication Required \((407)\)/.exec(message);
  if (!match) return undefined;
  const status = Number(match[1] ?? match[2]);
  if (status === 407) {
    const text = `${what} failed: the proxy refused the credentials (407 Proxy Authentication Required); check the user name and password in ${variable}`;
    return { kind: 'failure', error: new PushError(PushErrorCode.rejected, text, { cause: error }) };
  }
  const text = `${what} failed: the proxy answered ${status} instead of connecting`;
  if (status >= 400 && status < 500 && status !== 429) {
    return { kind: 'failure', error: new PushError(PushErrorCode.rejected, text, { cause: error }) };
  }
  return { kind: 'retryable', error: new PushError(PushErrorCode.network, text, { cause: error }) };
}

/** The proxy's password, raw and decoded, and its basic credentials: none may reach a message. */
function proxySecrets(proxy: string): string[] {
  if (!URL.canParse(proxy)) return [proxy];
  const { username, password } = new URL(proxy);
  if (password === '') return [];
  const decoded = decodeURIComponent(password);
  const basic = Buffer.from(`${decodeURIComponent(username)}:${decoded}`).toString('base64');
  return [password, decoded, basic];
}

function scrub(outcome: Outcome, secrets: readonly string[]): Outcome {
  if (outcome.kind === 'success' || secrets.length === 0) return outcome;
  const { error } = outcome;
  const message = redactSecrets(error.message, secrets);
  if (message === error.message) return outcome;
  const clean = new PushError(error.code, message, {
    status: error.status,
    body: error.body,
    cause: error.cause,
  });
  return { ...outcome, error: clean };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

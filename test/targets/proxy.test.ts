/**
 * Proxies through the public API: a CONNECT proxy written here (CONNECT tunnels for https targets, absolute-form
 * forwarding for http targets) that records what went through it, in front of loopback Pushgateways over http
 * and https (certificates made with `openssl`). Also proves that a push without a proxy never loads undici.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PushErrorCode, type PushResult, pushOnce, type ReporterOptions } from '../../src/node.js';
import { makeCertificates } from '../helpers/certificates.js';

interface Hop {
  kind: 'connect' | 'forward';
  /** `host:port` for CONNECT, the absolute URL for forwarding. */
  target: string;
  proxyAuthorization: string | undefined;
}

interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'];
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const USER = 'pp-user';
const PASSWORD = 'pa55-w0rd!secret';
const CREDENTIALS = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

let dir: string;
let ca: string;
let serverTls: https.ServerOptions;
const servers: Server[] = [];
/** Every connection the servers of a test accepted, so none outlives it (a silent proxy keeps its own open). */
const sockets = new Set<Socket>();
const savedEnv: Record<string, string | undefined> = {};

async function listen(server: Server): Promise<number> {
  servers.push(server);
  server.on('connection', (socket: Socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A minimal Pushgateway: records each request and answers `status` (200 unless told). */
async function gateway(
  protocol: 'http' | 'https',
  answer: (res: http.ServerResponse) => void = (res) => res.writeHead(200).end(),
  tlsOptions: https.ServerOptions = serverTls,
) {
  const seen: Recorded[] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    req.resume();
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      answer(res);
    });
  };
  const server = protocol === 'https' ? https.createServer(tlsOptions, handler) : http.createServer(handler);
  const port = await listen(server);
  return { url: `${protocol}://127.0.0.1:${port}`, seen };
}

/**
 * The proxy: CONNECT opens a tunnel to a loopback port; an absolute-form request is forwarded to a loopback
 * http server. With `requireAuth`, anything without the right `Proxy-Authorization` gets 407.
 */
async function proxy(requireAuth = false) {
  const hops: Hop[] = [];
  const authorized = (header: string | undefined) => !requireAuth || header === CREDENTIALS;
  const server = http.createServer((req, res) => {
    const auth = req.headers['proxy-authorization'];
    hops.push({ kind: 'forward', target: req.url ?? '', proxyAuthorization: auth });
    const target = new URL(req.url ?? '');
    if (!authorized(auth)) {
      res.writeHead(407, { 'Proxy-Authenticate': 'Basic realm="test"' }).end('credentials needed');
      return;
    }
    if (target.hostname !== '127.0.0.1') {
      res.writeHead(502).end();
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = http.request(target, { method: req.method ?? 'GET', headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('connect', (req: http.IncomingMessage, client: Socket, head: Buffer) => {
    const auth = req.headers['proxy-authorization'];
    hops.push({ kind: 'connect', target: req.url ?? '', proxyAuthorization: auth });
    client.on('error', () => {});
    if (!authorized(auth)) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n',
      );
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    if (host !== '127.0.0.1') {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  const port = await listen(server);
  return { port, url: `http://127.0.0.1:${port}`, hops };
}

function withEnv(env: Record<string, string>, run: () => Promise<PushResult>): Promise<PushResult> {
  Object.assign(process.env, env);
  return run().finally(() => {
    for (const name of Object.keys(env)) delete process.env[name];
  });
}

function push(url: string, options: ReporterOptions = {}): Promise<PushResult> {
  return pushOnce({
    target: { type: 'pushgateway', url },
    job: 'proxy-test',
    instance: 'box',
    flushTimeoutMs: 5_000,
    timeoutMs: 2_000,
    ...options,
  });
}

/** Everything an error carries, messages and causes included, as text. */
function everything(result: PushResult): string {
  return `${result.error?.message}\n${inspect(result.error, { depth: 10 })}\n${JSON.stringify(result.error)}`;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'procpush-proxy-'));
  makeCertificates(dir, [
    {
      name: 'server',
      cn: 'server',
      extensions: 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
    },
    { name: 'client', cn: 'client', extensions: 'extendedKeyUsage=clientAuth\n' },
  ]);
  ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
  serverTls = { cert: readFileSync(join(dir, 'server.pem')), key: readFileSync(join(dir, 'server.key')) };
  for (const name of PROXY_VARIABLES) {
    savedEnv[name] = process.env[name];
    delete process.env[name];
  }
});

afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('pushing through HTTP_PROXY and HTTPS_PROXY', () => {
  it('sends an http push to the proxy in absolute form, and the Pushgateway gets it', async () => {
    const [gw, px] = await Promise.all([gateway('http'), proxy()]);
    const result = await withEnv({ HTTP_PROXY: px.url }, () => push(gw.url));
    expect(result).toMatchObject({ ok: true, status: 200, attempts: 1 });
    expect(px.hops).toEqual([
      {
        kind: 'forward',
        target: `${gw.url}/metrics/job/proxy-test/instance/box`,
        proxyAuthorization: undefined,
      },
    ]);
    expect(gw.seen.map((r) => `${r.method} ${r.url}`)).toEqual(['PUT /metrics/job/proxy-test/instance/box']);
  });

  it('tunnels an https push through CONNECT, trusting the custom CA end to end', async () => {
    const [gw, px] = await Promise.all([gateway('https'), proxy()]);
    const result = await withEnv({ https_proxy: px.url }, () => push(gw.url, { tls: { ca } }));
    expect(result).toMatchObject({ ok: true, status: 200, attempts: 1 });
    expect(px.hops.map((h) => `${h.kind} ${h.target}`)).toEqual([
      `connect ${gw.url.replace('https://', '')}`,
    ]);
    expect(gw.seen).toHaveLength(1);
  });

  it('fails with ERR_PROCPUSH_TLS, once, when the tunnelled server is not trusted', async () => {
    const [gw, px] = await Promise.all([gateway('https'), proxy()]);
    const result = await withEnv({ HTTPS_PROXY: px.url }, () => push(gw.url));
    expect(result).toMatchObject({ ok: false, attempts: 1, error: { code: PushErrorCode.tls } });
    expect(result.error?.message).toContain('`tls.ca`');
    expect(gw.seen).toHaveLength(0);
  });

  it('does not follow a redirect that comes back through the proxy', async () => {
    const [gw, px] = await Promise.all([
      gateway('http', (res) => res.writeHead(302, { Location: 'http://127.0.0.1:9/elsewhere' }).end()),
      proxy(),
    ]);
    const result = await withEnv({ HTTP_PROXY: px.url }, () => push(gw.url));
    expect(result).toMatchObject({
      ok: false,
      status: 302,
      attempts: 1,
      error: { code: PushErrorCode.redirected },
    });
    expect(px.hops).toHaveLength(1);
    expect(gw.seen).toHaveLength(1);
  });

  it('goes direct for hosts in NO_PROXY', async () => {
    const [gw, tlsGw, px] = await Promise.all([gateway('http'), gateway('https'), proxy()]);
    const env = { HTTP_PROXY: px.url, HTTPS_PROXY: px.url, NO_PROXY: 'example.test,127.0.0.1' };
    const plain = await withEnv(env, () => push(gw.url));
    const secure = await withEnv(env, () => push(tlsGw.url, { tls: { ca } }));
    expect([plain.ok, secure.ok]).toEqual([true, true]);
    expect(px.hops).toEqual([]);
    expect([gw.seen.length, tlsGw.seen.length]).toEqual([1, 1]);
  });

  it('goes through the proxy for a loopback target that NO_PROXY does not list', async () => {
    const [gw, px] = await Promise.all([gateway('http'), proxy()]);
    const port = new URL(gw.url).port;
    const result = await withEnv(
      { HTTP_PROXY: px.url, NO_PROXY: `localhost,127.0.0.1:${Number(port) + 1}` },
      () => push(gw.url),
    );
    expect(result.ok).toBe(true);
    expect(px.hops).toHaveLength(1);
  });
});

describe('mutual TLS and deadlines through a proxy', () => {
  const mutual = () => ({ ...serverTls, ca, requestCert: true, rejectUnauthorized: true });
  const clientTls = () => ({
    ca,
    cert: readFileSync(join(dir, 'client.pem'), 'utf8'),
    key: readFileSync(join(dir, 'client.key'), 'utf8'),
  });
  const ok = (res: http.ServerResponse) => res.writeHead(200).end();

  it('presents the client certificate inside the tunnel', async () => {
    const [gw, px] = await Promise.all([gateway('https', ok, mutual()), proxy()]);
    const result = await withEnv({ HTTPS_PROXY: px.url }, () => push(gw.url, { tls: clientTls() }));
    expect(result).toMatchObject({ ok: true, attempts: 1 });
    expect(px.hops.map((h) => h.kind)).toEqual(['connect']);
  });

  it('reports a refused client certificate as ERR_PROCPUSH_TLS, once, not as a closed socket', async () => {
    const [gw, px] = await Promise.all([gateway('https', ok, mutual()), proxy()]);
    const result = await withEnv({ HTTPS_PROXY: px.url }, () => push(gw.url, { tls: { ca } }));
    expect(result).toMatchObject({ ok: false, attempts: 1, error: { code: PushErrorCode.tls } });
    expect(result.error?.message).toContain('`tls.cert` and `tls.key`');
    expect(gw.seen).toHaveLength(0);
  });

  it('gives up at the deadline on a proxy that never answers CONNECT', async () => {
    const silent = createServer((socket) => socket.on('error', () => {}));
    const port = await listen(silent);
    const started = performance.now();
    const result = await withEnv({ HTTPS_PROXY: `http://127.0.0.1:${port}` }, () =>
      push('https://127.0.0.1:9/', { tls: { ca }, timeoutMs: 200, flushTimeoutMs: 700 }),
    );
    expect(result).toMatchObject({ ok: false, error: { code: PushErrorCode.timeout } });
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it('gives up at the deadline on a target that stalls after the headers, body unfinished', async () => {
    const [gw, px] = await Promise.all([
      gateway('http', (res) => {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.write('partial');
      }),
      proxy(),
    ]);
    const started = performance.now();
    const result = await withEnv({ HTTP_PROXY: px.url }, () =>
      push(gw.url, { timeoutMs: 200, flushTimeoutMs: 700 }),
    );
    expect(result).toMatchObject({ ok: false, error: { code: PushErrorCode.timeout } });
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(gw.seen.length).toBeGreaterThanOrEqual(1);
  });
});

describe('proxy credentials', () => {
  const withCredentials = (url: string, password = PASSWORD) =>
    url.replace('http://', `http://${USER}:${encodeURIComponent(password)}@`);

  it('sends them as Proxy-Authorization to the proxy, never to the Pushgateway', async () => {
    const [gw, tlsGw, px] = await Promise.all([gateway('http'), gateway('https'), proxy(true)]);
    const proxyUrl = withCredentials(px.url);
    const plain = await withEnv({ HTTP_PROXY: proxyUrl }, () => push(gw.url));
    const secure = await withEnv({ HTTPS_PROXY: proxyUrl }, () => push(tlsGw.url, { tls: { ca } }));
    expect([plain.ok, secure.ok]).toEqual([true, true]);
    expect(px.hops.map((h) => [h.kind, h.proxyAuthorization])).toEqual([
      ['forward', CREDENTIALS],
      ['connect', CREDENTIALS],
    ]);
    expect(tlsGw.seen[0]?.headers['proxy-authorization']).toBeUndefined();
  });

  it.each([
    ['http', 'HTTP_PROXY'],
    ['https', 'HTTPS_PROXY'],
  ] as const)(
    'keeps them out of the error when the proxy answers 407 (%s target)',
    async (protocol, variable) => {
      const [gw, px] = await Promise.all([gateway(protocol), proxy(true)]);
      const wrong = 'wr0ng-pa55-secret';
      const result = await withEnv({ [variable]: withCredentials(px.url, wrong) }, () =>
        push(gw.url, { tls: { ca } }),
      );
      expect(result).toMatchObject({ ok: false, attempts: 1, error: { code: PushErrorCode.rejected } });
      expect(result.error?.message).toContain('407');
      expect(result.error?.message).toContain(`via proxy http://***@127.0.0.1:${px.port}`);
      expect(result.error?.message).toContain(variable);
      const text = everything(result);
      expect(text).not.toContain(wrong);
      expect(text).not.toContain(encodeURIComponent(wrong));
      expect(text).not.toContain(Buffer.from(`${USER}:${wrong}`).toString('base64'));
      expect(px.hops).toHaveLength(1);
      expect(gw.seen).toHaveLength(0);
    },
  );
});

describe('undici', () => {
  /** Runs one push in a fresh Node process and reports whether undici was loaded. */
  function pushInChild(
    target: string,
    env: Record<string, string>,
  ): Promise<{ ok: boolean; undici: boolean }> {
    const script = join(dir, 'child.mjs');
    writeFileSync(
      script,
      `import { createRequire } from 'node:module';
const { pushOnce } = await import(${JSON.stringify(join(ROOT, 'src/node.ts'))});
const result = await pushOnce({ target: { type: 'pushgateway', url: ${JSON.stringify(target)} }, job: 'lazy',
  flushTimeoutMs: 3000, timeoutMs: 2000 });
// undici is CommonJS: however it is imported, its files enter the CommonJS cache.
const undici = Object.keys(createRequire(import.meta.url).cache).some((p) => p.includes('/node_modules/undici/'));
console.log(JSON.stringify({ ok: result.ok, undici }));
`,
    );
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !PROXY_VARIABLES.includes(k)),
    );
    return new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', script],
        { cwd: ROOT, env: { ...clean, ...env }, timeout: 15_000 },
        (error, stdout, stderr) => {
          if (error) reject(new Error(`${error.message}\n${stderr}`));
          else resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}'));
        },
      );
    });
  }

  it('is never loaded for a push that no proxy applies to, and is loaded once one does', async () => {
    const [gw, px] = await Promise.all([gateway('http'), proxy()]);
    const direct = await pushInChild(gw.url, {});
    const bypassed = await pushInChild(gw.url, { HTTP_PROXY: px.url, NO_PROXY: '127.0.0.1' });
    // The control: the same probe sees undici when a proxy applies, so its "false" above means something.
    const proxied = await pushInChild(gw.url, { HTTP_PROXY: px.url });
    expect(direct).toEqual({ ok: true, undici: false });
    expect(bypassed).toEqual({ ok: true, undici: false });
    expect(proxied).toEqual({ ok: true, undici: true });
    expect(px.hops).toHaveLength(1);
    expect(gw.seen).toHaveLength(3);
  });
});

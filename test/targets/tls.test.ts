import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, PushErrorCode, pushOnce, type ReporterOptions } from '../../src/node.js';
import { classifyError } from '../../src/transport/classify.js';
import { makeCertificates } from '../helpers/certificates.js';

interface Pem {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  otherHostCert: string;
  otherHostKey: string;
}

interface Recorded {
  method: string;
  url: string;
  body: string;
  /** The CN of the client certificate, where one was presented. */
  client: string | undefined;
}

let dir: string;
let pem: Pem;
const servers: Server[] = [];
const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'];
const savedEnv: Record<string, string | undefined> = {};

/** The CA, a server certificate for 127.0.0.1/localhost, a client certificate, and one for another host. */
function makePem(into: string): Pem {
  const read = makeCertificates(into, [
    {
      name: 'server',
      cn: 'localhost',
      extensions: 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
    },
    { name: 'client', cn: 'procpush-client', extensions: 'extendedKeyUsage=clientAuth\n' },
    {
      name: 'other',
      cn: 'other.test',
      extensions: 'subjectAltName=DNS:other.test\nextendedKeyUsage=serverAuth\n',
    },
  ]);
  return {
    ca: read('ca.pem'),
    serverCert: read('server.pem'),
    serverKey: read('server.key'),
    clientCert: read('client.pem'),
    clientKey: read('client.key'),
    otherHostCert: read('other.pem'),
    otherHostKey: read('other.key'),
  };
}

/** A minimal Pushgateway on 127.0.0.1: records each request and answers 200. */
async function gateway(options: ServerOptions): Promise<{ url: string; seen: Recorded[] }> {
  const seen: Recorded[] = [];
  const server = createServer(options, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      const cn = peer?.subject?.CN;
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        body: Buffer.concat(chunks).toString('utf8'),
        client: typeof cn === 'string' ? cn : undefined,
      });
      res.writeHead(200).end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { url: `https://127.0.0.1:${address.port}`, seen };
}

const serverTls = (): ServerOptions => ({ cert: pem.serverCert, key: pem.serverKey });
const mutualTls = (): ServerOptions => ({
  ...serverTls(),
  ca: pem.ca,
  requestCert: true,
  rejectUnauthorized: true,
});

function push(url: string, options: ReporterOptions = {}) {
  return pushOnce({
    target: { type: 'pushgateway', url },
    job: 'tls-test',
    instance: 'box',
    flushTimeoutMs: 5_000,
    timeoutMs: 2_000,
    ...options,
  });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'procpush-tls-'));
  pem = makePem(dir);
  // Loopback pushes must not go through a proxy the machine happens to configure.
  for (const name of PROXY_VARIABLES) {
    savedEnv[name] = process.env[name];
    delete process.env[name];
  }
});

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('a server certificate from a private CA', () => {
  it('delivers the push when the CA is given as tls.ca', async () => {
    const gw = await gateway(serverTls());
    const result = await push(gw.url, { tls: { ca: pem.ca } });
    expect(result).toMatchObject({ ok: true, status: 200, attempts: 1 });
    expect(gw.seen).toHaveLength(1);
    expect(gw.seen[0]).toMatchObject({ method: 'PUT', url: '/metrics/job/tls-test/instance/box' });
    expect(gw.seen[0]?.body).toMatch(/^process_memory_bytes \d+$/m);
  });

  it('fails at once with ERR_PROCPUSH_TLS without the CA, naming tls.ca, and sends nothing', async () => {
    const gw = await gateway(serverTls());
    const started = performance.now();
    const result = await push(gw.url, { flushTimeoutMs: 10_000 });
    expect(result.ok).toBe(false);
    expect(result.attempts).toBe(1);
    expect(result.error).toMatchObject({ code: PushErrorCode.tls });
    expect(result.error?.message).toMatch(/certificate is not trusted/);
    expect(result.error?.message).toContain('`tls.ca`');
    // Not retried until the deadline: a retry cannot make the certificate trusted.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(gw.seen).toHaveLength(0);
  });

  it('fails with ERR_PROCPUSH_TLS when the certificate names another host, even with the CA', async () => {
    const gw = await gateway({ cert: pem.otherHostCert, key: pem.otherHostKey });
    const result = await push(gw.url, { tls: { ca: pem.ca } });
    expect(result).toMatchObject({ ok: false, attempts: 1, error: { code: PushErrorCode.tls } });
    expect(result.error?.message).toMatch(/not trusted for this host name.*ERR_TLS_CERT_ALTNAME_INVALID/);
    expect(gw.seen).toHaveLength(0);
  });

  it('skips verification only when tls.rejectUnauthorized is false', async () => {
    const gw = await gateway(serverTls());
    const result = await push(gw.url, { tls: { rejectUnauthorized: false } });
    expect(result).toMatchObject({ ok: true, attempts: 1 });
    expect(gw.seen).toHaveLength(1);
  });
});

describe('mutual TLS', () => {
  it('is accepted by a server that requires a client certificate when tls.cert and tls.key are given', async () => {
    const gw = await gateway(mutualTls());
    const result = await push(gw.url, { tls: { ca: pem.ca, cert: pem.clientCert, key: pem.clientKey } });
    expect(result).toMatchObject({ ok: true, status: 200, attempts: 1 });
    expect(gw.seen.map((r) => r.client)).toEqual(['procpush-client']);
  });

  it('is refused without a client certificate, with a TLS error that names tls.cert and tls.key', async () => {
    const gw = await gateway(mutualTls());
    const result = await push(gw.url, { tls: { ca: pem.ca } });
    expect(result).toMatchObject({ ok: false, attempts: 1, error: { code: PushErrorCode.tls } });
    expect(result.error?.message).toMatch(/refused the TLS handshake/);
    expect(result.error?.message).toContain('`tls.cert` and `tls.key`');
    expect(gw.seen).toHaveLength(0);
  });

  it('reads the CA, certificate and key from RESOURCE_ATTRIBUTION_TLS_*_FILE', async () => {
    const gw = await gateway(mutualTls());
    const env = {
      RESOURCE_ATTRIBUTION_PUSHGATEWAY_URL: gw.url,
      RESOURCE_ATTRIBUTION_TLS_CA_FILE: join(dir, 'ca.pem'),
      RESOURCE_ATTRIBUTION_TLS_CERT_FILE: join(dir, 'client.pem'),
      RESOURCE_ATTRIBUTION_TLS_KEY_FILE: join(dir, 'client.key'),
    };
    Object.assign(process.env, env);
    try {
      const result = await pushOnce({ job: 'from-env', flushTimeoutMs: 5_000, timeoutMs: 2_000 });
      expect(result).toMatchObject({ ok: true, attempts: 1 });
      expect(gw.seen.map((r) => [r.url.split('/instance/')[0], r.client])).toEqual([
        ['/metrics/job/from-env', 'procpush-client'],
      ]);
    } finally {
      for (const name of Object.keys(env)) delete process.env[name];
    }
  });
});

describe('TLS options that cannot work', () => {
  it.each([
    [{ cert: 'PEM' }, 'tls.key'],
    [{ key: 'PEM' }, 'tls.cert'],
  ])('rejects %o with a ConfigError naming %s', async (tls, field) => {
    const attempt = push('https://127.0.0.1:1', { tls });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toMatchObject({ field, message: expect.stringContaining(`\`${field}\``) });
  });

  it('rejects a rejectUnauthorized that is not a boolean', async () => {
    const tls = { rejectUnauthorized: 'no' } as unknown as { rejectUnauthorized: boolean };
    await expect(push('https://127.0.0.1:1', { tls })).rejects.toMatchObject({
      code: 'ERR_PROCPUSH_CONFIG',
      field: 'tls.rejectUnauthorized',
    });
  });
});

describe('certificate errors as transports report them', () => {
  const live = new AbortController().signal;
  it.each([
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'CERT_HAS_EXPIRED',
    'CERT_NOT_YET_VALID',
    'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    'ERR_TLS_CERT_ALTNAME_INVALID',
    'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  ])('%s is a final TLS failure, not a retryable network error', (code) => {
    const outcome = classifyError(Object.assign(new Error('handshake'), { code }), 'PUT https://gw', live);
    expect(outcome).toMatchObject({ kind: 'failure', error: { code: PushErrorCode.tls } });
  });

  it('finds the certificate error inside a wrapping error (undici through a proxy)', () => {
    const inner = Object.assign(new Error('unable to verify the first certificate'), {
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    const outer = Object.assign(new Error('secure proxy connection failed', { cause: inner }), {
      code: 'UND_ERR_PRX_TLS',
    });
    expect(classifyError(outer, 'PUT https://gw', live)).toMatchObject({
      kind: 'failure',
      error: { code: PushErrorCode.tls },
    });
  });

  it('keeps a reset connection retryable', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(classifyError(reset, 'PUT https://gw', live)).toMatchObject({
      kind: 'retryable',
      error: { code: PushErrorCode.network },
    });
  });
});

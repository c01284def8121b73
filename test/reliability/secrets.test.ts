/**
 * Credentials never reach a log or an error. A child process pushes with a password, bearer tokens, URL user
 * info, an API key header and a proxy password, set through options and through the environment, into every
 * failure there is (401 and 403 whose bodies echo the credentials, a 3xx to a URL holding them, 503s to the
 * deadline, a body that cuts a credential in half at the 1 KiB mark, a closed port, an untrusted certificate, a
 * silent server, a proxy's 407) and through bad configuration; it prints every result, error, cause chain,
 * body, onError payload and warning. None of the secrets, in any form a header or URL carries them, may appear.
 */
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Socket } from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { runToEnd } from './child.js';
import { cleanupAll, defer } from './cleanup.js';
import { type SeenRequest, startRawServer, startScriptedServer } from './fault-servers.js';
import { selfSignedCertificate } from './tls-cert.js';

afterAll(cleanupAll);

const secrets = {
  user: 'reliability-user',
  password: 'Opt-P4ssw0rd-7f3a91c2e8',
  token: 'opt_tok_5d2e8a7b9c1f4e6a',
  envPassword: 'Env-P4ssw0rd-b81c7d2a9e',
  envToken: 'env_tok_93a7c1e5f2d8b4a6',
  urlPassword: 'url@P4ss:w0rd/9c4e2b',
  envUrlPassword: 'envurl%P4ss w0rd#a7d1',
  apiKey: 'apikey-6b1f9e3c7a2d5e8f',
  proxyPassword: 'proxy-P4ss-2c9e7a1b5d',
};
const b64 = (text: string) => Buffer.from(text).toString('base64');

/** Every form in which a secret travels: raw, percent-encoded in a URL, and in a Basic credential. */
const forbidden: [string, string][] = [
  ...(
    [
      'password',
      'token',
      'envPassword',
      'envToken',
      'urlPassword',
      'envUrlPassword',
      'apiKey',
      'proxyPassword',
    ] as const
  ).flatMap((name): [string, string][] => [
    [name, secrets[name]],
    [`${name} percent-encoded`, encodeURIComponent(secrets[name])],
    [`${name} base64`, b64(secrets[name])],
  ]),
  ...(['password', 'envPassword', 'urlPassword', 'envUrlPassword'] as const).map((name): [string, string] => [
    `${name} in Basic`,
    b64(`${secrets.user}:${secrets[name]}`),
  ]),
  ['proxyPassword in Basic', b64(`proxy-user:${secrets.proxyPassword}`)],
];

/** What a careless server echoes: the credentials it received, decoded where it can. */
function echo(request: SeenRequest): string {
  const authorization = request.headers.authorization ?? '';
  const decoded = authorization.startsWith('Basic ')
    ? Buffer.from(authorization.slice(6), 'base64').toString()
    : '';
  return `Authorization: ${authorization}\nX-Api-Key: ${request.headers['x-api-key'] ?? ''}\ndecoded: ${decoded}\n`;
}

/** The credential of a request, as a header carries it, for a body that cuts it in half at 1 KiB. */
function credentialOf(request: SeenRequest): string {
  const authorization = request.headers.authorization;
  if (authorization) return authorization.slice(authorization.indexOf(' ') + 1);
  return request.headers['x-api-key'] ?? 'none';
}

async function startProxy407(): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.once('data', (chunk: Buffer) => {
      const head = chunk.toString('latin1');
      const line = /proxy-authorization: *([^\r\n]*)/i.exec(head)?.[1] ?? '';
      const decoded = Buffer.from(line.replace(/^Basic /, ''), 'base64').toString();
      const body = `you sent ${line} (${decoded})`;
      socket.end(
        `HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="proxy"\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  defer(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

async function startTlsServer(): Promise<string> {
  const server = createHttpsServer(selfSignedCertificate(), (_req, res) => res.end());
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  defer(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `https://127.0.0.1:${(server.address() as { port: number }).port}`;
}

it('no secret, in any form, appears in any output of a run full of failures', async () => {
  const unauthorized = await startScriptedServer((request) => ({
    status: 401,
    headers: { 'WWW-Authenticate': 'Basic realm="metrics"' },
    body: echo(request),
  }));
  const forbiddenServer = await startScriptedServer((request) => ({
    status: 403,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ error: 'forbidden', received: echo(request) }),
  }));
  const redirect = await startScriptedServer((request) => {
    const authorization = request.headers.authorization ?? '';
    const decoded = authorization.startsWith('Basic ')
      ? Buffer.from(authorization.slice(6), 'base64').toString()
      : `token:${credentialOf(request)}`;
    const [user = '', password = ''] = decoded.split(/:(.*)/s);
    return {
      status: 307,
      headers: {
        Location: `http://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:9/elsewhere?access_token=${encodeURIComponent(credentialOf(request))}`,
      },
      body: echo(request),
    };
  });
  const unavailable = await startScriptedServer((request) => ({ status: 503, body: echo(request) }));
  const boundary = await startScriptedServer((request) => {
    const credential = credentialOf(request);
    return { status: 401, body: `${'p'.repeat(1024 - Math.floor(credential.length / 2))}${credential}\n` };
  });
  const closed = await startRawServer('silent');
  await closed.close();
  const silent = await startRawServer('silent');

  const servers = {
    unauthorized: unauthorized.url,
    forbidden: forbiddenServer.url,
    redirect: redirect.url,
    unavailable: unavailable.url,
    boundary: boundary.url,
    closed: closed.url,
    silent: silent.url,
    tls: await startTlsServer(),
    proxy: await startProxy407(),
  };
  const exit = await runToEnd('secrets-run.ts', [JSON.stringify({ secrets, servers })], {
    timeoutMs: 60_000,
  });
  const output = `${exit.stdout}\n${exit.stderr}`;

  // The run did what it says: every failure happened, and the servers did receive the credentials.
  expect(exit.stdout).toContain('DONE');
  for (const expected of [
    'refused the push with 401',
    'refused the push with 403',
    'redirects are not followed',
    'answered 503',
    'ECONNREFUSED',
    'timed out',
    'ERR_PROCPUSH_TLS',
    '407',
    'ERR_PROCPUSH_CONFIG',
    'Warning: procpush:',
  ]) {
    expect(output, `the run shows "${expected}"`).toContain(expected);
  }
  expect(exit.stdout).not.toContain('did not throw');
  const received = unauthorized.requests
    .map((r) => `${r.headers.authorization} ${r.headers['x-api-key']}`)
    .join('\n');
  for (const form of [
    `Basic ${b64(`${secrets.user}:${secrets.password}`)}`,
    `Bearer ${secrets.token}`,
    `Basic ${b64(`${secrets.user}:${secrets.envPassword}`)}`,
    `Bearer ${secrets.envToken}`,
    `Basic ${b64(`${secrets.user}:${secrets.urlPassword}`)}`,
    `Basic ${b64(`${secrets.user}:${secrets.envUrlPassword}`)}`,
    secrets.apiKey,
  ]) {
    expect(received, 'the server received the credential').toContain(form);
  }

  // And none of them, whole, anywhere in what a user could see.
  const leaks = forbidden.filter(([, value]) => output.includes(value));
  const where = leaks.map(([name, value]) => {
    const at = output.indexOf(value);
    return `${name}: ...${output.slice(Math.max(0, at - 300), at + value.length + 50)}...`;
  });
  expect(where).toEqual([]);
  // Nor a recognisable half of one (the 1 KiB cut of an echoed body): no 10 characters of a raw secret.
  const fragments = Object.entries(secrets)
    .filter(([name]) => name !== 'user')
    .flatMap(([name, value]) =>
      Array.from({ length: value.length - 9 }, (_, i) => value.slice(i, i + 10))
        .filter((piece) => output.includes(piece))
        .map((piece) => `${name}: "${piece}"`),
    );
  expect(fragments).toEqual([]);
}, 90_000);

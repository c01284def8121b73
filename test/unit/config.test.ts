import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { type ConfigContext, type ResolvedConfig, resolveConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import type { ReporterOptions } from '../../src/types.js';

const PEM = {
  '/etc/procpush/ca.pem': '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n',
  '/etc/procpush/client.pem': '-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n',
  '/etc/procpush/client.key': '-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n',
} as Record<string, string>;

function readFile(path: string): string {
  const text = PEM[path];
  if (text === undefined)
    throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' });
  return text;
}

function context(env: Record<string, string> = {}): ConfigContext {
  return { env, hostname: 'host-a', pid: 42, defaultJob: 'job-a', readFile };
}

const resolve = (options?: unknown, env: Record<string, string> = {}): ResolvedConfig =>
  resolveConfig(options as ReporterOptions, context(env));

/** The ConfigError that resolving throws; fails the test if it throws anything else or nothing. */
function configError(options?: unknown, env: Record<string, string> = {}): ConfigError {
  try {
    resolve(options, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const configError = error as ConfigError;
    expect(configError.code).toBe('ERR_PROCPUSH_CONFIG');
    expect(configError.name).toBe('ConfigError');
    return configError;
  }
  throw new Error('Expected a ConfigError, got a configuration');
}

const PGW = 'http://pushgateway.example:9091';
const RW = 'https://prometheus.example/api/v1/write';

describe('defaults', () => {
  it('sample every minute to the console, labelled with the host name and the script name', () => {
    expect(resolve()).toEqual({
      enabled: true,
      target: { type: 'console' },
      intervalMs: 60_000,
      job: 'job-a',
      instance: 'host-a',
      labels: { job: 'job-a', instance: 'host-a' },
      overhead: { memoryRatio: 0.015, cpuPercent: 0.5 },
      timeoutMs: 10_000,
      flushTimeoutMs: 30_000,
      tls: undefined,
      shutdown: { signals: ['SIGTERM', 'SIGINT'], timeoutMs: 5_000 },
      onError: undefined,
    });
  });

  it('bound a flush by the interval when the interval is shorter than 30 s, and an attempt by the flush', () => {
    const config = resolve({ intervalMs: 500 });
    expect(config.flushTimeoutMs).toBe(500);
    expect(config.timeoutMs).toBe(500);
    const twenty = resolve({ intervalMs: 20_000 });
    expect(twenty.flushTimeoutMs).toBe(20_000);
    expect(twenty.timeoutMs).toBe(10_000);
  });

  it('keep a flush and an attempt timeout given in the options', () => {
    const config = resolve({ flushTimeoutMs: 4_000, timeoutMs: 1_500 });
    expect(config.flushTimeoutMs).toBe(4_000);
    expect(config.timeoutMs).toBe(1_500);
  });

  it('name the instance after the host for the Pushgateway, the textfile and the console', () => {
    expect(resolve({ target: { type: 'pushgateway', url: PGW } }).instance).toBe('host-a');
    expect(resolve({ target: { type: 'textfile', path: '/var/lib/node_exporter/job.prom' } }).instance).toBe(
      'host-a',
    );
    expect(resolve({ target: { type: 'console' } }).instance).toBe('host-a');
  });

  it('name the instance after the host and the pid for remote write, so two processes never share a series', () => {
    const config = resolve({ target: { type: 'remote-write', url: RW } });
    expect(config.instance).toBe('host-a:42');
    expect(config.labels).toEqual({ job: 'job-a', instance: 'host-a:42' });
    const noPid = resolveConfig(
      { target: { type: 'remote-write', url: RW } },
      { ...context(), pid: undefined },
    );
    expect(noPid.instance).toBe('host-a');
  });

  it('install no shutdown hooks when told not to', () => {
    expect(resolve({ shutdown: false }).shutdown).toBe(false);
    expect(resolve({ shutdown: { signals: ['SIGTERM'] } }).shutdown).toEqual({
      signals: ['SIGTERM'],
      timeoutMs: 5_000,
    });
  });
});

describe('the environment', () => {
  it('turns the reporter off with RESOURCE_ATTRIBUTION_ENABLED', () => {
    for (const value of ['false', 'FALSE', '0', 'no', 'off']) {
      expect(resolve({}, { RESOURCE_ATTRIBUTION_ENABLED: value }).enabled).toBe(false);
    }
    for (const value of ['true', 'True', '1', 'yes', 'on', '']) {
      expect(resolve({}, { RESOURCE_ATTRIBUTION_ENABLED: value }).enabled).toBe(true);
    }
    const error = configError({}, { RESOURCE_ATTRIBUTION_ENABLED: 'maybe' });
    expect(error.field).toBe('RESOURCE_ATTRIBUTION_ENABLED');
    expect(error.message).toBe('Expected RESOURCE_ATTRIBUTION_ENABLED to be true or false, got "maybe"');
  });

  it('sets a sub-second interval in seconds with RESOURCE_ATTRIBUTION_UPDATE_INTERVAL_SECS', () => {
    const config = resolve({}, { RESOURCE_ATTRIBUTION_UPDATE_INTERVAL_SECS: '0.5' });
    expect(config.intervalMs).toBe(500);
    expect(config.flushTimeoutMs).toBe(500);
    expect(resolve({}, { RESOURCE_ATTRIBUTION_UPDATE_INTERVAL_SECS: ' 15 ' }).intervalMs).toBe(15_000);
  });

  it('sends to a Pushgateway with RESOURCE_ATTRIBUTION_PUSHGATEWAY_URL', () => {
    const config = resolve({}, { RESOURCE_ATTRIBUTION_PUSHGATEWAY_URL: PGW });
    expect(config.target).toEqual({ type: 'pushgateway', url: PGW });
    expect(config.instance).toBe('host-a');
  });

  it('sends to remote write with RESOURCE_ATTRIBUTION_REMOTE_WRITE_URL', () => {
    const config = resolve({}, { RESOURCE_ATTRIBUTION_REMOTE_WRITE_URL: RW });
    expect(config.target).toEqual({ type: 'remote-write', url: RW });
    expect(config.instance).toBe('host-a:42');
  });

  it('writes a textfile with RESOURCE_ATTRIBUTION_TEXTFILE_PATH', () => {
    const config = resolve({}, { RESOURCE_ATTRIBUTION_TEXTFILE_PATH: '/var/lib/node_exporter/job.prom' });
    expect(config.target).toEqual({ type: 'textfile', path: '/var/lib/node_exporter/job.prom' });
  });

  it('sets job and instance with RESOURCE_ATTRIBUTION_JOB and RESOURCE_ATTRIBUTION_INSTANCE', () => {
    const config = resolve(
      { target: { type: 'remote-write', url: RW } },
      { RESOURCE_ATTRIBUTION_JOB: 'nightly', RESOURCE_ATTRIBUTION_INSTANCE: 'worker-7' },
    );
    expect(config.job).toBe('nightly');
    expect(config.instance).toBe('worker-7');
    expect(config.labels).toEqual({ job: 'nightly', instance: 'worker-7' });
  });

  it('adds labels from RESOURCE_ATTRIBUTION_LABELS, with \\, and \\\\ inside values', () => {
    const config = resolve(
      {},
      {
        RESOURCE_ATTRIBUTION_LABELS: String.raw`team=data, region=eu-west-1,path=a\,b,dir=C:\\tmp,empty=,eq=a=b`,
      },
    );
    expect(config.labels).toEqual({
      team: 'data',
      region: 'eu-west-1',
      path: 'a,b',
      dir: 'C:\\tmp',
      empty: '',
      eq: 'a=b',
      job: 'job-a',
      instance: 'host-a',
    });
  });

  it('authenticates with RESOURCE_ATTRIBUTION_USERNAME and RESOURCE_ATTRIBUTION_PASSWORD', () => {
    const config = resolve(
      {},
      {
        RESOURCE_ATTRIBUTION_PUSHGATEWAY_URL: PGW,
        RESOURCE_ATTRIBUTION_USERNAME: 'pusher',
        RESOURCE_ATTRIBUTION_PASSWORD: 's3cr3t',
      },
    );
    expect(config.target).toEqual({
      type: 'pushgateway',
      url: PGW,
      auth: { username: 'pusher', password: 's3cr3t' },
    });
  });

  it('authenticates with RESOURCE_ATTRIBUTION_BEARER_TOKEN and sets the tenant with _TENANT_ID', () => {
    const config = resolve(
      {},
      {
        RESOURCE_ATTRIBUTION_REMOTE_WRITE_URL: RW,
        RESOURCE_ATTRIBUTION_BEARER_TOKEN: 'tok-s3cr3t',
        RESOURCE_ATTRIBUTION_TENANT_ID: 'team-a',
      },
    );
    expect(config.target).toEqual({
      type: 'remote-write',
      url: RW,
      auth: { bearerToken: 'tok-s3cr3t' },
      tenant: 'team-a',
    });
  });

  it('does not put a tenant on a Pushgateway, which has none', () => {
    const config = resolve(
      {},
      { RESOURCE_ATTRIBUTION_PUSHGATEWAY_URL: PGW, RESOURCE_ATTRIBUTION_TENANT_ID: 'team-a' },
    );
    expect(config.target).toEqual({ type: 'pushgateway', url: PGW });
  });

  it('refuses a bearer token together with a user name, and a password without a user name', () => {
    const both = configError(
      {},
      {
        RESOURCE_ATTRIBUTION_PUSHGATEWAY_URL: PGW,
        RESOURCE_ATTRIBUTION_BEARER_TOKEN: 's3cr3t',
        RESOURCE_ATTRIBUTION_USERNAME: 'pusher',
      },
    );
    expect(both.field).toBe('RESOURCE_ATTRIBUTION_BEARER_TOKEN');
    expect(both.message).toBe(
      'Expected either RESOURCE_ATTRIBUTION_BEARER_TOKEN or RESOURCE_ATTRIBUTION_USERNAME and RESOURCE_ATTRIBUTION_PASSWORD, got both',
    );
    const passwordOnly = configError({}, { RESOURCE_ATTRIBUTION_PASSWORD: 's3cr3t' });
    expect(passwordOnly.field).toBe('RESOURCE_ATTRIBUTION_USERNAME');
    expect(passwordOnly.message).toBe(
      'Expected RESOURCE_ATTRIBUTION_USERNAME to be set with RESOURCE_ATTRIBUTION_PASSWORD',
    );
    expect(both.message).not.toContain('s3cr3t');
    expect(passwordOnly.message).not.toContain('s3cr3t');
  });

  it('reads TLS files named by RESOURCE_ATTRIBUTION_TLS_CA_FILE, _CERT_FILE and _KEY_FILE', () => {
    const config = resolve(
      {},
      {
        RESOURCE_ATTRIBUTION_TLS_CA_FILE: '/etc/procpush/ca.pem',
        RESOURCE_ATTRIBUTION_TLS_CERT_FILE: '/etc/procpush/client.pem',
        RESOURCE_ATTRIBUTION_TLS_KEY_FILE: '/etc/procpush/client.key',
      },
    );
    expect(config.tls).toEqual({
      ca: PEM['/etc/procpush/ca.pem'],
      cert: PEM['/etc/procpush/client.pem'],
      key: PEM['/etc/procpush/client.key'],
    });
    expect(resolve({}, { RESOURCE_ATTRIBUTION_TLS_CA_FILE: '/etc/procpush/ca.pem' }).tls).toEqual({
      ca: PEM['/etc/procpush/ca.pem'],
    });
  });

  it('refuses an unreadable TLS file, a certificate without its key, and TLS files without a file system', () => {
    const unreadable = configError({}, { RESOURCE_ATTRIBUTION_TLS_CA_FILE: '/etc/procpush/missing.pem' });
    expect(unreadable.field).toBe('RESOURCE_ATTRIBUTION_TLS_CA_FILE');
    expect(unreadable.message).toBe(
      'Expected RESOURCE_ATTRIBUTION_TLS_CA_FILE to name a readable file, got "/etc/procpush/missing.pem"',
    );
    expect((unreadable.cause as NodeJS.ErrnoException).code).toBe('ENOENT');

    const certOnly = configError({}, { RESOURCE_ATTRIBUTION_TLS_CERT_FILE: '/etc/procpush/client.pem' });
    expect(certOnly.field).toBe('RESOURCE_ATTRIBUTION_TLS_KEY_FILE');
    expect(certOnly.message).toBe(
      'Expected RESOURCE_ATTRIBUTION_TLS_CERT_FILE and RESOURCE_ATTRIBUTION_TLS_KEY_FILE together',
    );

    let edge: unknown;
    try {
      resolveConfig(
        {},
        {
          env: { RESOURCE_ATTRIBUTION_TLS_CA_FILE: '/ca.pem' },
          hostname: 'h',
          pid: undefined,
          defaultJob: 'j',
        },
      );
    } catch (error) {
      edge = error;
    }
    expect(edge).toBeInstanceOf(ConfigError);
    expect((edge as ConfigError).field).toBe('RESOURCE_ATTRIBUTION_TLS_CA_FILE');
    expect((edge as ConfigError).message).toBe(
      'RESOURCE_ATTRIBUTION_TLS_CA_FILE needs a file system; pass `tls` in the options on this runtime',
    );
  });

  it('ignores variables that are set but empty', () => {
    expect(
      resolve(
        {},
        {
          RESOURCE_ATTRIBUTION_PUSHGATEWAY_URL: '',
          RESOURCE_ATTRIBUTION_REMOTE_WRITE_URL: '  ',
          RESOURCE_ATTRIBUTION_UPDATE_INTERVAL_SECS: '',
          RESOURCE_ATTRIBUTION_JOB: '',
        },
      ),
    ).toEqual(resolve());
  });
});

describe('options and the environment together', () => {
  const ENV = {
    RESOURCE_ATTRIBUTION_ENABLED: 'false',
    RESOURCE_ATTRIBUTION_UPDATE_INTERVAL_SECS: '5',
    RESOURCE_ATTRIBUTION_PUSHGATEWAY_URL: PGW,
    RESOURCE_ATTRIBUTION_JOB: 'env-job',
    RESOURCE_ATTRIBUTION_INSTANCE: 'env-instance',
    RESOURCE_ATTRIBUTION_LABELS: 'team=env',
    RESOURCE_ATTRIBUTION_TLS_CA_FILE: '/etc/procpush/ca.pem',
  };

  it('let the options win over the environment, field by field', () => {
    const read = vi.fn(readFile);
    const config = resolveConfig(
      {
        enabled: true,
        intervalMs: 2_000,
        target: { type: 'remote-write', url: RW },
        job: 'opt-job',
        instance: 'opt-instance',
        labels: { region: 'eu' },
        tls: { ca: 'OPTION CA' },
      },
      { ...context(ENV), readFile: read },
    );
    expect(config.enabled).toBe(true);
    expect(config.intervalMs).toBe(2_000);
    expect(config.target).toEqual({ type: 'remote-write', url: RW });
    expect(config.job).toBe('opt-job');
    expect(config.instance).toBe('opt-instance');
    // The option replaces the environment's list; the two are not merged.
    expect(config.labels).toEqual({ region: 'eu', job: 'opt-job', instance: 'opt-instance' });
    expect(config.tls).toEqual({ ca: 'OPTION CA' });
    expect(read).not.toHaveBeenCalled();
  });

  it('keep what the options leave out from the environment', () => {
    const config = resolve({ job: 'opt-job' }, ENV);
    expect(config.enabled).toBe(false);
    expect(config.intervalMs).toBe(5_000);
    expect(config.target).toEqual({ type: 'pushgateway', url: PGW });
    expect(config.labels).toEqual({ team: 'env', job: 'opt-job', instance: 'env-instance' });
  });

  it('treat an option set to undefined as not set', () => {
    expect(resolve({ job: undefined, intervalMs: undefined }, ENV).intervalMs).toBe(5_000);
  });

  it('apply credentials and the tenant from the environment to a target given in code without any', () => {
    const env = {
      RESOURCE_ATTRIBUTION_USERNAME: 'pusher',
      RESOURCE_ATTRIBUTION_PASSWORD: 's3cr3t',
      RESOURCE_ATTRIBUTION_TENANT_ID: 'team-a',
    };
    expect(resolve({ target: { type: 'pushgateway', url: PGW } }, env).target).toEqual({
      type: 'pushgateway',
      url: PGW,
      auth: { username: 'pusher', password: 's3cr3t' },
    });
    expect(resolve({ target: { type: 'remote-write', url: RW } }, env).target).toEqual({
      type: 'remote-write',
      url: RW,
      auth: { username: 'pusher', password: 's3cr3t' },
      tenant: 'team-a',
    });
  });

  it("keep a target's own credentials and tenant over the environment's", () => {
    const target = { type: 'remote-write', url: RW, auth: { bearerToken: 'own' }, tenant: 'own-tenant' };
    expect(
      resolve(
        { target },
        { RESOURCE_ATTRIBUTION_BEARER_TOKEN: 'env-token', RESOURCE_ATTRIBUTION_TENANT_ID: 'env-tenant' },
      ).target,
    ).toEqual(target);
  });
});

describe('bad values', () => {
  it('refuses a negative interval, saying what was expected and what was received', () => {
    const error = configError({ intervalMs: -5 });
    expect(error.field).toBe('intervalMs');
    expect(error.message).toBe('Expected `intervalMs` to be a positive number, got -5');
  });

  it('refuses an interval that is not a number', () => {
    const error = configError({ intervalMs: 'abc' });
    expect(error.field).toBe('intervalMs');
    expect(error.message).toBe('Expected `intervalMs` to be a positive number, got "abc"');
  });

  it('refuses an interval under 10 ms', () => {
    const error = configError({ intervalMs: 5 });
    expect(error.message).toBe('Expected `intervalMs` to be a number of milliseconds of at least 10, got 5');
  });

  it('refuses an interval in the environment that is not a positive number of seconds', () => {
    for (const value of ['abc', '-5', '0', 'Infinity']) {
      const error = configError({}, { RESOURCE_ATTRIBUTION_UPDATE_INTERVAL_SECS: value });
      expect(error.field).toBe('RESOURCE_ATTRIBUTION_UPDATE_INTERVAL_SECS');
      expect(error.message).toBe(
        `Expected RESOURCE_ATTRIBUTION_UPDATE_INTERVAL_SECS to be a positive number of seconds (at least 0.01), got "${value}"`,
      );
    }
  });

  it('refuses a malformed label list in the environment', () => {
    for (const [value, entry] of [
      ['team=data,oops', 'oops'],
      ['1team=data', '1team=data'],
      ['=data', '=data'],
    ]) {
      const error = configError({}, { RESOURCE_ATTRIBUTION_LABELS: value ?? '' });
      expect(error.field).toBe('RESOURCE_ATTRIBUTION_LABELS');
      expect(error.message).toBe(
        `Expected RESOURCE_ATTRIBUTION_LABELS to be a list of label=value pairs separated by commas, with label names like [a-zA-Z_][a-zA-Z0-9_]*, got "${entry}"`,
      );
    }
  });

  it('refuses an unknown target type', () => {
    const error = configError({ target: { type: 'kafka', url: PGW } });
    expect(error.field).toBe('target.type');
    expect(error.message).toBe(
      'Expected `target.type` to be one of "pushgateway", "remote-write", "textfile", "console", got "kafka"',
    );
  });

  it('refuses a misspelt option instead of ignoring it', () => {
    const error = configError({ intervalMS: 5_000 });
    expect(error.field).toBe('intervalMS');
    expect(error.message).toBe('Unknown option `intervalMS`; check its spelling');
    const inTarget = configError({ target: { type: 'pushgateway', url: PGW, methd: 'POST' } });
    expect(inTarget.field).toBe('target.methd');
    expect(inTarget.message).toBe('Unknown option `target.methd`; check its spelling');
  });

  it('refuses a target without its URL', () => {
    const error = configError({ target: { type: 'pushgateway' } });
    expect(error.field).toBe('target.url');
    expect(error.message).toBe('Expected `target.url` to be set');
  });

  it('refuses a label name that Prometheus would refuse', () => {
    const error = configError({ labels: { 'team-name': 'data' } });
    expect(error.field).toBe('labels.team-name');
    expect(error.message).toBe(
      'Expected `labels.team-name` to be a label name ([a-zA-Z_][a-zA-Z0-9_]*), got "team-name"',
    );
  });

  it('refuses reserved label names, and job or instance as labels', () => {
    const reserved = configError({ labels: { __x: '1' } });
    expect(reserved.field).toBe('labels');
    expect(reserved.message).toBe(
      'Expected label names in `labels` not to start with "__" (reserved), got "__x"',
    );
    const job = configError({ labels: { job: 'other' } });
    expect(job.field).toBe('labels');
    expect(job.message).toBe('Expected no "job" label in `labels`; set it with the `job` option');
    const fromEnv = configError({}, { RESOURCE_ATTRIBUTION_LABELS: 'instance=x' });
    expect(fromEnv.field).toBe('RESOURCE_ATTRIBUTION_LABELS');
    expect(fromEnv.message).toBe(
      'Expected no "instance" label in `RESOURCE_ATTRIBUTION_LABELS`; set it with the `instance` option',
    );
    const grouping = configError({ target: { type: 'pushgateway', url: PGW, grouping: { __name__: 'x' } } });
    expect(grouping.field).toBe('target.grouping');
  });

  it('refuses two targets in the environment', () => {
    const error = configError(
      {},
      { RESOURCE_ATTRIBUTION_PUSHGATEWAY_URL: PGW, RESOURCE_ATTRIBUTION_REMOTE_WRITE_URL: RW },
    );
    expect(error.field).toBe('RESOURCE_ATTRIBUTION_REMOTE_WRITE_URL');
    expect(error.message).toBe(
      'Expected one target, got both RESOURCE_ATTRIBUTION_PUSHGATEWAY_URL and RESOURCE_ATTRIBUTION_REMOTE_WRITE_URL; unset one of them',
    );
  });

  it('refuses a header procpush sets itself, in any case', () => {
    const pushgateway = configError({
      target: { type: 'pushgateway', url: PGW, headers: { 'Content-Type': 'text/plain' } },
    });
    expect(pushgateway.field).toBe('target.headers');
    expect(pushgateway.message).toBe(
      'Header "Content-Type" is set by procpush for pushgateway targets and cannot be overridden',
    );
    const remoteWrite = configError({
      target: { type: 'remote-write', url: RW, headers: { 'user-agent': 'mine/1.0' } },
    });
    expect(remoteWrite.field).toBe('target.headers');
    expect(remoteWrite.message).toBe(
      'Header "user-agent" is set by procpush for remote-write targets and cannot be overridden',
    );
    expect(
      resolve({ target: { type: 'remote-write', url: RW, headers: { 'X-Team': 'data' } } }).target,
    ).toEqual({ type: 'remote-write', url: RW, headers: { 'X-Team': 'data' } });
  });

  it('refuses a URL that is not http(s), in the options and in the environment', () => {
    const option = configError({ target: { type: 'pushgateway', url: 'not a url' } });
    expect(option.field).toBe('target.url');
    expect(option.message).toBe('Expected `target.url` to be an http(s) URL, got "not a url"');
    const env = configError({}, { RESOURCE_ATTRIBUTION_REMOTE_WRITE_URL: 'ftp://prometheus.example/write' });
    expect(env.field).toBe('RESOURCE_ATTRIBUTION_REMOTE_WRITE_URL');
    expect(env.message).toBe(
      'Expected RESOURCE_ATTRIBUTION_REMOTE_WRITE_URL to be an http(s) URL, got "ftp://prometheus.example/write"',
    );
  });

  it('refuses options that are not an object', () => {
    const error = configError('http://pushgateway.example');
    expect(error.field).toBe('options');
    expect(error.message).toBe(
      'Expected `options` to be an options object, got "http://pushgateway.example"',
    );
  });
});

describe('secrets in errors', () => {
  it('never shows the user info of a URL with a bad scheme', () => {
    const error = configError({
      target: { type: 'pushgateway', url: 'ftp://user:s3cr3t@pushgateway.example' },
    });
    expect(error.message).toBe(
      'Expected `target.url` to be an http(s) URL, got "ftp://***@pushgateway.example"',
    );
    const empty = configError({ target: { type: 'pushgateway', url: 'http://user:s3cr3t@' } });
    expect(empty.message).toBe('Expected `target.url` to be an http(s) URL, got "http://***@"');
  });

  it('never shows the user info of a URL written without its scheme', () => {
    // "user:s3cr3t@host" parses as a URL of scheme "user:", which is the likeliest way to get it wrong.
    const option = configError({
      target: { type: 'pushgateway', url: 'user:s3cr3t@pushgateway.example:9091' },
    });
    expect(option.message).toBe(
      'Expected `target.url` to be an http(s) URL, got "***@pushgateway.example:9091"',
    );
    const env = configError(
      {},
      { RESOURCE_ATTRIBUTION_PUSHGATEWAY_URL: 'user:s3cr3t@pushgateway.example:9091' },
    );
    expect(env.message).not.toContain('s3cr3t');
    expect(env.message).not.toContain('user');
    const typo = configError(
      {},
      { RESOURCE_ATTRIBUTION_PUSHGATEWAY_URL: 'http//user:s3cr3t@pushgateway.example' },
    );
    expect(typo.message).not.toContain('s3cr3t');
  });

  it('never shows a password that holds a slash, or that a long URL would cut in two', () => {
    const slash = configError({
      target: { type: 'pushgateway', url: 'http://user:s3/cr3t@pushgateway.example' },
    });
    expect(slash.message).not.toContain('cr3t');
    const long = configError({
      target: { type: 'pushgateway', url: `ftp://user:${'x'.repeat(190)}s3cr3t@pushgateway.example` },
    });
    expect(long.message).not.toContain('s3cr3t');
    expect(long.message).not.toContain('xxxx');
  });

  it('never shows a password, a token or a key of the wrong type', () => {
    const password = configError({
      target: { type: 'pushgateway', url: PGW, auth: { username: 'user', password: ['s3cr3t'] } },
    });
    expect(password.field).toBe('target.auth');
    expect(password.message).not.toContain('s3cr3t');
    expect(password.message).toContain('(not shown)');
    const token = configError({
      target: { type: 'remote-write', url: RW, auth: { bearerToken: { value: 's3cr3t' } } },
    });
    expect(token.message).not.toContain('s3cr3t');
    const numeric = configError({
      target: { type: 'remote-write', url: RW, auth: { bearerToken: 123456789 } },
    });
    expect(numeric.message).not.toContain('123456789');
    const key = configError({ tls: { cert: 'PEM', key: 987654321 } });
    expect(key.field).toBe('tls.key');
    expect(key.message).not.toContain('987654321');
  });

  it('never shows a header value', () => {
    const error = configError({
      target: { type: 'remote-write', url: RW, headers: { 'X-Api-Key': 's3cr3t\r\n' } },
    });
    expect(error.message).not.toContain('s3cr3t');
    const reserved = configError({
      target: { type: 'pushgateway', url: PGW, headers: { Authorization: 'Bearer s3cr3t' } },
    });
    expect(reserved.message).not.toContain('s3cr3t');
  });

  it('never shows the password of a URL, however the URL is mangled', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('', 'http://', 'https://', 'ftp://', 'http//', 'http:/', 'htp://', 'user:', '//'),
        fc.stringMatching(/^[a-z]{0,8}$/),
        fc.string({ unit: 'grapheme-ascii', maxLength: 20 }),
        fc.constantFrom('', 'host', 'host:9091', 'host/metrics', 'host?x=1', 'host#f', ' host'),
        fc.boolean(),
        (scheme, user, middle, rest, fromEnv) => {
          const url = `${scheme}${user}:SECRET${middle}SECRET@${rest}`;
          try {
            if (fromEnv) resolve({}, { RESOURCE_ATTRIBUTION_PUSHGATEWAY_URL: url });
            else resolve({ target: { type: 'pushgateway', url } });
          } catch (error) {
            expect(error).toBeInstanceOf(ConfigError);
            expect((error as Error).message).not.toContain('SECRET');
          }
        },
      ),
    );
  });
});

describe('any input', () => {
  const ENV_NAMES = [
    'ENABLED',
    'UPDATE_INTERVAL_SECS',
    'PUSHGATEWAY_URL',
    'REMOTE_WRITE_URL',
    'TEXTFILE_PATH',
    'JOB',
    'INSTANCE',
    'LABELS',
    'USERNAME',
    'PASSWORD',
    'BEARER_TOKEN',
    'TENANT_ID',
    'TLS_CA_FILE',
    'TLS_CERT_FILE',
    'TLS_KEY_FILE',
  ].map((name) => `RESOURCE_ATTRIBUTION_${name}`);

  const envArbitrary = fc.record(
    Object.fromEntries(
      ENV_NAMES.map((name) => [
        name,
        fc.oneof(
          fc.string(),
          fc.string({ unit: 'binary' }),
          fc.constantFrom('0.5', '-5', 'true', 'http://h:9091', 'k=v,k2=v\\,2', '/etc/procpush/ca.pem'),
        ),
      ]),
    ),
    { requiredKeys: [] },
  );

  const json = fc.jsonValue({ maxDepth: 3 });
  const targetArbitrary = fc.oneof(
    fc.record(
      {
        type: fc.oneof(fc.constantFrom('pushgateway', 'remote-write', 'textfile', 'console'), json),
        url: fc.oneof(fc.webUrl(), fc.string(), json),
        path: fc.oneof(fc.string(), json),
        method: fc.oneof(fc.constantFrom('PUT', 'POST'), json),
        grouping: fc.oneof(fc.dictionary(fc.string(), fc.string()), json),
        auth: fc.oneof(
          fc.record({ username: fc.string(), password: fc.string() }),
          fc.record({ bearerToken: fc.string() }),
          json,
        ),
        headers: fc.oneof(fc.dictionary(fc.string(), fc.string()), json),
        tenant: json,
        deleteOnStop: json,
      },
      { requiredKeys: ['type'] },
    ),
    json,
  );
  const optionsArbitrary = fc.oneof(
    fc.record(
      {
        target: targetArbitrary,
        intervalMs: fc.oneof(fc.double(), json),
        enabled: json,
        job: json,
        instance: json,
        labels: fc.oneof(fc.dictionary(fc.string(), fc.string()), json),
        overhead: fc.oneof(fc.record({ memoryRatio: fc.double(), cpuPercent: fc.double() }), json),
        timeoutMs: fc.oneof(fc.double(), json),
        flushTimeoutMs: fc.oneof(fc.double(), json),
        tls: json,
        shutdown: json,
      },
      { requiredKeys: [] },
    ),
    fc.object(),
    fc.constant(undefined),
  );

  it('ends in a ConfigError or a valid configuration, never another exception', () => {
    fc.assert(
      fc.property(optionsArbitrary, envArbitrary, (options, env) => {
        let config: ResolvedConfig;
        try {
          config = resolve(options, env as Record<string, string>);
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          expect((error as ConfigError).code).toBe('ERR_PROCPUSH_CONFIG');
          expect((error as ConfigError).field).not.toBe('');
          return;
        }
        expect(config.intervalMs).toBeGreaterThanOrEqual(10);
        expect(Number.isFinite(config.intervalMs)).toBe(true);
        expect(config.flushTimeoutMs).toBeGreaterThan(0);
        expect(config.timeoutMs).toBeGreaterThan(0);
        expect(['pushgateway', 'remote-write', 'textfile', 'console']).toContain(config.target.type);
        expect(config.job).not.toBe('');
        expect(config.instance).not.toBe('');
        expect(config.labels.job).toBe(config.job);
        expect(config.labels.instance).toBe(config.instance);
        for (const name of Object.keys(config.labels)) {
          expect(name).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]*$/);
          expect(name.startsWith('__')).toBe(false);
        }
        if ('url' in config.target) expect(new URL(config.target.url).protocol).toMatch(/^https?:$/);
      }),
      { numRuns: 500 },
    );
  });
});

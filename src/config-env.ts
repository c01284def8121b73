/** Reads the `RESOURCE_ATTRIBUTION_*` environment variables into options; a bad value names its variable. */
import { describeInput, LABEL_NAME } from './config-schema.js';
import { ConfigError } from './errors.js';
import type { Auth, ReporterOptions, Target } from './types.js';

/** The prefix of every variable procpush reads. */
export const ENV_PREFIX = 'RESOURCE_ATTRIBUTION_';

/** An environment: a plain map of names to strings. */
export type Env = Readonly<Record<string, string | undefined>>;

/** The options the environment sets, plus the credentials that apply to any configured target. */
export interface EnvOptions {
  readonly options: ReporterOptions;
  readonly auth: Auth | undefined;
  readonly tenant: string | undefined;
  /** Paths of TLS files, read by the Node entry only. */
  readonly tlsFiles: { ca?: string; cert?: string; key?: string };
}

/** Parses the environment; throws `ConfigError` naming the first bad variable. */
export function readEnv(env: Env): EnvOptions {
  const get = (name: string): string | undefined => {
    const value = env[ENV_PREFIX + name]?.trim();
    return value === '' ? undefined : value;
  };
  const options: ReporterOptions = {};

  const enabled = get('ENABLED');
  if (enabled !== undefined) options.enabled = parseBoolean('ENABLED', enabled);

  const interval = get('UPDATE_INTERVAL_SECS');
  if (interval !== undefined) {
    const seconds = Number(interval);
    if (!(Number.isFinite(seconds) && seconds >= 0.01)) {
      throw envError('UPDATE_INTERVAL_SECS', 'a positive number of seconds (at least 0.01)', interval);
    }
    options.intervalMs = Math.round(seconds * 1000);
  }
  const job = get('JOB');
  if (job !== undefined) options.job = job;
  const instance = get('INSTANCE');
  if (instance !== undefined) options.instance = instance;
  const labels = get('LABELS');
  if (labels !== undefined) options.labels = parseLabels(labels);

  const auth = readAuth(get);
  const tenant = get('TENANT_ID');
  const target = readTarget(get);
  if (target !== undefined) options.target = target;

  const tlsFiles: EnvOptions['tlsFiles'] = {};
  for (const [key, name] of [
    ['ca', 'TLS_CA_FILE'],
    ['cert', 'TLS_CERT_FILE'],
    ['key', 'TLS_KEY_FILE'],
  ] as const) {
    const path = get(name);
    if (path !== undefined) tlsFiles[key] = path;
  }
  return { options, auth, tenant, tlsFiles };
}

function readTarget(get: (name: string) => string | undefined): Target | undefined {
  const urls = (['PUSHGATEWAY_URL', 'REMOTE_WRITE_URL', 'TEXTFILE_PATH'] as const).filter(
    (n) => get(n) !== undefined,
  );
  if (urls.length > 1) {
    throw new ConfigError(
      ENV_PREFIX + urls[1],
      `Expected one target, got both ${ENV_PREFIX}${urls[0]} and ${ENV_PREFIX}${urls[1]}; unset one of them`,
    );
  }
  const pushgateway = get('PUSHGATEWAY_URL');
  if (pushgateway !== undefined)
    return { type: 'pushgateway', url: checkUrl('PUSHGATEWAY_URL', pushgateway) };
  const remoteWrite = get('REMOTE_WRITE_URL');
  if (remoteWrite !== undefined)
    return { type: 'remote-write', url: checkUrl('REMOTE_WRITE_URL', remoteWrite) };
  const textfile = get('TEXTFILE_PATH');
  if (textfile !== undefined) return { type: 'textfile', path: textfile };
  return undefined;
}

function readAuth(get: (name: string) => string | undefined): Auth | undefined {
  const username = get('USERNAME');
  const password = get('PASSWORD');
  const bearerToken = get('BEARER_TOKEN');
  if (bearerToken !== undefined && (username !== undefined || password !== undefined)) {
    throw new ConfigError(
      `${ENV_PREFIX}BEARER_TOKEN`,
      `Expected either ${ENV_PREFIX}BEARER_TOKEN or ${ENV_PREFIX}USERNAME and ${ENV_PREFIX}PASSWORD, got both`,
    );
  }
  if (bearerToken !== undefined) return { bearerToken };
  if (username === undefined && password === undefined) return undefined;
  if (username === undefined) {
    throw new ConfigError(
      `${ENV_PREFIX}USERNAME`,
      `Expected ${ENV_PREFIX}USERNAME to be set with ${ENV_PREFIX}PASSWORD`,
    );
  }
  return { username, password: password ?? '' };
}

function checkUrl(name: string, url: string): string {
  if (URL.canParse(url) && /^https?:$/.test(new URL(url).protocol)) return url;
  throw envError(name, 'an http(s) URL', url);
}

function parseBoolean(name: string, value: string): boolean {
  const lower = value.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(lower)) return true;
  if (['false', '0', 'no', 'off'].includes(lower)) return false;
  throw envError(name, 'true or false', value);
}

/** Parses "k=v,k2=v2"; a comma or backslash inside a value is written `\,` or `\\`. */
export function parseLabels(value: string, name = 'LABELS'): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const entry of splitUnescaped(value)) {
    if (entry.trim() === '') continue;
    const eq = entry.indexOf('=');
    const key = entry.slice(0, Math.max(eq, 0)).trim();
    if (eq < 0 || !LABEL_NAME.test(key)) {
      throw envError(
        name,
        'a list of label=value pairs separated by commas, with label names like [a-zA-Z_][a-zA-Z0-9_]*',
        entry,
      );
    }
    labels[key] = entry.slice(eq + 1).replace(/\\([\\,])/g, '$1');
  }
  return labels;
}

function splitUnescaped(value: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '\\') i++;
    else if (value[i] === ',') {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(value.slice(start));
  return parts;
}

function envError(name: string, expected: string, received: string): ConfigError {
  return new ConfigError(
    ENV_PREFIX + name,
    `Expected ${ENV_PREFIX}${name} to be ${expected}, got ${describeInput(received)}`,
  );
}

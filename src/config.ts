/** Resolves options and the environment into one validated configuration; options win over the environment. */
import * as v from 'valibot';
import { ENV_PREFIX, type Env, readEnv } from './config-env.js';
import { optionsSchema, toConfigError } from './config-schema.js';
import { ConfigError } from './errors.js';
import type { ReporterOptions, Target, TlsOptions } from './types.js';

/** What the running platform tells the configuration. */
export interface ConfigContext {
  readonly env: Env;
  readonly hostname: string;
  /** The process ID, where the platform has one. */
  readonly pid: number | undefined;
  readonly defaultJob: string;
  /** Reads a TLS file named by the environment; absent on the edge. */
  readonly readFile?: (path: string) => string;
}

/** The configuration a reporter runs on: every default applied, every value checked. */
export interface ResolvedConfig {
  readonly enabled: boolean;
  readonly target: Target;
  readonly intervalMs: number;
  readonly job: string;
  readonly instance: string;
  /** `job`, `instance` and the user's labels. */
  readonly labels: Readonly<Record<string, string>>;
  readonly overhead: { readonly memoryRatio: number; readonly cpuPercent: number };
  readonly timeoutMs: number;
  readonly flushTimeoutMs: number;
  readonly tls: TlsOptions | undefined;
  readonly shutdown: false | { readonly signals: readonly string[]; readonly timeoutMs: number };
  readonly onError: ((error: Error) => void) | undefined;
}

/** Default time between samples. */
export const DEFAULT_INTERVAL_MS = 60_000;
/** Default bound on a final push at shutdown. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5_000;

/** Headers that procpush sets itself and a user may not replace. */
const RESERVED_HEADERS: Record<Target['type'], readonly string[]> = {
  pushgateway: ['content-type', 'content-length', 'authorization', 'retry-attempt', 'host'],
  'remote-write': [
    'content-type',
    'content-encoding',
    'content-length',
    'x-prometheus-remote-write-version',
    'user-agent',
    'authorization',
    'x-scope-orgid',
    'retry-attempt',
    'host',
  ],
  textfile: [],
  console: [],
};

/** Validates and merges options with the environment; throws `ConfigError` naming the bad field. */
export function resolveConfig(options: ReporterOptions | undefined, context: ConfigContext): ResolvedConfig {
  const parsed = v.safeParse(optionsSchema, options ?? {});
  if (!parsed.success) throw toConfigError(parsed.issues[0]);
  const user = options ?? {};
  const env = readEnv(context.env);
  const merged: ReporterOptions = { ...env.options, ...withoutUndefined(user) };

  if (user.tls) checkClientCertificate(user.tls);

  const target = withEnvCredentials(user.target ?? env.options.target ?? { type: 'console' }, env);
  checkHeaders(target, user.target === undefined);

  const intervalMs = merged.intervalMs ?? DEFAULT_INTERVAL_MS;
  const flushTimeoutMs = merged.flushTimeoutMs ?? Math.min(intervalMs, 30_000);
  const job = merged.job ?? context.defaultJob;
  const instance =
    merged.instance ??
    (target.type === 'remote-write' && context.pid !== undefined
      ? `${context.hostname}:${context.pid}`
      : context.hostname);
  const userLabels = merged.labels ?? {};
  checkLabelNames(userLabels, user.labels === undefined ? `${ENV_PREFIX}LABELS` : 'labels');
  if (target.type === 'pushgateway' && target.grouping) checkLabelNames(target.grouping, 'target.grouping');

  const shutdown =
    merged.shutdown === false
      ? false
      : {
          signals: merged.shutdown?.signals ?? ['SIGTERM', 'SIGINT'],
          timeoutMs: merged.shutdown?.timeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS,
        };

  return {
    enabled: merged.enabled ?? true,
    target,
    intervalMs,
    job,
    instance,
    labels: { ...userLabels, job, instance },
    overhead: {
      memoryRatio: merged.overhead?.memoryRatio ?? 0.015,
      cpuPercent: merged.overhead?.cpuPercent ?? 0.5,
    },
    timeoutMs: merged.timeoutMs ?? Math.min(10_000, flushTimeoutMs),
    flushTimeoutMs,
    tls: user.tls ?? readTlsFiles(env.tlsFiles, context.readFile),
    shutdown,
    onError: merged.onError,
  };
}

/** Credentials from the environment apply to a target that has none of its own, also one given in code. */
function withEnvCredentials(target: Target, env: ReturnType<typeof readEnv>): Target {
  if (target.type === 'pushgateway' || target.type === 'remote-write') {
    const withAuth =
      target.auth === undefined && env.auth !== undefined ? { ...target, auth: env.auth } : target;
    if (withAuth.type === 'remote-write' && withAuth.tenant === undefined && env.tenant !== undefined) {
      return { ...withAuth, tenant: env.tenant };
    }
    return withAuth;
  }
  return target;
}

function checkLabelNames(labels: Readonly<Record<string, string>>, field: string): void {
  for (const name of Object.keys(labels)) {
    if (name.startsWith('__')) {
      throw new ConfigError(
        field,
        `Expected label names in \`${field}\` not to start with "__" (reserved), got "${name}"`,
      );
    }
    if (name === 'job' || name === 'instance') {
      throw new ConfigError(
        field,
        `Expected no "${name}" label in \`${field}\`; set it with the \`${name}\` option`,
      );
    }
  }
}

function checkHeaders(target: Target, fromEnv: boolean): void {
  if (!('headers' in target) || target.headers === undefined) return;
  for (const name of Object.keys(target.headers)) {
    if (RESERVED_HEADERS[target.type].includes(name.toLowerCase())) {
      const field = fromEnv ? 'target' : 'target.headers';
      throw new ConfigError(
        field,
        `Header "${name}" is set by procpush for ${target.type} targets and cannot be overridden`,
      );
    }
  }
}

/** Mutual TLS needs the certificate and its key: one without the other would fail at the first handshake. */
function checkClientCertificate(tls: TlsOptions): void {
  if ((tls.cert === undefined) === (tls.key === undefined)) return;
  const [given, missing] = tls.cert === undefined ? ['tls.key', 'tls.cert'] : ['tls.cert', 'tls.key'];
  throw new ConfigError(
    missing,
    `Expected \`${missing}\` with \`${given}\` (mutual TLS needs the client certificate and its key), got only \`${given}\``,
  );
}

function readTlsFiles(
  files: { ca?: string; cert?: string; key?: string },
  readFile: ConfigContext['readFile'],
): TlsOptions | undefined {
  const entries = Object.entries(files) as ['ca' | 'cert' | 'key', string][];
  if (entries.length === 0) return undefined;
  const tls: TlsOptions = {};
  for (const [key, path] of entries) {
    const name = `${ENV_PREFIX}TLS_${key.toUpperCase()}_FILE`;
    if (!readFile)
      throw new ConfigError(name, `${name} needs a file system; pass \`tls\` in the options on this runtime`);
    try {
      tls[key] = readFile(path);
    } catch (error) {
      throw new ConfigError(name, `Expected ${name} to name a readable file, got "${path}"`, {
        cause: error,
      });
    }
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new ConfigError(
      `${ENV_PREFIX}TLS_KEY_FILE`,
      `Expected ${ENV_PREFIX}TLS_CERT_FILE and ${ENV_PREFIX}TLS_KEY_FILE together`,
    );
  }
  return tls;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>;
}

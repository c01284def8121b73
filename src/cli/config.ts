/**
 * Maps the command line onto `ReporterOptions` and resolves them with the environment through the library's
 * `resolveConfig`, so validation and its messages are the library's. Flags win over the environment.
 */

import { type ResolvedConfig, resolveConfig } from '../config.js';
import { readEnv } from '../config-env.js';
import type { Platform } from '../platform.js';
import type { ReporterOptions } from '../types.js';
import { type CliFlags, UsageError } from './args.js';

/** The final push's deadline when `--final-timeout` is not given. */
export const DEFAULT_FINAL_TIMEOUT_MS = 5_000;

/** The configuration of one `procpush` run. */
export interface CliConfig {
  readonly reporter: ResolvedConfig;
  /** Bound on the final push after the command ended. */
  readonly finalTimeoutMs: number;
}

/** Resolves flags and environment; throws `ConfigError` (from the library) or `UsageError`. */
export function resolveCliConfig(flags: CliFlags, platform: Platform): CliConfig {
  const context = platform.context();
  const options: ReporterOptions = { shutdown: false };
  if (flags.target !== undefined) options.target = flags.target;
  if (flags.job !== undefined) options.job = flags.job;
  if (flags.instance !== undefined) options.instance = flags.instance;
  if (flags.intervalMs !== undefined) options.intervalMs = flags.intervalMs;
  if (flags.timeoutMs !== undefined) options.timeoutMs = flags.timeoutMs;
  if (Object.keys(flags.labels).length > 0) {
    // --label adds to the environment's labels instead of replacing them all.
    options.labels = { ...readEnv(context.env).options.labels, ...flags.labels };
  }
  const reporter = resolveConfig(options, context);
  return {
    reporter: withPushgatewayMethod(reporter, flags.pushgatewayMethod),
    finalTimeoutMs: flags.finalTimeoutMs ?? DEFAULT_FINAL_TIMEOUT_MS,
  };
}

/**
 * POST unless the user chose PUT: a POST replaces only the metric names it carries, so a failed run, which
 * pushes no `procpush_job_last_success_timestamp_seconds`, leaves the last success of an earlier run in the
 * group (https://github.com/prometheus/pushgateway#put-method). Also for a gateway set in the environment.
 */
function withPushgatewayMethod(
  config: ResolvedConfig,
  method: CliFlags['pushgatewayMethod'],
): ResolvedConfig {
  if (config.target.type !== 'pushgateway') {
    if (method !== undefined) {
      throw new UsageError(
        `Expected a Pushgateway target with --pushgateway-method, got ${config.target.type}`,
      );
    }
    return config;
  }
  return { ...config, target: { ...config.target, method: method ?? 'POST' } };
}

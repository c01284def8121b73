/** The public functions, written once over a `Platform`; the Node and edge entries bind them to theirs. */
import { type ResolvedConfig, resolveConfig } from './config.js';
import type { Platform } from './platform.js';
import { createDisabledReporter, createReporter, type ManagedReporter } from './reporter.js';
import { createTarget } from './targets/create.js';
import type { PushResult, Reporter, ReporterOptions } from './types.js';

/** Internal switches of the entries (the CLI, `withReporter`). */
export interface StartOverrides {
  readonly timer?: boolean;
}

/** Validates, then starts a reporter: the timer, and the shutdown hooks where the platform has them. */
export function start(
  platform: Platform,
  options: ReporterOptions | undefined,
  overrides: StartOverrides = {},
): ManagedReporter {
  const config = resolveConfig(options, platform.context());
  if (!config.enabled) return createDisabledReporter();
  const { driver, transport } = createTarget(config, platform);
  const install = platform.installShutdown;
  return createReporter(config, {
    sampler: platform.createSampler(),
    target: driver,
    transport,
    warn: (message) => platform.warn(message),
    ...(install && config.shutdown !== false
      ? { installShutdown: (reporter: ManagedReporter) => install(reporter, config) }
      : {}),
    ...(overrides.timer === false ? { timer: false } : {}),
  });
}

/** Samples and pushes once, with no timer and no hooks; rejects only for bad configuration. */
export async function pushOnceOn(
  platform: Platform,
  options: ReporterOptions | undefined,
): Promise<PushResult> {
  const reporter = start(platform, { ...options, shutdown: false }, { timer: false });
  const result = await reporter.flush();
  // Ends the connection pool without a final push: stop() would sample and push again.
  reporter.dispose();
  return result;
}

/** Wraps a function handler: after each invocation, before its result is returned, samples and pushes. */
export function withReporterOn<Args extends unknown[], Result>(
  platform: Platform,
  handler: (...args: Args) => Result | Promise<Result>,
  options: ReporterOptions | undefined,
): (...args: Args) => Promise<Result> {
  // Started now, so bad configuration fails at cold start rather than in the first invocation. Every
  // invocation has pushed before it returned, so signal hooks add nothing unless asked for, and the caller
  // has no reporter to remove them with.
  const reporter: Reporter = start(platform, { shutdown: false, ...options }, { timer: false });
  return async (...args: Args) => {
    try {
      return await handler(...args);
    } finally {
      // Bounded by flushTimeoutMs and never rejects, so a dead target adds at most that to the invocation.
      await reporter.flush();
    }
  };
}

export type { ResolvedConfig };

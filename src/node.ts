/**
 * The Node entry of procpush: samples `/proc` (or Node's process APIs), sends with `node:http(s)`, and pushes a final sample on SIGTERM, SIGINT and `beforeExit`.
 * It exports the same names as the other entry.
 */
import { pushOnceOn, start, withReporterOn } from './api.js';
import { createNodePlatform } from './node/platform.js';
import type { PushOnce, StartReporter, WithReporter } from './public-api.js';

/**
 * Starts sampling on an interval and pushing; validates synchronously and throws `ConfigError` on bad input.
 * @example
 * const reporter = startReporter({ target: { type: 'pushgateway', url: 'http://localhost:9091' }, job: 'nightly' });
 * await runTheJob();
 * await reporter.stop(); // final sample, pushed before the job exits
 */
export const startReporter: StartReporter = (options) => start(createNodePlatform(), options);

/**
 * Samples and pushes once, with no timer (serverless, edge); resolves with the result, rejects only on bad configuration.
 * @example
 * ctx.waitUntil(pushOnce({ target: { type: 'pushgateway', url: env.PUSHGATEWAY_URL }, job: 'worker' }));
 */
export const pushOnce: PushOnce = async (options) => pushOnceOn(createNodePlatform(), options);

/**
 * Wraps a function handler so that each invocation samples and pushes before its result is returned, adding at
 * most `flushTimeoutMs`; the handler's result and errors pass through unchanged.
 * @example
 * export const handler = withReporter(async (event) => process(event), { job: 'resize-images' });
 */
export const withReporter: WithReporter = (handler, options) =>
  withReporterOn(createNodePlatform(), handler, options);

// The public names besides the functions: one list, so the two entries cannot drift apart.
export * from './public-exports.js';

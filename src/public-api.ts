/** The signatures both entries export, so the Node and edge entries cannot drift apart. */
import type { PushResult, Reporter, ReporterOptions } from './types.js';

/** `startReporter`'s signature. */
export type StartReporter = (options?: ReporterOptions) => Reporter;
/** `pushOnce`'s signature. */
export type PushOnce = (options?: ReporterOptions) => Promise<PushResult>;
/** `withReporter`'s signature. */
export type WithReporter = <Args extends unknown[], Result>(
  handler: (...args: Args) => Result | Promise<Result>,
  options?: ReporterOptions,
) => (...args: Args) => Promise<Result>;

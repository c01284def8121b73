/** The errors and types both entries export; each entry adds its own `startReporter`, `pushOnce`, `withReporter`. */
export { ConfigError, ProcpushError, PushError, PushErrorCode, SampleError } from './errors.js';
export type {
  Auth,
  ConsoleTarget,
  PushgatewayTarget,
  PushResult,
  RemoteWriteQueueOptions,
  RemoteWriteTarget,
  Reporter,
  ReporterOptions,
  ReporterStats,
  ShutdownOptions,
  Target,
  TextfileTarget,
  TlsOptions,
} from './types.js';

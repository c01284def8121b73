/** What differs between runtimes, behind one interface; the Node and edge entries each provide one. */
import type { ConfigContext, ResolvedConfig } from './config.js';
import type { ManagedReporter } from './reporter.js';
import type { Sampler } from './sample/types.js';
import type { TargetDriver } from './targets/types.js';
import type { Transport } from './transport/types.js';

/** The runtime-specific parts; every member is called at use, never at import. */
export interface Platform {
  /** Environment, host name, pid and default job of this process. */
  context(): ConfigContext;
  /** A sampler for this process, or undefined where nothing can be sampled. */
  createSampler(): Sampler | undefined;
  createTransport(config: ResolvedConfig): Transport;
  /** The textfile target; absent where there is no file system. */
  createTextfileTarget?(config: ResolvedConfig): TargetDriver;
  /** Prints one push of the console target. */
  write(text: string): void;
  warn(message: string): void;
  /** Installs SIGTERM/SIGINT/beforeExit hooks; absent where there are no signals. */
  installShutdown?(reporter: ManagedReporter, config: ResolvedConfig): () => void;
}

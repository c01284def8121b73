/** The Node platform as the CLI needs it: the console target on stderr, and the command's name as the job. */
import { basename } from 'node:path';
import { createNodePlatform } from '../node/platform.js';
import type { Platform } from '../platform.js';
import { writeStderr } from './output.js';

/**
 * Creates the platform for running `command`. Printing goes through `writeStderr` rather than the platform's
 * `process.stderr` (see `output.ts`), and the CLI installs no shutdown hooks: it forwards signals itself.
 */
export function createCliPlatform(command: string, env: NodeJS.ProcessEnv): Platform {
  const base = createNodePlatform('stderr', env);
  const { installShutdown: _none, ...rest } = base;
  return {
    ...rest,
    context: () => ({ ...base.context(), defaultJob: defaultJob(command) }),
    write: writeStderr,
    // Messages already start with "procpush: " (error-reporter.ts).
    warn: (message) => writeStderr(`${message}\n`),
  };
}

/** The command's file name: `./jobs/backup.sh` gives "backup.sh", `python3` gives "python3". */
export function defaultJob(command: string): string {
  return basename(command) || 'procpush';
}

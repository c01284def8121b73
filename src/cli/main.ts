/** `procpush` from arguments to exit status: help, version, one-line usage errors (status 2), or a run. */
import { ConfigError } from '../errors.js';
import { VERSION } from '../version.js';
import { parseArgs, UsageError } from './args.js';
import { HELP } from './help.js';
import { writeStderr, writeStdout } from './output.js';
import { type PreparedRun, prepareRun, run } from './run.js';

/** The exit status of a bad command line or configuration (as in most Unix tools). */
export const USAGE_STATUS = 2;

/** Runs `procpush` with `argv` (the arguments after the program name) and returns the exit status. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let prepared: PreparedRun;
  try {
    const request = parseArgs(argv);
    if (request.kind === 'help') {
      writeStdout(HELP);
      return 0;
    }
    if (request.kind === 'version') {
      writeStdout(`${VERSION}\n`);
      return 0;
    }
    prepared = prepareRun(request, env);
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof ConfigError)) throw error;
    writeStderr(`procpush: ${error.message.replace(/\s*\n\s*/g, ' ')}\n`);
    return USAGE_STATUS;
  }
  return run(prepared);
}

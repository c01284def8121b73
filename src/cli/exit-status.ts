/** How a finished command becomes procpush's own exit status, as a shell reports it. */
import { constants } from 'node:os';

/** The exit status of a command that cannot be executed (a directory, no permission), as in POSIX shells. */
export const CANNOT_EXECUTE = 126;
/** The exit status of a command that is not found, as in POSIX shells. */
export const NOT_FOUND = 127;

/**
 * The command's exit code, or 128+n when signal n ended it (the shell convention, so `procpush -- job` and
 * `job` look the same to whoever runs them); 128+9 = 137 for SIGKILL and the OOM killer.
 */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = signal === null ? undefined : constants.signals[signal];
  return 128 + (number ?? 0);
}

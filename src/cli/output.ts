/**
 * procpush's own output, written with `writeSync` on the raw descriptors. The command shares these
 * descriptors (`stdio: 'inherit'`); Node's `process.stdout`/`process.stderr` would switch a pipe to
 * non-blocking mode (libuv's `uv_pipe_open`), a flag of the open file that the command shares, and a command
 * writing to a non-blocking pipe can fail with EAGAIN. So procpush never touches those streams.
 */
import { writeSync } from 'node:fs';

const STDOUT = 1;
const STDERR = 2;

/** Writes `text` to stderr; on an error (a closed or non-blocking pipe that is full) the rest is dropped. */
export function writeStderr(text: string): void {
  writeAll(STDERR, text);
}

/** Writes `text` to stdout (help and version only: while a command runs, stdout is the command's). */
export function writeStdout(text: string): void {
  writeAll(STDOUT, text);
}

function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let offset = 0;
  try {
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset);
  } catch {
    // Nowhere left to report it; metrics output must never stop the command or procpush.
  }
}

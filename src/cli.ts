#!/usr/bin/env node
/**
 * The `procpush` command: runs a program and meters it from the outside.
 * @example
 * npx procpush --pushgateway http://localhost:9091 --job nightly -- ./backup.sh
 */
import { main } from './cli/main.js';
import { writeStderr } from './cli/output.js';

main(process.argv.slice(2)).then(
  // Exit at once: keep-alive sockets to the target must not hold the job's exit.
  (status) => process.exit(status),
  (error: unknown) => {
    writeStderr(`procpush: internal error: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(70);
  },
);

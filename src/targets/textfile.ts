/**
 * The textfile target for node_exporter's textfile collector
 * (https://github.com/prometheus/node_exporter#textfile-collector): the text format written to a temp file in
 * the same directory and renamed over `<path>`, so the collector never reads half a file.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { encodeText, formatLabels } from '../encode/text.js';
import { ConfigError, PushError, PushErrorCode } from '../errors.js';
import { type Overhead, toMetricPoints } from '../metrics.js';
import type { TextfileTarget } from '../types.js';
import { createLatestSlot } from './latest-slot.js';
import type { TargetDriver } from './types.js';

/** Counts textfile targets in this process, so two writing the same path never share a temp file. */
let writers = 0;

/** Creates the target; a missing or read-only directory is a `ConfigError` now, not a failure later. */
export function createTextfileTarget(
  target: TextfileTarget,
  labels: Readonly<Record<string, string>>,
  overhead: Overhead,
): TargetDriver {
  const dir = dirname(target.path);
  checkDirectory(dir);
  // node_exporter reads only *.prom files, so a temp name that does not end in .prom is never read.
  const temp = join(dir, `.${basename(target.path)}.${process.pid}.${++writers}.tmp`);
  const labelText = formatLabels(labels);
  const slot = createLatestSlot();

  return {
    offer: (sample) => slot.put(sample),
    async deliver() {
      const sample = slot.peek();
      if (sample === undefined) return { ok: true, attempts: 0 };
      try {
        await writeFile(temp, encodeText(toMetricPoints(sample, overhead), labelText), { mode: 0o644 });
        await rename(temp, target.path);
        slot.delivered(sample);
        return { ok: true, attempts: 1 };
      } catch (error) {
        await unlink(temp).catch(() => {});
        return { ok: false, attempts: 1, error: ioError(`Could not write ${target.path}`, error) };
      }
    },
    async close() {
      if (!target.deleteOnStop) return undefined;
      try {
        await unlink(target.path);
        return { ok: true, attempts: 1 };
      } catch (error) {
        if ((error as { code?: string }).code === 'ENOENT') return { ok: true, attempts: 1 };
        return { ok: false, attempts: 1, error: ioError(`Could not remove ${target.path}`, error) };
      }
    },
    pending: () => slot.size(),
    dropped: () => slot.dropped(),
  };
}

function checkDirectory(dir: string): void {
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    accessSync(dir, constants.W_OK);
  } catch (error) {
    const reason =
      (error as { code?: string }).code === 'ENOENT' ? 'does not exist' : 'is not a writable directory';
    throw new ConfigError(
      'target.path',
      `Expected the directory of \`target.path\` to be writable, but ${dir} ${reason}`,
      {
        cause: error,
      },
    );
  }
}

function ioError(message: string, cause: unknown): PushError {
  const code = (cause as { code?: string }).code;
  return new PushError(PushErrorCode.io, code ? `${message} (${code})` : message, { cause });
}

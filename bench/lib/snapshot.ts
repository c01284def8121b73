/**
 * A private copy of dist/ for the run. Other work may rebuild dist/ while the bench runs (the build starts by
 * deleting it), so the children import this copy instead: a temp directory with the bundled `.js` files, a
 * `package.json` that makes them ES modules, and a `node_modules` link back to the project's dependencies.
 *
 * dist/ ships only bundled entries, but the sampling and encoding comparisons time internal modules on their
 * own (the /proc sampler, the remote-write encoder). Those are bundled into the copy from src/, under the
 * paths tsc gave them (`sample/proc-reader.js`, ...), with the same esbuild settings as the Node entries
 * (scripts/build.mjs), so the children time the code that ships, compiled the way it ships.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { NODE_BUILD } from '../../scripts/build.mjs';
import { runChild } from './child.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The internal modules the children import from the copy, by their path under dist/ (without `.js`). */
const INTERNALS = ['sample/proc-reader', 'encode/remote-write', 'targets/remote-write'] as const;

/** The copy, and what it was built from. */
export interface DistSnapshot {
  /** Directory holding the copied dist files (node.js, index.js, ...). */
  readonly dist: string;
  /** Commit and working-tree state of src/ when the copy was taken. */
  readonly source: string;
  dispose(): void;
}

/** Copies dist/ once both entries import cleanly from the copy; retries while a rebuild is under way. */
export async function snapshotDist(log: (message: string) => void): Promise<DistSnapshot> {
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'procpush-bench-dist-'));
    const dispose = (): void => rmSync(dir, { recursive: true, force: true });
    const dist = join(dir, 'dist');
    try {
      writeFileSync(join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
      cpSync(join(ROOT, 'dist'), dist, {
        recursive: true,
        filter: (path) => !path.endsWith('.map') && !path.endsWith('.d.ts'),
      });
      if (!existsSync(join(dist, 'node.js')) || !existsSync(join(dist, 'index.js'))) {
        throw new Error('dist/ has no node.js or index.js');
      }
      await build({
        ...NODE_BUILD,
        entryPoints: Object.fromEntries(INTERNALS.map((path) => [path, `src/${path}.ts`])),
        outdir: dist,
        chunkNames: 'internal-chunks/[name]-[hash]',
        metafile: false,
        logLevel: 'error',
      });
      for (const entry of ['node.js', 'index.js', ...INTERNALS.map((path) => `${path}.js`)]) {
        await runChild('import.mjs', ['snapshot check', `file://${join(dist, entry)}`], {
          env: { PROCPUSH_BENCH_DIST: dist },
        });
      }
      return { dist, source: describeSource(), dispose };
    } catch (error) {
      dispose();
      if (attempt >= 10) throw new Error('Could not take a consistent copy of dist/', { cause: error });
      log(`dist/ is being rebuilt (${(error as Error).message.split('\n')[0]}); retrying`);
      await sleep(3000);
    }
  }
}

function describeSource(): string {
  try {
    const git = (...args: string[]): string =>
      execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
    const changed = git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean).length;
    return `${git('rev-parse', '--short', 'HEAD')}${changed > 0 ? ` with ${changed} uncommitted change(s) in src/` : ''}`;
  } catch {
    return 'unknown (no git)';
  }
}

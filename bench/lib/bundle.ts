/**
 * Bundles the run's copy of dist/node.js and dist/index.js with esbuild into a temp directory: one file per entry plus shared
 * chunks, lazy imports kept lazy. Not what ships; the cold-start comparison imports it to show what a
 * bundled build would cost, next to the dist/ that does ship.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** File URLs of the bundled entries, and a way to remove them. */
export interface Bundled {
  readonly node: string;
  readonly edge: string;
  dispose(): void;
}

/** Bundles both entries; resolves undefined (with the reason logged) where esbuild is not installed. */
export async function bundleEntries(
  dist: string,
  log: (message: string) => void,
): Promise<Bundled | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'procpush-bench-bundle-'));
  try {
    const { build } = await import('esbuild');
    await build({
      entryPoints: { node: join(dist, 'node.js'), edge: join(dist, 'index.js') },
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      outdir: dir,
      logLevel: 'error',
    });
    return {
      node: pathToFileURL(join(dir, 'node.js')).href,
      edge: pathToFileURL(join(dir, 'edge.js')).href,
      dispose: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    log(`no bundled build to compare: ${(error as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

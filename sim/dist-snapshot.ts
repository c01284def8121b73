/**
 * A private copy of dist/ for the simulation's processes. The machine is shared: another engineer's
 * `npm run build` empties dist/ for a few seconds, and a process started then fails to import procpush (a
 * full run lost 26 processes that way). The copy sits in a temp directory with the project's node_modules
 * linked beside it, so the same build resolves the same dependencies.
 */
import { access, cp, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The copy: the URL of its Node entry, and its removal. */
export interface DistSnapshot {
  /** `file:` URL of the copy's `node.js`, for `import()`. */
  readonly nodeEntry: string;
  dispose(): Promise<void>;
}

/** Copies dist/ (which `npm run sim:scale` has just built) into a temp directory. */
export async function snapshotDist(): Promise<DistSnapshot> {
  const source = join(ROOT, 'dist');
  await access(join(source, 'node.js')).catch(() => {
    throw new Error(`Expected a build in ${source}; run \`npm run build\` first (npm run sim:scale does)`);
  });
  const dir = await mkdtemp(join(tmpdir(), 'procpush-sim-'));
  await cp(source, join(dir, 'dist'), { recursive: true });
  // The build is ESM: without a package.json saying so, Node would load the copy as CommonJS.
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return {
    nodeEntry: pathToFileURL(join(dir, 'dist', 'node.js')).href,
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

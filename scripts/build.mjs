// Bundles the JavaScript of dist/ with esbuild; `tsc --emitDeclarationOnly` writes the .d.ts files beside it.
//
// Why bundle: as plain tsc output, importing the Node entry loaded about 40 ES modules one by one, and valibot
// as one whole 206 KB file; each module costs a resolve, a read, a compile and a link (BENCHMARKS.md, row 1).
// Bundled, an entry is one file plus a few shared chunks, and valibot is tree-shaken to what config.ts uses.
//
// - dist/node.js, dist/cli.js: the Node entry and the `procpush` command, platform node, split so the code they
//   share is one chunk and every dynamic import (undici's transport, ...) stays a chunk loaded only when used.
//   undici stays an external dependency: it is loaded only where a proxy applies and is not ours to ship.
// - dist/index.js: the edge entry, resolved as Wrangler and other edge bundlers do (platform neutral, the
//   worker and browser conditions), one self-contained file with no `node:` import and no undici.
// - dist/THIRD-PARTY-LICENSES.md: the notices of the npm packages bundled into those files, which their MIT
//   licenses require in every copy; esbuild's `legalComments` keeps only `/*!`, `@license` and `@preserve`
//   comments, and none of the bundled packages has one.
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');

/** What both builds share. No source maps: the tarball ships none, and a stack shows readable code anyway. */
const COMMON = {
  absWorkingDir: ROOT,
  bundle: true,
  format: 'esm',
  outdir: DIST,
  sourcemap: false,
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
};

/** The Node entries; the bench bundles internal modules with these same settings (bench/lib/snapshot.ts). */
export const NODE_BUILD = {
  ...COMMON,
  platform: 'node',
  target: 'node20',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  // A real dependency, imported only when a proxy applies (src/transport/node-undici.ts).
  external: ['undici'],
};

/** The edge entry, as an edge bundler would resolve it. */
export const EDGE_BUILD = {
  ...COMMON,
  platform: 'neutral',
  target: 'es2022',
  mainFields: ['module', 'main'],
  conditions: ['worker', 'browser'],
};

/** Builds dist/'s JavaScript; resolves with the npm packages bundled into it. */
export async function buildDist() {
  const [node, edge] = await Promise.all([
    build({ ...NODE_BUILD, entryPoints: { node: 'src/node.ts', cli: 'src/cli.ts' } }),
    build({ ...EDGE_BUILD, entryPoints: { index: 'src/index.ts' } }),
  ]);
  const edgeImports = Object.values(edge.metafile.outputs).flatMap((output) => output.imports);
  if (edgeImports.length > 0) {
    throw new Error(`dist/index.js must be self-contained, but imports ${edgeImports.map((i) => i.path)}`);
  }
  // npm sets the mode of a bin when it installs the package; this makes `./dist/cli.js` run from the checkout too.
  chmodSync(join(DIST, 'cli.js'), 0o755);
  const packages = bundledPackages([node.metafile, edge.metafile]);
  writeFileSync(join(DIST, 'THIRD-PARTY-LICENSES.md'), licenses(packages));
  return { node: node.metafile, edge: edge.metafile, packages };
}

/** The package.json paths of the npm packages whose files went into the outputs. */
function bundledPackages(metafiles) {
  const roots = new Set();
  for (const metafile of metafiles) {
    for (const output of Object.values(metafile.outputs)) {
      for (const input of Object.keys(output.inputs)) {
        const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
        if (match) roots.add(match[1]);
      }
    }
  }
  return [...roots].sort().map((root) => {
    const pkg = JSON.parse(readFileSync(join(ROOT, root, 'package.json'), 'utf8'));
    return { root: join(ROOT, root), name: pkg.name, version: pkg.version, license: pkg.license };
  });
}

function licenses(packages) {
  const sections = packages.map(({ root, name, version, license }) => {
    const file = readdirSync(root).find((entry) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(entry));
    if (file === undefined) throw new Error(`${name} has no license file to ship with the bundle`);
    const text = readFileSync(join(root, file), 'utf8').trim();
    return `## ${name} ${version} (${license})\n\n\`\`\`\n${text}\n\`\`\`\n`;
  });
  return [
    '# Third-party licenses',
    '',
    'The JavaScript files of this directory include code from these npm packages, bundled at build time.',
    '',
    ...sections,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const { packages } = await buildDist();
  const ms = Math.round(performance.now() - started);
  process.stdout.write(
    `esbuild: dist/node.js, dist/cli.js, dist/index.js (bundled: ${packages.map((p) => p.name).join(', ')}) in ${ms} ms\n`,
  );
}

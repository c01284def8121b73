// Types of scripts/build.mjs, for the TypeScript that imports it (bench/lib/snapshot.ts).
import type { BuildOptions, Metafile } from 'esbuild';

/** The esbuild options of the Node entries (dist/node.js, dist/cli.js and their chunks). */
export declare const NODE_BUILD: BuildOptions;
/** The esbuild options of the edge entry (dist/index.js). */
export declare const EDGE_BUILD: BuildOptions;
/** Builds dist/'s JavaScript; resolves with the metafiles and the npm packages bundled. */
export declare function buildDist(): Promise<{
  node: Metafile;
  edge: Metafile;
  packages: { root: string; name: string; version: string; license: string }[];
}>;

/**
 * 1. Cold start: one `await import()` of each contender in a fresh process, timed inside the process (with
 * the ES module loader already warm), and the process's whole life timed from outside minus an empty one.
 * dist/ ships each entry bundled (scripts/build.mjs); the details list the files each entry loads at import.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { rotate, runChild } from '../lib/child.js';
import { type BenchContext, type Measured, measure } from '../lib/context.js';
import { type Row, verdict } from '../lib/report.js';
import { bytes, median, quantile, ratio, sig } from '../lib/stats.js';

const NODE = 'procpush (Node entry)';
const EDGE = 'procpush (edge entry)';
const PROM = 'prom-client';
const PEERS = [PROM, 'prometheus-remote-write', '@opentelemetry/sdk-metrics'] as const;

interface ImportResult {
  importMs: number;
}

/** The files an `import` of `entry` loads before it resolves: static relative imports, followed. */
interface Loaded {
  readonly files: string[];
  readonly bytes: number;
  /** Node builtins imported statically (dynamic imports, such as undici's chunk, load later if at all). */
  readonly builtins: number;
  /** npm packages imported statically: none, where the build bundled them. */
  readonly packages: string[];
}

export function loadedAtImport(entry: string): Loaded {
  const files = new Set<string>();
  const builtins = new Set<string>();
  const packages = new Set<string>();
  let total = 0;
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    total += Buffer.byteLength(text);
    // Static imports and re-exports only: `from "..."` and bare `import "..."` at the start of a statement.
    for (const match of text.matchAll(/(?:\bfrom\s*|^import\s*)["']([^"']+)["']/gm)) {
      const specifier = match[1]!;
      if (specifier.startsWith('.')) visit(join(dirname(file), specifier));
      else if (specifier.startsWith('node:')) builtins.add(specifier);
      else packages.add(specifier);
    }
  };
  visit(entry);
  return {
    files: [...files].map((file) => relative(dirname(entry), file)),
    bytes: total,
    builtins: builtins.size,
    packages: [...packages],
  };
}

export function coldStart(context: BenchContext) {
  return measure('1. Cold start', context, async (): Promise<Measured> => {
    const rounds = context.quick ? 10 : 20;
    const contenders = ['baseline', NODE, EDGE, ...PEERS];
    const inside = new Map<string, number[]>(contenders.map((name) => [name, []]));
    const outside = new Map<string, number[]>(contenders.map((name) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const name of rotate(contenders, round)) {
        const { result, wallMs } = await runChild<ImportResult>('import.mjs', [name]);
        inside.get(name)!.push(result.importMs);
        outside.get(name)!.push(wallMs);
      }
    }
    const loaded = new Map([
      [NODE, loadedAtImport(join(context.dist, 'node.js'))],
      [EDGE, loadedAtImport(join(context.dist, 'index.js'))],
    ]);
    const importMs = (name: string): number => median(inside.get(name)!);
    const baselineWall = median(outside.get('baseline')!);
    const row = (id: string, ours: string, peer: string, limit?: number): Row => {
      const r = importMs(ours) / importMs(peer);
      const ok = limit !== undefined && r <= limit;
      return {
        id,
        measure: `Cold start: import ${ours.replace('procpush ', '').replace(/[()]/g, '')}`,
        procpush: `${sig(importMs(ours))} ms`,
        peer: `${peer} ${sig(importMs(peer))} ms`,
        ratio: ratio(importMs(ours), importMs(peer)),
        target: limit === undefined ? '—' : `≤ ${limit}×`,
        verdict: limit === undefined ? 'INFO' : verdict(ok),
        ...(limit !== undefined && !ok ? { why: coldStartMiss(ours, r, limit, loaded.get(ours)!) } : {}),
      };
    };
    const describe = (name: string): string => {
      const { files, bytes: size, builtins, packages } = loaded.get(name)!;
      const npm = packages.length > 0 ? `, npm packages ${packages.join(', ')}` : '';
      return `${name}: ${files.length} file(s), ${bytes(size)} (${files.join(', ')}), ${builtins} Node builtin(s)${npm}`;
    };
    return {
      rows: [
        row('1a', NODE, PROM, 0.5),
        row('1b', EDGE, PROM, 0.25),
        row('1c', NODE, 'prometheus-remote-write'),
        row('1d', NODE, '@opentelemetry/sdk-metrics'),
      ],
      details: [
        `${rounds} rounds, contenders alternating in a fresh process each. "Import" is \`await import()\` timed`,
        'with `performance.now()` inside the process, after an empty module has warmed the loader. "Process −',
        'baseline" is spawn to exit seen from outside, minus the median of a process that imports nothing.',
        'dist/ ships each entry bundled by esbuild (`scripts/build.mjs`): shared code in chunks, valibot',
        'tree-shaken, undici in a chunk imported only where a proxy applies. What an import loads:',
        '',
        `- ${describe(NODE)}`,
        `- ${describe(EDGE)}`,
        '',
        '| Contender | Import, median | p90 | min | Process − baseline, median |',
        '|---|---|---|---|---|',
        ...contenders.map((name) => {
          const times = inside.get(name)!;
          const net = median(outside.get(name)!) - baselineWall;
          if (name === 'baseline')
            return `| baseline (imports nothing) | — | — | — | (${sig(baselineWall)} ms) |`;
          return `| ${name} | ${sig(median(times))} ms | ${sig(quantile(times, 0.9))} ms | ${sig(Math.min(...times))} ms | ${sig(net)} ms |`;
        }),
      ],
    };
  });
}

function coldStartMiss(entry: string, r: number, limit: number, loaded: Loaded): string {
  return (
    `${entry} took ${sig(r, 2)}× prom-client's import time, above ${limit}×. Why: the entry is bundled, so ` +
    `what is left is reading, compiling and evaluating ${loaded.files.length} file(s) of ${bytes(loaded.bytes)} ` +
    `and linking ${loaded.builtins} Node builtin(s); on a loaded machine the ratio also moves with prom-client's ` +
    'own time, so compare the min column. What would close it: load at first use what the default ' +
    '(console or Pushgateway) path does not need: the remote-write target with its encoder and snappy, the ' +
    "textfile target and p-retry (measured while writing the build: about 1 ms of the Node entry's import)."
  );
}

/**
 * 1. Cold start: one `await import()` of each contender in a fresh process, timed inside the process (with
 * the ES module loader already warm), and the process's whole life timed from outside minus an empty one.
 * A bundle of dist/ runs alongside, for what a bundled build would change.
 */
import { bundleEntries } from '../lib/bundle.js';
import { rotate, runChild } from '../lib/child.js';
import { type BenchContext, type Measured, measure } from '../lib/context.js';
import { type Row, verdict } from '../lib/report.js';
import { median, quantile, ratio, sig } from '../lib/stats.js';

const NODE = 'procpush (Node entry)';
const EDGE = 'procpush (edge entry)';
const NODE_BUNDLED = 'procpush bundled (Node entry)';
const EDGE_BUNDLED = 'procpush bundled (edge entry)';
const PROM = 'prom-client';
const PEERS = [PROM, 'prometheus-remote-write', '@opentelemetry/sdk-metrics'] as const;

interface ImportResult {
  importMs: number;
}

export function coldStart(context: BenchContext) {
  return measure('1. Cold start', context, async (): Promise<Measured> => {
    const rounds = context.quick ? 10 : 20;
    const bundled = await bundleEntries(context.dist, context.log);
    const urls = new Map<string, string | undefined>([
      ['baseline', undefined],
      [NODE, undefined],
      [EDGE, undefined],
      ...PEERS.map((peer) => [peer, undefined] as const),
      ...(bundled
        ? ([
            [NODE_BUNDLED, bundled.node],
            [EDGE_BUNDLED, bundled.edge],
          ] as const)
        : []),
    ]);
    const contenders = [...urls.keys()];
    const inside = new Map<string, number[]>(contenders.map((name) => [name, []]));
    const outside = new Map<string, number[]>(contenders.map((name) => [name, []]));
    try {
      for (let round = 0; round < rounds; round++) {
        for (const name of rotate(contenders, round)) {
          const url = urls.get(name);
          const args = url === undefined ? [name] : [name, url];
          const { result, wallMs } = await runChild<ImportResult>('import.mjs', args);
          inside.get(name)!.push(result.importMs);
          outside.get(name)!.push(wallMs);
        }
      }
    } finally {
      bundled?.dispose();
    }
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
        ...(limit !== undefined && !ok
          ? {
              why: coldStartMiss(
                ours,
                r,
                limit,
                bundled ? importMs(ours === NODE ? NODE_BUNDLED : EDGE_BUNDLED) / importMs(PROM) : undefined,
              ),
            }
          : {}),
      };
    };
    return {
      rows: [
        row('1a', NODE, PROM, 0.5),
        row('1b', EDGE, PROM, 0.25),
        row('1c', NODE, 'prometheus-remote-write'),
        row('1d', NODE, '@opentelemetry/sdk-metrics'),
        ...(bundled ? [row('1e', NODE_BUNDLED, PROM), row('1f', EDGE_BUNDLED, PROM)] : []),
      ],
      details: [
        `${rounds} rounds, contenders alternating in a fresh process each. "Import" is \`await import()\` timed`,
        'with `performance.now()` inside the process, after an empty module has warmed the loader. "Process −',
        'baseline" is spawn to exit seen from outside, minus the median of a process that imports nothing.',
        'The bundled rows are dist/ bundled by esbuild (one file per entry plus shared chunks, valibot',
        'tree-shaken, undici left in a lazy chunk) into a temp directory: not what ships, but what would.',
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

function coldStartMiss(entry: string, r: number, limit: number, bundledRatio: number | undefined): string {
  const bundled =
    bundledRatio === undefined
      ? ''
      : ` The same code bundled imported in ${sig(bundledRatio, 2)}× prom-client's time in this run (row 1e/1f).`;
  return (
    `${entry} took ${sig(r, 2)}× prom-client's import time, above ${limit}×. Why: dist/ is tsc output, so an import ` +
    'of the Node entry loads about 40 ES modules one by one (ours plus valibot, p-retry, is-network-error and ' +
    "snappyjs' compressor), the edge entry about 30, and valibot comes whole (one 206 KB file) because config " +
    'validation runs through it; each ES module costs a resolve, a read, a compile and a link. What would ' +
    'close it: ship each entry bundled (esbuild or rolldown, code splitting so undici and the textfile target ' +
    'stay lazy chunks) so valibot is tree-shaken to what config.ts uses and the loader sees a handful of ' +
    'files; then load the remote-write encoder, snappy and p-retry at first use, as undici already is.' +
    bundled
  );
}

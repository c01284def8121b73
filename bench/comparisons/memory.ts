/**
 * 2. Memory footprint: RSS after gc of an idle process that imported a contender, started it and pushed once
 * to the real Pushgateway, minus the same of a process that did nothing.
 */
import { rotate, runChild } from '../lib/child.js';
import { type BenchContext, type Measured, measure, skipped } from '../lib/context.js';
import { verdict } from '../lib/report.js';
import { bytes, median, ratio } from '../lib/stats.js';

const CONTENDERS = ['baseline', 'procpush', 'prom-client'] as const;
const ROW = { id: '2a', measure: 'Memory: RSS added, started and pushed', target: '< 1×' } as const;

interface MemoryResult {
  rss: number;
  heapUsed: number;
  external: number;
  pushed: boolean;
}

export function memoryFootprint(context: BenchContext) {
  return measure('2. Memory footprint', context, async (): Promise<Measured> => {
    const gateway = context.pushgateway;
    if (!gateway) return skipped([ROW], context.serversMissing ?? 'no Pushgateway');
    const rounds = context.quick ? 4 : 7;
    const results = new Map<string, MemoryResult[]>(CONTENDERS.map((name) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const name of rotate(CONTENDERS, round)) {
        results.get(name)!.push((await runChild<MemoryResult>('memory.mjs', [name, gateway.url])).result);
      }
    }
    const added = (name: string, field: 'rss' | 'heapUsed' | 'external'): number =>
      median(results.get(name)!.map((r) => r[field])) - median(results.get('baseline')!.map((r) => r[field]));
    const ours = added('procpush', 'rss');
    const theirs = added('prom-client', 'rss');
    const ok = ours < theirs;
    return {
      rows: [
        {
          ...ROW,
          procpush: bytes(ours, true),
          peer: `prom-client (default metrics, pushAdd) ${bytes(theirs, true)}`,
          ratio: ratio(ours, theirs),
          verdict: verdict(ok),
          ...(ok ? {} : { why: MEMORY_MISS }),
        },
      ],
      details: [
        `${rounds} rounds. procpush: \`startReporter()\` to the Pushgateway and one \`flush()\` (PUT); prom-client:`,
        '`collectDefaultMetrics()` and one `Pushgateway.pushAdd()` (POST) of the default registry. Then 200 ms idle,',
        'three forced GCs, and `process.memoryUsage()`. Medians, minus the baseline process.',
        '',
        '| Contender | RSS | RSS added | heapUsed added | external added |',
        '|---|---|---|---|---|',
        ...CONTENDERS.map((name) => {
          const rss = median(results.get(name)!.map((r) => r.rss));
          return name === 'baseline'
            ? `| baseline (idle node) | ${bytes(rss)} | — | — | — |`
            : `| ${name} | ${bytes(rss)} | ${bytes(added(name, 'rss'), true)} | ${bytes(added(name, 'heapUsed'), true)} | ${bytes(added(name, 'external'), true)} |`;
        }),
        '',
        `Spread of procpush's RSS over the rounds: ${bytes(spread(results.get('procpush')!))} (max − min).`,
      ],
    };
  });
}

function spread(results: readonly MemoryResult[]): number {
  const rss = results.map((r) => r.rss);
  return Math.max(...rss) - Math.min(...rss);
}

const MEMORY_MISS =
  'procpush added more RSS than prom-client with its default metrics. Why: most of it is Node’s own HTTP ' +
  'client (loaded at the first push) and the compiled code of the bundled entry, plus the sampler’s ' +
  '`readFileSync` buffers (256 KiB per sample, returned to malloc, not always to the OS). What would close it: ' +
  'reading `/proc` into one reused buffer (see 6c), and loading the remote-write target, snappy and p-retry ' +
  'only where they are used (see 1a).';

/** The results of a run: rows with a verdict, printed as a table and written to BENCHMARKS.md. */
import type { Machine } from './machine.js';

/** PASS and MISS judge a target; INFO rows have none; SKIP rows could not run here. */
export type Verdict = 'PASS' | 'MISS' | 'INFO' | 'SKIP';

/** One line of the summary table. */
export interface Row {
  readonly id: string;
  readonly measure: string;
  readonly procpush: string;
  /** The peer's name and value, or what procpush is compared with. */
  readonly peer: string;
  /** procpush / peer, of the measured quantity. */
  readonly ratio: string;
  readonly target: string;
  readonly verdict: Verdict;
  /** For a MISS: why, and what would close it. For a SKIP: why. */
  readonly why?: string;
}

/** One comparison: its rows, a detail table of every contender, and the load around it. */
export interface Section {
  readonly title: string;
  readonly rows: readonly Row[];
  /** Markdown lines shown under the section's heading. */
  readonly details: readonly string[];
  readonly loadBefore: string;
  readonly loadAfter: string;
  readonly seconds: number;
}

/** PASS when `ok`, else MISS; with no target to judge, use 'INFO'. */
export const verdict = (ok: boolean): Verdict => (ok ? 'PASS' : 'MISS');

const HEAD = ['#', 'Measure', 'procpush', 'Compared with', 'Ratio', 'Target', 'Result'] as const;

function cells(row: Row): string[] {
  return [row.id, row.measure, row.procpush, row.peer, row.ratio, row.target, row.verdict];
}

/** The summary as a fixed-width table for the terminal. */
export function textTable(sections: readonly Section[]): string {
  const rows = sections.flatMap((section) => section.rows.map(cells));
  const widths = HEAD.map((head, i) => Math.max(head.length, ...rows.map((row) => row[i]!.length)));
  const line = (row: readonly string[]): string => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');
  return [line(HEAD), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The summary as a Markdown table. */
export function markdownTable(rows: readonly Row[]): string[] {
  const escapeCell = (cell: string): string => cell.replaceAll('|', '\\|');
  return [
    `| ${HEAD.join(' | ')} |`,
    `|${HEAD.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${cells(row).map(escapeCell).join(' | ')} |`),
  ];
}

/** Everything BENCHMARKS.md needs besides the sections. */
export interface RunInfo {
  readonly machine: Machine;
  readonly command: string;
  readonly settings: string;
  /** What the measured dist/ was built from. */
  readonly build: string;
  readonly loadStart: string;
  readonly loadEnd: string;
  readonly seconds: number;
}

/** The whole of BENCHMARKS.md. */
export function benchmarksMarkdown(info: RunInfo, sections: readonly Section[]): string {
  const rows = sections.flatMap((section) => section.rows);
  const judged = rows.filter((row) => row.verdict === 'PASS' || row.verdict === 'MISS');
  const passed = judged.filter((row) => row.verdict === 'PASS').length;
  const misses = rows.filter((row) => row.verdict === 'MISS' || row.verdict === 'SKIP');
  const { machine } = info;
  return [
    '# Benchmarks',
    '',
    '<!-- Written by `npm run bench` (bench/run.ts); edit the bench, not this file. -->',
    '',
    'procpush against the libraries people would otherwise use, measured side by side in one run: each',
    'comparison runs its contenders alternately, every measurement in a fresh `node --expose-gc` process.',
    'Ratios are procpush / peer of the measured quantity, so below 1× means procpush is smaller or faster.',
    '',
    `- Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memory} RAM (${machine.kernel})`,
    `- Node: ${machine.node}`,
    `- Date: ${machine.date}`,
    `- Command: \`${info.command}\` (${info.settings})`,
    `- Build measured: dist/ from ${info.build}, copied at the start of the run`,
    `- Load average (1, 5, 15 min): ${info.loadStart} at the start, ${info.loadEnd} at the end; the run took ${Math.round(info.seconds)} s`,
    '',
    `**${passed} of ${judged.length} targets met.**`,
    '',
    ...markdownTable(rows),
    '',
    ...(misses.length > 0
      ? [
          '## Misses and skips',
          '',
          ...misses.flatMap((row) => [
            `- **${row.id} ${row.measure}** (${row.verdict}): ${row.why ?? 'no reason recorded'}`,
          ]),
          '',
        ]
      : []),
    '## Details',
    '',
    ...sections.flatMap((section) => [
      `### ${section.title}`,
      '',
      `Load average ${section.loadBefore} before, ${section.loadAfter} after; ${Math.round(section.seconds)} s.`,
      '',
      ...section.details,
      '',
    ]),
    '## How to reproduce',
    '',
    '```sh',
    'sudo apt-get install prometheus prometheus-pushgateway   # without them, the rows that need them are skipped',
    'npm ci',
    'npm run bench                 # about 3–4 minutes here; rewrites BENCHMARKS.md',
    'BENCH_QUICK=1 npm run bench   # about 2 minutes: fewer rounds, a 10 s steady-state window',
    'BENCH_ONLY=1,4 npm run bench  # only those comparisons; BENCHMARKS.md is left alone',
    'BENCH_STEADY_SECONDS=300 npm run bench   # a longer steady-state window',
    '```',
    '',
    'The bench builds `dist/` first and measures a private copy of that build (so a rebuild by other work cannot pull it away mid-run), plus the internal modules that comparisons 3 and 4 time on their own, bundled from src/ with the same esbuild settings (`bench/lib/snapshot.ts`). The orchestrator runs under tsx, but every',
    'measured process is a plain `node --expose-gc bench/children/<name>.mjs` with procpush configuration,',
    'proxy variables and NODE_OPTIONS removed from its environment. The Pushgateway and Prometheus are the',
    'Debian binaries started on 127.0.0.1 by `test/e2e/servers.ts`; no traffic leaves the machine.',
    '',
    '## Noise',
    '',
    '- Every figure is a median: of rounds (cold start, memory), of timed batches within a process (sampling,',
    '  encoding), or of all pushes of all rounds (latency percentiles). Contenders alternate, with the order',
    '  rotated each round, so a burst of load from elsewhere hits all of them alike rather than one.',
    '- See the load averages before and after: when other work ran alongside, on 2 cores a load',
    '  above 2 means the benchmark waited for a CPU. Latencies (p99 above all), cold-start times and the',
    '  per-call microbenchmarks are the most affected; CPU time is less affected but still varies by tens of',
    '  percent between runs on a loaded VM (cache contention, steal), and RSS least. Ratios between contenders',
    '  of one run are more stable than the absolute numbers; a row close to its target (3a) can flip between',
    '  runs, so read its fastest-batch column too.',
    '- The servers run on the same 2 cores: a push latency includes the server’s own work and scheduling.',
    '- RSS depends on the allocator and on when V8 returns memory; it is read after three forced GCs.',
    '- 6a is the noisiest row: it subtracts an idle process’s CPU from a pushing one’s, and on this VM an idle',
    '  Node process is charged 1–10 ms of CPU a second by itself, while a bare `node:http` PUT after a second of',
    '  idling costs 4–8 ms. Two runs of the same build on the same day measured 0.059 % (PASS) and 1.9 % (MISS);',
    '  judge it by its ratio to prom-client and to the bare PUT floor measured beside it, not by one verdict.',
    '- 5b sits at the target (0.99–1.1× across runs of the same build): treat it as a tie with prom-client.',
    '',
  ].join('\n');
}

/**
 * `npm run bench`: procpush against its peers, side by side in one run. Starts the real Pushgateway and
 * Prometheus on loopback, runs the seven comparisons in fresh child processes, prints the table and rewrites
 * BENCHMARKS.md. Environment: BENCH_QUICK=1 (fewer rounds, 10 s steady state), BENCH_STEADY_SECONDS=n,
 * BENCH_ONLY=1,5 (only those comparisons; BENCHMARKS.md is then left alone), BENCH_NO_SERVERS=1 (skip the rows
 * that need the servers, as on a machine without them).
 */
import { writeFileSync } from 'node:fs';
import {
  type E2EServer,
  missingBinaries,
  startPrometheus,
  startPushgateway,
  stopAll,
  type TsdbServer,
} from '../test/e2e/servers.js';
import { coldStart } from './comparisons/cold-start.js';
import { encoding } from './comparisons/encoding.js';
import { memoryFootprint } from './comparisons/memory.js';
import { push } from './comparisons/push.js';
import { sampling } from './comparisons/sampling.js';
import { shutdown } from './comparisons/shutdown.js';
import { steadyState } from './comparisons/steady-state.js';
import { useDist } from './lib/child.js';
import type { BenchContext } from './lib/context.js';
import { describeMachine, load } from './lib/machine.js';
import { benchmarksMarkdown, type Section, textTable } from './lib/report.js';
import { snapshotDist } from './lib/snapshot.js';

const COMPARISONS = [coldStart, memoryFootprint, sampling, encoding, push, steadyState, shutdown] as const;
const OUTPUT = new URL('../BENCHMARKS.md', import.meta.url);

function positive(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!(value > 0)) throw new Error(`Expected ${name} to be a positive number, got "${text}"`);
  return value;
}

async function startServers(): Promise<{
  pushgateway?: E2EServer;
  prometheus?: TsdbServer;
  missing?: string;
}> {
  if (process.env.BENCH_NO_SERVERS === '1') return { missing: 'BENCH_NO_SERVERS=1 was set' };
  const missing = missingBinaries(['prometheus-pushgateway', 'prometheus']);
  if (missing.length > 0)
    return {
      missing: `${missing.join(', ')} not installed (apt-get install prometheus prometheus-pushgateway)`,
    };
  try {
    const [pushgateway, prometheus] = await Promise.all([startPushgateway(), startPrometheus()]);
    return { pushgateway, prometheus };
  } catch (error) {
    await stopAll();
    return { missing: `the servers did not start: ${(error as Error).message.split('\n')[0]}` };
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const machine = describeMachine();
  const loadStart = load();
  const quick = process.env.BENCH_QUICK === '1';
  const steadySeconds = positive('BENCH_STEADY_SECONDS', quick ? 10 : 60);
  const only = process.env.BENCH_ONLY?.split(',').map(Number);
  const log = (message: string): void => {
    process.stderr.write(`[bench] ${message}\n`);
  };
  log(`${machine.cpu}, ${machine.cores} cores, ${machine.memory}, Node ${machine.node}; load ${loadStart}`);

  const snapshot = await snapshotDist(log);
  useDist(snapshot.dist);
  log(`measuring dist/ from ${snapshot.source}`);
  const servers = await startServers();
  if (servers.missing) log(`servers: ${servers.missing}; their rows are skipped`);
  const context: BenchContext = {
    quick,
    steadySeconds,
    dist: snapshot.dist,
    pushgateway: servers.pushgateway,
    prometheus: servers.prometheus,
    serversMissing: servers.missing,
    log,
  };
  const sections: Section[] = [];
  try {
    for (const [index, comparison] of COMPARISONS.entries()) {
      if (only === undefined || only.includes(index + 1)) sections.push(await comparison(context));
    }
  } finally {
    await stopAll();
    snapshot.dispose();
  }

  const loadEnd = load();
  const seconds = (performance.now() - started) / 1000;
  const judged = sections.flatMap((section) => section.rows).filter((row) => row.verdict !== 'INFO');
  const met = judged.filter((row) => row.verdict === 'PASS').length;
  process.stdout.write(
    `\n${textTable(sections)}\n\n${met} of ${judged.filter((row) => row.verdict !== 'SKIP').length} targets met` +
      ` (${judged.filter((row) => row.verdict === 'SKIP').length} skipped); why each miss happened is in BENCHMARKS.md.\n` +
      `load average ${loadStart} → ${loadEnd}; ${Math.round(seconds)} s\n`,
  );
  if (only !== undefined) {
    log('BENCH_ONLY is set: BENCHMARKS.md left as it was');
    return;
  }
  const settings = [quick ? 'BENCH_QUICK=1' : 'full run', `steady-state window ${steadySeconds} s`].join(
    ', ',
  );
  writeFileSync(
    OUTPUT,
    benchmarksMarkdown(
      { machine, command: 'npm run bench', settings, build: snapshot.source, loadStart, loadEnd, seconds },
      sections,
    ),
  );
  log('wrote BENCHMARKS.md');
}

await main();

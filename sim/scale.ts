/**
 * `npm run sim:scale`: thousands of short-lived processes, each starting procpush (dist/) with its own
 * instance, against the real Pushgateway, VictoriaMetrics and Prometheus on loopback; writes SCALING.md.
 * SIM_QUICK=1 (or --quick) for a run of about a minute; see sim/options.ts for the other settings.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { stopAll } from '../test/e2e/servers.js';
import { killLiveChildren, procpushEntry, progress } from './children.js';
import { type DistSnapshot, snapshotDist } from './dist-snapshot.js';
import { describeBuild, describeMachine, loadAverage } from './machine.js';
import { readOptions } from './options.js';
import { growthRun, NO_CHECK } from './pushgateway-phases.js';
import { remoteWriteRuns } from './remote-write-phases.js';
import { renderReport } from './report.js';
import { staircaseRuns } from './staircase.js';

const began = Date.now();
const opts = readOptions(process.argv.slice(2), process.env);
const command = `${opts.quick ? 'SIM_QUICK=1 ' : ''}npm run sim:scale${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
const log = (message: string): void => {
  process.stderr.write(`[sim ${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);
};

// Whatever happens, every child and server is ended by its PID and the simulation stops by itself.
let snapshot: DistSnapshot | undefined;
async function shutdown(code: number): Promise<never> {
  killLiveChildren();
  await stopAll().catch((error: unknown) => log(`stopping servers: ${String(error)}`));
  await snapshot?.dispose();
  process.exit(code);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void shutdown(130));
const hardStop = setTimeout(
  () => {
    log('over the time limit: ending every child and server');
    void shutdown(2);
  },
  (opts.budgetS + 240) * 1000,
);
hardStop.unref();
const ticker = setInterval(
  () => log(`${progress.done} children done, ${progress.launched - progress.done} running`),
  15_000,
);
ticker.unref();

const machine = describeMachine();
const build = describeBuild();
const loadBefore = loadAverage();
log(`${JSON.stringify(opts)}; load average ${loadBefore}`);
const budgetMs = opts.budgetS * 1000;
// Each phase may launch children until its share of the budget is spent, counted from the start, so that
// one phase running late shortens the next instead of the whole run.
const until = (share: number): number => Math.max(began + share * budgetMs, Date.now() + 0.05 * budgetMs);

try {
  snapshot = await snapshotDist();
  procpushEntry.url = snapshot.nodeEntry;
  log(`procpush from ${snapshot.nodeEntry}`);
  log('Pushgateway, default flags, growing from 0 groups');
  const check = await growthRun(opts, 'default flags', 'check', [], until(0.3));
  log(`  ${check.children.reports.length} processes, ${check.groupsAtEnd} groups`);
  log(`Pushgateway, ${NO_CHECK}, growing from 0 groups`);
  const noCheck = await growthRun(opts, NO_CHECK, 'nocheck', [NO_CHECK], until(0.4));
  log(`  ${noCheck.children.reports.length} processes, ${noCheck.groupsAtEnd} groups`);
  log(`Pushgateways already holding ${opts.levels.join(', ')} groups`);
  const levels = await staircaseRuns(opts, until(0.7));
  log(`  reached ${levels.at(-1)?.target ?? 0} groups`);
  log('Remote write: VictoriaMetrics and Prometheus, with and without stale markers');
  const remoteWrite = await remoteWriteRuns(opts, until(1));
  const result = {
    options: opts,
    command,
    machine,
    build,
    date: new Date(began).toISOString(),
    seconds: (Date.now() - began) / 1000,
    load: { before: loadBefore, after: loadAverage() },
    pushgateway: { check, noCheck, levels },
    remoteWrite,
  };
  const report = renderReport(result);
  await writeFile(opts.out, report);
  await mkdir('sim/results', { recursive: true });
  await writeFile(
    `sim/results/${opts.quick ? 'quick' : 'full'}.json`,
    `${JSON.stringify(result, omitRaw, 1)}\n`,
  );
  log(`wrote ${opts.out} after ${result.seconds.toFixed(0)} s; load average ${result.load.after}`);
  await shutdown(0);
} catch (error) {
  log(`failed: ${(error as Error).stack ?? String(error)}`);
  await shutdown(1);
}

/** Leaves the per-child reports and the raw readings out of the JSON record: the aggregates are the figures. */
function omitRaw(key: string, value: unknown): unknown {
  return key === 'reports' || key === 'readings' ? undefined : value;
}

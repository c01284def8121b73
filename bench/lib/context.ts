/** What every comparison gets from the orchestrator, and the wrapper that times a comparison. */
import type { E2EServer, TsdbServer } from '../../test/e2e/servers.js';
import { load } from './machine.js';
import type { Row, Section } from './report.js';

/** Settings and servers of one run. */
export interface BenchContext {
  /** BENCH_QUICK=1: fewer rounds and a short steady-state window, for a check rather than a record. */
  readonly quick: boolean;
  /** Length of the steady-state window (BENCH_STEADY_SECONDS; 60, or 10 when quick). */
  readonly steadySeconds: number;
  /** The run's private copy of dist/, which the children import. */
  readonly dist: string;
  /** The real Pushgateway, or undefined with `serversMissing` saying why. */
  readonly pushgateway: E2EServer | undefined;
  /** The real Prometheus with its remote-write receiver, or undefined with `serversMissing` saying why. */
  readonly prometheus: TsdbServer | undefined;
  readonly serversMissing: string | undefined;
  /** Prints progress to stderr, so stdout keeps only the table. */
  readonly log: (message: string) => void;
}

/** The parts of a section a comparison computes; the load and time are added by `measure`. */
export type Measured = Pick<Section, 'rows' | 'details'>;

/** Runs one comparison and records the load average around it and how long it took. */
export async function measure(
  title: string,
  context: BenchContext,
  run: () => Promise<Measured>,
): Promise<Section> {
  const loadBefore = load();
  const started = performance.now();
  context.log(`${title} (load ${loadBefore})`);
  const measured = await run();
  return {
    title,
    ...measured,
    loadBefore,
    loadAfter: load(),
    seconds: (performance.now() - started) / 1000,
  };
}

/** Rows that need a server that is not there: each skipped, with the reason. */
export function skipped(rows: ReadonlyArray<Pick<Row, 'id' | 'measure' | 'target'>>, why: string): Measured {
  return {
    rows: rows.map((row) => ({ ...row, procpush: '—', peer: '—', ratio: '—', verdict: 'SKIP', why })),
    details: [`Skipped: ${why}.`],
  };
}

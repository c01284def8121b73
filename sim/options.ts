/** Settings of `npm run sim:scale`: flags win over SIM_* environment variables, which win over the defaults. */
import { parseArgs } from 'node:util';

/** What one run of the simulation does. */
export interface SimOptions {
  /** SIM_QUICK=1 or --quick: about a minute, small counts. */
  readonly quick: boolean;
  /** Child processes per Pushgateway growth run (once with the consistency check, once without). */
  readonly n: number;
  /** Child processes per remote-write run (once ending with stale markers, once without). */
  readonly rwN: number;
  /** Group counts a gateway is seeded to before the "already holds many groups" batches, ascending. */
  readonly levels: readonly number[];
  /** Child processes per batch at each level, against each of the two gateways. */
  readonly preloadN: number;
  /** Child processes alive at once. */
  readonly concurrency: number;
  /** flush() calls per child before it ends (stop() adds one more push). */
  readonly flushes: number;
  /** Pause before each push, standing for the job's work; costs no CPU. */
  readonly workMs: number;
  /** Width of a group-count bucket in the tables. */
  readonly bucket: number;
  /** Wall-time budget of all the phases together, in seconds; each phase gets a share. */
  readonly budgetS: number;
  /** The Markdown report. */
  readonly out: string;
}

const FULL = {
  n: 3000,
  rwN: 1200,
  levels: [1000, 2000, 3500, 5000, 10_000, 20_000],
  preloadN: 30,
  bucket: 500,
  budgetS: 450,
};
const QUICK = { n: 400, rwN: 200, levels: [1000, 5000], preloadN: 12, bucket: 100, budgetS: 50 };

/** Reads the flags and SIM_* variables; throws on a value that is not a positive integer. */
export function readOptions(argv: readonly string[], env: NodeJS.ProcessEnv): SimOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean' },
      n: { type: 'string' },
      'rw-n': { type: 'string' },
      levels: { type: 'string' },
      'preload-n': { type: 'string' },
      concurrency: { type: 'string' },
      flushes: { type: 'string' },
      'work-ms': { type: 'string' },
      bucket: { type: 'string' },
      budget: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const quick =
    values.quick ?? (env.SIM_QUICK !== undefined && env.SIM_QUICK !== '' && env.SIM_QUICK !== '0');
  const base = quick ? QUICK : FULL;
  const int = (
    name: string,
    flag: string | undefined,
    envName: string,
    fallback: number,
    min = 1,
  ): number => {
    const text = flag ?? env[envName];
    if (text === undefined || text === '') return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min)
      throw new Error(`Expected ${name} (--${name} or ${envName}) to be an integer ≥ ${min}, got ${text}`);
    return value;
  };
  return {
    quick,
    n: int('n', values.n, 'SIM_N', base.n),
    rwN: int('rw-n', values['rw-n'], 'SIM_RW_N', base.rwN, 4),
    levels: levels(values.levels ?? env.SIM_LEVELS, base.levels),
    preloadN: int('preload-n', values['preload-n'], 'SIM_PRELOAD_N', base.preloadN),
    concurrency: int('concurrency', values.concurrency, 'SIM_CONCURRENCY', 12),
    flushes: int('flushes', values.flushes, 'SIM_FLUSHES', 2, 0),
    workMs: int('work-ms', values['work-ms'], 'SIM_WORK_MS', 20, 0),
    bucket: int('bucket', values.bucket, 'SIM_BUCKET', base.bucket),
    budgetS: int('budget', values.budget, 'SIM_BUDGET_S', base.budgetS),
    out: values.out ?? env.SIM_OUT ?? 'SCALING.md',
  };
}

/** "1000,5000" as ascending group counts. */
function levels(text: string | undefined, fallback: readonly number[]): readonly number[] {
  if (text === undefined || text === '') return fallback;
  const values = text.split(',').map((part) => Number(part.trim()));
  if (values.some((v) => !Number.isInteger(v) || v < 0))
    throw new Error(`Expected levels (--levels or SIM_LEVELS) as comma-separated group counts, got ${text}`);
  return [...values].sort((a, b) => a - b);
}

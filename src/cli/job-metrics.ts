/**
 * The batch-job gauges the CLI pushes with each sample (`Sample.extra`), after the Pushgateway's advice for
 * batch jobs (https://prometheus.io/docs/practices/instrumentation/#batch-jobs) and Prometheus naming
 * (https://prometheus.io/docs/practices/naming/): base units, `_seconds`, `_timestamp_seconds`.
 */
import type { MetricPoint } from '../metrics.js';
import type { Sampler } from '../sample/types.js';

/** Names and help texts of the job gauges. */
export const JOB_METRICS = {
  duration: {
    name: 'procpush_job_duration_seconds',
    help: 'Time since the command started; its whole run time once it ended.',
  },
  exitCode: {
    name: 'procpush_job_exit_code',
    help: 'Exit status of the command (128+n when signal n ended it); pushed once it ended.',
  },
  lastSuccess: {
    name: 'procpush_job_last_success_timestamp_seconds',
    help: 'Unix time at which the command last exited with status 0.',
  },
} as const;

/** The state of one run of the command. */
export interface JobMetrics {
  /** Records the end of the command with its exit status. */
  end(status: number): void;
  /** The job gauges now: the duration, and the exit status and success time once ended. */
  points(): MetricPoint[];
}

/** Creates the job state; `startSeconds` is when the command started, on the clock of `uptimeSeconds`. */
export function createJobMetrics(
  startSeconds: number,
  uptimeSeconds: () => number = () => performance.now() / 1000,
  now: () => number = Date.now,
): JobMetrics {
  let ended: { status: number; durationSeconds: number; atMs: number } | undefined;
  return {
    end(status) {
      ended ??= { status, durationSeconds: uptimeSeconds() - startSeconds, atMs: now() };
    },
    points() {
      const duration = ended?.durationSeconds ?? uptimeSeconds() - startSeconds;
      const points: MetricPoint[] = [{ ...JOB_METRICS.duration, value: roundMs(Math.max(0, duration)) }];
      if (ended === undefined) return points;
      points.push({ ...JOB_METRICS.exitCode, value: ended.status });
      if (ended.status === 0) points.push({ ...JOB_METRICS.lastSuccess, value: roundMs(ended.atMs / 1000) });
      return points;
    },
  };
}

/**
 * A sampler that adds the job gauges to each sample of `sampler`; with no sampler (no /proc), the job gauges
 * are pushed alone.
 */
export function withJobMetrics(sampler: Sampler | undefined, job: JobMetrics, now = Date.now): Sampler {
  return {
    sample() {
      const { sample, errors } = sampler?.sample() ?? { sample: { timestampMs: now() }, errors: [] };
      return { sample: { ...sample, extra: [...(sample.extra ?? []), ...job.points()] }, errors };
    },
  };
}

function roundMs(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

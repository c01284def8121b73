/**
 * The scheduler: an unref'd interval timer, flush(), stop(). Every tick samples; at most one delivery runs at a
 * time, and a tick never starts a second one (the target keeps the unsent sample for the next).
 * Modelled on OpenTelemetry's PeriodicExportingMetricReader.
 */
import type { ResolvedConfig } from './config.js';
import { createErrorSink } from './error-reporter.js';
import { ProcpushError } from './errors.js';
import type { Sampler } from './sample/types.js';
import type { DeliverResult, TargetDriver } from './targets/types.js';
import { startTimeout } from './transport/retry.js';
import type { Transport } from './transport/types.js';
import type { PushResult, Reporter, ReporterStats } from './types.js';

/** The parts a reporter runs on, chosen by the entry (Node or edge). */
export interface ReporterParts {
  /** Absent where nothing can be sampled (an edge runtime): only the configured estimates are pushed. */
  readonly sampler: Sampler | undefined;
  readonly target: TargetDriver;
  readonly transport: Transport | undefined;
  readonly warn: (message: string) => void;
  /** Installs shutdown hooks and returns their removal; absent on the edge. */
  readonly installShutdown?: (reporter: ManagedReporter) => () => void;
  /** `false` starts no interval timer (`withReporter` pushes per invocation instead). @default true */
  readonly timer?: boolean;
}

/** A reporter plus what the shutdown hooks need. */
export interface ManagedReporter extends Reporter {
  /** `stop()` with its final push bounded by `timeoutMs`. */
  stopWithin(timeoutMs: number): Promise<void>;
  /** Clears the timer, removes the hooks and closes connections, without a final push (`pushOnce`). */
  dispose(): void;
}

/** Creates and starts a reporter on already-validated configuration. */
export function createReporter(config: ResolvedConfig, parts: ReporterParts): ManagedReporter {
  const { sampler, target, transport } = parts;
  // Delivery failures are forgotten when a push succeeds, sampling failures when a sample reads cleanly:
  // one sink for both would warn about a file that stays unreadable after every successful push.
  const sink = createErrorSink(config.onError, parts.warn);
  const sampleSink = createErrorSink(config.onError, parts.warn);
  // Aborts a background push still running when stop() begins, so the final push need not wait behind it.
  const stopSignal = new AbortController();
  const counters = { pushes: 0, failures: 0, retries: 0, refused: 0 };
  let queue: Promise<unknown> = Promise.resolve();
  let busy = 0;
  let stopping: Promise<void> | undefined;
  let uninstall: (() => void) | undefined;

  function takeSample(): void {
    if (!sampler) {
      target.offer({ timestampMs: Date.now() });
      return;
    }
    const { sample, errors } = sampler.sample();
    if (errors.length === 0) sampleSink.recovered();
    for (const error of errors) sampleSink.report(error);
    target.offer(sample);
  }

  /** The last sample is taken: the sampler may let go of what it keeps (open files). */
  function closeSampler(): void {
    try {
      sampler?.close?.();
    } catch (error) {
      sampleSink.report(error as Error);
    }
  }

  /** Runs `work` after every delivery before it: one request in flight, in order. */
  function serial<T>(work: () => Promise<T>): Promise<T> {
    busy++;
    const run = queue.then(work, work);
    queue = run.then(
      () => busy--,
      () => busy--,
    );
    return run;
  }

  function account(result: DeliverResult): PushResult {
    if (result.attempts > 0) {
      counters.retries += result.attempts - 1;
      if (result.ok) counters.pushes++;
      else counters.failures++;
    }
    counters.refused += result.dropped ?? 0;
    if (result.ok) sink.recovered();
    const { dropped: _dropped, ...pushResult } = result;
    return pushResult;
  }

  // A deadline whose signal never aborted is used again by the next push. Creating an AbortSignal costs Node 20
  // about as much as the rest of a push's bookkeeping, more in a push made once a second with cold caches; once
  // `target.deliver` has settled, nothing listens to the signal any more (every attempt and wait removes its
  // listener), so the next push may have it. A signal that aborted is dropped.
  let spareDeadline: AbortController | undefined;

  function deliver(timeoutMs: number, background: boolean): Promise<PushResult> {
    const controller = spareDeadline ?? new AbortController();
    spareDeadline = undefined;
    // The deadline runs from the call, so waiting behind a delivery in flight counts against it.
    const timeout = startTimeout(timeoutMs, background ? stopSignal.signal : undefined, controller);
    const deadline = timeout.signal;
    const run = serial(async () => {
      const result = account(await safely(() => target.deliver({ deadline })));
      timeout.clear();
      if (!deadline.aborted) spareDeadline = controller;
      // A push cut short by stop() is not a failure to warn about: the final push follows at once.
      if (!result.ok && background && result.error && !stopSignal.signal.aborted) sink.report(result.error);
      return result;
    });
    return background ? run : keptAlive(run);
  }

  function tick(): void {
    try {
      takeSample();
      if (busy === 0) void deliver(config.flushTimeoutMs, true);
    } catch (error) {
      sink.report(error as Error);
    }
  }

  const timer = parts.timer === false ? undefined : setInterval(tick, config.intervalMs);
  (timer as { unref?: () => void } | undefined)?.unref?.();

  const reporter: ManagedReporter = {
    flush() {
      if (stopping !== undefined)
        return Promise.resolve({
          ok: false,
          attempts: 0,
          error: new ProcpushError('ERR_PROCPUSH_STOPPED', 'The reporter is stopped'),
        });
      try {
        takeSample();
      } catch (error) {
        return Promise.resolve({ ok: false, attempts: 0, error: error as Error });
      }
      return deliver(config.flushTimeoutMs, false);
    },
    stop() {
      return reporter.stopWithin(config.flushTimeoutMs);
    },
    stopWithin(timeoutMs) {
      stopping ??= keptAlive(
        (async () => {
          if (timer !== undefined) clearInterval(timer);
          uninstall?.();
          stopSignal.abort();
          try {
            takeSample();
          } catch (error) {
            sink.report(error as Error);
          }
          closeSampler();
          const timeout = startTimeout(timeoutMs);
          const { signal: deadline } = timeout;
          const final = await serial(async () =>
            account(await safely(() => target.deliver({ deadline, final: true }))),
          );
          if (!final.ok && final.error) sink.report(final.error);
          const closed = await serial(() =>
            safely(() => target.close({ deadline }).then((r) => r ?? { ok: true, attempts: 0 })),
          );
          timeout.clear();
          account(closed);
          if (!closed.ok && closed.error) sink.report(closed.error);
          transport?.close();
        })(),
      );
      return stopping;
    },
    dispose() {
      if (timer !== undefined) clearInterval(timer);
      uninstall?.();
      closeSampler();
      stopping ??= Promise.resolve();
      void queue.then(() => transport?.close());
    },
    stats(): ReporterStats {
      return {
        pushes: counters.pushes,
        failures: counters.failures,
        retries: counters.retries,
        samplesQueued: target.pending(),
        samplesDropped: target.dropped() + counters.refused,
      };
    },
  };
  uninstall = parts.installShutdown?.(reporter);
  return reporter;
}

/**
 * Keeps the event loop alive until `work` settles. The retry policy's waits and timeouts are unref'd so that a
 * background push never holds a finished process open; a push the caller awaits (flush, stop, pushOnce, the
 * final push on beforeExit) must not be abandoned in the middle of a backoff just because nothing else is
 * pending: the process would exit with the push lost (status 13 under a top-level await).
 */
function keptAlive<T>(work: Promise<T>): Promise<T> {
  // A plain timeout, not an interval: nothing here schedules repeated work (pushOnce starts no interval).
  const handle = setTimeout(() => {}, 2 ** 30);
  return work.finally(() => clearTimeout(handle));
}

/** A target must never reject, but if one does, the scheduler still must not. */
async function safely(work: () => Promise<DeliverResult>): Promise<DeliverResult> {
  try {
    return await work();
  } catch (error) {
    return { ok: false, attempts: 0, error: error as Error };
  }
}

/** The reporter of `enabled: false`: every call does nothing. */
export function createDisabledReporter(): ManagedReporter {
  const result: PushResult = { ok: true, attempts: 0 };
  return {
    flush: () => Promise.resolve(result),
    stop: () => Promise.resolve(),
    stopWithin: () => Promise.resolve(),
    dispose: () => {},
    stats: () => ({ pushes: 0, failures: 0, retries: 0, samplesQueued: 0, samplesDropped: 0 }),
  };
}

/**
 * The remote-write 1.0 target (https://prometheus.io/docs/specs/prw/remote_write_spec/): a snappy-compressed
 * protobuf WriteRequest, samples queued oldest first, and stale markers on stop so a finished process stops
 * showing at once instead of lingering for the five-minute lookback.
 */
import {
  compressWriteRequest,
  type EncodedLabels,
  encodeLabels,
  type RemoteWriteSample,
  type RemoteWriteSeries,
} from '../encode/remote-write.js';
import { type Overhead, toMetricPoints } from '../metrics.js';
import { sendWithRetry } from '../transport/retry.js';
import type { Transport } from '../transport/types.js';
import type { RemoteWriteTarget } from '../types.js';
import { VERSION } from '../version.js';
import { prepareHttp, toDeliverResult } from './http-common.js';
import { type Batch, createRemoteWriteQueue, type QueueEntry } from './remote-write-queue.js';
import type { DeliverResult, TargetDriver } from './types.js';

/** Default bounds of the queue: 10,000 samples (2,000 intervals of five series), an hour of age. */
export const DEFAULT_QUEUE = { maxSamples: 10_000, maxAgeMs: 3_600_000 } as const;

/** What the remote-write target needs from the configuration. */
export interface RemoteWriteConfig {
  readonly target: RemoteWriteTarget;
  /** `job`, `instance` and the user's labels. */
  readonly labels: Readonly<Record<string, string>>;
  readonly overhead: Overhead;
  readonly timeoutMs: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Creates the target; each series' labels are encoded once, on first use. */
export function createRemoteWriteTarget(config: RemoteWriteConfig, transport: Transport): TargetDriver {
  const { target } = config;
  const now = config.now ?? Date.now;
  const queue = createRemoteWriteQueue({
    maxSamples: target.queue?.maxSamples ?? DEFAULT_QUEUE.maxSamples,
    maxAgeMs: target.queue?.maxAgeMs ?? DEFAULT_QUEUE.maxAgeMs,
  });
  const base = prepareHttp(target.url, target.auth, target.headers);
  const headers = {
    ...base.headers,
    ...(target.tenant !== undefined ? { 'X-Scope-OrgID': target.tenant } : {}),
    'Content-Encoding': 'snappy',
    'Content-Type': 'application/x-protobuf',
    'X-Prometheus-Remote-Write-Version': '0.1.0',
    'User-Agent': `procpush/${VERSION}`,
  };
  const labelCache = new Map<string, EncodedLabels>();
  const seriesSeen = new Set<string>();
  let lastTimestamp = 0;

  const labelsOf = (name: string): EncodedLabels => {
    let encoded = labelCache.get(name);
    if (!encoded) {
      encoded = encodeLabels({ ...config.labels, __name__: name });
      labelCache.set(name, encoded);
    }
    return encoded;
  };

  /** Timestamps must strictly increase per series; two samples in one millisecond are spread apart. */
  const nextTimestamp = (wanted: number): number => {
    lastTimestamp = Math.max(Math.round(wanted), lastTimestamp + 1);
    return lastTimestamp;
  };

  async function sendHead(deadline: AbortSignal): Promise<DeliverResult> {
    const batch = queue.head(now());
    if (!batch) return { ok: true, attempts: 0 };
    batch.body ??= compressWriteRequest(toSeries(batch, labelsOf));
    queue.sending(true);
    const resend = batch.sent === true;
    batch.sent = true;
    const request = { url: base.url, method: 'POST', headers, body: batch.body } as const;
    const result = toDeliverResult(
      await sendWithRetry(transport, request, { deadline, timeoutMs: config.timeoutMs }),
      base.secrets,
    );
    queue.sending(false);
    if (!result.ok && (resend || result.attempts > 1) && alreadyStored(result)) {
      // This batch is the oldest this process has not seen acknowledged, and its series are this process's
      // own: a receiver can only hold newer samples of them if an earlier attempt landed and its answer was
      // lost (a timeout). The batch is delivered; sending it again would be refused forever.
      queue.shift(false);
      return {
        ok: true,
        attempts: result.attempts,
        ...(result.status === undefined ? {} : { status: result.status }),
      };
    }
    if (result.ok) queue.shift(false);
    else if (result.status !== undefined && result.status < 500 && result.status !== 429) {
      // Refused for good (a 4xx): the same bytes would be refused again.
      queue.shift(true);
    }
    return result;
  }

  /** Sends batches until the queue is empty, a push fails, or the deadline passes. */
  async function drain(deadline: AbortSignal): Promise<DeliverResult> {
    let total: DeliverResult = { ok: true, attempts: 0 };
    while (queue.size() > 0 && !deadline.aborted) {
      const result = await sendHead(deadline);
      total = { ...result, attempts: total.attempts + result.attempts };
      if (!result.ok || result.attempts === 0) break;
    }
    return total;
  }

  return {
    offer(sample) {
      const points = toMetricPoints(sample, config.overhead);
      for (const point of points) seriesSeen.add(point.name);
      queue.push({ timestampMs: nextTimestamp(sample.timestampMs), points });
    },
    deliver: ({ deadline }) => drain(deadline),
    async close({ deadline }) {
      if (seriesSeen.size === 0) return undefined;
      // The stale marker ends each series (https://prometheus.io/docs/specs/prw/remote_write_spec/#stale-markers).
      const stale: QueueEntry = {
        timestampMs: nextTimestamp(now()),
        points: [...seriesSeen].map((name) => ({ name, help: '', value: Number.NaN, stale: true })),
      };
      queue.push(stale);
      return drain(deadline);
    },
    pending: () => queue.size(),
    dropped: () => queue.dropped(),
  };
}

/**
 * Whether a 400 says the samples are already there: Prometheus ("out of order sample", "duplicate sample for
 * timestamp"), Mimir ("err-mimir-sample-out-of-order", "...duplicate-timestamp"), VictoriaMetrics (stores
 * duplicates, never refuses them).
 */
function alreadyStored(result: DeliverResult): boolean {
  const body = (result.error as { body?: string } | undefined)?.body ?? '';
  return result.status === 400 && /out[- ]of[- ]order|duplicate[- ](sample|timestamp)/i.test(body);
}

/** Groups a batch's points into one series per metric, samples oldest first. */
function toSeries(batch: Batch, labelsOf: (name: string) => EncodedLabels): RemoteWriteSeries[] {
  const byName = new Map<string, RemoteWriteSample[]>();
  for (const entry of batch.entries) {
    for (const point of entry.points) {
      let samples = byName.get(point.name);
      if (!samples) {
        samples = [];
        byName.set(point.name, samples);
      }
      samples.push(
        point.stale
          ? { value: Number.NaN, timestampMs: entry.timestampMs, stale: true }
          : { value: point.value, timestampMs: entry.timestampMs },
      );
    }
  }
  return [...byName].map(([name, samples]) => ({ labels: labelsOf(name), samples }));
}

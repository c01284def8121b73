/**
 * The Pushgateway target: the text format, PUT (replace the group) by default, DELETE on stop where asked.
 * Semantics as in client_golang's push package: PUT replaces the group, POST replaces only the pushed metrics.
 */
import { encodeText, formatLabels, TEXT_CONTENT_TYPE } from '../encode/text.js';
import { type Overhead, toMetricPoints } from '../metrics.js';
import { sendWithRetry } from '../transport/retry.js';
import type { Transport } from '../transport/types.js';
import type { PushgatewayTarget } from '../types.js';
import { groupingPath } from './grouping-path.js';
import { prepareHttp, toDeliverResult } from './http-common.js';
import { createLatestSlot } from './latest-slot.js';
import type { TargetDriver } from './types.js';

/** What the Pushgateway target needs from the configuration. */
export interface PushgatewayConfig {
  readonly target: PushgatewayTarget;
  readonly job: string;
  readonly instance: string;
  /** `job`, `instance` and the user's labels. */
  readonly labels: Readonly<Record<string, string>>;
  readonly overhead: Overhead;
  readonly timeoutMs: number;
}

/** Creates the target; the group URL and the label text are built once. */
export function createPushgatewayTarget(config: PushgatewayConfig, transport: Transport): TargetDriver {
  const { target } = config;
  const grouping = { instance: config.instance, ...target.grouping };
  const base = prepareHttp(target.url, target.auth, target.headers);
  const url = `${base.url.replace(/\/+$/, '')}/${groupingPath(config.job, grouping)}`;
  // Labels of the grouping key come from the path; repeating them in the body could only conflict.
  const bodyLabels = Object.fromEntries(
    Object.entries(config.labels).filter(([name]) => name !== 'job' && !(name in grouping)),
  );
  const labelText = formatLabels(bodyLabels);
  const headers = { ...base.headers, 'Content-Type': TEXT_CONTENT_TYPE };
  const slot = createLatestSlot();

  return {
    offer: (sample) => slot.put(sample),
    async deliver({ deadline, final }) {
      const sample = slot.peek();
      if (sample === undefined) return { ok: true, attempts: 0 };
      // The group is deleted right after: pushing the final values first would only delay the DELETE.
      if (final && target.deleteOnStop) {
        slot.delivered(sample);
        return { ok: true, attempts: 0 };
      }
      const body = encodeText(toMetricPoints(sample, config.overhead), labelText);
      const request = { url, method: target.method ?? 'PUT', headers, body } as const;
      const result = toDeliverResult(
        await sendWithRetry(transport, request, { deadline, timeoutMs: config.timeoutMs }),
        base.secrets,
      );
      // A refused push will be refused again: drop it rather than resend it every interval.
      if (result.ok || (result.status !== undefined && result.status < 500 && result.status !== 429))
        slot.delivered(sample);
      return result;
    },
    async close({ deadline }) {
      if (!target.deleteOnStop) return undefined;
      const request = { url, method: 'DELETE', headers: base.headers } as const;
      return toDeliverResult(
        await sendWithRetry(transport, request, { deadline, timeoutMs: config.timeoutMs }),
        base.secrets,
      );
    },
    pending: () => slot.size(),
    dropped: () => slot.dropped(),
  };
}

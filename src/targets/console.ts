/** The console target, the embedded default: prints the text format with every label, so a first run needs no server. */
import { encodeText, formatLabels } from '../encode/text.js';
import { type Overhead, toMetricPoints } from '../metrics.js';
import { createLatestSlot } from './latest-slot.js';
import type { TargetDriver } from './types.js';

/** Creates the console target; `write` prints one push (stdout on Node, console.log on the edge). */
export function createConsoleTarget(
  labels: Readonly<Record<string, string>>,
  overhead: Overhead,
  write: (text: string) => void,
): TargetDriver {
  const labelText = formatLabels(labels);
  const slot = createLatestSlot();
  return {
    offer: (sample) => slot.put(sample),
    async deliver() {
      const sample = slot.peek();
      if (sample === undefined) return { ok: true, attempts: 0 };
      slot.delivered(sample);
      try {
        write(encodeText(toMetricPoints(sample, overhead), labelText));
        return { ok: true, attempts: 1 };
      } catch (error) {
        return { ok: false, attempts: 1, error: error as Error };
      }
    },
    close: async () => undefined,
    pending: () => slot.size(),
    dropped: () => slot.dropped(),
  };
}

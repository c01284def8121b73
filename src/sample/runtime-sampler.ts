/** The fallback sampler where `/proc` is missing (macOS, Windows, a sandbox): Node's own process APIs. */
import { availableParallelism } from 'node:os';
import { createCpuMeter } from './cpu.js';
import type { Sampler } from './types.js';

/** Creates a sampler on `process.memoryUsage.rss`, `process.resourceUsage` and `process.cpuUsage`. */
export function createRuntimeSampler(now: () => number = Date.now): Sampler {
  const meter = createCpuMeter(availableParallelism(), 0);
  return {
    sample() {
      const cpu = process.cpuUsage();
      return {
        sample: {
          timestampMs: now(),
          memoryBytes: process.memoryUsage.rss(),
          // maxRSS is in KiB on every platform (https://nodejs.org/api/process.html#processresourceusage).
          memoryPeakBytes: process.resourceUsage().maxRSS * 1024,
          cpuPercent: meter.next((cpu.user + cpu.system) / 1e6, performance.now() / 1000),
        },
        errors: [],
      };
    },
  };
}

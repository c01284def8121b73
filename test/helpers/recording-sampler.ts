/**
 * Wraps the /proc sampler module so a test knows every sample the reporters took: what a receiver must end up
 * with, exactly. It records and changes nothing. Use it from a `vi.mock` factory:
 *
 *   const taken = vi.hoisted(() => [] as number[]);
 *   vi.mock(import('../../src/sample/proc-reader.js'), async (importOriginal) =>
 *     (await import('../helpers/recording-sampler.js')).recordingSamplers(await importOriginal(), taken));
 */
import type * as ProcReader from '../../src/sample/proc-reader.js';

/** The module with `createProcSampler` wrapped to push each sample's timestamp onto `taken`. */
export function recordingSamplers(original: typeof ProcReader, taken: number[]): typeof ProcReader {
  return {
    ...original,
    createProcSampler: (...args: Parameters<typeof original.createProcSampler>) => {
      const sampler = original.createProcSampler(...args);
      return {
        sample() {
          const result = sampler.sample();
          taken.push(result.sample.timestampMs);
          return result;
        },
        close: () => sampler.close?.(),
      };
    },
  };
}

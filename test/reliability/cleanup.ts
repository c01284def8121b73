/**
 * Cleanup that works inside a test and outside one: a server or child started in `beforeAll` (so that slow
 * scenarios run side by side) cannot use `onTestFinished`, so it is cleaned up by {@link cleanupAll} instead.
 */
import { onTestFinished } from 'vitest';

const pending = new Set<() => unknown>();

/** Runs `fn` when the current test ends, or at {@link cleanupAll} when called outside a test. */
export function defer(fn: () => unknown): void {
  try {
    onTestFinished(async () => {
      await fn();
    });
  } catch {
    pending.add(fn);
  }
}

/** Runs every cleanup deferred outside a test; pass it to `afterAll`. */
export async function cleanupAll(): Promise<void> {
  const fns = [...pending];
  pending.clear();
  await Promise.allSettled(fns.map(async (fn) => fn()));
}

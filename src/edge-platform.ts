/** The edge platform (Workers, Vercel Edge, Deno, browsers): fetch, no `/proc`, no signals, no environment. */
import type { Platform } from './platform.js';
import { createFetchTransport } from './transport/fetch.js';

/** Created per call: nothing here runs at import. */
export function createEdgePlatform(): Platform {
  return {
    // An isolate has no host name or pid to tell instances apart: set `instance` where that matters.
    context: () => ({ env: {}, hostname: 'edge', pid: undefined, defaultJob: 'procpush' }),
    createSampler: () => undefined,
    createTransport: () => createFetchTransport(),
    write: (text) => console.log(text.trimEnd()),
    warn: (message) => console.warn(message),
  };
}

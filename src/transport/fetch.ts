/**
 * The fetch transport, for the edge entry (Workers, Deno, Bun, browsers): `globalThis.fetch` with
 * `redirect: 'manual'`, because a followed redirect would count as a delivery and carry credentials elsewhere.
 */
import { redactUrl } from '../redact.js';
import { classifyError, classifyResponse } from './classify.js';
import { ERROR_BODY_BYTES, type Transport } from './types.js';

/** Creates a transport on `globalThis.fetch`, looked up at each send so a test or polyfill can replace it. */
export function createFetchTransport(): Transport {
  return {
    async send(request, signal) {
      const what = `${request.method} ${redactUrl(request.url)}`;
      try {
        const response = await globalThis.fetch(request.url, {
          method: request.method,
          headers: request.headers,
          ...(request.body !== undefined ? { body: request.body } : {}),
          redirect: 'manual',
          signal,
        });
        const body = await readPrefix(response, signal);
        return classifyResponse(
          {
            status: response.status,
            location: response.headers.get('location') ?? undefined,
            retryAfter: response.headers.get('retry-after') ?? undefined,
            body,
          },
          what,
        );
      } catch (error) {
        return classifyError(error, what, signal);
      }
    },
    close() {},
  };
}

/** Reads the first KiB of the body and cancels the rest. */
async function readPrefix(response: Response, signal: AbortSignal): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let kept = 0;
  try {
    while (kept < ERROR_BODY_BYTES) {
      signal.throwIfAborted();
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value.subarray(0, ERROR_BODY_BYTES - kept));
      kept += Math.min(value.length, ERROR_BODY_BYTES - kept);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(kept);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder().decode(bytes);
}

/**
 * A Cloudflare Worker that pushes once per request to a Pushgateway, after the response has gone out.
 *
 * Wrangler resolves `procpush` with the `workerd` condition to the edge entry: `globalThis.fetch`, no `node:`
 * imports. An isolate has no `/proc` and no process to measure, so the process metrics are left out (not
 * reported as zero) and only the configured `tracing_cpu_overhead_percent` estimate goes out.
 *
 * ```toml
 * # wrangler.toml
 * [vars]
 * PUSHGATEWAY_URL = "https://pushgateway.example.com"
 * PUSHGATEWAY_JOB = "edge-api"
 * ```
 */
import { pushOnce } from 'procpush';

/**
 * The part of the Workers `ExecutionContext` this example uses, declared here so it needs no
 * `@cloudflare/workers-types`.
 */
interface ExecutionContext {
  /** Keeps the isolate alive until `promise` settles, after the response is returned. */
  waitUntil(promise: Promise<unknown>): void;
}

/** The Worker's bindings (`[vars]` in wrangler.toml). */
export interface Env {
  /** Base URL of the Pushgateway. */
  PUSHGATEWAY_URL: string;
  /** The `job` label. @default "cloudflare-worker" */
  PUSHGATEWAY_JOB?: string;
  /**
   * The `instance` label. Every isolate pushing under the same one replaces the group, which is what a
   * gauge of the latest value wants. @default "edge"
   */
  PUSHGATEWAY_INSTANCE?: string;
}

export default {
  async fetch(_request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    // waitUntil: the push costs the client no latency, and the isolate lives until it is done.
    ctx.waitUntil(
      pushOnce({
        target: { type: 'pushgateway', url: env.PUSHGATEWAY_URL },
        job: env.PUSHGATEWAY_JOB ?? 'cloudflare-worker',
        ...(env.PUSHGATEWAY_INSTANCE !== undefined ? { instance: env.PUSHGATEWAY_INSTANCE } : {}),
        // Well inside the 30 s that waitUntil is granted after the response.
        flushTimeoutMs: 5_000,
      }).then((result) => {
        // pushOnce never rejects for a failed push: it resolves with the error, shown in `wrangler tail`.
        if (!result.ok) console.warn(`procpush: ${result.error?.message ?? 'push failed'}`);
      }),
    );
    return new Response('ok');
  },
};

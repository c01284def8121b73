/**
 * An AWS Lambda handler (or any function runtime that freezes the process between invocations) that pushes
 * its process's memory and CPU once per invocation, before the result is returned.
 *
 * Timers do not run while a function is frozen, so an interval reporter would push late or never. Instead
 * `withReporter` samples and pushes at the end of each invocation, on a kept-alive connection, adding at most
 * `flushTimeoutMs` to it even when the gateway is down; the handler's result and errors pass through unchanged.
 *
 * Set PUSHGATEWAY_URL in the function's environment. Without it procpush falls back to
 * RESOURCE_ATTRIBUTION_PUSHGATEWAY_URL, then to printing the metrics to the log.
 */
import { withReporter } from 'procpush';

/** The event this example handles. */
export interface ResizeEvent {
  readonly images: ReadonlyArray<{ readonly width: number; readonly height: number }>;
  readonly scale: number;
}

/** The handler's answer. */
export interface ResizeResult {
  readonly statusCode: number;
  readonly pixels: number;
}

/** Stands in for the real work. */
async function resize(event: ResizeEvent): Promise<ResizeResult> {
  if (!(event.scale > 0))
    throw new RangeError(`Expected \`scale\` to be a positive number, got ${event.scale}`);
  let pixels = 0;
  for (const { width, height } of event.images)
    pixels += Math.round(width * event.scale * height * event.scale);
  return { statusCode: 200, pixels };
}

const pushgatewayUrl = process.env.PUSHGATEWAY_URL;

// Created at cold start, so bad configuration fails there, not in the first invocation.
export const handler = withReporter(resize, {
  ...(pushgatewayUrl ? { target: { type: 'pushgateway', url: pushgatewayUrl } } : {}),
  job: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'lambda-handler',
  // Every execution environment of the function shares one group: the gauges show the latest invocation.
  // Use AWS_LAMBDA_LOG_STREAM_NAME to tell them apart, at the cost of one group per environment ever started.
  instance: process.env.AWS_LAMBDA_FUNCTION_VERSION ?? 'local',
  // The most an invocation waits for its push when the gateway is slow or down.
  flushTimeoutMs: 1_000,
  // Each invocation has pushed already; a frozen function is ended without `beforeExit`, and a SIGTERM hook
  // would only repeat the last push.
  shutdown: false,
});

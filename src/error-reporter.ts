/** Background failures: every one goes to `onError`; the default warning is printed once per distinct cause. */

/** Reports background failures of one kind (delivery, or sampling). */
export interface ErrorSink {
  report(error: Error): void;
  /** The failures of this kind have stopped: a cause that comes back is warned about again. */
  recovered(): void;
}

/** Causes remembered at most; a reporter that fails in more ways than this is warned about again. */
const MAX_CAUSES = 32;

/**
 * Creates a sink. With no `onError`, each cause is warned about once until `recovered()`, so a dead target
 * does not fill the log on every interval, even when two causes take turns (a timeout, then a 503).
 * A throwing `onError` is ignored: it must not crash the host.
 */
export function createErrorSink(
  onError: ((error: Error) => void) | undefined,
  warn: (message: string) => void,
): ErrorSink {
  const warned = new Set<string>();
  return {
    report(error) {
      if (onError) {
        try {
          onError(error);
        } catch {
          // The application's handler failed; there is nowhere safer to report that.
        }
        return;
      }
      const { code, status, body } = error as { code?: string; status?: number; body?: unknown };
      // Attempt counts vary between intervals, and so does a body with a request ID or a timestamp in it (most
      // servers' 4xx bodies): the cause is the same, and a storm of them must not print a warning per interval.
      let message = error.message.replace(/\d+ attempts?/g, 'N attempts');
      if (typeof body === 'string' && body.trim() !== '') message = message.split(body).join('<body>');
      const cause = `${code ?? error.name}:${status ?? ''}:${message}`;
      if (warned.has(cause)) return;
      if (warned.size >= MAX_CAUSES) warned.clear();
      warned.add(cause);
      warn(`procpush: ${error.message}`);
    },
    recovered() {
      warned.clear();
    },
  };
}

/** Background failures: every one goes to `onError`; the default warning is printed once per distinct cause. */

/** Reports a background failure. */
export type ErrorSink = (error: Error) => void;

/**
 * Creates the sink. With no `onError`, a cause is warned about once until a push succeeds again, so a dead
 * target does not fill the log on every interval. A throwing `onError` is ignored: it must not crash the host.
 */
export function createErrorSink(
  onError: ((error: Error) => void) | undefined,
  warn: (message: string) => void,
): ErrorSink & { recovered(): void } {
  let lastCause: string | undefined;
  const sink = (error: Error) => {
    if (onError) {
      try {
        onError(error);
      } catch {
        // The application's handler failed; there is nowhere safer to report that.
      }
      return;
    }
    const { code, status } = error as { code?: string; status?: number };
    const cause = `${code ?? error.name}:${status ?? ''}:${error.message}`;
    if (cause === lastCause) return;
    lastCause = cause;
    warn(`procpush: ${error.message}`);
  };
  return Object.assign(sink, {
    recovered() {
      lastCause = undefined;
    },
  });
}

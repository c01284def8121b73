/** Signals that procpush passes on to the command instead of ending on them. */

/**
 * The signals a supervisor sends to stop a job (SIGTERM from `docker stop` and Kubernetes, SIGINT from
 * Ctrl-C, SIGHUP from a closed terminal, SIGQUIT from Ctrl-\). Not SIGUSR1: Node reserves it for the inspector.
 */
export const FORWARDED_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'] as const;

/** One of {@link FORWARDED_SIGNALS}. */
export type ForwardedSignal = (typeof FORWARDED_SIGNALS)[number];

/**
 * Listens for the forwarded signals, so they no longer end procpush, and calls `onSignal` for each; returns
 * the removal of the listeners.
 */
export function listenForSignals(onSignal: (signal: ForwardedSignal) => void): () => void {
  const listeners = FORWARDED_SIGNALS.map((signal) => [signal, () => onSignal(signal)] as const);
  for (const [signal, listener] of listeners) process.on(signal, listener);
  return () => {
    for (const [signal, listener] of listeners) process.removeListener(signal, listener);
  };
}

/**
 * Shutdown hooks: on SIGTERM/SIGINT every reporter takes a final sample and pushes it within its deadline;
 * then, where procpush was the only listener, the signal is raised again so the process ends as it would have
 * without us (exit status 128+n). An application with listeners of its own keeps control of exit.
 * On `beforeExit` (the job finished on its own) each reporter pushes once more and stops.
 *
 * One set of listeners serves every reporter in the process (kept on globalThis, so two copies of procpush
 * share it too): two reporters both flush, and the signal is raised again once.
 */
import type { ManagedReporter } from '../reporter.js';

interface Registration {
  readonly reporter: ManagedReporter;
  readonly signals: readonly string[];
  readonly timeoutMs: number;
}

interface Hooks {
  readonly registrations: Set<Registration>;
  readonly listeners: Map<string, () => void>;
  handling: boolean;
}

const KEY = Symbol.for('procpush.shutdown-hooks');

function hooks(): Hooks {
  const holder = globalThis as { [KEY]?: Hooks };
  holder[KEY] ??= { registrations: new Set(), listeners: new Map(), handling: false };
  return holder[KEY];
}

/** Registers a reporter with the process-wide hooks; returns its removal (called by `stop()`). */
export function installShutdown(
  reporter: ManagedReporter,
  signals: readonly string[],
  timeoutMs: number,
): () => void {
  const state = hooks();
  const registration: Registration = { reporter, signals, timeoutMs };
  state.registrations.add(registration);
  for (const signal of signals) listen(state, signal, () => void onSignal(state, signal));
  listen(state, 'beforeExit', () => void onBeforeExit(state));
  return () => {
    state.registrations.delete(registration);
    if (!state.handling) syncListeners(state);
  };
}

function listen(state: Hooks, event: string, listener: () => void): void {
  if (state.listeners.has(event)) return;
  state.listeners.set(event, listener);
  process.on(event, listener);
}

/** Removes listeners no registered reporter needs any more. */
function syncListeners(state: Hooks): void {
  const wanted = new Set<string>();
  for (const registration of state.registrations)
    for (const signal of registration.signals) wanted.add(signal);
  if (state.registrations.size > 0) wanted.add('beforeExit');
  for (const [event, listener] of state.listeners) {
    if (wanted.has(event)) continue;
    process.removeListener(event, listener);
    state.listeners.delete(event);
  }
}

function removeAll(state: Hooks): void {
  for (const [event, listener] of state.listeners) process.removeListener(event, listener);
  state.listeners.clear();
}

async function onSignal(state: Hooks, signal: string): Promise<void> {
  if (state.handling) {
    // A second signal while the final push runs: the user wants out now.
    removeAll(state);
    reraise(signal);
    return;
  }
  state.handling = true;
  const registrations = [...state.registrations].filter((r) => r.signals.includes(signal));
  const bound = Math.max(0, ...registrations.map((r) => r.timeoutMs));
  // Ref'd on purpose: the process must live until the final pushes end or time out, then re-raise.
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.allSettled(registrations.map((r) => r.reporter.stopWithin(r.timeoutMs))),
    new Promise((resolve) => {
      timer = setTimeout(resolve, bound + 100);
    }),
  ]);
  clearTimeout(timer);
  state.handling = false;
  // Every reporter that listened for this signal has stopped and unregistered, so its listener goes here.
  syncListeners(state);
  // On the next turn: a failed final push is reported with process.emitWarning, which prints on the next tick,
  // and raising the signal now would end the process before the warning reaches stderr.
  setImmediate(reraise, signal);
}

/** Raises the signal again where nobody else listens, so the default action ends the process (128+n). */
function reraise(signal: string): void {
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

async function onBeforeExit(state: Hooks): Promise<void> {
  if (state.handling) return;
  // Each reporter removes itself on stop; beforeExit fires again afterwards and finds nothing left to do.
  await Promise.allSettled([...state.registrations].map((r) => r.reporter.stopWithin(r.timeoutMs)));
}

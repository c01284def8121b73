/**
 * The run loop of `procpush`: spawn the command with its stdio untouched, meter its tree on the reporter's
 * interval and its memory peak every 100 ms, pass signals on, and once it ended push the final sample within
 * `--final-timeout`, then return its exit status.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createReporter } from '../reporter.js';
import { createProcessTreeSampler } from '../sample/process-tree.js';
import { createTarget } from '../targets/create.js';
import type { CliFlags } from './args.js';
import { type CliConfig, resolveCliConfig } from './config.js';
import { CANNOT_EXECUTE, exitStatus, NOT_FOUND } from './exit-status.js';
import { createJobMetrics, withJobMetrics } from './job-metrics.js';
import { writeStderr } from './output.js';
import { createCliPlatform } from './platform.js';
import { listenForSignals } from './signals.js';

/** How often the tree's memory is looked at for the peak, independent of the push interval. */
export const PEAK_INTERVAL_MS = 100;

/** A command line resolved and checked, ready to run; creating it spawned nothing. */
export interface PreparedRun {
  readonly command: string;
  readonly args: readonly string[];
  readonly config: CliConfig;
  readonly platform: ReturnType<typeof createCliPlatform>;
  /** The target, created before the command starts so that a bad one (a missing directory) stops us first. */
  readonly target: ReturnType<typeof createTarget> | undefined;
}

/** Resolves the configuration and creates the target; throws `ConfigError` or `UsageError`, spawns nothing. */
export function prepareRun(
  request: { readonly flags: CliFlags; readonly command: string; readonly args: readonly string[] },
  env: NodeJS.ProcessEnv,
): PreparedRun {
  const platform = createCliPlatform(request.command, env);
  const config = resolveCliConfig(request.flags, platform);
  const target = config.reporter.enabled ? createTarget(config.reporter, platform) : undefined;
  return { command: request.command, args: request.args, config, platform, target };
}

/** Runs the command to its end and returns procpush's exit status; never rejects. */
export async function run(prepared: PreparedRun): Promise<number> {
  let child: ChildProcess | undefined;
  let ended = false;
  let hurry = (): void => {};
  // Listening before the spawn: the command may already run (and be signalled) before spawn() returns, and a
  // SIGTERM then must reach it, not end procpush and orphan it.
  const stopListening = listenForSignals((signal) => {
    // A second signal during the final push: the user wants out now.
    if (ended) hurry();
    else child?.kill(signal);
  });
  try {
    return await runChild(prepared, {
      started: (spawned) => {
        child = spawned;
      },
      ended: (onHurry) => {
        ended = true;
        hurry = onHurry;
      },
    });
  } finally {
    stopListening();
  }
}

interface Lifecycle {
  started(child: ChildProcess): void;
  /** The command ended; `hurry` ends the final push early. */
  ended(hurry: () => void): void;
}

async function runChild(prepared: PreparedRun, lifecycle: Lifecycle): Promise<number> {
  const startSeconds = performance.now() / 1000;
  let child: ChildProcess;
  try {
    child = spawn(prepared.command, [...prepared.args], { stdio: 'inherit' });
  } catch (error) {
    return spawnFailed(prepared.command, error as NodeJS.ErrnoException);
  }
  if (child.pid === undefined) {
    // ENOENT, EACCES and the like arrive as an 'error' event, and then nothing was started.
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => child.once('error', resolve));
    return spawnFailed(prepared.command, error);
  }
  lifecycle.started(child);
  // After a successful spawn, 'error' means only that a kill() failed; the exit still comes.
  child.on('error', () => {});
  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => resolve(exitStatus(code, signal)));
  });

  const { target, config } = prepared;
  if (target === undefined) return exited;

  // Created before the first turn of the event loop, so before the command can have been reaped.
  const tree = existsSync('/proc/self/stat')
    ? createProcessTreeSampler({ rootPid: child.pid, startSeconds })
    : undefined;
  const job = createJobMetrics(startSeconds);
  const reporter = createReporter(config.reporter, {
    sampler: withJobMetrics(tree, job),
    target: target.driver,
    transport: target.transport,
    warn: (message) => prepared.platform.warn(message),
  });
  tree?.track();
  const peakTimer = tree ? setInterval(() => tree.track(), PEAK_INTERVAL_MS) : undefined;
  peakTimer?.unref();

  const status = await exited;
  clearInterval(peakTimer);
  tree?.end();
  job.end(status);
  await new Promise<void>((resolve) => {
    // Ref'd: procpush lives until the final push is done or its deadline passed, and not a moment longer.
    const timer = setTimeout(resolve, config.finalTimeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    lifecycle.ended(done);
    void reporter.stopWithin(config.finalTimeoutMs).then(done);
  });
  return status;
}

function spawnFailed(command: string, error: NodeJS.ErrnoException): number {
  const notFound = error.code === 'ENOENT';
  writeStderr(
    `procpush: ${notFound ? `command not found: ${command}` : `cannot run ${command}: ${error.message}`}\n`,
  );
  return notFound ? NOT_FOUND : CANNOT_EXECUTE;
}

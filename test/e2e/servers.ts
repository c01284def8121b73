/**
 * Real Prometheus-family servers for end-to-end tests: the Debian binaries, each on a free loopback port in
 * its own temp directory, stopped by PID. One file because only these two were ours to add; it splits
 * cleanly into process lifecycle, server recipes and query clients.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as v from 'valibot';
import { afterAll, describe, it } from 'vitest';

// ---------------------------------------------------------------------------------------------------------
// Availability and skipping

/** Server binaries from the Debian packages that this harness knows how to start. */
export type E2EBinary =
  | 'prometheus-pushgateway'
  | 'prometheus'
  | 'victoria-metrics'
  | 'prometheus-node-exporter';

/** Absolute path of a server binary as the Debian package installs it. */
export function binaryPath(binary: E2EBinary): string {
  return `/usr/bin/${binary}`;
}

/** The entries of `binaries` (names or absolute paths) that are not executable files on this machine. */
export function missingBinaries(binaries: readonly string[]): string[] {
  return binaries
    .map((b) => (isAbsolute(b) ? b : `/usr/bin/${b}`))
    .filter((path) => {
      try {
        accessSync(path, constants.X_OK);
        return false;
      } catch {
        return true;
      }
    });
}

/** What an end-to-end suite should do on this machine, with the reason to show when it does not run. */
export type E2EGate = { mode: 'run' } | { mode: 'skip'; reason: string } | { mode: 'fail'; reason: string };

/**
 * Decides whether a suite needing `binaries` runs, is skipped, or fails: `PROCPUSH_E2E=required` (for CI
 * images that install the servers) turns a silent skip into a failure.
 */
export function e2eGate(binaries: readonly string[], env: NodeJS.ProcessEnv = process.env): E2EGate {
  const missing = missingBinaries(binaries);
  if (missing.length === 0) return { mode: 'run' };
  const what = `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing`;
  if (env.PROCPUSH_E2E === 'required') return { mode: 'fail', reason: `PROCPUSH_E2E=required but ${what}` };
  return { mode: 'skip', reason: `skipped: ${what} (PROCPUSH_E2E=required makes this fail)` };
}

/**
 * `describe` for suites that start real servers: when a binary is missing, skipped with the reason in the
 * suite name and on stderr, or failing under `PROCPUSH_E2E=required`; always followed by {@link stopAll},
 * so do not nest it or share servers across suites.
 * @example
 * describeE2E('pushes to a real gateway', ['prometheus-pushgateway'], () => {
 *   let gw: E2EServer;
 *   beforeAll(async () => { gw = await startPushgateway(); });
 *   it('stores the group', async () => { ... });
 * });
 */
export function describeE2E(name: string, binaries: readonly E2EBinary[], fn: () => void): void {
  const gate = e2eGate(binaries);
  if (gate.mode === 'fail') {
    describe(name, () => {
      it('has its servers installed', () => {
        throw new Error(gate.reason);
      });
    });
    return;
  }
  const skipped = gate.mode === 'skip';
  // The default reporter prints only "n skipped"; it does print console output, and verbose reporters,
  // JUnit and IDEs show the suite name.
  if (skipped) console.warn(`${name}: ${gate.reason}`);
  describe.skipIf(skipped)(skipped ? `${name} [${gate.reason}]` : name, () => {
    fn();
    // Also when a test or hook failed: the registry is per test file, so this stops exactly our servers.
    afterAll(stopAll);
  });
}

// ---------------------------------------------------------------------------------------------------------
// Process lifecycle

/** A server process started by this harness. */
export interface E2EServer {
  /** The binary's name, for messages. */
  readonly name: E2EBinary;
  /** Base URL without a trailing slash, always `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The loopback port; kept across {@link E2EServer.restart}. */
  readonly port: number;
  /** PID of the latest process; a restart changes it. */
  readonly pid: number;
  /** Temp directory that is the process's cwd and holds anything it writes. */
  readonly dir: string;
  /** Whether the latest process is still alive. */
  readonly running: boolean;
  /** The last ~4 KiB of stdout and stderr, across restarts: attach it to failure messages. */
  logs(): string;
  /** SIGTERM, SIGKILL after `killAfterMs`, then waits for the exit; keeps `dir` for a restart. Idempotent. */
  stop(): Promise<void>;
  /** Stops if needed, then starts the same command on the same port and directory and waits until ready. */
  restart(): Promise<void>;
  /** Stops, removes `dir` and forgets the server. Idempotent. */
  dispose(): Promise<void>;
}

/** Options every start function accepts. */
export interface StartOptions {
  /** Arguments appended after the harness's own; a flag the harness already sets cannot be repeated. @default [] */
  extraArgs?: readonly string[];
  /** How long to wait for the readiness endpoint to answer 200. @default 15_000 */
  readyTimeoutMs?: number;
  /** Grace period between SIGTERM and SIGKILL on stop. @default 5_000 */
  killAfterMs?: number;
}

interface ServerSpec {
  binary: E2EBinary;
  /** Path probed with GET until it answers 200. */
  readyPath: string;
  args(port: number, dir: string): string[];
}

interface Run {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Set once the process is gone: how it ended. */
  exit: string | undefined;
  readonly exited: Promise<void>;
}

const LOG_TAIL_CHARS = 4096;
const live = new Set<{ server: E2EServer; run(): Run | undefined }>();
let exitHookInstalled = false;

/** Asks the kernel for a free port on 127.0.0.1 and releases it for the caller to bind. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() =>
        port > 0 ? resolve(port) : reject(new Error(`Expected a TCP address, got ${address}`)),
      );
    });
  });
}

/** Servers started and not yet disposed, to assert that a test leaked nothing. */
export function liveServers(): E2EServer[] {
  return [...live].map((entry) => entry.server);
}

/** Disposes every server started in this process (this test file); rejects if any could not be stopped. */
export async function stopAll(): Promise<void> {
  const results = await Promise.allSettled([...live].map((entry) => entry.server.dispose()));
  const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
  if (errors.length > 0)
    throw new AggregateError(errors, `stopAll: ${errors.length} server(s) failed to stop`);
}

// Last resort when a worker exits without running afterAll: 'exit' handlers must be synchronous, so
// SIGKILL by PID. Only processes whose exit we have not seen, so a recycled PID is never hit.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const entry of live) {
      const run = entry.run();
      // A failed spawn has no PID, and kill(-1) would signal every process we may signal.
      if (run !== undefined && run.exit === undefined && run.pid > 0) {
        try {
          process.kill(run.pid, 'SIGKILL');
        } catch {}
      }
      rmSync(entry.server.dir, { recursive: true, force: true });
    }
  });
}

function spawnRun(path: string, args: string[], dir: string, log: (text: string) => void): Run {
  const child = spawn(path, args, {
    cwd: dir,
    // Pipes we always drain: a full pipe would block the server mid-test.
    stdio: ['ignore', 'pipe', 'pipe'],
    // A minimal environment keeps the host's proxies, GODEBUG and the like out, and HOME inside the temp dir.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, TMPDIR: dir, LANG: 'C' },
  });
  let markExited = (): void => {};
  const run: Run = {
    child,
    pid: child.pid ?? -1,
    exit: undefined,
    exited: new Promise((resolve) => {
      markExited = resolve;
    }),
  };
  const ended = (how: string): void => {
    if (run.exit !== undefined) return;
    run.exit = how;
    markExited();
  };
  child.stdout?.on('data', (chunk: Buffer) => log(chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => log(chunk.toString('utf8')));
  child.on('exit', (code, signal) => ended(signal === null ? `exit code ${code}` : `signal ${signal}`));
  // Only a failed spawn has no PID; a failed kill() also emits 'error' but the process is still there.
  child.on('error', (error) => {
    log(`${error.message}\n`);
    if (child.pid === undefined) ended(`spawn error: ${error.message}`);
  });
  return run;
}

async function terminate(run: Run, killAfterMs: number): Promise<void> {
  if (run.exit !== undefined) return;
  run.child.kill('SIGTERM');
  const timer = new AbortController();
  const exited = await Promise.race([
    run.exited.then(() => true),
    sleep(killAfterMs, false, { signal: timer.signal }).catch(() => true),
  ]);
  timer.abort();
  if (!exited) {
    run.child.kill('SIGKILL');
    await run.exited;
  }
}

async function waitReady(url: string, run: Run, timeoutMs: number, logs: () => string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = 'no answer yet';
  while (performance.now() < deadline) {
    if (run.exit !== undefined) throw new Error(`exited (${run.exit}) before ${url} answered 200\n${logs()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.ok) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = String(error);
    }
    await sleep(25);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (last: ${last})\n${logs()}`);
}

async function launch(
  spec: ServerSpec,
  opts: StartOptions,
  prepare?: (dir: string) => Promise<void>,
): Promise<E2EServer> {
  const path = binaryPath(spec.binary);
  const missing = missingBinaries([path]);
  if (missing.length > 0) throw new Error(`Expected an executable ${path}; is its Debian package installed?`);
  const { extraArgs = [], readyTimeoutMs = 15_000, killAfterMs = 5_000 } = opts;
  const dir = await mkdtemp(join(tmpdir(), `procpush-e2e-${spec.binary}-`));
  let tail = '';
  const log = (text: string): void => {
    tail = (tail + text).slice(-LOG_TAIL_CHARS);
  };
  let run: Run | undefined;
  let port = 0;
  let disposed = false;

  const startOn = async (p: number): Promise<void> => {
    log(`--- ${spec.binary} starting on 127.0.0.1:${p}\n`);
    const current = spawnRun(path, [...spec.args(p, dir), ...extraArgs], dir, log);
    run = current;
    try {
      await waitReady(`http://127.0.0.1:${p}${spec.readyPath}`, current, readyTimeoutMs, () => tail);
    } catch (error) {
      await terminate(current, killAfterMs);
      throw new Error(`${spec.binary} failed to start: ${(error as Error).message}`, { cause: error });
    }
  };
  const stop = async (): Promise<void> => {
    if (run !== undefined) await terminate(run, killAfterMs);
  };
  const server: E2EServer = {
    name: spec.binary,
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    get pid() {
      return run?.pid ?? -1;
    },
    dir,
    get running() {
      return run !== undefined && run.exit === undefined;
    },
    logs: () => tail,
    stop,
    restart: async () => {
      if (disposed) throw new Error(`${spec.binary} on port ${port} was disposed and cannot restart`);
      await stop();
      await startOn(port);
    },
    dispose: async () => {
      if (disposed) return;
      disposed = true;
      try {
        await stop();
      } finally {
        live.delete(entry);
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
  const entry = { server, run: () => run };
  installExitHook();
  live.add(entry);
  try {
    await prepare?.(dir);
    // The port is free when freePort returns but anything may take it before the server binds: retry that.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await startOn(port);
        return server;
      } catch (error) {
        if (attempt >= 3 || !/address already in use/i.test(tail)) throw error;
      }
    }
  } catch (error) {
    await server.dispose();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Servers

/** Options of {@link startPushgateway}. */
export interface PushgatewayOptions extends StartOptions {
  /** Persist to a file in the temp dir, so groups survive a restart (written at shutdown). @default false */
  persistence?: boolean;
}

/**
 * Starts `prometheus-pushgateway` in memory (Debian's default persists to /var/lib) and waits for `/-/ready`.
 * @example
 * const gw = await startPushgateway();
 * await fetch(`${gw.url}/metrics/job/x`, { method: 'PUT', body: 'up 1\n' });
 */
export function startPushgateway(opts: PushgatewayOptions = {}): Promise<E2EServer> {
  return launch(
    {
      binary: 'prometheus-pushgateway',
      readyPath: '/-/ready',
      args: (port, dir) => [
        `--web.listen-address=127.0.0.1:${port}`,
        `--persistence.file=${opts.persistence === true ? join(dir, 'pushgateway.data') : ''}`,
      ],
    },
    opts,
  );
}

/** A Prometheus or VictoriaMetrics server that accepts remote write. */
export interface TsdbServer extends E2EServer {
  /** Directory of the stored samples, kept across restarts. */
  readonly dataDir: string;
  /** The remote-write receiver, `<url>/api/v1/write` on both servers. */
  readonly remoteWriteUrl: string;
}

/** Options of {@link startPrometheus}. */
export interface PrometheusOptions extends StartOptions {
  /**
   * The whole prometheus.yml. A static scrape target is first scraped only ~5 s after start: the scrape
   * manager applies discovered targets on a 5 s tick (not a flag in 2.42). Remote write is immediate.
   * @default "global: {}\nscrape_configs: []\n"
   */
  config?: string;
}

/**
 * Starts `prometheus` with the remote-write receiver and an empty scrape config, and waits for `/-/ready`.
 * @example
 * const prom = await startPrometheus();
 * await prom.restart(); // same port, same data directory
 */
export async function startPrometheus(opts: PrometheusOptions = {}): Promise<TsdbServer> {
  const server = await launch(
    {
      binary: 'prometheus',
      readyPath: '/-/ready',
      args: (port, dir) => [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--web.enable-remote-write-receiver',
        // Debian points these at /etc/prometheus; nothing here serves consoles, so keep them inside `dir`.
        `--web.console.templates=${join(dir, 'consoles')}`,
        `--web.console.libraries=${join(dir, 'console_libraries')}`,
      ],
    },
    opts,
    (dir) => writeFile(join(dir, 'prometheus.yml'), opts.config ?? 'global: {}\nscrape_configs: []\n'),
  );
  return withTsdb(server, join(server.dir, 'data'));
}

/** A VictoriaMetrics server, with a way to make fresh samples searchable. */
export interface VictoriaMetricsServer extends TsdbServer {
  /**
   * Calls `/internal/force_flush`. Without it a new series becomes queryable only after ~10 s (its index
   * entries are buffered); with it ~1 s, so still poll with {@link waitFor}.
   */
  flush(): Promise<void>;
}

/** Options of {@link startVictoriaMetrics}. */
export interface VictoriaMetricsOptions extends StartOptions {
  /** `-retentionPeriod`; VM rejects samples older than this. @default "100y" */
  retentionPeriod?: string;
}

/**
 * Starts single-node `victoria-metrics` tuned to show fresh samples at once, and waits for `/health`.
 * @example
 * const vm = await startVictoriaMetrics();
 * await vm.flush();
 * await waitFor(async () => (await promQuery(vm.url, 'up')).result.length > 0);
 */
export async function startVictoriaMetrics(
  opts: VictoriaMetricsOptions = {},
): Promise<VictoriaMetricsServer> {
  const server = await launch(
    {
      binary: 'victoria-metrics',
      readyPath: '/health',
      args: (port, dir) => [
        `-httpListenAddr=127.0.0.1:${port}`,
        `-storageDataPath=${join(dir, 'data')}`,
        `-retentionPeriod=${opts.retentionPeriod ?? '100y'}`,
        // By default the newest 30 s are hidden from queries and results are cached: both hide fresh pushes.
        '-search.latencyOffset=0s',
        '-search.disableCache',
        // Go's graceful shutdown waits for busy connections; tests want a prompt stop.
        '-http.maxGracefulShutdownDuration=1s',
      ],
    },
    opts,
  );
  return Object.assign(withTsdb(server, join(server.dir, 'data')), {
    flush: async () => {
      const response = await fetch(`${server.url}/internal/force_flush`);
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`Expected 200 from force_flush, got ${response.status}`);
    },
  });
}

/** Options of {@link startNodeExporter}. */
export type NodeExporterOptions = StartOptions;

/**
 * Starts `prometheus-node-exporter` with only the textfile collector on `textfileDir`, waits for `/metrics`.
 * @example
 * const ne = await startNodeExporter(dir);
 * await writeFile(join(dir, 'job.prom'), 'x 1\n'); // read at every scrape
 */
export async function startNodeExporter(
  textfileDir: string,
  opts: NodeExporterOptions = {},
): Promise<E2EServer> {
  await mkdir(textfileDir, { recursive: true });
  return launch(
    {
      binary: 'prometheus-node-exporter',
      readyPath: '/metrics',
      args: (port) => [
        `--web.listen-address=127.0.0.1:${port}`,
        '--collector.disable-defaults',
        '--collector.textfile',
        `--collector.textfile.directory=${textfileDir}`,
      ],
    },
    opts,
  );
}

// Getters must survive: spread would freeze url/pid/running at their current values.
function withTsdb(server: E2EServer, dataDir: string): TsdbServer {
  return Object.defineProperties(server, {
    dataDir: { value: dataDir, enumerable: true },
    remoteWriteUrl: { get: () => `${server.url}/api/v1/write`, enumerable: true },
  }) as TsdbServer;
}

// ---------------------------------------------------------------------------------------------------------
// Query clients

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long. @default 10_000 */
  timeoutMs?: number;
  /** Pause between attempts. @default 100 */
  intervalMs?: number;
}

/**
 * Calls `fn` until it returns something other than `undefined`, `null` or `false` without throwing, and
 * returns that; on timeout throws with the last error as `cause`. Attempts never overlap.
 * @example
 * const data = await waitFor(async () => {
 *   const r = await promQuery(vm.url, 'procpush_rss_bytes');
 *   return r.resultType === 'vector' && r.result.length > 0 && r;
 * });
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  opts: WaitForOptions = {},
): Promise<Exclude<T, undefined | null | false>> {
  const { timeoutMs = 10_000, intervalMs = 100 } = opts;
  const deadline = performance.now() + timeoutMs;
  let last: unknown = 'no attempt finished';
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== null && value !== false) {
        return value as Exclude<T, undefined | null | false>;
      }
      last = value;
      lastError = undefined;
    } catch (error) {
      last = error;
      lastError = error;
    }
    if (performance.now() + intervalMs > deadline) break;
    await sleep(intervalMs);
  }
  throw new Error(`waitFor gave up after ${timeoutMs} ms; last result: ${String(last)}`, {
    cause: lastError,
  });
}

/** Label names to values of one series or group. */
export type Labels = Record<string, string>;

/** One sample: Unix seconds (fractional on Prometheus) and the value, with NaN and ±Inf parsed. */
export interface PromPoint {
  timestamp: number;
  value: number;
}

/** Result of an instant or range query, by `resultType` as the HTTP API reports it. */
export type PromResult =
  | { resultType: 'vector'; result: Array<{ metric: Labels } & PromPoint> }
  | { resultType: 'matrix'; result: Array<{ metric: Labels; values: PromPoint[] }> }
  | { resultType: 'scalar'; result: PromPoint }
  | { resultType: 'string'; result: { timestamp: number; value: string } };

/** One series of a range query. */
export type PromSeries = Extract<PromResult, { resultType: 'matrix' }>['result'][number];

// Go's strconv spells infinities "+Inf"/"-Inf", which Number() reads as NaN.
function sampleValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

const valueSchema = v.pipe(v.string(), v.transform(sampleValue));
const labelsSchema = v.record(v.string(), v.string());
const pointSchema = v.pipe(
  v.tuple([v.number(), valueSchema]),
  v.transform(([timestamp, value]) => ({ timestamp, value })),
);
const promResultSchema = v.variant('resultType', [
  v.object({
    resultType: v.literal('vector'),
    result: v.array(
      v.pipe(
        v.object({ metric: labelsSchema, value: pointSchema }),
        v.transform(({ metric, value }) => ({ metric, ...value })),
      ),
    ),
  }),
  v.object({
    resultType: v.literal('matrix'),
    result: v.array(v.object({ metric: labelsSchema, values: v.array(pointSchema) })),
  }),
  v.object({ resultType: v.literal('scalar'), result: pointSchema }),
  v.object({
    resultType: v.literal('string'),
    result: v.pipe(
      v.tuple([v.number(), v.string()]),
      v.transform(([timestamp, value]) => ({ timestamp, value })),
    ),
  }),
]);
const promResponseSchema = v.variant('status', [
  v.object({ status: v.literal('success'), data: promResultSchema }),
  v.object({ status: v.literal('error'), errorType: v.string(), error: v.string() }),
]);

/** A time for the query API: a Date or Unix seconds. */
export type PromTime = Date | number;

const unixSeconds = (t: PromTime): string => String(t instanceof Date ? t.getTime() / 1000 : t);

async function promApi(url: string, params: Record<string, string>): Promise<PromResult> {
  const response = await fetch(`${url}?${new URLSearchParams(params)}`, {
    signal: AbortSignal.timeout(10_000),
  });
  const body: unknown = await response.json();
  const parsed = v.parse(promResponseSchema, body);
  if (parsed.status === 'error') {
    throw new Error(`${params.query}: ${parsed.errorType}: ${parsed.error} (HTTP ${response.status})`);
  }
  return parsed.data;
}

/** Runs an instant query on Prometheus or VictoriaMetrics at `time` (default: now on the server). */
export function promQuery(url: string, query: string, time?: PromTime): Promise<PromResult> {
  return promApi(`${url}/api/v1/query`, time === undefined ? { query } : { query, time: unixSeconds(time) });
}

/** Runs a range query; `step` in seconds or as a duration such as "15s". */
export async function promQueryRange(
  url: string,
  query: string,
  start: PromTime,
  end: PromTime,
  step: number | string,
): Promise<PromSeries[]> {
  const data = await promApi(`${url}/api/v1/query_range`, {
    query,
    start: unixSeconds(start),
    end: unixSeconds(end),
    step: String(step),
  });
  if (data.resultType !== 'matrix')
    throw new Error(`Expected a matrix from query_range, got ${data.resultType}`);
  return data.result;
}

/** The type of a metric family as the Pushgateway API spells it. */
export type PushgatewayMetricType = 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';

/** One metric of a family: `value` for counters, gauges and untyped; the rest for histograms and summaries. */
export interface PushgatewayMetric {
  /** The metric's labels, including the group's. */
  labels: Labels;
  value?: number;
  count?: number;
  sum?: number;
  /** Cumulative counts by `le`. */
  buckets?: Record<string, number>;
  quantiles?: Record<string, number>;
}

/** A metric family as stored in one group. */
export interface PushgatewayFamily {
  type: PushgatewayMetricType;
  /** Empty when the push had no HELP line. */
  help: string;
  /** When the family was last pushed. */
  pushedAt: Date;
  metrics: PushgatewayMetric[];
}

/** A group of the Pushgateway, keyed by its grouping labels (`job` and any others). */
export interface PushgatewayGroup {
  labels: Labels;
  lastPushSuccessful: boolean;
  /** Unix seconds of the last successful push (the gateway's `push_time_seconds`). */
  pushTimeSeconds: number | undefined;
  /** Unix seconds of the last failed push, 0 if none (`push_failure_time_seconds`). */
  pushFailureTimeSeconds: number | undefined;
  /** The pushed families by name, without the two push_*_seconds families the gateway adds. */
  families: Record<string, PushgatewayFamily>;
}

const familySchema = v.object({
  time_stamp: v.string(),
  type: v.picklist(['COUNTER', 'GAUGE', 'HISTOGRAM', 'SUMMARY', 'UNTYPED']),
  help: v.optional(v.string(), ''),
  metrics: v.array(
    v.object({
      labels: labelsSchema,
      value: v.optional(valueSchema),
      count: v.optional(valueSchema),
      sum: v.optional(valueSchema),
      buckets: v.optional(v.record(v.string(), valueSchema)),
      quantiles: v.optional(v.record(v.string(), valueSchema)),
    }),
  ),
});
// A group is one flat object: its `labels` and `last_push_successful` sit next to the families, keyed by
// metric name, so a family literally named "labels" would be shadowed.
const groupSchema = v.looseObject({ labels: labelsSchema, last_push_successful: v.boolean() });
const groupsSchema = v.object({ status: v.literal('success'), data: v.array(groupSchema) });

function toGroup(raw: v.InferOutput<typeof groupSchema>): PushgatewayGroup {
  const { labels, last_push_successful, ...rest } = raw;
  const families: Record<string, PushgatewayFamily> = {};
  for (const [name, value] of Object.entries(rest)) {
    const family = v.parse(familySchema, value);
    families[name] = {
      type: family.type,
      help: family.help,
      pushedAt: new Date(family.time_stamp),
      metrics: family.metrics.map(({ labels: metricLabels, ...fields }) => ({
        labels: metricLabels,
        ...Object.fromEntries(Object.entries(fields).filter(([, field]) => field !== undefined)),
      })),
    };
  }
  const { push_time_seconds, push_failure_time_seconds, ...pushed } = families;
  return {
    labels,
    lastPushSuccessful: last_push_successful,
    pushTimeSeconds: push_time_seconds?.metrics[0]?.value,
    pushFailureTimeSeconds: push_failure_time_seconds?.metrics[0]?.value,
    families: pushed,
  };
}

/** Reads every group of a Pushgateway through its `/api/v1/metrics` API. */
export async function pushgatewayGroups(url: string): Promise<PushgatewayGroup[]> {
  const response = await fetch(`${url}/api/v1/metrics`, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`Expected 200 from ${url}/api/v1/metrics, got ${response.status}`);
  return v.parse(groupsSchema, await response.json()).data.map(toGroup);
}

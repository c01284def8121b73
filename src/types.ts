/** The public types of procpush (DESIGN.md, "Public contract"). */

/** Credentials for a target: HTTP basic auth, or a bearer token. */
export type Auth = { username: string; password: string } | { bearerToken: string };

/** A Prometheus Pushgateway; each push replaces (PUT) or adds to (POST) the group of this process. */
export interface PushgatewayTarget {
  type: 'pushgateway';
  /** The gateway's base URL; a path prefix (a gateway behind a proxy at `/pgw/`) is kept. */
  url: string;
  /** PUT replaces the whole group, POST replaces only the metrics pushed. @default 'PUT' */
  method?: 'PUT' | 'POST';
  /** Grouping labels added to the path after `job` and `instance`. */
  grouping?: Record<string, string>;
  /** Send DELETE for the group on stop, so a finished job leaves nothing behind. @default false */
  deleteOnStop?: boolean;
  auth?: Auth;
  /** Extra request headers; `Content-Type` and `Authorization` are set by procpush. */
  headers?: Record<string, string>;
}

/** Bounds of the remote-write queue, which holds samples a receiver has not taken yet. */
export interface RemoteWriteQueueOptions {
  /** Samples (one per metric) kept at most; the oldest are dropped and counted beyond it. @default 10_000 */
  maxSamples?: number;
  /** Age after which a sample is dropped, since receivers reject old samples. @default 3_600_000 (an hour) */
  maxAgeMs?: number;
}

/** A Prometheus remote-write 1.0 receiver: Prometheus, Grafana Cloud, Mimir, VictoriaMetrics, Thanos. */
export interface RemoteWriteTarget {
  type: 'remote-write';
  /** The receiver's write URL, e.g. `http://localhost:9090/api/v1/write`. */
  url: string;
  auth?: Auth;
  /** The tenant, sent as `X-Scope-OrgID` (Mimir, Cortex, Loki-style multi-tenancy). */
  tenant?: string;
  /** Extra request headers; the protocol headers cannot be overridden. */
  headers?: Record<string, string>;
  queue?: RemoteWriteQueueOptions;
}

/** node_exporter's textfile collector: a `.prom` file replaced atomically on each push. */
export interface TextfileTarget {
  type: 'textfile';
  /** Path of the `.prom` file, in the directory given to `--collector.textfile.directory`. */
  path: string;
  /** Remove the file on stop. @default false */
  deleteOnStop?: boolean;
}

/** Prints what would be pushed, in the text format; the default when no URL is configured. */
export interface ConsoleTarget {
  type: 'console';
}

/** Where the metrics go. */
export type Target = PushgatewayTarget | RemoteWriteTarget | TextfileTarget | ConsoleTarget;

/** TLS material, as PEM text. */
export interface TlsOptions {
  /** CA certificates trusted in addition to the system's. */
  ca?: string;
  /** Client certificate, for mutual TLS. */
  cert?: string;
  /** Client private key, for mutual TLS. */
  key?: string;
  /**
   * Verify the server's certificate; `false` accepts any certificate, which is only for a test setup, never to
   * work around a missing `ca`. @default true
   */
  rejectUnauthorized?: boolean;
}

/** How the reporter behaves on SIGTERM, SIGINT and `beforeExit`. */
export interface ShutdownOptions {
  /** @default ['SIGTERM', 'SIGINT'] */
  signals?: string[];
  /** How long the final push may take. @default 5000 */
  timeoutMs?: number;
}

/** Options of `startReporter`, `pushOnce` and `withReporter`; each falls back to its environment variable. */
export interface ReporterOptions {
  /** @default from RESOURCE_ATTRIBUTION_*_URL; with none, the console target */
  target?: Target;
  /** Time between samples; sub-second intervals are allowed. @default 60_000 (RESOURCE_ATTRIBUTION_UPDATE_INTERVAL_SECS) */
  intervalMs?: number;
  /** `false` gives a reporter that does nothing. @default true (RESOURCE_ATTRIBUTION_ENABLED) */
  enabled?: boolean;
  /** The `job` label. @default the script's file name without extension (RESOURCE_ATTRIBUTION_JOB) */
  job?: string;
  /** The `instance` label. @default the host name; `host:pid` for remote write (RESOURCE_ATTRIBUTION_INSTANCE) */
  instance?: string;
  /** Labels on every series. @default {} (RESOURCE_ATTRIBUTION_LABELS as "k=v,k2=v2") */
  labels?: Record<string, string>;
  /** The tracing overhead estimates. @default { memoryRatio: 0.015, cpuPercent: 0.5 } */
  overhead?: { memoryRatio?: number; cpuPercent?: number };
  /** Time one HTTP attempt may take. @default min(10_000, flushTimeoutMs) */
  timeoutMs?: number;
  /** Time one flush may take, all attempts and waits included. @default min(intervalMs, 30_000) */
  flushTimeoutMs?: number;
  /** @default from RESOURCE_ATTRIBUTION_TLS_{CA,CERT,KEY}_FILE */
  tls?: TlsOptions;
  /** `false` installs no signal or exit hooks. @default { signals: ['SIGTERM', 'SIGINT'], timeoutMs: 5000 } */
  shutdown?: false | ShutdownOptions;
  /** Receives background failures. @default a warning on stderr, once per distinct cause */
  onError?: (error: Error) => void;
}

/** The outcome of one push; `ok: false` carries the error, it is never thrown. */
export interface PushResult {
  ok: boolean;
  /** The last HTTP status, where the target answered. */
  status?: number;
  /** Requests made, retries included (0 when there was nothing to send). */
  attempts: number;
  error?: Error;
}

/** Counters of a reporter's life, for health checks and tests. */
export interface ReporterStats {
  /** Pushes delivered. */
  pushes: number;
  /** Pushes given up on. */
  failures: number;
  /** Attempts beyond the first, over all pushes. */
  retries: number;
  /** Samples waiting to be sent now. */
  samplesQueued: number;
  /** Samples dropped: replaced by a newer one before delivery, refused, or aged out of the queue. */
  samplesDropped: number;
}

/** A running reporter. */
export interface Reporter {
  /** Samples now and pushes; resolves when delivered or given up on, and never rejects. */
  flush(): Promise<PushResult>;
  /** Takes a final sample, pushes it, clears the timer and removes hooks; calling it again returns the same promise. */
  stop(): Promise<void>;
  /** The counters so far. */
  stats(): ReporterStats;
}

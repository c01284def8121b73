/** The text of `procpush --help`. */

/** Usage, options, metrics, exit status and examples, for a terminal 100 columns wide. */
export const HELP = `Usage: procpush [options] -- <command> [args...]

Runs <command> with its stdin, stdout and stderr untouched, meters its whole process tree from /proc,
pushes the metrics every interval and once more when the command ends, then exits with the command's
exit status.

Target (at most one; default: RESOURCE_ATTRIBUTION_PUSHGATEWAY_URL, _REMOTE_WRITE_URL or _TEXTFILE_PATH;
with none, the metrics are printed to stderr, never to the command's stdout):
  --pushgateway <url>          Prometheus Pushgateway base URL, e.g. http://pushgateway:9091
  --remote-write <url>         Prometheus remote-write URL, e.g. http://prometheus:9090/api/v1/write
  --textfile <path>            .prom file for node_exporter's textfile collector
  --pushgateway-method <m>     POST (default) or PUT. POST replaces only the metrics pushed, so the
                               procpush_job_last_success_timestamp_seconds of an earlier successful run
                               stays in the group when this run fails. PUT replaces the whole group and
                               drops it.

Labels:
  --job <name>                 job label (default: RESOURCE_ATTRIBUTION_JOB, else the command's file name)
  --instance <name>            instance label (default: RESOURCE_ATTRIBUTION_INSTANCE, else the host name;
                               host:pid for remote write)
  --label <name=value>         a further label; repeatable; added to RESOURCE_ATTRIBUTION_LABELS, a flag
                               wins for the same name

Timing:
  --interval <seconds>         time between pushes; fractions allowed (default:
                               RESOURCE_ATTRIBUTION_UPDATE_INTERVAL_SECS, else 60)
  --timeout <seconds>          time one HTTP attempt may take (default: min(10, interval))
  --final-timeout <seconds>    time the final push may take once the command ended, retries included;
                               procpush exits by then even when the target is down (default: 5)

  -h, --help                   show this text
  --version                    show the version

Credentials, TLS and proxies come from the environment as for the library: RESOURCE_ATTRIBUTION_USERNAME,
_PASSWORD, _BEARER_TOKEN, _TENANT_ID, _TLS_CA_FILE, _TLS_CERT_FILE, _TLS_KEY_FILE, HTTPS_PROXY, NO_PROXY.
Flags win over the environment. RESOURCE_ATTRIBUTION_ENABLED=false runs the command without metering.

Metrics (gauges, labelled job, instance and --label):
  process_memory_bytes         RSS summed over the command and all its descendants (sampled every 100 ms;
                               the final push repeats the last reading before the command ended)
  process_memory_peak_bytes    the larger of the highest summed RSS seen every 100 ms and the highest
                               VmHWM (own peak RSS) of any single process of the tree
  process_cpu_percent          CPU of the tree since the previous push, in percent of the CPUs it may use
                               (cgroup v2 quota, else CPU affinity); the first push covers the time since start
  tracing_memory_overhead_bytes, tracing_cpu_overhead_percent
                               the library's configured overhead estimates
  procpush_job_duration_seconds                 run time so far; the whole run time once it ended
  procpush_job_exit_code                        exit status, pushed once the command ended
  procpush_job_last_success_timestamp_seconds   Unix time the command exited 0; pushed only then

Signals: SIGTERM, SIGINT, SIGHUP and SIGQUIT sent to procpush are passed to the command; procpush waits for
it to end and pushes the final sample. A second signal during the final push makes procpush exit at once.

Exit status: the command's; 128+n when signal n ended it (also SIGKILL or the OOM killer: the final sample
is still pushed). 2 for a bad command line or configuration, 126 when the command cannot be executed, 127
when it is not found.

Examples:
  procpush --pushgateway http://localhost:9091 --job nightly-backup -- ./backup.sh --full
  procpush --remote-write http://prometheus:9090/api/v1/write --interval 15 -- python3 train.py
  procpush --textfile /var/lib/node_exporter/textfile/etl.prom --label team=data -- make etl
  RESOURCE_ATTRIBUTION_PUSHGATEWAY_URL=http://localhost:9091 npx procpush -- node job.js
  procpush -- sleep 2          # no target: prints the metrics to stderr
`;

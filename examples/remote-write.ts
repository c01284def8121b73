/**
 * A worker that pushes its own memory and CPU to a Prometheus remote-write receiver while it runs: the pattern
 * for jobs on hosts that Prometheus cannot scrape. Configured by the environment, as in a container spec:
 *
 *   # Prometheus, started with --web.enable-remote-write-receiver (the default below)
 *   RESOURCE_ATTRIBUTION_REMOTE_WRITE_URL=http://localhost:9090/api/v1/write
 *
 *   # VictoriaMetrics, single node
 *   RESOURCE_ATTRIBUTION_REMOTE_WRITE_URL=http://localhost:8428/api/v1/write
 *
 *   # Grafana Mimir or Cortex: the tenant is sent as X-Scope-OrgID
 *   RESOURCE_ATTRIBUTION_REMOTE_WRITE_URL=http://mimir:8080/api/v1/push
 *   RESOURCE_ATTRIBUTION_TENANT_ID=team-a
 *
 *   # Grafana Cloud: the stack's Prometheus URL, its instance ID as the user name, and an access-policy token
 *   # with the metrics:write scope as the password (My Account → your stack → Prometheus → Details)
 *   RESOURCE_ATTRIBUTION_REMOTE_WRITE_URL=https://prometheus-prod-XX-prod-eu-west-2.grafana.net/api/prom/push
 *   RESOURCE_ATTRIBUTION_USERNAME=123456
 *   RESOURCE_ATTRIBUTION_PASSWORD=glc_...
 *
 * Optional: RESOURCE_ATTRIBUTION_JOB, RESOURCE_ATTRIBUTION_LABELS=team=data,region=eu-1,
 * RESOURCE_ATTRIBUTION_UPDATE_INTERVAL_SECS (default 60; try 5), and EXAMPLE_WORK_SECS (how long the pretend
 * work runs, default 20). Run it with `npx tsx examples/remote-write.ts` and import
 * examples/grafana/dashboard.json into Grafana to watch it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type RemoteWriteTarget, startReporter } from 'procpush';

const url = process.env.RESOURCE_ATTRIBUTION_REMOTE_WRITE_URL ?? 'http://localhost:9090/api/v1/write';
const workSeconds = Number(process.env.EXAMPLE_WORK_SECS ?? 20);

// The target in code only to bound the queue; the credentials and the tenant still come from the environment.
const target: RemoteWriteTarget = {
  type: 'remote-write',
  url,
  // Through an outage, up to 1,000 intervals of the five gauges wait, none older than 30 minutes (the default
  // is an hour, about the oldest a Prometheus-style receiver still accepts).
  queue: { maxSamples: 5_000, maxAgeMs: 30 * 60_000 },
};

const reporter = startReporter({
  target,
  // Without onError, failures are printed once per distinct cause as a process warning.
  onError: (error) => console.error(`remote-write example: ${error.message}`),
});
// The host only: the URL may carry credentials.
console.error(`remote-write example: pid ${process.pid}, pushing to ${new URL(url).host}`);

/** Stands in for the real work: each step holds 4 MiB more and keeps a CPU busy for a moment. */
async function work(seconds: number): Promise<number> {
  const kept: Uint8Array[] = [];
  const end = Date.now() + seconds * 1000;
  let checksum = 0;
  while (Date.now() < end) {
    kept.push(new Uint8Array(4 * 1024 * 1024).fill(kept.length + 1));
    const busyUntil = Date.now() + 50;
    while (Date.now() < busyUntil) checksum = (checksum * 31 + kept.length) % 1_000_003;
    await sleep(100);
  }
  return checksum;
}

await work(workSeconds / 2);
// A push right now, outside the interval: after a phase worth seeing on its own.
const halfway = await reporter.flush();
if (!halfway.ok) console.error(`remote-write example: halfway push failed: ${halfway.error?.message}`);
await work(workSeconds / 2);

// The final sample, then a stale marker for each series, so the dashboard shows the worker gone at once.
await reporter.stop();
const { pushes, failures, samplesDropped } = reporter.stats();
console.error(
  `remote-write example: ${pushes} pushes, ${failures} failed, ${samplesDropped} samples dropped`,
);

/** Reads a few of a server's own gauges and counters from its `/metrics`, summed over their label sets. */

/** A metric of the server's own exposition, by exact name and an optional label-set fragment. */
export interface ServerMetric {
  readonly name: string;
  readonly labels?: string;
}

/** The sum of every line of `metric` on `<url>/metrics`, or NaN if none is there. */
export async function serverMetric(url: string, metric: ServerMetric): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  let sum = Number.NaN;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const nameEnd = line.search(/[{ ]/);
    if (line.slice(0, nameEnd) !== metric.name) continue;
    if (metric.labels !== undefined && !line.includes(metric.labels)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    sum = (Number.isNaN(sum) ? 0 : sum) + value;
  }
  return sum;
}

/** What each receiver says about the series it holds in memory and the samples it took. */
export const SERIES_METRICS = {
  victoriametrics: {
    /** Series that received a sample in the current hour: VictoriaMetrics' count of active series. */
    active: { name: 'vm_cache_entries', labels: 'type="storage/hour_metric_ids"' },
    created: { name: 'vm_new_timeseries_created_total' },
    samples: { name: 'vm_rows_inserted_total', labels: 'type="promremotewrite"' },
  },
  prometheus: {
    /** Series in the head block, stale or not, until head compaction drops them. */
    active: { name: 'prometheus_tsdb_head_series' },
    created: { name: 'prometheus_tsdb_head_series_created_total' },
    samples: { name: 'prometheus_tsdb_head_samples_appended_total' },
  },
} as const satisfies Record<string, Record<string, ServerMetric>>;

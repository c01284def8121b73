/**
 * examples/grafana/dashboard.json against a real Prometheus: every panel's PromQL, with the template variables
 * substituted as Grafana would, returns data for a process that procpush is pushing by remote write.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { type Reporter, startReporter } from 'procpush';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeE2E, promQuery, startPrometheus, type TsdbServer, waitFor } from './servers.js';

interface Target {
  expr?: string;
  refId: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query: string | { query: string };
  definition?: string;
  allValue?: string;
}
interface Dashboard {
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

const dashboard = JSON.parse(
  readFileSync(new URL('../../examples/grafana/dashboard.json', import.meta.url), 'utf8'),
) as Dashboard;
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, resolved when imported.
const DATASOURCE = { type: 'prometheus', uid: '${DS_PROMETHEUS}' };
const JOB = `e2e-dashboard-${process.pid}`;
const INSTANCE = `${hostname()}:${process.pid}`;

/** Every panel, rows' collapsed panels included. */
function allPanels(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

const panelTargets = allPanels(dashboard.panels).flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({ panel, target })),
);

/** Grafana's regex escaping of a single selected value in `=~` matchers. */
const escapeRegex = (value: string) => value.replace(/[\\^$*+?.()|[\]{}]/g, '\\$&');

/** Substitutes the variables the way Grafana does for one selected job and instance. */
function interpolate(expr: string): string {
  const values: Record<string, string> = {
    job: escapeRegex(JOB),
    instance: escapeRegex(INSTANCE),
    // Grafana's $__rate_interval is at least four scrape intervals; a minute covers this short run.
    __rate_interval: '1m',
    __interval: '15s',
    __range: '5m',
  };
  return expr.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (whole, braced: string | undefined, bare: string | undefined) => {
      const name = braced ?? bare!;
      const value = values[name];
      if (value === undefined) throw new Error(`Unknown variable ${whole} in ${expr}`);
      return value;
    },
  );
}

describeE2E('the Grafana dashboard against a real Prometheus', ['prometheus'], () => {
  // A nested suite: its afterAll stops the reporter before describeE2E's stops Prometheus, so the last push lands.
  describe('with procpush pushing every 250 ms', () => {
    let prom: TsdbServer;
    let reporter: Reporter | undefined;

    beforeAll(async () => {
      prom = await startPrometheus();
      reporter = startReporter({
        target: { type: 'remote-write', url: prom.remoteWriteUrl },
        job: JOB,
        intervalMs: 250,
        shutdown: false,
      });
      // A few samples of all five series before the panels are queried.
      await waitFor(
        async () => {
          const result = await promQuery(prom.url, `count_over_time(process_cpu_percent{job="${JOB}"}[1m])`);
          return result.resultType === 'vector' && (result.result[0]?.value ?? 0) >= 4;
        },
        { timeoutMs: 15_000 },
      );
    });
    afterAll(() => reporter?.stop());

    it('is a schema 39 dashboard on a DS_PROMETHEUS data source variable, with job and instance variables', () => {
      expect(dashboard.schemaVersion).toBe(39);
      const variables = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, v]));
      expect(variables.DS_PROMETHEUS).toMatchObject({ type: 'datasource', query: 'prometheus' });
      expect(variables.job).toMatchObject({
        type: 'query',
        definition: 'label_values(process_memory_bytes, job)',
      });
      expect(variables.instance).toMatchObject({
        type: 'query',
        definition: 'label_values(process_memory_bytes{job=~"$job"}, instance)',
      });
      expect(panelTargets.length).toBeGreaterThanOrEqual(8);
      for (const { panel, target } of panelTargets) {
        expect(panel.datasource, panel.title).toEqual(DATASOURCE);
        expect(target.datasource, `${panel.title} ${target.refId}`).toEqual(DATASOURCE);
        expect(target.expr, `${panel.title} ${target.refId}`).toMatch(/\S/);
      }
      // The five gauges all have a panel.
      const exprs = panelTargets.map(({ target }) => target.expr).join('\n');
      for (const name of [
        'process_memory_bytes',
        'process_memory_peak_bytes',
        'process_cpu_percent',
        'tracing_memory_overhead_bytes',
        'tracing_cpu_overhead_percent',
      ]) {
        expect(exprs).toContain(name);
      }
    });

    it('offers this job and instance in its variables', async () => {
      // label_values(metric{sel}, label) is Grafana's; `group by (label)` asks Prometheus the same.
      for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
        const match = /^label_values\((.+),\s*(\w+)\)$/.exec(variable.definition ?? '');
        if (!match)
          throw new Error(`Expected label_values(...) in ${variable.name}, got ${variable.definition}`);
        const result = await promQuery(prom.url, `group by (${match[2]}) (${interpolate(match[1]!)})`);
        const values = result.resultType === 'vector' ? result.result.map((s) => s.metric[match[2]!]) : [];
        expect(values).toContain(variable.name === 'job' ? JOB : INSTANCE);
      }
    });

    it.each(panelTargets.map(({ panel, target }) => [`${panel.title} (${target.refId})`, target.expr!]))(
      'the panel query %s returns data',
      async (_name, expr) => {
        const query = interpolate(expr);
        expect(query).not.toContain('$');
        const result = await promQuery(prom.url, query);
        expect(result.resultType, query).toBe('vector');
        expect(
          result.resultType === 'vector' && result.result.length,
          `${query}\n${prom.logs()}`,
        ).toBeGreaterThan(0);
        if (result.resultType === 'vector') {
          for (const series of result.result) expect(Number.isFinite(series.value), query).toBe(true);
        }
      },
    );
  });
});

/**
 * The textfile target read by the real node_exporter (Debian's prometheus-node-exporter, textfile collector
 * only): what it serves on `/metrics` is what Prometheus scrapes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startReporter } from 'procpush';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { METRICS } from '../../src/metrics.js';
import { describeE2E, type E2EServer, startNodeExporter } from './servers.js';

const FIVE = Object.values(METRICS).map((metric) => metric.name);
const LABELS = '{instance="worker-7",job="e2e-textfile",team="data"}';

describeE2E('writing for a real node_exporter', ['prometheus-node-exporter'], () => {
  let dir: string;
  let exporter: E2EServer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'procpush-e2e-textfile-'));
    exporter = await startNodeExporter(dir);
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function scrape(): Promise<string> {
    const response = await fetch(`${exporter.url}/metrics`, { signal: AbortSignal.timeout(10_000) });
    expect(response.status).toBe(200);
    return response.text();
  }

  it('serves the five gauges with our labels, and drops them once stop deletes the file', async () => {
    const reporter = startReporter({
      target: { type: 'textfile', path: join(dir, 'procpush.prom'), deleteOnStop: true },
      job: 'e2e-textfile',
      instance: 'worker-7',
      labels: { team: 'data' },
      shutdown: false,
      intervalMs: 60_000,
    });
    try {
      expect(await reporter.flush()).toEqual({ ok: true, attempts: 1 });
      // The collector reads the directory at every scrape: no waiting needed.
      const served = await scrape();
      expect(served, exporter.logs()).toMatch(/^node_textfile_scrape_error 0$/m);
      for (const name of FIVE) {
        expect(served).toContain(`# TYPE ${name} gauge\n`);
        expect(served).toMatch(new RegExp(`^${name}${LABELS.replace(/[{}]/g, '\\$&')} [0-9.e+]+$`, 'm'));
        expect(served.match(new RegExp(`^${name}\\{`, 'gm'))).toHaveLength(1);
      }
      expect(served).toMatch(/^node_textfile_mtime_seconds\{file="[^"]*procpush\.prom"\} /m);
    } finally {
      await reporter.stop();
    }

    const after = await scrape();
    expect(after).toMatch(/^node_textfile_scrape_error 0$/m);
    for (const name of FIVE) expect(after).not.toMatch(new RegExp(`^${name}\\{`, 'm'));
    expect(after).not.toContain('procpush.prom');
  });
});

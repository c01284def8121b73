import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pushTimeseries } from 'prometheus-remote-write';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  describeE2E,
  e2eGate,
  liveServers,
  promQuery,
  promQueryRange,
  pushgatewayGroups,
  startNodeExporter,
  startPrometheus,
  startPushgateway,
  startVictoriaMetrics,
  stopAll,
  waitFor,
} from './servers.js';

const LOOPBACK_URL = /^http:\/\/127\.0\.0\.1:\d+$/;

// kill(pid, 0) delivers nothing and only checks that the PID exists; Node reaps a child before 'exit'.
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function textfileDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'procpush-e2e-textfile-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

type MinimalFetch = NonNullable<NonNullable<Parameters<typeof pushTimeseries>[1]>['fetch']>;

// An independent remote-write encoder, so these tests do not lean on our own.
async function remoteWrite(url: string, name: string, value: number): Promise<number> {
  const result = await pushTimeseries(
    { labels: { __name__: name }, samples: [{ value, timestamp: Date.now() }] },
    { url, fetch: fetch as unknown as MinimalFetch },
  );
  return result.status;
}

async function expectRangeQueries(url: string): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  const series = await promQueryRange(url, 'vector(2)', now - 60, now, 15);
  expect(series.map((s) => s.values.map((p) => p.value))).toEqual([[2, 2, 2, 2, 2]]);
}

async function vectorValue(url: string, query: string, time?: number): Promise<number | undefined> {
  const result = await promQuery(url, query, time);
  return result.resultType === 'vector' ? result.result[0]?.value : undefined;
}

describe('deciding whether end-to-end suites run', () => {
  it('runs when every binary is installed', () => {
    expect(e2eGate([process.execPath], {})).toEqual({ mode: 'run' });
  });

  it('skips with the missing path in the reason', () => {
    const gate = e2eGate([process.execPath, 'no-such-server'], {});
    expect(gate).toEqual({
      mode: 'skip',
      reason: expect.stringContaining('/usr/bin/no-such-server is missing'),
    });
  });

  it('fails instead under PROCPUSH_E2E=required', () => {
    expect(e2eGate(['no-such-server'], { PROCPUSH_E2E: 'required' })).toEqual({
      mode: 'fail',
      reason: 'PROCPUSH_E2E=required but /usr/bin/no-such-server is missing',
    });
  });
});

describeE2E('a real Pushgateway', ['prometheus-pushgateway'], () => {
  it('stores a PUT group and shows it through its API', async () => {
    const gw = await startPushgateway();
    expect(gw.url).toMatch(LOOPBACK_URL);
    const body = [
      '# HELP procpush_e2e_value A value.',
      '# TYPE procpush_e2e_value gauge',
      'procpush_e2e_value{kind="a"} 42',
      '# TYPE procpush_e2e_seconds histogram',
      'procpush_e2e_seconds_bucket{le="1"} 1',
      'procpush_e2e_seconds_bucket{le="+Inf"} 2',
      'procpush_e2e_seconds_sum 3.5',
      'procpush_e2e_seconds_count 2',
      '',
    ].join('\n');
    const response = await fetch(`${gw.url}/metrics/job/x/instance/y`, { method: 'PUT', body });
    expect(response.status).toBe(200);

    const groups = await pushgatewayGroups(gw.url);
    const group = { job: 'x', instance: 'y' };
    expect(groups).toEqual([
      {
        labels: group,
        lastPushSuccessful: true,
        pushTimeSeconds: expect.any(Number),
        pushFailureTimeSeconds: 0,
        families: {
          procpush_e2e_value: {
            type: 'GAUGE',
            help: 'A value.',
            pushedAt: expect.any(Date),
            metrics: [{ labels: { ...group, kind: 'a' }, value: 42 }],
          },
          procpush_e2e_seconds: {
            type: 'HISTOGRAM',
            help: '',
            pushedAt: expect.any(Date),
            metrics: [{ labels: group, buckets: { '1': 1, '+Inf': 2 }, sum: 3.5, count: 2 }],
          },
        },
      },
    ]);
  });

  it('keeps groups across a restart when persistence is on', async () => {
    const gw = await startPushgateway({ persistence: true });
    await fetch(`${gw.url}/metrics/job/kept`, { method: 'PUT', body: 'procpush_e2e_kept 1\n' });
    const { port, pid } = gw;
    await gw.restart();
    expect([gw.port, gw.pid === pid, isAlive(pid)]).toEqual([port, false, false]);
    const groups = await pushgatewayGroups(gw.url);
    expect(groups.map((g) => g.labels)).toEqual([{ job: 'kept' }]);
  });

  it('rejects with the server output when it cannot start, and leaves nothing running', async () => {
    const before = liveServers().length;
    await expect(startPushgateway({ extraArgs: ['--no-such-flag'] })).rejects.toThrow(
      /prometheus-pushgateway failed to start: exited \(exit code 1\)[\s\S]*unknown long flag/,
    );
    expect(liveServers()).toHaveLength(before);
  });
});

describeE2E('a real node_exporter', ['prometheus-node-exporter'], () => {
  it('serves a metric written to a .prom file', async () => {
    const dir = await textfileDir();
    await writeFile(join(dir, 'job.prom'), '# TYPE procpush_e2e_textfile gauge\nprocpush_e2e_textfile 7\n');
    const exporter = await startNodeExporter(dir);
    expect(exporter.url).toMatch(LOOPBACK_URL);
    const text = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(text).toContain('\nprocpush_e2e_textfile 7\n');
  });
});

describeE2E('a real Prometheus', ['prometheus'], () => {
  it('answers queries and keeps remote-written samples across a restart on the same port', async () => {
    const prom = await startPrometheus();
    expect(prom.url).toMatch(LOOPBACK_URL);
    expect(await promQuery(prom.url, 'vector(1)')).toMatchObject({
      resultType: 'vector',
      result: [{ metric: {}, value: 1 }],
    });
    await expectRangeQueries(prom.url);

    expect(await remoteWrite(prom.remoteWriteUrl, 'procpush_e2e_written', 7)).toBe(204);
    expect(await vectorValue(prom.url, 'procpush_e2e_written')).toBe(7);
    const { port, pid, dataDir } = prom;
    await prom.stop();
    expect([prom.running, isAlive(pid)]).toEqual([false, false]);
    await prom.restart();
    expect([prom.port, prom.dataDir, prom.running, prom.pid === pid]).toEqual([port, dataDir, true, false]);
    // Nothing writes after the restart: only the WAL in dataDir can answer this.
    expect(await vectorValue(prom.url, 'procpush_e2e_written')).toBe(7);
  });
});

describeE2E('a real VictoriaMetrics', ['victoria-metrics'], () => {
  it('answers queries and keeps remote-written samples across a restart on the same port', async () => {
    const vm = await startVictoriaMetrics();
    expect(vm.url).toMatch(LOOPBACK_URL);
    expect(await promQuery(vm.url, 'vector(1)')).toMatchObject({
      resultType: 'vector',
      result: [{ metric: {}, value: 1 }],
    });
    await expectRangeQueries(vm.url);

    expect(await remoteWrite(vm.remoteWriteUrl, 'procpush_e2e_written', 5)).toBe(204);
    await vm.flush();
    await waitFor(async () => (await vectorValue(vm.url, 'procpush_e2e_written')) === 5, { intervalMs: 50 });
    const { port, pid } = vm;
    await vm.restart();
    expect([vm.port, vm.pid === pid, isAlive(pid)]).toEqual([port, false, false]);
    expect(await vectorValue(vm.url, 'procpush_e2e_written')).toBe(5);
  });
});

describeE2E(
  'stopping everything',
  ['prometheus-pushgateway', 'prometheus', 'victoria-metrics', 'prometheus-node-exporter'],
  () => {
    it('kills every process it started, by PID, and removes their directories', async () => {
      const dir = await textfileDir();
      const servers = await Promise.all([
        startPushgateway(),
        startPrometheus(),
        startVictoriaMetrics(),
        startNodeExporter(dir),
      ]);
      // Stopped but not disposed: its directory is kept for a restart until stopAll.
      await servers[1].stop();
      expect(servers.map((s) => isAlive(s.pid))).toEqual([true, false, true, true]);

      await stopAll();

      expect(liveServers()).toEqual([]);
      expect(servers.map((s) => isAlive(s.pid))).toEqual([false, false, false, false]);
      const dirs = await Promise.allSettled(servers.map((s) => stat(s.dir)));
      expect(dirs.map((d) => d.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    });
  },
);

import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E, type E2EServer, pushgatewayGroups, startPushgateway, waitFor } from './servers.js';

// The Worker example, bundled as Wrangler bundles it and run in workerd (through miniflare), pushes to a
// real Pushgateway on loopback.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PROCESS_METRICS = [
  'process_memory_bytes',
  'process_memory_peak_bytes',
  'process_cpu_percent',
  'tracing_memory_overhead_bytes',
];

/**
 * Bundles the example as Wrangler does (esbuild, the `workerd` and `worker` conditions). `procpush` resolves
 * through the real `exports` map of an installed copy whose `dist/` files point at the sources, so no build
 * is needed and the Node entry cannot slip in.
 */
async function bundleWorker(dir: string): Promise<{ script: string; inputs: string[] }> {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as unknown;
  const installed = join(dir, 'node_modules/procpush');
  await mkdir(join(installed, 'dist'), { recursive: true });
  await writeFile(join(installed, 'package.json'), JSON.stringify(pkg));
  for (const entry of ['index', 'node']) {
    const source = JSON.stringify(join(ROOT, `src/${entry}.ts`));
    await writeFile(join(installed, `dist/${entry}.js`), `export * from ${source};\n`);
  }
  await copyFile(join(ROOT, 'examples/cloudflare-worker.ts'), join(dir, 'worker.ts'));
  const result = await build({
    entryPoints: [join(dir, 'worker.ts')],
    bundle: true,
    platform: 'neutral',
    format: 'esm',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  const script = result.outputFiles[0]?.text;
  if (script === undefined) throw new Error('esbuild produced no bundle');
  return { script, inputs: Object.keys(result.metafile.inputs) };
}

describeE2E('the Cloudflare Worker example in workerd', ['prometheus-pushgateway'], () => {
  let gateway: E2EServer;
  let dir = '';
  let script = '';
  let inputs: string[] = [];
  const started: Miniflare[] = [];

  /** A fresh workerd running the example with these bindings. */
  async function startWorker(bindings: Record<string, string>): Promise<Miniflare> {
    const mf = new Miniflare({
      modules: true,
      script,
      compatibilityDate: '2024-09-23',
      bindings,
      // Outbound fetches leave workerd through this network service. workerd's own default allows public
      // addresses only and refuses loopback ("connect() blocked by restrictPeers()"); miniflare's default
      // allows public and private ones. Ours allows 127.0.0.1 alone, so the Worker can reach the gateway
      // and nothing beyond this machine.
      outboundService: { network: { allow: ['127.0.0.1/32'], deny: [] } },
      // Otherwise miniflare downloads `request.cf` from workers.cloudflare.com unless NODE_ENV is "test".
      cf: false,
      host: '127.0.0.1',
      port: 0,
    });
    started.push(mf);
    await mf.ready;
    return mf;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'procpush-worker-'));
    ({ script, inputs } = await bundleWorker(dir));
    gateway = await startPushgateway();
  });

  afterAll(async () => {
    await Promise.allSettled(started.map((mf) => mf.dispose()));
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('bundles the edge entry for workerd, not the Node one', () => {
    expect(inputs.some((path) => path.endsWith('src/index.ts'))).toBe(true);
    expect(inputs.filter((path) => path.endsWith('src/node.ts') || path.startsWith('node:'))).toEqual([]);
  });

  it('answers the request and pushes the overhead estimate, without process metrics, to the gateway', async () => {
    const mf = await startWorker({
      PUSHGATEWAY_URL: gateway.url,
      PUSHGATEWAY_JOB: 'edge-api',
      PUSHGATEWAY_INSTANCE: 'colo-test',
    });
    const startedAt = Date.now() / 1000;
    const response = await mf.dispatchFetch('http://localhost/anything');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('ok');

    // The push runs in waitUntil, after the response: wait for the group to arrive.
    const group = await waitFor(async () =>
      (await pushgatewayGroups(gateway.url)).find((g) => g.labels.job === 'edge-api'),
    );
    expect(group.labels).toEqual({ job: 'edge-api', instance: 'colo-test' });
    expect(group.lastPushSuccessful).toBe(true);
    expect(group.pushTimeSeconds).toBeGreaterThanOrEqual(Math.floor(startedAt));
    expect(Object.keys(group.families)).toEqual(['tracing_cpu_overhead_percent']);
    const family = group.families.tracing_cpu_overhead_percent;
    expect(family?.type).toBe('GAUGE');
    expect(family?.metrics).toEqual([{ labels: { job: 'edge-api', instance: 'colo-test' }, value: 0.5 }]);
    // Left out, not reported as zero: the gateway has no such family at all.
    for (const name of PROCESS_METRICS) expect(group.families[name], name).toBeUndefined();
  });

  it('uses the default job and the edge instance when only the URL is bound', async () => {
    const mf = await startWorker({ PUSHGATEWAY_URL: gateway.url });
    expect((await mf.dispatchFetch('http://localhost/')).status).toBe(200);
    const group = await waitFor(async () =>
      (await pushgatewayGroups(gateway.url)).find((g) => g.labels.job === 'cloudflare-worker'),
    );
    expect(group.labels).toEqual({ job: 'cloudflare-worker', instance: 'edge' });
    expect(Object.keys(group.families)).toEqual(['tracing_cpu_overhead_percent']);
  });
});

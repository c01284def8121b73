import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type BuildOptions, build } from 'esbuild';
import { uncompress } from 'snappyjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as source from '../../src/encode/remote-write.js';

// The remote write encoder must run on edge runtimes (Cloudflare Workers and the like): no `node:` modules,
// no `Buffer`, no code generation from strings. We bundle it as an edge build would and run the bundle
// where those are missing.

const ENTRY = fileURLToPath(new URL('../../src/encode/remote-write.ts', import.meta.url));

/**
 * Encodes and compresses one tick of the five metrics plus a stale marker. It runs here and, as source text,
 * in the child process and the bare contexts, so it may use nothing but its argument and ECMAScript.
 */
function scenario(encoder: typeof source) {
  const names = [
    'process_memory_bytes',
    'process_memory_peak_bytes',
    'process_cpu_percent',
    'tracing_memory_overhead_bytes',
    'tracing_cpu_overhead_percent',
  ];
  const series = names.map((name, i) => ({
    labels: encoder.encodeLabels({ __name__: name, job: 'edge', instance: 'isolate-1', region: 'Zürich' }),
    samples: [
      { value: i + 0.25, timestampMs: 1_764_000_000_000 + i },
      { value: -0, timestampMs: 1_764_000_015_000 + i, stale: i === 0 },
    ],
  }));
  const body = encoder.encodeWriteRequest(series);
  const compressed = encoder.compressSnappy(body);
  // Twice: the second interval reuses the first one's compressed labels.
  const tick = (t: number) =>
    series.map((one, i) => ({ ...one, samples: [{ value: i + t, timestampMs: t }] }));
  const structural = [encoder.compressWriteRequest(tick(1)), encoder.compressWriteRequest(tick(2))];
  const hex = (bytes: Uint8Array) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return {
    typeofBuffer: typeof Buffer,
    body: hex(body),
    compressed: hex(compressed),
    structural: structural.map(hex),
    ticks: [1, 2].map((t) => hex(encoder.encodeWriteRequest(tick(t)))),
  };
}

type Outcome = ReturnType<typeof scenario>;

// Runs under `node --disallow-code-generation-from-strings`: the ESM bundle in the Node process itself, then
// the IIFE bundle in contexts holding only ECMAScript built-ins and TextEncoder (what Workers guarantee),
// once bare and once with a `process` that looks like Node's but no `Buffer` (a runtime emulating Node).
const RUNNER = `
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
const scenario = ${scenario.toString()};
const results = {};
try { (0, eval)('1'); results.evalAllowed = true; } catch { results.evalAllowed = false; }
results.node = scenario(await import('./remote-write.mjs'));
const iife = readFileSync(new URL('./remote-write.iife.js', import.meta.url), 'utf8');
const contexts = { bare: {}, nodeLikeProcess: { process: { versions: { node: '20.20.2' }, env: {} } } };
for (const [name, globals] of Object.entries(contexts)) {
  const codeGeneration = { strings: false, wasm: false };
  const context = vm.createContext({ TextEncoder, ...globals }, { codeGeneration });
  vm.runInContext(iife, context);
  results[name] = vm.runInContext('(' + scenario.toString() + ')(procpushEncoder)', context);
}
process.stdout.write(JSON.stringify(results));
`;

describe('remote write encoder on the edge', () => {
  let dir = '';
  let bundle = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'procpush-edge-'));
    // Whitespace minification drops comments, so the text checks below see code only.
    const common: BuildOptions = {
      entryPoints: [ENTRY],
      bundle: true,
      platform: 'neutral',
      minifyWhitespace: true,
      logLevel: 'silent',
    };
    await build({ ...common, format: 'esm', outfile: join(dir, 'remote-write.mjs') });
    bundle = await readFile(join(dir, 'remote-write.mjs'), 'utf8');
    await build({
      ...common,
      format: 'iife',
      globalName: 'procpushEncoder',
      outfile: join(dir, 'remote-write.iife.js'),
    });
    await writeFile(join(dir, 'run.mjs'), RUNNER);
  });

  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('bundles with no node: import, no Buffer, no process and no eval', () => {
    expect(bundle).not.toMatch(/\bfrom\s*["']node:|\b(?:require|import)\s*\(\s*["']node:/);
    // The snappyjs entry checks Buffer; importing its compressor module keeps every mention out.
    expect(bundle).not.toMatch(/\bBuffer\b/);
    expect(bundle).not.toMatch(/\bprocess\b/);
    expect(bundle).not.toMatch(/\beval\b|\bFunction\s*\(/);
  });

  it('encodes and compresses where code generation, Buffer and node: modules are unavailable', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--disallow-code-generation-from-strings', join(dir, 'run.mjs')],
      { cwd: dir },
    );
    const results = JSON.parse(stdout) as { evalAllowed: boolean } & Record<string, Outcome>;
    expect(results.evalAllowed).toBe(false);

    const expected = scenario(source);
    const fromHex = (text: string) => Uint8Array.from(Buffer.from(text, 'hex'));
    expect(Buffer.from(uncompress(fromHex(expected.compressed))).toString('hex')).toBe(expected.body);
    expected.structural.forEach((block, i) => {
      expect(Buffer.from(uncompress(fromHex(block))).toString('hex')).toBe(expected.ticks[i]);
    });
    for (const name of ['node', 'bare', 'nodeLikeProcess']) {
      const outcome = results[name]!;
      expect(outcome.body, name).toBe(expected.body);
      expect(outcome.compressed, name).toBe(expected.compressed);
      expect(outcome.structural, name).toEqual(expected.structural);
    }
    expect(results.bare!.typeofBuffer).toBe('undefined');
    expect(results.nodeLikeProcess!.typeofBuffer).toBe('undefined');
  });
});

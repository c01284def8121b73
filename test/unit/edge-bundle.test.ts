import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import vm from 'node:vm';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build, type Metafile, transform } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The edge entry must run where there is no Node: no `node:` modules, no undici, no `process`, no `Buffer`,
// and nothing may run at import (DESIGN.md "Runtimes", STYLE.md "Keep the runtimes apart"). We bundle it as
// an edge build would, read the bundle, and run it in a context that holds only what Workers provide.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = join(ROOT, 'src/index.ts');
/** The edge entry as built by `npm run build` (scripts/build.mjs) and shipped in the tarball. */
const SHIPPED = join(ROOT, 'dist/index.js');

/** How Wrangler and other edge bundlers resolve: no platform defaults, the edge conditions. */
const EDGE_BUILD: BuildOptions = {
  entryPoints: [ENTRY],
  bundle: true,
  platform: 'neutral',
  format: 'esm',
  mainFields: ['module', 'main'],
  conditions: ['worker', 'browser'],
  metafile: true,
  write: false,
  logLevel: 'silent',
};

/** Node globals an edge bundle must not touch, each replaced by a name that cannot occur otherwise. */
const NODE_GLOBALS = ['process', 'Buffer', 'require', 'global', '__dirname', '__filename', 'setImmediate'];
const FORBIDDEN = '__procpush_forbidden_';
/** `define` replaces only real references to a global (not properties, strings or shadowing locals). */
const NODE_GLOBALS_DEFINE = Object.fromEntries(
  NODE_GLOBALS.flatMap((name) => [
    [name, `${FORBIDDEN}${name}`],
    [`globalThis.${name}`, `${FORBIDDEN}${name}`],
  ]),
);

async function bundle(options: BuildOptions = {}): Promise<{ text: string; metafile: Metafile }> {
  const result = await build({ ...EDGE_BUILD, ...options });
  const text = result.outputFiles?.[0]?.text;
  if (text === undefined || result.metafile === undefined) throw new Error('esbuild produced no bundle');
  return { text, metafile: result.metafile };
}

/** The module (esbuild's `// path` comment) that holds the bundle's line at `index`, for messages. */
function moduleAt(text: string, index: number): string {
  const before = text.slice(0, index);
  return [...before.matchAll(/^\/\/ (\S+)$/gm)].at(-1)?.[1] ?? '(bundle prelude)';
}

describe('the edge entry, bundled as an edge runtime would', () => {
  let text = '';
  let metafile: Metafile;

  beforeAll(async () => {
    ({ text, metafile } = await bundle());
    const minified = await bundle({ minify: true });
    // Informational, for the README's runtime matrix: what `import 'procpush'` costs a Worker.
    console.log(
      `edge bundle of src/index.ts: ${Buffer.byteLength(text)} bytes, ${Buffer.byteLength(minified.text)} ` +
        `minified, ${gzipSync(minified.text).length} minified+gzip`,
    );
  });

  it('is self-contained: no import is left for the runtime to resolve, no node: module, no undici', () => {
    const inputs = Object.keys(metafile.inputs);
    expect(inputs).toContain('src/index.ts');
    expect(inputs).not.toContain('src/node.ts');
    expect(inputs.filter((path) => path.startsWith('node:') || /undici/.test(path))).toEqual([]);
    const imports = Object.values(metafile.outputs).flatMap((output) => output.imports);
    expect(imports).toEqual([]);
    // Whatever esbuild left as text: static and dynamic imports, CommonJS requires.
    expect(text).not.toMatch(/\bfrom\s*["']node:|\bimport\s*\(|\brequire\s*\(|undici/);
  });

  it('uses no Node global, not even behind a typeof check', async () => {
    const marked = await bundle({ define: NODE_GLOBALS_DEFINE });
    const uses = [...marked.text.matchAll(new RegExp(`${FORBIDDEN}(\\w+)`, 'g'))].map(
      (match) => `${match[1]} in ${moduleAt(marked.text, match.index)}`,
    );
    expect(uses).toEqual([]);
  });

  describeInWorkersGlobals(() => text);
});

describe('the shipped dist/index.js, as the package installs it', () => {
  let shipped = '';

  beforeAll(async () => {
    // `npm test` builds first (pretest); a bare `vitest run` may find no dist/ yet.
    if (!existsSync(SHIPPED))
      await promisify(execFile)(process.execPath, ['scripts/build.mjs'], { cwd: ROOT });
    shipped = await readFile(SHIPPED, 'utf8');
  });

  it('is one self-contained file: no import or require at all, no node: module, no undici', async () => {
    // An edge bundler resolves whatever the file imports; there must be nothing, as in the source bundle.
    const { metafile: meta } = await build({
      entryPoints: [SHIPPED],
      bundle: true,
      platform: 'neutral',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    expect(Object.keys(meta.inputs)).toEqual([relative(ROOT, SHIPPED)]);
    expect(shipped).not.toMatch(/^\s*import\b|\bfrom\s*["']|\bimport\s*\(|\brequire\s*\(|node:|undici/m);
  });

  it('uses no Node global, not even behind a typeof check', async () => {
    const { code } = await transform(shipped, { format: 'esm', define: NODE_GLOBALS_DEFINE });
    expect([...code.matchAll(new RegExp(`${FORBIDDEN}(\\w+)`, 'g'))].map((match) => match[1])).toEqual([]);
  });

  describeInWorkersGlobals(() => shipped);
});

describe('the package exports map', () => {
  let dir = '';
  let pkg: { exports: Record<string, Record<string, Record<string, string>>> };

  beforeAll(async () => {
    // An installed copy of the package whose entries only name themselves, so esbuild's own resolver picks
    // the entry as each runtime would, without needing a build.
    pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
    dir = await mkdtemp(join(tmpdir(), 'procpush-exports-'));
    const installed = join(dir, 'node_modules/procpush');
    await mkdir(join(installed, 'dist'), { recursive: true });
    await writeFile(join(installed, 'package.json'), JSON.stringify(pkg));
    for (const file of ['index', 'node'])
      await writeFile(join(installed, `dist/${file}.js`), `export const entry = 'dist/${file}.js';\n`);
  });

  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  async function resolvedEntry(options: BuildOptions): Promise<string> {
    const result = await build({
      stdin: { contents: "export { entry } from 'procpush';", resolveDir: dir },
      bundle: true,
      format: 'esm',
      write: false,
      logLevel: 'silent',
      ...options,
    });
    return result.outputFiles?.[0]?.text.match(/dist\/\w+\.js/)?.[0] ?? 'nothing';
  }

  it.each([
    ['workerd (Wrangler)', { platform: 'neutral', conditions: ['workerd', 'worker', 'browser'] }],
    ['edge-light (Vercel Edge)', { platform: 'neutral', conditions: ['edge-light', 'worker', 'browser'] }],
    ['worker', { platform: 'neutral', conditions: ['worker'] }],
    ['browser', { platform: 'browser', conditions: [] }],
    ['default (no condition)', { platform: 'neutral', conditions: [] }],
  ] as const)('sends %s to the edge entry', async (_name, options) => {
    expect(await resolvedEntry({ ...options, conditions: [...options.conditions] })).toBe('dist/index.js');
  });

  it('sends Node to the Node entry', async () => {
    expect(await resolvedEntry({ platform: 'node' })).toBe('dist/node.js');
  });

  it('declares no side effects, so bundlers may drop an unused import', () => {
    expect((pkg as { sideEffects?: unknown }).sideEffects).toBe(false);
  });

  it('gives every condition its types first, next to the entry they describe', () => {
    const root = pkg.exports['.'] ?? {};
    expect(Object.keys(root)).toEqual(['workerd', 'edge-light', 'worker', 'browser', 'node', 'default']);
    for (const [condition, block] of Object.entries(root)) {
      expect(Object.keys(block), condition).toEqual(['types', 'default']);
      expect(block.types, condition).toBe(block.default?.replace(/\.js$/, '.d.ts'));
      expect(block.default, condition).toBe(condition === 'node' ? './dist/node.js' : './dist/index.js');
    }
  });
});

/** Evaluates an edge bundle (`source()`, read once the suite has it) where only the Workers globals exist. */
function describeInWorkersGlobals(source: () => string): void {
  describe('evaluated where only the Workers globals exist', () => {
    const touched: string[] = [];
    const scheduled: string[] = [];
    const requests: Array<{ url: string; init: RequestInit }> = [];
    const printed: string[] = [];
    let context: vm.Context;
    let globalsBefore: string[] = [];
    let entry: typeof import('../../src/index.js');

    beforeAll(async () => {
      const record =
        <A extends unknown[], R>(name: string, fn: (...args: A) => R) =>
        (...args: A): R => {
          scheduled.push(name);
          return fn(...args);
        };
      const sandbox: Record<string, unknown> = {
        // What the code may use: the web platform as workerd has it.
        fetch: async (url: string, init: RequestInit) => {
          requests.push({ url, init });
          return new Response(null, { status: 200 });
        },
        TextEncoder,
        TextDecoder,
        AbortSignal,
        AbortController,
        URL,
        URLSearchParams,
        Response,
        Headers,
        DOMException,
        performance,
        setTimeout: record('setTimeout', setTimeout),
        clearTimeout,
        setInterval: record('setInterval', setInterval),
        clearInterval,
        queueMicrotask: record('queueMicrotask', queueMicrotask),
        addEventListener: record('addEventListener', () => {}),
        console: {
          log: (...args: unknown[]) => printed.push(args.join(' ')),
          warn: (...args: unknown[]) => printed.push(args.join(' ')),
          error: (...args: unknown[]) => printed.push(args.join(' ')),
        },
      };
      // Node's globals read as missing, and any read at all is recorded (a `typeof process` too).
      for (const name of NODE_GLOBALS) {
        Object.defineProperty(sandbox, name, {
          get: () => {
            touched.push(name);
            return undefined;
          },
          configurable: true,
        });
      }
      context = vm.createContext(sandbox, { codeGeneration: { strings: false, wasm: false } });
      globalsBefore = vm.runInContext('Object.getOwnPropertyNames(globalThis)', context) as string[];
      // The bundle, its exports turned into one global so a plain script can evaluate it.
      const { code } = await transform(source(), { format: 'iife', globalName: '__procpush' });
      vm.runInContext(code, context, { filename: 'procpush-edge.js' });
      entry = vm.runInContext('__procpush', context) as typeof entry;
    });

    it('has no side effects at import: no timer, listener, request, output or global besides its own', () => {
      expect(scheduled).toEqual([]);
      expect(requests).toEqual([]);
      expect(printed).toEqual([]);
      expect(touched).toEqual([]);
      const globalsAfter = vm.runInContext('Object.getOwnPropertyNames(globalThis)', context) as string[];
      expect(globalsAfter.filter((name) => !globalsBefore.includes(name))).toEqual(['__procpush']);
    });

    it('exports the same names as the Node entry', async () => {
      const node = await import('../../src/node.js');
      expect(Object.keys(entry).sort()).toEqual(Object.keys(node).sort());
    });

    it('pushes once to a Pushgateway with fetch and leaves the process metrics out', async () => {
      requests.length = 0;
      const result = await entry.pushOnce({
        target: { type: 'pushgateway', url: 'https://gateway.test/' },
        job: 'edge-test',
        instance: 'isolate-1',
      });
      expect(result).toEqual({ ok: true, status: 200, attempts: 1 });
      expect(requests).toHaveLength(1);
      const [request] = requests;
      expect(request?.url).toBe('https://gateway.test/metrics/job/edge-test/instance/isolate-1');
      expect(request?.init.method).toBe('PUT');
      expect(request?.init.redirect).toBe('manual');
      expect(request?.init.body).toBe(
        '# HELP tracing_cpu_overhead_percent Estimated CPU overhead of tracing, in percent.\n' +
          '# TYPE tracing_cpu_overhead_percent gauge\n' +
          'tracing_cpu_overhead_percent 0.5\n',
      );
      expect(touched).toEqual([]);
    });

    it('pushes remote write as snappy-compressed bytes without Buffer', async () => {
      requests.length = 0;
      const result = await entry.pushOnce({
        target: { type: 'remote-write', url: 'https://tsdb.test/api/v1/write' },
        job: 'edge-test',
      });
      expect(result.ok).toBe(true);
      const headers = requests[0]?.init.headers as Record<string, string>;
      expect(headers['Content-Encoding']).toBe('snappy');
      expect(Object.prototype.toString.call(requests[0]?.init.body)).toBe('[object Uint8Array]');
      expect(touched).toEqual([]);
    });

    it('prints with console.log when no target is configured', async () => {
      printed.length = 0;
      expect((await entry.pushOnce({ job: 'edge-test' })).ok).toBe(true);
      expect(printed.join('\n')).toContain(
        'tracing_cpu_overhead_percent{instance="edge",job="edge-test"} 0.5',
      );
      expect(printed.join('\n')).not.toContain('process_');
      expect(touched).toEqual([]);
    });
  });
}

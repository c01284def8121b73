/**
 * The Pushgateway target through the public API, over the production transport (`node:http`), which msw 2
 * intercepts; a real loopback server where the raw request line or a hung socket matters.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import { delay, HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import {
  type PushgatewayTarget,
  type PushResult,
  pushOnce,
  type ReporterOptions,
  startReporter,
} from 'procpush';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Sample } from '../../src/sample/types.js';
import { createPushgatewayTarget } from '../../src/targets/pushgateway.js';
import { createNodeTransport } from '../../src/transport/node-http.js';
import { DEFAULT_RETRY_POLICY, sendWithRetry } from '../../src/transport/retry.js';

const GW = 'http://gw.test';
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

interface Seen {
  readonly method: string;
  readonly url: URL;
  readonly headers: Headers;
  readonly body: string;
  /** performance.now() when the handler ran. */
  readonly at: number;
}

const server = setupServer();
const rejections: unknown[] = [];
const onRejection = (reason: unknown): void => {
  rejections.push(reason);
};

beforeAll(() => {
  process.on('unhandledRejection', onRejection);
  server.listen({
    // Loopback servers of this file are real; anything else unhandled is a test bug.
    onUnhandledRequest: (request, print) => {
      if (new URL(request.url).hostname !== '127.0.0.1') print.error();
    },
  });
});
afterEach(async () => {
  server.resetHandlers();
  // A rejection surfaces a turn or two after the promise that dropped it.
  await sleep(20);
  expect(rejections, 'unhandled rejections').toEqual([]);
});
afterAll(() => {
  server.close();
  process.off('unhandledRejection', onRejection);
});

/** Answers every request to the gateway with `answer(request, index)` and records what was sent. */
function gateway(
  answer: (request: Request, index: number) => Response | Promise<Response> = () =>
    new HttpResponse(null, { status: 200 }),
): Seen[] {
  const seen: Seen[] = [];
  server.use(
    http.all(`${GW}/*`, async ({ request }) => {
      const body = await request.clone().text();
      seen.push({
        method: request.method,
        url: new URL(request.url),
        headers: request.headers,
        body,
        at: performance.now(),
      });
      return answer(request, seen.length - 1);
    }),
  );
  return seen;
}

/** Pushgateway options with short deadlines and no signal hooks in the test worker. */
function options(target: Partial<PushgatewayTarget> = {}, rest: ReporterOptions = {}): ReporterOptions {
  return {
    target: { type: 'pushgateway', url: GW, ...target },
    job: 'nightly',
    instance: 'worker-7',
    shutdown: false,
    intervalMs: 60_000,
    flushTimeoutMs: 5_000,
    timeoutMs: 2_000,
    ...rest,
  };
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work();
  return { value, ms: performance.now() - start };
}

function statusKiB(field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  if (!match?.[1]) throw new Error(`no ${field} in /proc/self/status`);
  return Number(match[1]) * 1024;
}

/** Every string a credential could hide in: the message, the body, the cause chain, the stack. */
function everything(result: PushResult): string {
  return `${result.error?.message}\n${inspect(result.error, { depth: null })}\n${JSON.stringify(result.error)}`;
}

describe('the request a push sends', () => {
  it('sends the five gauges byte for byte, with HELP and TYPE and the body labels escaped', async () => {
    const seen = gateway();
    const target = createPushgatewayTarget(
      {
        target: { type: 'pushgateway', url: `${GW}/` },
        job: 'nightly',
        instance: 'worker-7',
        labels: { team: 'data', note: 'say "hi" \\ then\nbye', job: 'nightly', instance: 'worker-7' },
        overhead: { memoryRatio: 0.015, cpuPercent: 0.5 },
        timeoutMs: 2_000,
      },
      createNodeTransport(),
    );
    const sample: Sample = {
      timestampMs: 1_764_000_000_123,
      memoryBytes: 48_234_496,
      memoryPeakBytes: 52_428_800,
      cpuPercent: 12.34567,
    };
    target.offer(sample);
    const result = await target.deliver({ deadline: AbortSignal.timeout(5_000) });

    expect(result).toEqual({ ok: true, status: 200, attempts: 1 });
    expect(seen).toHaveLength(1);
    // job and instance are the grouping key in the path; the body must not repeat them.
    const labels = '{note="say \\"hi\\" \\\\ then\\nbye",team="data"}';
    expect(seen[0]!.body).toBe(
      '# HELP process_memory_bytes Resident set size of the process (VmRSS), in bytes.\n' +
        '# TYPE process_memory_bytes gauge\n' +
        `process_memory_bytes${labels} 48234496\n` +
        '# HELP process_memory_peak_bytes Peak resident set size of the process (VmHWM), in bytes.\n' +
        '# TYPE process_memory_peak_bytes gauge\n' +
        `process_memory_peak_bytes${labels} 52428800\n` +
        '# HELP process_cpu_percent CPU used since the previous sample, in percent of the CPU capacity available to the process.\n' +
        '# TYPE process_cpu_percent gauge\n' +
        `process_cpu_percent${labels} 12.346\n` +
        '# HELP tracing_memory_overhead_bytes Estimated memory overhead of tracing: a configured ratio of the resident set size, in bytes.\n' +
        '# TYPE tracing_memory_overhead_bytes gauge\n' +
        `tracing_memory_overhead_bytes${labels} 723517\n` +
        '# HELP tracing_cpu_overhead_percent Estimated CPU overhead of tracing, in percent.\n' +
        '# TYPE tracing_cpu_overhead_percent gauge\n' +
        `tracing_cpu_overhead_percent${labels} 0.5\n`,
    );
    expect(seen[0]!.url.pathname).toBe('/metrics/job/nightly/instance/worker-7');
    expect(seen[0]!.headers.get('content-length')).toBe(String(Buffer.byteLength(seen[0]!.body)));
  });

  it('pushes what /proc/self/status says, in five gauge families, through the public API', async () => {
    const seen = gateway();
    const hwmBefore = statusKiB('VmHWM');
    const rssBefore = statusKiB('VmRSS');
    const result = await pushOnce(options({}, { labels: { team: 'data' } }));
    const rssAfter = statusKiB('VmRSS');
    const hwmAfter = statusKiB('VmHWM');

    expect(result).toEqual({ ok: true, status: 200, attempts: 1 });
    const values = new Map<string, number>();
    let rest = seen[0]!.body;
    const family = /^# HELP (\w+) [^\n]+\n# TYPE \1 gauge\n\1\{team="data"\} (-?[0-9.e+]+)\n/;
    for (let match = family.exec(rest); match !== null; match = family.exec(rest)) {
      values.set(match[1]!, Number(match[2]));
      rest = rest.slice(match[0].length);
    }
    expect(rest, 'body left over after the families').toBe('');
    expect([...values.keys()]).toEqual([
      'process_memory_bytes',
      'process_memory_peak_bytes',
      'process_cpu_percent',
      'tracing_memory_overhead_bytes',
      'tracing_cpu_overhead_percent',
    ]);
    const rss = values.get('process_memory_bytes')!;
    // RSS moves while vitest runs. VmHWM is max(the mark recorded at munmap/exit, current RSS), so pages freed
    // with madvise (V8, malloc) can lower a later reading: the peak agrees closely, it is not bracketed exactly.
    expect(rss).toBeGreaterThan(Math.min(rssBefore, rssAfter) * 0.8);
    expect(rss).toBeLessThan(Math.max(rssBefore, rssAfter) * 1.2);
    const peak = values.get('process_memory_peak_bytes')!;
    expect(peak).toBeGreaterThanOrEqual(rss);
    expect(peak).toBeGreaterThan(Math.min(hwmBefore, hwmAfter) * 0.95);
    expect(peak).toBeLessThan(Math.max(hwmBefore, hwmAfter) * 1.05);
    expect(values.get('process_cpu_percent')).toBeGreaterThanOrEqual(0);
    expect(values.get('process_cpu_percent')).toBeLessThanOrEqual(100);
    expect(values.get('tracing_memory_overhead_bytes')).toBe(Math.round(rss * 0.015));
    expect(values.get('tracing_cpu_overhead_percent')).toBe(0.5);
  });

  it('sends the text format content type, the custom headers, and PUT by default', async () => {
    const seen = gateway();
    await pushOnce(options({ headers: { 'X-Team': 'data', 'X-Request-Source': 'nightly-batch' } }));
    const { method, headers } = seen[0]!;
    expect(method).toBe('PUT');
    expect(headers.get('content-type')).toBe(CONTENT_TYPE);
    expect(headers.get('x-team')).toBe('data');
    expect(headers.get('x-request-source')).toBe('nightly-batch');
    expect(headers.has('authorization')).toBe(false);
    expect(headers.has('retry-attempt')).toBe(false);
  });

  it('POSTs when POST is chosen', async () => {
    const seen = gateway();
    await pushOnce(options({ method: 'POST' }));
    expect(seen.map((s) => s.method)).toEqual(['POST']);
  });

  it('sends basic auth as an Authorization header, UTF-8 encoded', async () => {
    const seen = gateway();
    await pushOnce(options({ auth: { username: 'alice', password: 's3cr3t pässword' } }));
    expect(seen[0]!.headers.get('authorization')).toBe(
      `Basic ${Buffer.from('alice:s3cr3t pässword', 'utf8').toString('base64')}`,
    );
  });

  it('sends a bearer token as an Authorization header', async () => {
    const seen = gateway();
    await pushOnce(options({ auth: { bearerToken: 'tok-abcdef123456' } }));
    expect(seen[0]!.headers.get('authorization')).toBe('Bearer tok-abcdef123456');
  });

  it('moves user info out of the URL into basic auth', async () => {
    const seen = gateway();
    const result = await pushOnce(options({ url: 'http://bob:url%40pass-999@gw.test/' }));
    expect(result.ok).toBe(true);
    expect(seen[0]!.headers.get('authorization')).toBe(
      `Basic ${Buffer.from('bob:url@pass-999').toString('base64')}`,
    );
    expect(seen[0]!.url.href).toBe('http://gw.test/metrics/job/nightly/instance/worker-7');
  });

  it('lets auth win over user info in the URL', async () => {
    const seen = gateway();
    await pushOnce(
      options({ url: 'http://bob:url-pass-999@gw.test', auth: { bearerToken: 'tok-abcdef123456' } }),
    );
    expect(seen[0]!.headers.get('authorization')).toBe('Bearer tok-abcdef123456');
  });
});

describe('the grouping key in the path', () => {
  // Expected segments written out (base64url of the UTF-8 bytes, no padding), checked against Node's decoder.
  const cases: [string, string, string][] = [
    ['a space', 'a b', 'v@base64/YSBi'],
    ['a plus', 'a+b', 'v@base64/YSti'],
    ['a percent sign', '100%', 'v@base64/MTAwJQ'],
    ['a question mark', 'why?', 'v@base64/d2h5Pw'],
    ['a hash', 'a#b', 'v@base64/YSNi'],
    ['unicode', 'zürich 東京', 'v@base64/esO8cmljaCDmnbHkuqw'],
    ['a slash', 'a/b', 'v@base64/YS9i'],
    ['an empty value', '', 'v@base64/='],
    ['a dot', '.', 'v@base64/Lg'],
    ['two dots', '..', 'v@base64/Li4'],
    ['only safe characters', 'v1.2_x~-y', 'v/v1.2_x~-y'],
  ];

  it.each(cases)('encodes %s so the gateway reads the value back', async (_, value, segment) => {
    const seen = gateway();
    const result = await pushOnce(options({ grouping: { v: value } }));
    expect(result.ok).toBe(true);
    expect(seen[0]!.url.pathname).toBe(`/metrics/job/nightly/instance/worker-7/${segment}`);
    const [name, encoded] = segment.split('/') as [string, string];
    const decoded = name.endsWith('@base64') ? Buffer.from(encoded, 'base64url').toString('utf8') : encoded;
    expect(decoded).toBe(value);
  });

  it('encodes a job that holds a slash', async () => {
    const seen = gateway();
    await pushOnce(options({}, { job: 'nightly/import' }));
    expect(seen[0]!.url.pathname).toBe('/metrics/job@base64/bmlnaHRseS9pbXBvcnQ/instance/worker-7');
  });

  it('keeps the base path of the gateway URL, with or without a trailing slash', async () => {
    const seen = gateway();
    await pushOnce(options({ url: `${GW}/pgw/` }));
    await pushOnce(options({ url: `${GW}/pgw` }));
    expect(seen.map((s) => s.url.pathname)).toEqual([
      '/pgw/metrics/job/nightly/instance/worker-7',
      '/pgw/metrics/job/nightly/instance/worker-7',
    ]);
  });

  it('puts exactly these bytes on the request line (a raw server, no URL parsing in between)', async () => {
    const raw = await loopback((req, res) => {
      res.end();
      return req.url;
    });
    try {
      const result = await pushOnce(
        options({
          url: `${raw.url}/base/`,
          grouping: {
            sp: 'a b',
            pl: 'a+b',
            pc: '100%',
            q: 'why?',
            h: 'a#b',
            u: 'zürich',
            s: 'a/b',
            e: '',
            d: '.',
          },
        }),
      );
      expect(result.ok).toBe(true);
      expect(raw.seen).toEqual([
        '/base/metrics/job/nightly/instance/worker-7/sp@base64/YSBi/pl@base64/YSti/pc@base64/MTAwJQ' +
          '/q@base64/d2h5Pw/h@base64/YSNi/u@base64/esO8cmljaA/s@base64/YS9i/e@base64/=/d@base64/Lg',
      ]);
    } finally {
      await raw.close();
    }
  });
});

/** A real loopback server on port 0; `handle` returns what to record (or leaves the response hanging). */
async function loopback(
  handle: (req: IncomingMessage, res: ServerResponse, index: number) => string | undefined,
): Promise<{ url: string; seen: (string | undefined)[]; close(): Promise<void> }> {
  const seen: (string | undefined)[] = [];
  const srv = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push(handle(req, res, seen.length));
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const address = srv.address();
  if (address === null || typeof address === 'string') throw new Error('Expected a TCP address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        srv.closeAllConnections();
        srv.close(() => resolve());
      }),
  };
}

describe('answers that end a push', () => {
  it('does not follow a redirect, names its Location, and sends the redirect target nothing', async () => {
    const seen = gateway(
      () =>
        new HttpResponse('moved', {
          status: 307,
          headers: { Location: 'http://elsewhere.test/pgw/metrics' },
        }),
    );
    const elsewhere: string[] = [];
    server.use(
      http.all('http://elsewhere.test/*', ({ request }) => {
        elsewhere.push(request.url);
        return new HttpResponse(null, { status: 200 });
      }),
    );
    const result = await pushOnce(options());
    expect(result.ok).toBe(false);
    expect(result.status).toBe(307);
    expect(result.attempts).toBe(1);
    expect(result.error).toMatchObject({ code: 'ERR_PROCPUSH_REDIRECTED' });
    expect(result.error?.message).toContain('http://elsewhere.test/pgw/metrics');
    expect(seen).toHaveLength(1);
    expect(elsewhere).toEqual([]);
  });

  it('does not retry a 400 and reports the first KiB of its body verbatim', async () => {
    const body = `text format parsing error in line 3: expected float as value, got "x"\n${'0123456789abcdef'.repeat(100)}`;
    const seen = gateway(() => new HttpResponse(body, { status: 400 }));
    const result = await pushOnce(options());
    expect(seen).toHaveLength(1);
    expect(result).toMatchObject({ ok: false, status: 400, attempts: 1 });
    expect(result.error).toMatchObject({
      code: 'ERR_PROCPUSH_REJECTED',
      status: 400,
      body: body.slice(0, 1024),
    });
    expect(result.error?.message).toContain(body.slice(0, 1024));
    expect(result.error?.message).not.toContain(body.slice(0, 1025));
  });
});

describe('retries', () => {
  it('retries a 503 and delivers the sample, saying which retry it is', async () => {
    const seen = gateway(
      (_, i) => new HttpResponse(i === 0 ? 'busy' : null, { status: i === 0 ? 503 : 200 }),
    );
    const reporter = startReporter(options());
    try {
      const result = await reporter.flush();
      expect(result).toEqual({ ok: true, status: 200, attempts: 2 });
      expect(seen.map((s) => s.headers.get('retry-attempt'))).toEqual([null, '1']);
      expect(seen[1]!.body).toBe(seen[0]!.body);
      expect(reporter.stats()).toMatchObject({ pushes: 1, failures: 0, retries: 1, samplesQueued: 0 });
    } finally {
      await reporter.stop();
    }
  });

  it('waits the Retry-After seconds of a 429', async () => {
    const seen = gateway((_, i) =>
      i === 0
        ? new HttpResponse(null, { status: 429, headers: { 'Retry-After': '1' } })
        : new HttpResponse(null),
    );
    const result = await pushOnce(options());
    expect(result).toMatchObject({ ok: true, attempts: 2 });
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('waits for the HTTP-date form of Retry-After', async () => {
    // An HTTP date has whole seconds: two seconds ahead is at least one second ahead.
    const until = new Date(Date.now() + 2_000).toUTCString();
    const seen = gateway((_, i) =>
      i === 0
        ? new HttpResponse(null, { status: 503, headers: { 'Retry-After': until } })
        : new HttpResponse(null),
    );
    const result = await pushOnce(options());
    expect(result).toMatchObject({ ok: true, attempts: 2 });
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(900);
  });

  it('caps a Retry-After of a day at the policy maximum', async () => {
    const seen = gateway((_, i) =>
      i === 0
        ? new HttpResponse(null, { status: 429, headers: { 'Retry-After': '86400' } })
        : new HttpResponse(null),
    );
    const { value, ms } = await timed(() =>
      sendWithRetry(
        createNodeTransport(),
        { url: `${GW}/metrics/job/x`, method: 'PUT', headers: {}, body: 'x 1\n' },
        {
          deadline: AbortSignal.timeout(20_000),
          timeoutMs: 2_000,
          policy: { ...DEFAULT_RETRY_POLICY, maxRetryAfterMs: 300 },
        },
      ),
    );
    expect(value).toMatchObject({ outcome: { kind: 'success' }, attempts: 2 });
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(280);
    expect(ms).toBeLessThan(10_000);
  });

  it('gives up on a Retry-After of a day at the flush deadline, with the last answer in the error', async () => {
    gateway(() => new HttpResponse('slow down', { status: 429, headers: { 'Retry-After': '86400' } }));
    const { value, ms } = await timed(() => pushOnce(options({}, { flushTimeoutMs: 1_000, timeoutMs: 500 })));
    expect(value).toMatchObject({ ok: false, status: 429, attempts: 1 });
    expect(value.error).toMatchObject({ code: 'ERR_PROCPUSH_TIMEOUT' });
    expect(value.error?.message).toContain('429');
    expect(ms).toBeLessThan(3_000);
  });

  it('cuts a hung response at the attempt timeout and retries it within the flush deadline', async () => {
    const seen = gateway(async (_, i) => {
      if (i === 0) await delay('infinite');
      return new HttpResponse(null, { status: 200 });
    });
    const { value, ms } = await timed(() =>
      pushOnce(options({}, { timeoutMs: 300, flushTimeoutMs: 10_000 })),
    );
    expect(value).toEqual({ ok: true, status: 200, attempts: 2 });
    expect(seen.map((s) => s.headers.get('retry-attempt'))).toEqual([null, '1']);
    expect(ms).toBeGreaterThanOrEqual(280);
    expect(ms).toBeLessThan(10_000);
  });

  it('cuts a real server that never answers, and one that stalls mid-body, then retries', async () => {
    const raw = await loopback((req, res, i) => {
      if (i === 0) return 'hung'; // no answer at all
      if (i === 1) {
        res.writeHead(200, { 'Content-Length': '100' });
        res.write('partial');
        return 'stalled';
      }
      res.end();
      return String(req.headers['retry-attempt']);
    });
    try {
      const { value, ms } = await timed(() =>
        pushOnce(options({ url: raw.url }, { timeoutMs: 300, flushTimeoutMs: 10_000 })),
      );
      expect(value).toEqual({ ok: true, status: 200, attempts: 3 });
      expect(raw.seen).toEqual(['hung', 'stalled', '2']);
      expect(ms).toBeLessThan(10_000);
    } finally {
      await raw.close();
    }
  });

  it('ends a flush at flushTimeoutMs when the gateway hangs, whatever the attempt timeout', async () => {
    gateway(async () => {
      await delay('infinite');
      return new HttpResponse(null);
    });
    const { value, ms } = await timed(() =>
      pushOnce(options({}, { flushTimeoutMs: 800, timeoutMs: 30_000 })),
    );
    expect(value).toMatchObject({ ok: false, attempts: 1, error: { code: 'ERR_PROCPUSH_TIMEOUT' } });
    expect(ms).toBeGreaterThanOrEqual(750);
    expect(ms).toBeLessThan(800 + 1_000);
  });

  it('ends a flush at flushTimeoutMs when the gateway keeps answering 503', async () => {
    const seen = gateway(() => new HttpResponse('down', { status: 503 }));
    const { value, ms } = await timed(() => pushOnce(options({}, { flushTimeoutMs: 1_000, timeoutMs: 500 })));
    expect(value).toMatchObject({ ok: false, status: 503, error: { code: 'ERR_PROCPUSH_TIMEOUT' } });
    expect(value.attempts).toBe(seen.length);
    expect(seen.length).toBeGreaterThan(1);
    expect(ms).toBeLessThan(1_000 + 1_000);
  });
});

describe('stop', () => {
  it('DELETEs the group on stop with deleteOnStop, without first pushing values it is about to delete', async () => {
    const seen = gateway();
    const reporter = startReporter(
      options({ deleteOnStop: true, auth: { bearerToken: 'tok-abcdef123456' }, grouping: { shard: 'a/b' } }),
    );
    await reporter.flush();
    await reporter.stop();
    const group = '/metrics/job/nightly/instance/worker-7/shard@base64/YS9i';
    expect(seen.map((s) => `${s.method} ${s.url.pathname}`)).toEqual([`PUT ${group}`, `DELETE ${group}`]);
    expect(seen[1]!.body).toBe('');
    expect(seen[1]!.headers.get('authorization')).toBe('Bearer tok-abcdef123456');
    await reporter.stop();
    expect(seen).toHaveLength(2);
  });

  it('stops within its deadline while a background push hangs', async () => {
    const seen = gateway(async () => {
      await delay('infinite');
      return new HttpResponse(null);
    });
    const errors: Error[] = [];
    const reporter = startReporter(
      options(
        { deleteOnStop: true },
        { intervalMs: 50, flushTimeoutMs: 600, timeoutMs: 200, onError: (e) => errors.push(e) },
      ),
    );
    while (seen.length === 0) await sleep(10);
    const { ms } = await timed(() => reporter.stop());
    // The hung background push ends at its own deadline; the final push and the DELETE share stop's deadline,
    // so a gateway that hangs costs stop() about one flushTimeoutMs, however many requests it still owed.
    expect(ms).toBeLessThan(600 + 1_000);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    for (const error of errors) expect(error).toMatchObject({ code: 'ERR_PROCPUSH_TIMEOUT' });
  });

  it('leaves the group in place without deleteOnStop', async () => {
    const seen = gateway();
    const reporter = startReporter(options());
    await reporter.stop();
    expect(seen.map((s) => s.method)).toEqual(['PUT']);
  });
});

describe('background failures', () => {
  async function until(check: () => boolean, what: string): Promise<void> {
    const deadline = performance.now() + 10_000;
    while (!check()) {
      if (performance.now() > deadline) throw new Error(`gave up waiting for ${what}`);
      await sleep(20);
    }
  }

  it('hands every background failure to onError', async () => {
    const seen = gateway(() => new HttpResponse('bad metric', { status: 400 }));
    const errors: Error[] = [];
    const reporter = startReporter(options({}, { intervalMs: 50, onError: (error) => errors.push(error) }));
    try {
      await until(() => errors.length >= 3, 'three failures');
      for (const error of errors) expect(error).toMatchObject({ code: 'ERR_PROCPUSH_REJECTED', status: 400 });
      expect(seen.length).toBeGreaterThanOrEqual(3);
    } finally {
      await reporter.stop();
    }
  });

  it('keeps going when onError throws', async () => {
    const seen = gateway(() => new HttpResponse('bad metric', { status: 400 }));
    let calls = 0;
    const reporter = startReporter(
      options(
        {},
        {
          intervalMs: 50,
          onError: () => {
            calls++;
            throw new Error('the application handler failed');
          },
        },
      ),
    );
    try {
      await until(() => calls >= 3 && seen.length >= 3, 'three failures');
    } finally {
      await reporter.stop();
    }
  });

  it('warns once for a refusal that repeats, not on every interval', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const seen = gateway(() => new HttpResponse('bad metric', { status: 400 }));
    const reporter = startReporter(options({}, { intervalMs: 50 }));
    try {
      await until(() => seen.length >= 5, 'five refused pushes');
      await reporter.stop();
      const ours = warn.mock.calls.filter(([message]) => String(message).startsWith('procpush:'));
      expect(ours).toHaveLength(1);
      expect(String(ours[0]![0])).toContain('400');
    } finally {
      await reporter.stop();
      warn.mockRestore();
    }
  });

  it('warns once for a gateway that stays down across flush deadlines', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const seen = gateway(() => new HttpResponse('down', { status: 503 }));
    const reporter = startReporter(options({}, { intervalMs: 400, flushTimeoutMs: 350, timeoutMs: 300 }));
    try {
      await until(() => seen.length >= 6, 'several failed pushes');
      await sleep(900);
      await reporter.stop();
      const ours = warn.mock.calls.filter(([message]) => String(message).startsWith('procpush:'));
      expect(ours.map(([message]) => String(message))).toHaveLength(1);
    } finally {
      await reporter.stop();
      warn.mockRestore();
    }
  });
});

describe('credentials', () => {
  const echo = (status: number) =>
    gateway(
      (request) => new HttpResponse(`unauthorized: ${request.headers.get('authorization')}`, { status }),
    );
  const basic = Buffer.from('alice:hunter2-secret').toString('base64');

  it('keeps a basic password out of the error even when the server echoes Authorization', async () => {
    echo(400);
    const result = await pushOnce(options({ auth: { username: 'alice', password: 'hunter2-secret' } }));
    expect(result.error?.message).toContain('unauthorized');
    expect(everything(result)).not.toContain('hunter2-secret');
    expect(everything(result)).not.toContain(basic);
  });

  it('keeps the base64 credential out of the error when the server echoes it alone', async () => {
    gateway(() => new HttpResponse(`credentials ${basic} are not valid here`, { status: 401 }));
    const result = await pushOnce(options({ auth: { username: 'alice', password: 'hunter2-secret' } }));
    expect(result.error?.message).toContain('are not valid here');
    expect(everything(result)).not.toContain(basic);
  });

  it('keeps a bearer token out of the error', async () => {
    echo(400);
    const result = await pushOnce(options({ auth: { bearerToken: 'tok-abcdef123456' } }));
    expect(result.error?.message).toContain('unauthorized: Bearer');
    expect(everything(result)).not.toContain('tok-abcdef123456');
  });

  it('keeps URL user info out of the error', async () => {
    echo(400);
    const result = await pushOnce(options({ url: 'http://bob:url-pass-999@gw.test/' }));
    expect(everything(result)).not.toContain('url-pass-999');
    expect(everything(result)).not.toContain(Buffer.from('bob:url-pass-999').toString('base64'));
    expect(everything(result)).toContain('http://gw.test/metrics/job/nightly');
  });

  it('keeps credentials out of a deadline error and its cause chain', async () => {
    echo(503);
    const result = await pushOnce(
      options(
        { auth: { username: 'alice', password: 'hunter2-secret' } },
        { flushTimeoutMs: 800, timeoutMs: 400 },
      ),
    );
    expect(result.error).toMatchObject({ code: 'ERR_PROCPUSH_TIMEOUT' });
    expect(everything(result)).not.toContain('hunter2-secret');
    expect(everything(result)).not.toContain(basic);
  });

  it('keeps credentials out of the default warning', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const seen = echo(400);
    const reporter = startReporter(
      options({ auth: { bearerToken: 'tok-abcdef123456' } }, { intervalMs: 50 }),
    );
    let text = '';
    try {
      while (seen.length < 2) await sleep(20);
      await reporter.stop();
      text = warn.mock.calls.map((call) => inspect(call, { depth: null })).join('\n');
    } finally {
      await reporter.stop();
      warn.mockRestore();
    }
    expect(text).toContain('unauthorized');
    expect(text).not.toContain('tok-abcdef123456');
  });
});

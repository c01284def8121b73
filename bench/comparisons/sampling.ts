/**
 * 3. Sampling: one sample of this process by procpush's `/proc` sampler, against the floor (reading the two
 * files with no parsing), pidusage, and prom-client's default metrics.
 */
import { rotate, runChild } from '../lib/child.js';
import { type BenchContext, type Measured, measure } from '../lib/context.js';
import { type Row, verdict } from '../lib/report.js';
import { median, ratio, sig } from '../lib/stats.js';

const CONTENDERS = ['floor', 'procpush', 'pidusage', 'prom-client'] as const;
const LABELS: Record<(typeof CONTENDERS)[number], string> = {
  floor: 'floor: readFileSync of /proc/self/stat and /proc/self/status',
  procpush: 'procpush: createProcSampler().sample()',
  pidusage: 'pidusage(process.pid)',
  'prom-client': 'prom-client: register.metrics() after collectDefaultMetrics()',
};

interface TimeResult {
  usPerOp: number;
  usPerOpMin: number;
}

export function sampling(context: BenchContext) {
  return measure('3. Sampling', context, async (): Promise<Measured> => {
    const rounds = context.quick ? 2 : 6;
    const results = new Map<string, TimeResult[]>(CONTENDERS.map((name) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const name of rotate(CONTENDERS, round)) {
        results.get(name)!.push((await runChild<TimeResult>('sampling.mjs', [name])).result);
      }
    }
    const us = (name: string): number => median(results.get(name)!.map((r) => r.usPerOp));
    const fastest = (name: string): number => Math.min(...results.get(name)!.map((r) => r.usPerOpMin));
    const row = (id: string, peer: (typeof CONTENDERS)[number], limit: number, strict: boolean): Row => {
      const r = us('procpush') / us(peer);
      const ok = strict ? r < limit : r <= limit;
      return {
        id,
        measure: `Sampling: one sample vs ${peer}`,
        procpush: `${sig(us('procpush'))} µs`,
        peer: `${peer} ${sig(us(peer))} µs`,
        ratio: ratio(us('procpush'), us(peer)),
        target: `${strict ? '<' : '≤'} ${limit}×`,
        verdict: verdict(ok),
        ...(ok ? {} : { why: SAMPLING_MISS[peer] }),
      };
    };
    return {
      rows: [
        row('3a', 'floor', 1.5, false),
        row('3b', 'pidusage', 1, true),
        row('3c', 'prom-client', 1, true),
      ],
      details: [
        `${rounds} rounds of a fresh process per contender; in each, 200 warm-up calls, then 7 batches of about`,
        '150 ms; the figure is the median over rounds of each process’s median batch, per call.',
        '',
        'The fastest batch of all rounds is shown too: load from elsewhere only ever adds time, so it is the',
        'closest this machine gets to the intrinsic cost; its ratio is not judged.',
        '',
        '| Contender | Per sample, median | fastest batch | procpush / this, fastest batches |',
        '|---|---|---|---|',
        ...CONTENDERS.map(
          (name) =>
            `| ${LABELS[name]} | ${sig(us(name))} µs | ${sig(fastest(name))} µs | ${name === 'procpush' ? '—' : ratio(fastest('procpush'), fastest(name))} |`,
        ),
      ],
    };
  });
}

const SAMPLING_MISS: Record<(typeof CONTENDERS)[number], string> = {
  floor:
    'procpush took more than 1.5× the two raw reads (see also the fastest batches, less touched by load). ' +
    'Why: besides the reads it has `readFileSync` decode both files as latin1 strings (about 30 % more than ' +
    'the raw reads, measured while writing this bench) and parses them, and procfs files report size 0, so ' +
    'each `readFileSync` reads into fresh 64 KiB buffers until it gets 0 bytes. What would close it: read ' +
    'both files with `openSync`/`readSync` into one reused buffer and parse from `latin1Slice` of the bytes ' +
    'read; measured while writing this bench, that is about twice as fast as the floor itself.',
  procpush: '',
  pidusage:
    'procpush was not faster than pidusage; on this machine that is noise or a regression to profile.',
  'prom-client': 'procpush was not faster than prom-client’s default metrics; a regression to profile.',
};

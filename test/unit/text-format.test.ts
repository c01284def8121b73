import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeText,
  escapeHelp,
  escapeLabelValue,
  formatLabels,
  formatValue,
  TEXT_CONTENT_TYPE,
} from '../../src/encode/text.js';
import { type MetricPoint, toMetricPoints } from '../../src/metrics.js';

const SAMPLE = {
  timestampMs: 1_764_000_000_000,
  memoryBytes: 55_624_704,
  memoryPeakBytes: 67_002_368,
  cpuPercent: 12.34567,
};
const OVERHEAD = { memoryRatio: 0.015, cpuPercent: 0.5 };

// An independent reading of the text format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format), strict where the format is:
// a sample line is a metric name, an optional label set of name="value" pairs with only \\, \" and \n escaped,
// one space, and a Go float.
const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL_VALUE = String.raw`"(?:[^"\\\n]|\\[\\"n])*"`;
const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*=${LABEL_VALUE}`;
const FLOAT = String.raw`NaN|[+-]Inf|[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?`;
const SAMPLE_LINE = new RegExp(`^(${NAME})(\\{${LABEL}(?:,${LABEL})*\\})? (${FLOAT})$`);
const HELP_LINE = new RegExp(String.raw`^# HELP (${NAME}) ((?:[^\\\n]|\\[\\n])*)$`);
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) gauge$`);

interface ParsedFamily {
  name: string;
  help: string;
  labels: Record<string, string>;
  value: number;
}

const unescapeText = (text: string): string =>
  text.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));

function parseValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return text === 'NaN' ? Number.NaN : Number(text);
}

/** Parses gauges written as HELP, TYPE and one sample line each; throws on any line out of place. */
function parseText(text: string): ParsedFamily[] {
  expect(text.endsWith('\n')).toBe(true);
  const lines = text.slice(0, -1).split('\n');
  expect(lines.length % 3).toBe(0);
  const families: ParsedFamily[] = [];
  for (let i = 0; i < lines.length; i += 3) {
    const help = HELP_LINE.exec(lines[i] ?? '');
    const type = TYPE_LINE.exec(lines[i + 1] ?? '');
    const sample = SAMPLE_LINE.exec(lines[i + 2] ?? '');
    if (!help || !type || !sample)
      throw new Error(`Not a gauge family: ${lines.slice(i, i + 3).join(' | ')}`);
    expect(type[1]).toBe(help[1]);
    expect(sample[1]).toBe(help[1]);
    // fromEntries, so a label named __proto__ is a label like any other.
    const labels: Record<string, string> = Object.fromEntries(
      [...(sample[2] ?? '').matchAll(new RegExp(`([a-zA-Z_][a-zA-Z0-9_]*)=(${LABEL_VALUE})`, 'g'))].map(
        ([, name, value]) => [name, unescapeText((value ?? '""').slice(1, -1))],
      ),
    );
    families.push({
      name: help[1] ?? '',
      help: unescapeText(help[2] ?? ''),
      labels,
      value: parseValue(sample[3] ?? ''),
    });
  }
  return families;
}

describe('the text format', () => {
  it('writes the five gauges with HELP, TYPE, sorted labels and no timestamps, byte for byte', () => {
    const labels = formatLabels({ region: 'eu-west-1', job: 'nightly-export', instance: 'host-a' });
    const expected =
      '# HELP process_memory_bytes Resident set size of the process (VmRSS), in bytes.\n' +
      '# TYPE process_memory_bytes gauge\n' +
      'process_memory_bytes{instance="host-a",job="nightly-export",region="eu-west-1"} 55624704\n' +
      '# HELP process_memory_peak_bytes Peak resident set size of the process (VmHWM), in bytes.\n' +
      '# TYPE process_memory_peak_bytes gauge\n' +
      'process_memory_peak_bytes{instance="host-a",job="nightly-export",region="eu-west-1"} 67002368\n' +
      '# HELP process_cpu_percent CPU used since the previous sample, in percent of the CPU capacity available to the process.\n' +
      '# TYPE process_cpu_percent gauge\n' +
      'process_cpu_percent{instance="host-a",job="nightly-export",region="eu-west-1"} 12.346\n' +
      '# HELP tracing_memory_overhead_bytes Estimated memory overhead of tracing: a configured ratio of the resident set size, in bytes.\n' +
      '# TYPE tracing_memory_overhead_bytes gauge\n' +
      'tracing_memory_overhead_bytes{instance="host-a",job="nightly-export",region="eu-west-1"} 834371\n' +
      '# HELP tracing_cpu_overhead_percent Estimated CPU overhead of tracing, in percent.\n' +
      '# TYPE tracing_cpu_overhead_percent gauge\n' +
      'tracing_cpu_overhead_percent{instance="host-a",job="nightly-export",region="eu-west-1"} 0.5\n';
    expect(encodeText(toMetricPoints(SAMPLE, OVERHEAD), labels)).toBe(expected);
  });

  it('writes a gauge without labels as the bare name and value', () => {
    const point: MetricPoint = { name: 'tracing_cpu_overhead_percent', help: 'Estimated.', value: 0.5 };
    expect(encodeText([point], formatLabels({}))).toBe(
      '# HELP tracing_cpu_overhead_percent Estimated.\n' +
        '# TYPE tracing_cpu_overhead_percent gauge\n' +
        'tracing_cpu_overhead_percent 0.5\n',
    );
  });

  it('writes nothing for no gauges', () => {
    expect(encodeText([], '{job="a"}')).toBe('');
  });

  it('is sent as text format 0.0.4', () => {
    expect(TEXT_CONTENT_TYPE).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('passes a strict independent parser, every line in place', () => {
    const text = encodeText(
      toMetricPoints(SAMPLE, OVERHEAD),
      formatLabels({ job: 'j', instance: 'i', team: 'a\\b "c"\nd' }),
    );
    for (const line of text.trimEnd().split('\n')) {
      if (!line.startsWith('#')) expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? \S+$/);
    }
    expect(parseText(text).map(({ name, value, labels }) => [name, value, labels.team])).toEqual([
      ['process_memory_bytes', 55_624_704, 'a\\b "c"\nd'],
      ['process_memory_peak_bytes', 67_002_368, 'a\\b "c"\nd'],
      ['process_cpu_percent', 12.346, 'a\\b "c"\nd'],
      ['tracing_memory_overhead_bytes', 834_371, 'a\\b "c"\nd'],
      ['tracing_cpu_overhead_percent', 0.5, 'a\\b "c"\nd'],
    ]);
  });
});

describe('label values', () => {
  it('escapes backslash, double quote and line feed, and nothing else', () => {
    expect(escapeLabelValue('C:\\temp')).toBe(String.raw`C:\\temp`);
    expect(escapeLabelValue('say "hi"')).toBe(String.raw`say \"hi\"`);
    expect(escapeLabelValue('two\nlines')).toBe(String.raw`two\nlines`);
    expect(escapeLabelValue('tab\there, {braces}, =, ,, ü, 🙂')).toBe('tab\there, {braces}, =, ,, ü, 🙂');
  });

  it('escapes a backslash before the n of a line feed so the two cannot be confused', () => {
    // A literal backslash followed by "n" is not a line feed.
    expect(escapeLabelValue('\\n')).toBe(String.raw`\\n`);
    expect(escapeLabelValue('\\\n')).toBe(String.raw`\\\n`);
  });

  it('cannot be made to end the label set or start a line of its own', () => {
    const hostile = '"} 1\nfake_metric 2';
    const text = encodeText(
      [{ name: 'process_memory_bytes', help: 'RSS.', value: 1 }],
      formatLabels({ job: hostile }),
    );
    expect(text).toBe(
      '# HELP process_memory_bytes RSS.\n' +
        '# TYPE process_memory_bytes gauge\n' +
        'process_memory_bytes{job="\\"} 1\\nfake_metric 2"} 1\n',
    );
    expect(text.split('\n').filter((line) => line.startsWith('fake_metric'))).toEqual([]);
    expect(parseText(text)).toEqual([
      { name: 'process_memory_bytes', help: 'RSS.', labels: { job: hostile }, value: 1 },
    ]);
  });

  it('come back unchanged through an independent parser, whatever they hold', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,10}$/),
          fc.string({ unit: 'binary', maxLength: 30 }),
        ),
        (labels) => {
          const text = encodeText([{ name: 'x', help: 'h', value: 1 }], formatLabels(labels));
          const [family, ...rest] = parseText(text);
          expect(rest).toEqual([]);
          expect(family?.labels).toEqual(labels);
        },
      ),
    );
  });

  it('are written sorted by name, whatever order they were given in', () => {
    expect(formatLabels({ b: '2', a: '1', _c: '3', A: '0', job: 'j' })).toBe(
      '{A="0",_c="3",a="1",b="2",job="j"}',
    );
    expect(formatLabels({})).toBe('');
  });
});

describe('HELP text', () => {
  it('escapes backslash and line feed, and leaves double quotes alone', () => {
    expect(escapeHelp('a\\b\nc "quoted"')).toBe(String.raw`a\\b\nc "quoted"`);
  });

  it('cannot start a line of its own', () => {
    const text = encodeText([{ name: 'x', help: 'line one\n# TYPE x counter\\', value: 1 }], '');
    expect(text).toBe('# HELP x line one\\n# TYPE x counter\\\\\n# TYPE x gauge\nx 1\n');
    expect(parseText(text)[0]?.help).toBe('line one\n# TYPE x counter\\');
  });
});

describe('sample values', () => {
  it('writes NaN, +Inf and -Inf as Prometheus parses them', () => {
    expect(formatValue(Number.NaN)).toBe('NaN');
    expect(formatValue(Number.POSITIVE_INFINITY)).toBe('+Inf');
    expect(formatValue(Number.NEGATIVE_INFINITY)).toBe('-Inf');
  });

  it('writes integers without a decimal point and fractions in the shortest exact form', () => {
    expect(formatValue(55_624_704)).toBe('55624704');
    expect(formatValue(0)).toBe('0');
    expect(formatValue(-0)).toBe('0');
    expect(formatValue(12.346)).toBe('12.346');
    expect(formatValue(0.1)).toBe('0.1');
    expect(formatValue(1e21)).toBe('1e+21');
    expect(formatValue(5e-7)).toBe('5e-7');
  });

  it('reads back as the same number for every double', () => {
    fc.assert(
      fc.property(fc.double(), (value) => {
        const text = formatValue(value);
        expect(text).toMatch(new RegExp(`^(?:${FLOAT})$`));
        const back = parseValue(text);
        if (Number.isNaN(value)) expect(back).toBeNaN();
        else expect(back).toBe(value === 0 ? 0 : value);
      }),
    );
  });
});

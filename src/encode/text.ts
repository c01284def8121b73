/**
 * The Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format): HELP, TYPE, and one line a
 * gauge, never with timestamps (the Pushgateway rejects them).
 */
import type { MetricPoint } from '../metrics.js';

/** The Content-Type of the text format. */
export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Escapes a label value: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** Escapes a HELP text: backslash and line feed (a quote needs no escape there). */
export function escapeHelp(help: string): string {
  // Our own help texts have neither: two scans cost less than running the regular expression.
  if (!help.includes('\\') && !help.includes('\n')) return help;
  return help.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

/** Formats a sample value as Prometheus parses it (Go's ParseFloat): NaN, +Inf, -Inf, or a JS number. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/** Formats a label set as `{a="1",b="2"}`, sorted by name, or '' for none; encode it once per reporter. */
export function formatLabels(labels: Readonly<Record<string, string>>): string {
  const names = Object.keys(labels).sort();
  if (names.length === 0) return '';
  return `{${names.map((name) => `${name}="${escapeLabelValue(labels[name] ?? '')}"`).join(',')}}`;
}

/** Encodes gauges that share one pre-formatted label set (see `formatLabels`). */
export function encodeText(points: readonly MetricPoint[], labelText: string): string {
  let out = '';
  for (const { name, help, value } of points) {
    out += `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} gauge\n${name}${labelText} ${formatValue(value)}\n`;
  }
  return out;
}

/** Number formatting and Markdown tables for the report. */

/** A number with thousands separators and `digits` decimals; an en dash for NaN or infinity. */
export function fmt(value: number, digits: number): string {
  if (!Number.isFinite(value)) return '–';
  // A value that rounds to zero prints as 0, never as -0.
  if (Math.abs(value) < 0.5 * 10 ** -digits) return (0).toFixed(digits);
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Bytes as MiB. */
export function mib(bytes: number): number {
  return bytes / 1024 / 1024;
}

/** A Markdown table, numbers right-aligned (every column but the first). */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)];
}

/** Order statistics for benchmark samples; medians everywhere, because a busy machine adds outliers. */

/** The value at quantile `q` (0–1) of `values`, by the nearest-rank method; NaN for no values. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** The median of `values`: the mean of the two middle values for an even count. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Formats a number with `digits` significant digits, without exponent notation for usual magnitudes. */
export function sig(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const decimals = Math.max(0, digits - 1 - magnitude);
  return value.toFixed(Math.min(decimals, 6));
}

/** Formats a byte count in MiB (or KiB below one MiB), signed when `signed` is set. */
export function bytes(value: number, signed = false): string {
  const sign = signed && value > 0 ? '+' : '';
  if (Math.abs(value) < 1024 * 1024) return `${sign}${sig(value / 1024)} KiB`;
  return `${sign}${sig(value / (1024 * 1024))} MiB`;
}

/** The ratio `a / b` formatted as `0.42×`, or `n/a` where it has no meaning. */
export function ratio(a: number, b: number): string {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return 'n/a';
  return `${sig(a / b, 2)}×`;
}

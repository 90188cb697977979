/**
 * Summary statistics for benchmark samples. Percentiles interpolate linearly between the two
 * nearest ranks (numpy's default), so p50 of an even-sized sample is the mean of the middle two.
 */

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((s, x) => s + x, 0) / xs.length;
}

export function sum(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0);
}

/** q in [0, 1]; NaN for an empty sample. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const at = q * (s.length - 1);
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return s[lo]! + (s[hi]! - s[lo]!) * (at - lo);
}

export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/** Formats a number for a table: fixed decimals, '—' for NaN or undefined. */
export function fmt(x: number | undefined, digits = 1): string {
  return x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits);
}

/** Formats a share in [0, 1] as a percentage. */
export function pct(x: number | undefined, digits = 0): string {
  return x === undefined || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(digits)}%`;
}

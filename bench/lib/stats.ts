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

/** Rounds to `digits` decimals (NaN stays NaN). */
export function round(x: number, digits: number): number {
  return Math.round(x * 10 ** digits) / 10 ** digits;
}

/** A latency sample in a results file: its size, percentiles and maximum, rounded to 0.1. */
export interface Percentiles {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** 0 for an empty sample. */
  mean: number;
}

export function percentiles(xs: readonly number[]): Percentiles {
  return {
    n: xs.length,
    p50: round(quantile(xs, 0.5), 1),
    p95: round(quantile(xs, 0.95), 1),
    p99: round(quantile(xs, 0.99), 1),
    max: round(Math.max(...xs), 1),
    mean: round(sum(xs) / Math.max(1, xs.length), 1),
  };
}

/** How often each value occurs, keyed by the value as a string. */
export function histogram(xs: readonly number[]): Record<string, number> {
  const h: Record<string, number> = {};
  for (const x of xs) h[String(x)] = (h[String(x)] ?? 0) + 1;
  return h;
}

/** Least-squares slope of y over x, per 1000 x; NaN for fewer than two points or one x. */
export function slopePerThousand(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxx === 0 ? NaN : (1000 * sxy) / sxx;
}

/**
 * The block size M (tokens per PTP call: the last accepted token plus M-1 drafts to
 * verify) and budget B (aux rows per call, split across the M possible outcomes) that
 * maximise expected tokens per millisecond, for a scope, a measured latency curve and a
 * measured acceptance histogram. See docs/ALGORITHM.md §3-4 for M, B and the split, §7 for this policy.
 *
 * The model of one steady-state call, with C = number of leading correct drafts:
 *
 *   rows(M, B)   = M verify rows + B aux rows           -> latency from the curve
 *   A_d          = P(the call's outcome is d), d = 0..M-1   (hist, tail folded into d=M-1)
 *   b_d          = aux rows given to outcome d (b_d <= M, sum b_d <= B), chosen optimally
 *   next drafts  = b_d - 1 if outcome d happens (the group's first row only re-predicts
 *                  the teacher's token), capped at M-1
 *   G(n)         = sum_{j=1..n} P(C >= j) * s^j  -- E[min(C, n)] discounted by s^j, the
 *                  chance the completion is still going j tokens later (s = 1 - 1/mean
 *                  scope length): drafts past the end of a short scope are wasted
 *   tokens/call  = 1 + sum_d A_d * G(min(b_d, M) - 1)
 *
 * With every group full (B = M*M) and s = 1 this is the familiar 1 + E[min(C, M-1)].
 * Short scopes (expression) discount long drafts heavily, so they get short blocks;
 * block bodies are long and predictable, so they get long ones.
 */
import type { Scope } from './scopes';

export interface LatencyPoint {
  /** Rows per model call (verify rows + aux rows). */
  readonly rows: number;
  /** Milliseconds per call at that many rows. */
  readonly ms: number;
}

export interface BlockChoice {
  /** M: tokens verified per call (1 = plain autoregressive decoding). */
  readonly blockSize: number;
  /** B: aux (draft) rows per call. */
  readonly budget: number;
  /** How B splits over the outcomes d = 0..M-1 (what `proposals()` would aim for). */
  readonly split: readonly number[];
  readonly tokensPerCall: number;
  readonly msPerCall: number;
  readonly tokensPerMs: number;
}

export interface BlockSizeOptions {
  /** Largest M considered. */
  readonly maxBlockSize?: number;
  /** Largest B considered. */
  readonly maxBudget?: number;
  /** Fix M (the `ptp.decoding.blockSize` setting) and choose only B. */
  readonly blockSize?: number;
  /** Override the scope's expected completion length in tokens. */
  readonly meanTokens?: number;
}

/**
 * A CPU measurement (docs/ALGORITHM.md §7): a 5M-parameter model, P = 512: about 5 ms for 1 row,
 * 6-8 ms for 16-32 rows, 12 ms for 64 rows. Beyond 64 rows it is extrapolated linearly.
 */
export const DEFAULT_LATENCY_CURVE: readonly LatencyPoint[] = Object.freeze([
  { rows: 1, ms: 5 },
  { rows: 16, ms: 6 },
  { rows: 32, ms: 8 },
  { rows: 64, ms: 12 },
]);

/**
 * The paper's worked example for the allocator: geometric acceptance, each next draft correct with
 * probability 0.75, window L = 16: hist[c] = 0.25 * 0.75^c for c < 16, hist[16] = 0.75^16.
 */
export const DEFAULT_ACCEPTANCE: readonly number[] = Object.freeze(
  Array.from({ length: 17 }, (_, c) => (c < 16 ? 0.25 * 0.75 ** c : 0.75 ** 16)),
);

/**
 * Typical completion length per scope, in tokens. Rough figures for code (an argument
 * list is a handful of tokens, a function body is a hundred or more); they set how much a
 * long draft is worth, so they shape M more than the exact values matter.
 */
export const SCOPE_MEAN_TOKENS: Readonly<Record<Scope, number>> = Object.freeze({
  expression: 6,
  line: 14,
  statement: 40,
  block: 120,
});

/** Larger M drafts past the PTP window the shipped drafter was trained on (L = 24, model.json ptp.window_length). */
const DEFAULT_MAX_BLOCK_SIZE = 24;
/** About 4 groups of M = 24; on CPU more rows cost more than they return. */
const DEFAULT_MAX_BUDGET = 96;

const memo = new WeakMap<readonly LatencyPoint[], WeakMap<readonly number[], Map<string, BlockChoice>>>();

export function chooseBlockSize(
  scope: Scope,
  curve: readonly LatencyPoint[] = DEFAULT_LATENCY_CURVE,
  histogram: readonly number[] = DEFAULT_ACCEPTANCE,
  options: BlockSizeOptions = {},
): BlockChoice {
  const key = `${scope}|${options.maxBlockSize}|${options.maxBudget}|${options.blockSize}|${options.meanTokens}`;
  let byHist = memo.get(curve);
  if (byHist === undefined) memo.set(curve, (byHist = new WeakMap()));
  let byKey = byHist.get(histogram);
  if (byKey === undefined) byHist.set(histogram, (byKey = new Map()));
  let choice = byKey.get(key);
  if (choice === undefined) {
    choice = solve(scope, curve, histogram, options);
    byKey.set(key, choice);
  }
  return choice;
}

function solve(scope: Scope, curve: readonly LatencyPoint[], histogram: readonly number[], options: BlockSizeOptions): BlockChoice {
  const points = checkCurve(curve);
  const hist = checkHistogram(histogram);
  const maxM = positiveInteger('maxBlockSize', options.maxBlockSize ?? DEFAULT_MAX_BLOCK_SIZE);
  const maxB = nonNegativeInteger('maxBudget', options.maxBudget ?? DEFAULT_MAX_BUDGET);
  const fixedM = options.blockSize === undefined ? undefined : positiveInteger('blockSize', options.blockSize);
  const mean = options.meanTokens ?? SCOPE_MEAN_TOKENS[scope];
  if (!(mean >= 1)) throw new RangeError(`meanTokens must be >= 1, got ${mean}`);
  const survive = 1 - 1 / mean;

  // tail[j] = P(C >= j); gain[n] = G(n) as in the header comment.
  const tail = new Float64Array(hist.length + 1);
  for (let j = hist.length - 1; j >= 0; j--) tail[j] = tail[j + 1]! + hist[j]!;
  const longest = Math.max(maxM, fixedM ?? 0);
  const gain = new Float64Array(longest + 1);
  for (let n = 1; n <= longest; n++) gain[n] = gain[n - 1]! + (n < tail.length ? tail[n]! : 0) * survive ** n;

  let best: BlockChoice | undefined;
  const sizes = fixedM === undefined ? range(1, maxM) : [fixedM];
  for (const m of sizes) {
    const { value, split } = allocate(m, Math.min(maxB, m * m), hist, tail, gain);
    for (let b = 0; b < value.length; b++) {
      const tokensPerCall = 1 + value[b]!;
      const msPerCall = latencyAt(points, m + b);
      const tokensPerMs = tokensPerCall / msPerCall;
      // Ties go to fewer rows: cheaper on a busy machine, same speed.
      if (best === undefined || tokensPerMs > best.tokensPerMs * (1 + 1e-9)) {
        best = { blockSize: m, budget: b, split: split(b), tokensPerCall, msPerCall, tokensPerMs };
      }
    }
  }
  return best!;
}

/**
 * Best expected extra tokens for every budget 0..maxB at block size m: a knapsack over
 * the m outcomes, where giving outcome d k rows is worth A_d * G(min(k, m) - 1).
 */
function allocate(
  m: number,
  maxB: number,
  hist: readonly number[],
  tail: Float64Array,
  gain: Float64Array,
): { value: Float64Array; split: (b: number) => number[] } {
  const outcome = (d: number): number => (d < m - 1 ? (hist[d] ?? 0) : (tail[m - 1] ?? 0));
  // dp[d][b]: best value using outcomes 0..d-1 and at most b rows; pick[d][b]: rows given to outcome d-1.
  const dp: Float64Array[] = [new Float64Array(maxB + 1)];
  const pick: Uint8Array[] = [new Uint8Array(maxB + 1)];
  for (let d = 0; d < m; d++) {
    const prev = dp[d]!;
    const cur = new Float64Array(maxB + 1);
    const choice = new Uint8Array(maxB + 1);
    const a = outcome(d);
    for (let b = 0; b <= maxB; b++) {
      let bestValue = prev[b]!;
      let bestK = 0;
      for (let k = 2; k <= Math.min(b, m); k++) {
        const v = prev[b - k]! + a * gain[k - 1]!;
        if (v > bestValue + 1e-15) {
          bestValue = v;
          bestK = k;
        }
      }
      cur[b] = bestValue;
      choice[b] = bestK;
    }
    dp.push(cur);
    pick.push(choice);
  }
  const split = (b: number): number[] => {
    const rows = new Array<number>(m).fill(0);
    for (let d = m; d >= 1; d--) {
      const k = pick[d]![b]!;
      rows[d - 1] = k;
      b -= k;
    }
    return rows;
  };
  return { value: dp[m]!, split };
}

/** Milliseconds per call at `rows`, linear between the curve's points and beyond its ends. */
export function latencyAt(curve: readonly LatencyPoint[], rows: number): number {
  const points = checkCurve(curve);
  const first = points[0]!;
  if (points.length === 1 || rows <= first.rows) return first.ms;
  let i = 1;
  while (i < points.length - 1 && points[i]!.rows < rows) i++;
  const lo = points[i - 1]!;
  const hi = points[i]!;
  const ms = lo.ms + ((hi.ms - lo.ms) * (rows - lo.rows)) / (hi.rows - lo.rows);
  return Math.max(ms, first.ms);
}

const checkedCurves = new WeakMap<readonly LatencyPoint[], readonly LatencyPoint[]>();

function checkCurve(curve: readonly LatencyPoint[]): readonly LatencyPoint[] {
  const cached = checkedCurves.get(curve);
  if (cached !== undefined) return cached;
  if (curve.length === 0) throw new RangeError('latency curve is empty');
  curve.forEach((p, i) => {
    if (!(Number.isFinite(p.rows) && p.rows >= 1)) throw new RangeError(`latency curve[${i}].rows must be >= 1, got ${p.rows}`);
    if (!(Number.isFinite(p.ms) && p.ms > 0)) throw new RangeError(`latency curve[${i}].ms must be > 0, got ${p.ms}`);
  });
  const sorted = [...curve].sort((a, b) => a.rows - b.rows);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.rows === sorted[i - 1]!.rows) throw new RangeError(`latency curve has two points at ${sorted[i]!.rows} rows`);
  }
  checkedCurves.set(curve, sorted);
  return sorted;
}

/** Validated and normalised to sum to 1. */
function checkHistogram(histogram: readonly number[]): number[] {
  if (histogram.length === 0) throw new RangeError('acceptance histogram is empty');
  histogram.forEach((p, c) => {
    if (!(Number.isFinite(p) && p >= 0)) throw new RangeError(`acceptance histogram[${c}] must be a probability >= 0, got ${p}`);
  });
  const total = histogram.reduce((s, p) => s + p, 0);
  if (!(total > 0)) throw new RangeError('acceptance histogram sums to 0');
  return histogram.map((p) => p / total);
}

function positiveInteger(name: string, v: number): number {
  if (!(Number.isInteger(v) && v >= 1)) throw new RangeError(`${name} must be an integer >= 1, got ${v}`);
  return v;
}

function nonNegativeInteger(name: string, v: number): number {
  if (!(Number.isInteger(v) && v >= 0)) throw new RangeError(`${name} must be an integer >= 0, got ${v}`);
  return v;
}

function range(lo: number, hi: number): number[] {
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

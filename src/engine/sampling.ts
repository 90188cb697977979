/**
 * The sampling distribution and Pick (MODEL_CONTRACT.md, "Sampling"); identical to training/.
 *
 * dist(logits, T, k, p):
 *   1. T == 0 means k = 1 (greedy; ties go to the lowest id).
 *   2. keep the k largest logits (k <= 0 or k >= V: all); ties broken by lower id first.
 *   3. softmax of logits / T over the kept tokens.
 *   4. top-p: in order of probability descending (ties: lower id first) keep a token while the
 *      mass strictly before it is < p; always keep at least one. Renormalise.
 *   5. CDF in ascending token-id order; the last kept token's right edge is forced to 1.
 * Pick(u, dist) = min { j : F[j] > u }.
 *
 * Cost per row for V ~ 8192: one pass with a k-sized heap for top-k (no full sort), then work
 * proportional to k. Only k = all with p < 1 needs an ordering over V, done as a lazy heap.
 */

export interface SamplingParams {
  temperature: number;
  topK: number;
  topP: number;
}

/** A sampling distribution: the kept token ids in ascending order and their CDF right edges. */
export interface Dist {
  readonly ids: Int32Array;
  readonly cdf: Float64Array;
}

/** What a draft row proposes: its argmax token and that token's softmax probability at T = 1. */
export interface Draft {
  token: number;
  prob: number;
}

export function validateSamplingParams(params: SamplingParams): void {
  const { temperature, topK, topP } = params;
  if (!Number.isFinite(temperature) || temperature < 0) {
    throw new RangeError(`temperature must be a finite number >= 0, got ${temperature}`);
  }
  if (!Number.isInteger(topK)) {
    throw new RangeError(`topK must be an integer (<= 0 means all tokens), got ${topK}`);
  }
  if (Number.isNaN(topP)) {
    throw new RangeError(`topP must be a number, got ${topP}`);
  }
}

/** `a` ranks above `b`: larger logit, or equal logit and lower id. */
function ranksAbove(v: ArrayLike<number>, a: number, b: number): boolean {
  const va = v[a]!;
  const vb = v[b]!;
  return va > vb || (va === vb && a < b);
}

/** Index of the largest value in row [offset, offset + V); ties go to the lowest id. */
export function argmax(logits: Float32Array, offset: number, V: number): number {
  let best = 0;
  let bestValue = logits[offset]!;
  for (let i = 1; i < V; i++) {
    const x = logits[offset + i]!;
    if (x > bestValue) {
      bestValue = x;
      best = i;
    }
  }
  return best;
}

/**
 * Restores the min-heap order (weakest at the root: lower logit, or equal logit and higher id)
 * below slot i. Plain typed arrays and no closures, so V8 keeps the hot loop tight.
 */
function siftDown(ids: Int32Array, vals: Float64Array, n: number, start: number): void {
  let i = start;
  const id = ids[i]!;
  const v = vals[i]!;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= n) break;
    const r = c + 1;
    if (r < n && (vals[r]! < vals[c]! || (vals[r] === vals[c] && ids[r]! > ids[c]!))) c = r;
    if (!(vals[c]! < v || (vals[c] === v && ids[c]! > id))) break;
    ids[i] = ids[c]!;
    vals[i] = vals[c]!;
    i = c;
  }
  ids[i] = id;
  vals[i] = v;
}

/**
 * The k top-ranked ids of `row` (largest logit first, ties to the lower id), without sorting V.
 * A min-heap of size k holds the current winners with the weakest at the root. Ids arrive in
 * ascending order, so an id whose logit merely equals the root's is weaker (higher id): only a
 * strictly larger logit enters, which gives the tie rule for free and makes the common case a
 * single comparison per id.
 */
function topKIds(row: Float32Array, k: number): Int32Array {
  const ids = new Int32Array(k);
  const vals = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    ids[i] = i;
    vals[i] = row[i]!;
  }
  for (let i = (k >> 1) - 1; i >= 0; i--) siftDown(ids, vals, k, i);
  let root = vals[0]!;
  for (let id = k, V = row.length; id < V; id++) {
    const x = row[id]!;
    if (x > root) {
      ids[0] = id;
      vals[0] = x;
      siftDown(ids, vals, k, 0);
      root = vals[0]!;
    }
  }
  const order = Array.from(ids.keys()).sort((a, b) => vals[b]! - vals[a]! || ids[a]! - ids[b]!);
  return Int32Array.from(order, (i) => ids[i]!);
}

/**
 * Top-p: how many of the `n` ranked tokens to keep. `nextRanked()` yields the index into `prob`
 * of the next token in rank order (probability descending, lower id first).
 */
function topPCount(prob: Float64Array, p: number, n: number, nextRanked: () => number): number {
  if (p >= 1) return n;
  let mass = 0;
  let kept = 0;
  while (kept < n) {
    if (kept > 0 && !(mass < p)) break;
    mass += prob[nextRanked()]!;
    kept++;
  }
  return kept;
}

/** CDF over `ids` (any order) with weights `w` (aligned with ids): ascending-id order, last edge 1. */
function cdfById(ids: Int32Array, w: Float64Array): Dist {
  // Zero-width tokens are not kept (the training side's Pick forces the edge of the last token
  // with p > 0): a logit of -Infinity (token healing's mask) or an underflowed exp.
  const order = Array.from(ids.keys())
    .filter((i) => w[i]! > 0)
    .sort((a, b) => ids[a]! - ids[b]!);
  const outIds = new Int32Array(order.length);
  const cdf = new Float64Array(order.length);
  let total = 0;
  for (const i of order) total += w[i]!;
  let acc = 0;
  order.forEach((i, j) => {
    outIds[j] = ids[i]!;
    acc += w[i]!;
    cdf[j] = acc / total;
  });
  cdf[cdf.length - 1] = 1;
  return { ids: outIds, cdf };
}

/** Sampling distribution of one logits row (`V` values starting at `offset`). */
export function dist(logits: Float32Array, offset: number, V: number, params: SamplingParams): Dist {
  const row = logits.subarray(offset, offset + V);
  const T = params.temperature;
  let k = T === 0 ? 1 : params.topK;
  if (k <= 0 || k >= V) k = V;

  if (k === 1) {
    return { ids: Int32Array.of(argmax(logits, offset, V)), cdf: Float64Array.of(1) };
  }
  if (k < V) {
    // Kept ids are already in rank order; probabilities follow the same order.
    const ids = topKIds(row, k);
    const max = row[ids[0]!]!;
    const prob = new Float64Array(k);
    let sum = 0;
    for (let i = 0; i < k; i++) sum += prob[i] = Math.exp((row[ids[i]!]! - max) / T);
    for (let i = 0; i < k; i++) prob[i] = prob[i]! / sum;
    let next = 0;
    const kept = topPCount(prob, params.topP, k, () => next++);
    return cdfById(ids.subarray(0, kept), prob.subarray(0, kept));
  }
  // k = all: softmax over V, then rank lazily with a heap only as far as top-p needs.
  const max = row[argmax(logits, offset, V)]!;
  const prob = new Float64Array(V);
  let sum = 0;
  for (let i = 0; i < V; i++) sum += prob[i] = Math.exp((row[i]! - max) / T);
  for (let i = 0; i < V; i++) prob[i] = prob[i]! / sum;
  if (params.topP >= 1) {
    const ids = new Int32Array(V);
    for (let i = 0; i < V; i++) ids[i] = i;
    return cdfById(ids, prob);
  }
  const ranked = new RankHeap(row);
  const keptIds: number[] = [];
  const kept = topPCount(prob, params.topP, V, () => {
    const id = ranked.pop();
    keptIds.push(id);
    return id;
  });
  const ids = Int32Array.from(keptIds.slice(0, kept));
  const w = new Float64Array(kept);
  ids.forEach((id, i) => (w[i] = prob[id]!));
  return cdfById(ids, w);
}

/** A max-heap over all ids of a row in rank order, popped lazily (O(V) build, O(log V) per pop). */
class RankHeap {
  private readonly heap: Int32Array;
  private size: number;

  constructor(private readonly row: Float32Array) {
    this.size = row.length;
    this.heap = new Int32Array(this.size);
    for (let i = 0; i < this.size; i++) this.heap[i] = i;
    for (let i = (this.size >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  pop(): number {
    const top = this.heap[0]!;
    this.heap[0] = this.heap[--this.size]!;
    this.siftDown(0);
    return top;
  }

  private siftDown(start: number): void {
    const h = this.heap;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let b = i;
      if (l < this.size && ranksAbove(this.row, h[l]!, h[b]!)) b = l;
      if (r < this.size && ranksAbove(this.row, h[r]!, h[b]!)) b = r;
      if (b === i) return;
      const t = h[i]!;
      h[i] = h[b]!;
      h[b] = t;
      i = b;
    }
  }
}

/** Pick(u, dist) = the first kept token whose right CDF edge exceeds u. */
export function pick(u: number, d: Dist): number {
  const { ids, cdf } = d;
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid]! > u) hi = mid;
    else lo = mid + 1;
  }
  return ids[lo]!;
}

/**
 * The token the sampler commits for one logits row and auxiliary variable u; with `allowed`,
 * only among the tokens whose entry is 1 (the rest get zero probability before top-k and top-p).
 */
export function sampleRow(
  logits: Float32Array,
  offset: number,
  V: number,
  params: SamplingParams,
  u: number,
  allowed?: Uint8Array,
): number {
  if (allowed === undefined) return pick(u, dist(logits, offset, V, params));
  // Token healing: tokens outside the mask get -Infinity, i.e. zero probability.
  const row = logits.slice(offset, offset + V);
  for (let i = 0; i < V; i++) if (allowed[i] === 0) row[i] = Number.NEGATIVE_INFINITY;
  return pick(u, dist(row, 0, V, params));
}

/**
 * Draft confidences only steer the budget allocator, so they are computed approximately and
 * cheaply: logits within DRAFT_CUTOFF of the maximum are counted in CONF_BUCKETS equal buckets
 * of (max - x), each weighted by e^-(bucket centre). That replaces V exps per row by one
 * subtraction and increment per logit; the relative error is below half a bucket width
 * (0.5%), and logits further below the maximum than the cutoff add less than V * 2e-9.
 */
const DRAFT_CUTOFF = 20;
const CONF_BUCKETS = 2048;
const CONF_WIDTH = DRAFT_CUTOFF / CONF_BUCKETS;
const CONF_WEIGHT = Float64Array.from({ length: CONF_BUCKETS }, (_, b) => Math.exp(-(b + 0.5) * CONF_WIDTH));
const confCounts = new Int32Array(CONF_BUCKETS);

/** A draft row's proposal: argmax (lowest id on ties) and, approximately, its softmax probability at T = 1. */
export function draftOf(logits: Float32Array, offset: number, V: number): Draft {
  const token = argmax(logits, offset, V);
  const max = logits[offset + token]!;
  const scale = 1 / CONF_WIDTH;
  confCounts.fill(0);
  for (let i = offset, end = offset + V; i < end; i++) {
    const d = max - logits[i]!;
    if (d < DRAFT_CUTOFF) confCounts[(d * scale) | 0]!++;
  }
  // The argmax itself counts exactly 1, not its bucket's weight.
  let sum = 1 - CONF_WEIGHT[0]!;
  for (let b = 0; b < CONF_BUCKETS; b++) sum += confCounts[b]! * CONF_WEIGHT[b]!;
  return { token, prob: 1 / sum };
}

/**
 * The probability row [offset, offset + V) gives `token` at temperature 1, before top-k and
 * top-p: the model's own confidence in it, whatever the sampling settings. With `allowed` (token
 * healing's and the first-line rule's mask), among the allowed tokens only: a healed word's first
 * token is judged given the characters the person typed, not against every token.
 */
export function tokenProbability(logits: Float32Array, offset: number, V: number, token: number, allowed?: Uint8Array): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < V; i++) {
    if (allowed !== undefined && allowed[i] === 0) continue;
    const x = logits[offset + i]!;
    if (x > max) max = x;
  }
  let sum = 0;
  for (let i = 0; i < V; i++) {
    if (allowed !== undefined && allowed[i] === 0) continue;
    sum += Math.exp(logits[offset + i]! - max);
  }
  return Math.exp(logits[offset + token]! - max) / sum;
}

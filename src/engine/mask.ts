/**
 * Rows, position ids and the additive attention mask of one model call (docs/ALGORITHM.md §3,
 * variable-shape variant). AR calls are the special case with no speculations and no groups.
 *
 * Key order: [ past (K rows) | token rows (Tv) | aux rows (Ta) ].
 * Token rows are [ctx_0 .. ctx_{rho-1}, s_1 .. s_n]: the context tokens not yet cached (the last
 * one is c, the last committed token) followed by the n unverified speculations.
 * Aux group d (d = 0..n) drafts the continuation for the hypothesis "exactly d speculations are
 * correct"; its j-th row predicts output index first + d + j and sits at the position of s_d
 * (c when d = 0) plus j, i.e. one before the position it predicts (shift_positions).
 *
 * Example, K=3, rho=1 (c), n=2 (s1 s2), groups [2,2,1]; 1 = may attend (0 in the additive mask):
 *
 *   query   posid  x0 x1 x2  c s1 s2 g0a0 g0a1 g1a0 g1a1 g2a0
 *   c          3    1  1  1  1  0  0   0    0    0    0    0
 *   s1         4    1  1  1  1  1  0   0    0    0    0    0
 *   s2         5    1  1  1  1  1  1   0    0    0    0    0
 *   g0a0       3    1  1  1  1  0  0   1    0    0    0    0
 *   g0a1       4    1  1  1  1  0  0   1    1    0    0    0
 *   g1a0       4    1  1  1  1  1  0   0    0    1    0    0
 *   g1a1       5    1  1  1  1  1  0   0    0    1    1    0
 *   g2a0       5    1  1  1  1  1  1   0    0    0    0    1
 */

export const MASKED = -1e9;

export interface CallSpec {
  /** K: rows already in the KV cache (positions 0..K-1). */
  pastLen: number;
  /** Token rows: uncached context tokens (ending with c), then the speculations s_1..s_n. */
  tokens: readonly number[];
  /** rho: how many of `tokens` are context tokens; tokens[rho-1] is c. */
  contextRows: number;
  /** Aux rows per hypothesis d = 0..n (empty for AR and prefill). */
  groups: readonly number[];
  /** Output index of the token the row of c predicts (tokens committed so far). */
  firstOutputIndex: number;
  /** The u stream. */
  u: (outputIndex: number) => number;
  /** Test-only fault injection: added to the position ids of the speculation rows. */
  specPositionOffset?: number;
}

export interface CallLayout {
  inputIds: BigInt64Array;
  aux: Float32Array;
  positionIds: BigInt64Array;
  mask: Float32Array;
  /** Tv + Ta. */
  rows: number;
  /** Index of each group's first aux row among the aux rows. */
  groupStart: number[];
  /** Output index each aux row predicts. */
  auxOutputIndex: number[];
}

export function layoutCall(spec: CallSpec): CallLayout {
  const { pastLen: K, tokens, contextRows: rho, groups } = spec;
  const Tv = tokens.length;
  const n = Tv - rho;
  if (rho < 1 || n < 0) throw new RangeError(`layoutCall: need at least one context row (rho=${rho}, Tv=${Tv})`);
  if (groups.length !== 0 && groups.length !== n + 1) {
    throw new RangeError(`layoutCall: ${n} speculations need ${n + 1} groups, got ${groups.length}`);
  }
  const Ta = groups.reduce((a, b) => a + b, 0);
  const Q = Tv + Ta;
  const cols = K + Q;
  const posC = K + rho - 1; // position of c

  const inputIds = BigInt64Array.from(tokens, (t) => BigInt(t));
  const positionIds = new BigInt64Array(Q);
  const aux = new Float32Array(Ta);
  const mask = new Float32Array(Q * cols).fill(MASKED);
  const groupStart: number[] = [];
  const auxOutputIndex: number[] = [];

  // Token rows: ordinary causal attention over the cache and the token rows up to themselves.
  const specShift = spec.specPositionOffset ?? 0;
  for (let r = 0; r < Tv; r++) {
    positionIds[r] = BigInt(K + r + (r >= rho ? specShift : 0));
    mask.fill(0, r * cols, r * cols + K + r + 1);
  }
  // Aux rows: the cache, c, s_1..s_d, and their own group causally.
  let a = 0;
  groups.forEach((size, d) => {
    groupStart.push(a);
    for (let j = 0; j < size; j++, a++) {
      const row = Tv + a;
      const outputIndex = spec.firstOutputIndex + d + j;
      positionIds[row] = BigInt(posC + d + j);
      aux[a] = spec.u(outputIndex);
      auxOutputIndex.push(outputIndex);
      const base = row * cols;
      mask.fill(0, base, base + K + rho + d);
      mask.fill(0, base + K + Tv + groupStart[d]!, base + K + Tv + a + 1);
    }
  });
  return { inputIds, aux, positionIds, mask, rows: Q, groupStart, auxOutputIndex };
}

/**
 * The PQD budget allocator (docs/ALGORITHM.md §4): split B draft rows across the hypotheses
 * d = 0..n ("exactly d speculations survive verification"), at most M rows each, to maximise
 * sum_d A[d] * H[B_d], where A[d] is the probability of hypothesis d and H[b] the expected
 * gain of a group with b rows. Matches the released code (`lit.proposals`, fixed budget).
 */

/**
 * H[b] = sum_{c <= b} c * hist[c] for b = 0..M (the released code's reward proxy), where
 * hist[c] is the probability that exactly c leading draft tokens are correct (the manifest's
 * acceptance_histogram). Bins past the histogram contribute nothing.
 */
export function rewardCurve(hist: readonly number[], M: number): Float64Array {
  const H = new Float64Array(M + 1);
  for (let b = 1; b <= M; b++) H[b] = H[b - 1]! + (b < hist.length ? b * hist[b]! : 0);
  return H;
}

/**
 * A[d] from the drafter's confidences c_1..c_n of the speculated tokens:
 * A[0] = 1 - c_1, A[d] = c_1...c_d (1 - c_{d+1}), A[n] = c_1...c_n. With n = 0, A = [1].
 */
export function branchProbabilities(confidences: readonly number[]): number[] {
  const A: number[] = [];
  let prefix = 1;
  for (const c of confidences) {
    A.push(prefix * (1 - c));
    prefix *= c;
  }
  A.push(prefix);
  return A;
}

/** Index of the best value (first on ties) among indices where `allowed` holds; -1 if none. */
function bestIndex(n: number, allowed: (i: number) => boolean, score: (i: number) => number, better: (a: number, b: number) => boolean): number {
  let best = -1;
  let bestScore = 0;
  for (let i = 0; i < n; i++) {
    if (!allowed(i)) continue;
    const s = score(i);
    if (best < 0 || better(s, bestScore)) {
      best = i;
      bestScore = s;
    }
  }
  return best;
}

/**
 * Rows per hypothesis: B_d in [0, M], sum = min(B, M * A.length). A greedy Lagrange guess
 * (fill the most likely depths with M rows each, price a row at the marginal gain there),
 * each depth's best response to that price, then a greedy repair to hit the budget exactly.
 */
export function proposals(A: readonly number[], H: Float64Array, budget: number, M: number): number[] {
  const n = A.length;
  if (H.length !== M + 1) throw new RangeError(`proposals: H has ${H.length} entries, M + 1 = ${M + 1} expected`);
  const B = Math.max(0, Math.min(budget, M * n));
  const Bd = new Array<number>(n).fill(0);
  if (B === 0 || M === 0) return Bd;

  const order = Array.from(A.keys()).sort((x, y) => A[y]! - A[x]! || x - y);
  const R = Math.floor(B / M);
  const r = B % M;
  const lam = r > 0 ? A[order[R]!]! * (H[r]! - H[r - 1]!) : A[order[R - 1]!]! * (H[M]! - H[M - 1]!);
  for (let d = 0; d < n; d++) {
    let best = 0;
    let bestValue = -Infinity;
    for (let b = 0; b <= M; b++) {
      const value = A[d]! * H[b]! - lam * b;
      if (value > bestValue) {
        bestValue = value;
        best = b;
      }
    }
    Bd[d] = best;
  }
  let total = Bd.reduce((s, b) => s + b, 0);
  while (total > B) {
    const d = bestIndex(n, (i) => Bd[i]! > 0, (i) => A[i]! * (H[Bd[i]!]! - H[Math.max(Bd[i]! - 1, 1)]!), (s, t) => s < t);
    Bd[d]!--;
    total--;
  }
  while (total < B) {
    const d = bestIndex(n, (i) => Bd[i]! < M, (i) => Math.max(A[i]! * (H[Bd[i]! + 1]! - H[Bd[i]!]!), 1e-10), (s, t) => s > t);
    Bd[d]!++;
    total++;
  }
  return Bd;
}

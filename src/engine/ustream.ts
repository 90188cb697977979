/**
 * The auxiliary-variable stream (MODEL_CONTRACT.md, "u stream").
 *
 * u(seed, k) is the uniform variable that decides output token k (0 = first generated token).
 * It is a pure function of (seed, k), so the AR decoder and the PTP decoder see the same u for
 * the same output position whatever order they evaluate positions in. That is what makes PTP
 * lossless: the teacher's Pick at index k and every draft row for index k use the same u.
 *
 *   x = seed * 2^32 + k                       (64-bit; seed and k are both u32)
 *   z = SplitMix64(x)                         (one step of the canonical generator seeded with x:
 *                                              z = x + 0x9E3779B97F4A7C15, then the mix below)
 *   u = (z >>> 40) / 2^24                     (top 24 bits: exact in float32, and the in-graph
 *                                              24-bit binary expansion of u is exact)
 *
 * Test vector: SplitMix64 seeded with 0 gives 0xE220A8397B1DCDAF first, so u(0, 0) = 0xE220A8 / 2^24.
 *
 * Seeds: any safe integer; it is reduced modulo 2^32 (so -1 and 4294967295 are the same seed).
 * Output indices k must be in [0, 2^32).
 */

const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;
const MIX1 = 0xbf58476d1ce4e5b9n;
const MIX2 = 0x94d049bb133111ebn;
const MASK64 = (1n << 64n) - 1n;
const TWO_POW_24 = 16777216;

/** First output of SplitMix64 seeded with `state` (a 64-bit unsigned BigInt). */
export function splitMix64(state: bigint): bigint {
  let z = (state + GOLDEN_GAMMA) & MASK64;
  z = ((z ^ (z >> 30n)) * MIX1) & MASK64;
  z = ((z ^ (z >> 27n)) * MIX2) & MASK64;
  return z ^ (z >> 31n);
}

/** Normalises a user seed to the u32 the stream uses; throws on non-integers. */
export function normalizeSeed(seed: number): number {
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`seed must be a safe integer, got ${seed}`);
  }
  return Number(BigInt.asUintN(32, BigInt(seed)));
}

/** u(seed, k) in [0, 1), a multiple of 2^-24 (exactly representable in float32). */
export function uniform(seed: number, k: number): number {
  if (!Number.isInteger(k) || k < 0 || k > 0xffffffff) {
    throw new RangeError(`output index must be an integer in [0, 2^32), got ${k}`);
  }
  const x = (BigInt(normalizeSeed(seed)) << 32n) | BigInt(k);
  return Number(splitMix64(x) >> 40n) / TWO_POW_24;
}

/** A seeded stream with a small memo: decoders ask for the same k several times per call. */
export class UStream {
  readonly seed: number;
  private readonly memo = new Map<number, number>();

  constructor(seed: number) {
    this.seed = normalizeSeed(seed);
  }

  at(k: number): number {
    let u = this.memo.get(k);
    if (u === undefined) {
      u = uniform(this.seed, k);
      this.memo.set(k, u);
    }
    return u;
  }
}

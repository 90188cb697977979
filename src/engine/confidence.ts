/**
 * The confidence stop rule: a completion ends before the token at which the running product of
 * its tokens' probabilities (sampling.ts tokenProbability) falls below a threshold. AR and PTP
 * apply it to the same tokens in the same order (generation.ts), so they cut at the same place.
 *
 * The same token's probability comes from an AR row in one decoder and from a PTP verify row in
 * the other: the same distribution, but a different batch shape, so its logits can differ in the
 * last bits. Comparing raw floats with the threshold could then cut one decoder a token earlier
 * than the other where the product sits at the threshold. So each probability is rounded first
 * to a whole number of steps of -ln p (STEPS_PER_NAT per nat) and the rule compares integer
 * sums: two decoders disagree only if a token's -ln p lies within the logits' noise (about 1e-6
 * nats, measured in test/engine/lossless.test.ts) of a half step, and the threshold itself sits
 * between two integers, so a product exactly at it cannot flip.
 */

/** Steps of -ln p per nat: 1/32 nat is a 3% change in probability, far below what calibration resolves. */
export const STEPS_PER_NAT = 32;

/** -ln p in whole steps (p = 0 counts as a huge number of steps). */
export function confidenceSteps(p: number): number {
  return p > 0 ? Math.round(-Math.log(p) * STEPS_PER_NAT) : Number.MAX_SAFE_INTEGER;
}

/** The probability a number of steps stands for. */
export function stepsToProbability(steps: number): number {
  return Math.exp(-steps / STEPS_PER_NAT);
}

/**
 * The running sum of steps stays sure while below this: the threshold's -ln τ in steps, rounded
 * down, plus a half (so no integer sum equals it). A threshold of 0 never stops.
 */
export function stepLimit(threshold: number): number {
  if (!(threshold >= 0 && threshold <= 1)) throw new RangeError(`confidence threshold must be in [0, 1], got ${threshold}`);
  if (threshold === 0) return Number.POSITIVE_INFINITY;
  return Math.floor(-Math.log(threshold) * STEPS_PER_NAT + 1e-9) + 0.5;
}

/**
 * Context lookup drafts ("prompt lookup"): code repeats itself, and so does a small model's
 * output, so the tokens that followed the last occurrence of the sequence's current ending are
 * a cheap speculation. PTP verifies any speculation exactly (the teacher rows pick each token
 * with its own u), so a lookup draft changes how many tokens a call commits, never which.
 */

/**
 * Most tokens a lookup draft speculates per call, whatever the block size M (which bounds the
 * PTP groups): the truncation by confidence in ptp.ts decides how many are worth their rows.
 */
export const LOOKUP_BLOCK = 16;

/** Longest suffix match considered; longer matches say no more about what follows. */
const MAX_MATCH = 8;

/**
 * P(the j-th lookup token is accepted | the ones before it were), by the length of the matched
 * ending (index = min(match, 6)), measured on AR outputs of validation prompts at T 0.2
 * (bench/results/lookup.md): one matched token is a little better than a coin flip, six or
 * more are nearly always right.
 */
const CONFIDENCE_BY_MATCH = [0, 0.55, 0.6, 0.65, 0.75, 0.85, 0.93];

export interface ContextDraft {
  /** The tokens that followed the matched ending, at most `maxTokens`. */
  tokens: number[];
  /** Per token, the estimated chance it is accepted given the ones before it were. */
  conf: number[];
  /** Tokens of the sequence's ending that matched (0 = no draft). */
  matched: number;
}

const NONE: ContextDraft = { tokens: [], conf: [], matched: 0 };

/**
 * The continuation of the earlier position whose preceding tokens match the end of `sequence`
 * longest (up to MAX_MATCH; the most recent on ties). Cost: O(sequence length * MAX_MATCH).
 */
export function contextDraft(sequence: readonly number[], maxTokens: number): ContextDraft {
  const N = sequence.length;
  if (N < 2 || maxTokens <= 0) return NONE;
  const last = sequence[N - 1]!;
  let bestLen = 0;
  let bestEnd = -1;
  for (let i = N - 2; i >= 0; i--) {
    if (sequence[i] !== last) continue;
    let n = 1;
    while (n < MAX_MATCH && i - n >= 0 && sequence[i - n] === sequence[N - 1 - n]) n++;
    if (n > bestLen) {
      bestLen = n;
      bestEnd = i;
      if (n === MAX_MATCH) break;
    }
  }
  if (bestLen === 0) return NONE;
  // Past the sequence's end the continuation repeats itself with the match's period (a loop).
  const period = N - 1 - bestEnd;
  const tokens: number[] = [];
  for (let j = 0; j < maxTokens; j++) tokens.push(bestEnd + 1 + j < N ? sequence[bestEnd + 1 + j]! : tokens[j - period]!);
  const c = CONFIDENCE_BY_MATCH[Math.min(bestLen, CONFIDENCE_BY_MATCH.length - 1)]!;
  return { tokens, conf: tokens.map(() => c), matched: bestLen };
}

/** Expected leading tokens accepted: sum over j of the product of the first j confidences. */
export function expectedAccepted(conf: readonly number[]): number {
  let p = 1;
  let sum = 0;
  for (const c of conf) {
    p *= c;
    sum += p;
  }
  return sum;
}

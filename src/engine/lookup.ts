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
 * P(a lookup token is accepted | the ones before it were), by how many tokens of the context
 * behind it match (index = min(match, 6)). Measured on AR outputs (T 0.2) of the eval's
 * fill-in-the-middle cases (`npm run bench:lookup`, bench/results/lookup.md): a single matched token is right 41% of
 * the time, six or more 90%. The j-th token of a draft has the first match length plus j
 * behind it once the tokens before it were accepted, and the same table fits it.
 */
const CONFIDENCE_BY_MATCH = [0, 0.41, 0.6, 0.68, 0.77, 0.87, 0.9];

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
  const top = CONFIDENCE_BY_MATCH.length - 1;
  return { tokens, conf: tokens.map((_, j) => CONFIDENCE_BY_MATCH[Math.min(bestLen + j, top)]!), matched: bestLen };
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

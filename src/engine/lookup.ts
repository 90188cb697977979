/**
 * Lookup drafts ("prompt lookup"): code repeats itself, and so does a small model's output, so
 * the tokens that followed an earlier occurrence of the sequence's current ending are a cheap
 * speculation. They come from the sequence itself (the prompt, whose FIM suffix often holds the
 * text that comes next, and the output so far) and from references: token indexes of the
 * current document beyond the prompt's window, the other open files and the workspace
 * (tokenIndex.ts). PTP verifies any speculation exactly (the teacher rows pick each token with
 * its own u), so a lookup draft changes how many tokens a call commits, never which.
 */
import type { TokenIndex } from './tokenIndex';

/**
 * Most tokens a lookup draft speculates per call, whatever the block size M (which bounds the
 * PTP groups): the truncation by confidence in ptp.ts decides how many are worth their rows.
 */
export const LOOKUP_BLOCK = 16;

/** Longest suffix match considered within the sequence; longer matches say no more about what follows. */
const MAX_MATCH = 8;

/**
 * Where a lookup draft came from: the sequence's FIM suffix, the rest of the sequence (prefix
 * and output), or a reference: the document being completed (outside the prompt's window), the
 * other open documents, the workspace.
 */
export type LookupSource = 'suffix' | 'context' | ReferenceSource;
export type ReferenceSource = 'document' | 'open' | 'workspace';

/** A token index to draft from, and which of its documents count. */
export interface DraftReference {
  source: ReferenceSource;
  index: TokenIndex;
  /** Only this document of the index (the one being completed, for source 'document'). */
  only?: string;
  /** Not this document (the one being completed, for 'open' and 'workspace'). */
  exclude?: string;
}

/**
 * P(a lookup token is accepted | the ones before it were), by source and by how many tokens
 * behind it match (index = min(match, 14)): the first token of a draft has the match length
 * behind it, the j-th (the ones before it accepted) that plus j. Measured on AR outputs (T 0.2)
 * of the FIM speed cases with their open files and workspace and of the eval's line cases
 * (`npm run bench:lookup-sources`, bench/results/lookup-sources.md), smoothed to rise with the
 * match: within the prompt and output one matched token is right 37% of the time, eight or more
 * over 90%; a match in another file needs more behind it (the workspace: 30% at three tokens,
 * 68% at seven). References match at least GRAM (3) tokens.
 */
export const CONFIDENCE_BY_MATCH: Record<LookupSource, readonly number[]> = {
  context: [0, 0.37, 0.56, 0.68, 0.73, 0.79, 0.9, 0.9, 0.92, 0.93, 0.94, 0.94, 0.95, 0.95, 0.97],
  suffix: [0, 0.3, 0.53, 0.62, 0.62, 0.8, 0.8, 0.8, 0.87, 0.87, 0.9, 0.9, 0.9, 0.9, 0.9],
  document: [0, 0, 0, 0.42, 0.52, 0.77, 0.86, 0.88, 0.88, 0.88, 0.88, 0.9, 0.9, 0.9, 0.91],
  open: [0, 0, 0, 0.31, 0.44, 0.47, 0.7, 0.72, 0.72, 0.72, 0.72, 0.72, 0.9, 0.95, 0.97],
  workspace: [0, 0, 0, 0.3, 0.42, 0.51, 0.62, 0.68, 0.68, 0.7, 0.75, 0.75, 0.8, 0.88, 0.94],
};

export interface ContextDraft {
  /** The tokens that followed the matched ending, at most `maxTokens`. */
  tokens: number[];
  /** Per token, the estimated chance it is accepted given the ones before it were. */
  conf: number[];
  /** Tokens of the sequence's ending that matched (0 = no draft). */
  matched: number;
  /** Index in the sequence of the matched occurrence's last token (-1 = no draft). */
  at: number;
}

const NONE: ContextDraft = { tokens: [], conf: [], matched: 0, at: -1 };

/**
 * The continuation of the earlier position whose preceding tokens match the end of `sequence`
 * longest (up to MAX_MATCH; the most recent on ties). Cost: O(sequence length * MAX_MATCH).
 */
export function contextDraft(sequence: readonly number[], maxTokens: number, table: readonly number[] = CONFIDENCE_BY_MATCH.context): ContextDraft {
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
  return { tokens, conf: confidences(table, bestLen, tokens.length), matched: bestLen, at: bestEnd };
}

/** A lookup draft and where it came from. */
export interface LookupDraft {
  tokens: number[];
  conf: number[];
  source: LookupSource;
  matched: number;
}

/**
 * Every lookup draft for the end of `sequence`: the sequence's own (tagged 'suffix' when the
 * match lies in `suffix`, the sequence's index range of the FIM suffix) and one per reference.
 * Empty drafts are left out.
 */
export function lookupDrafts(sequence: readonly number[], maxTokens: number, suffix?: readonly [number, number], references: readonly DraftReference[] = []): LookupDraft[] {
  const drafts: LookupDraft[] = [];
  const own = contextDraft(sequence, maxTokens);
  if (own.matched > 0) {
    const source = suffix !== undefined && own.at >= suffix[0] && own.at < suffix[1] ? 'suffix' : 'context';
    const conf = source === 'context' ? own.conf : confidences(CONFIDENCE_BY_MATCH[source], own.matched, own.tokens.length);
    drafts.push({ tokens: own.tokens, conf, source, matched: own.matched });
  }
  for (const ref of references) {
    const found = ref.index.match(sequence, maxTokens, { only: ref.only, exclude: ref.exclude });
    if (found === undefined || found.tokens.length === 0) continue;
    drafts.push({ tokens: found.tokens, conf: confidences(CONFIDENCE_BY_MATCH[ref.source], found.matched, found.tokens.length), source: ref.source, matched: found.matched });
  }
  return drafts;
}

function confidences(table: readonly number[], matched: number, count: number): number[] {
  const top = table.length - 1;
  return Array.from({ length: count }, (_, j) => table[Math.min(matched + j, top)]!);
}

/** The draft expected to keep the most tokens (the first on ties); none if none is expected to keep any. */
export function bestDraft<D extends { conf: readonly number[] }>(drafts: readonly D[]): D | undefined {
  let best: D | undefined;
  let bestValue = 0;
  for (const d of drafts) {
    const value = expectedAccepted(d.conf);
    if (value > bestValue) {
      best = d;
      bestValue = value;
    }
  }
  return best;
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

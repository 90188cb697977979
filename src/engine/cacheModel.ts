/**
 * The cache model: the user's own code changes the text, not only the speed. A small model
 * rarely knows the names and call shapes of the file it completes, but the text it can see and
 * the user's other files do: what followed the longest earlier occurrence of the current
 * ending there is a next-token distribution of its own (Hellendoorn and Devanbu, FSE 2017: a
 * cache n-gram model over the file and its package; kNN-LM-style retrieval at every token).
 * It is mixed into the model's distribution before sampling:
 *
 *   p(t) = (1 - λ) softmax(logits)(t) + λ c(t),   logits' = ln p
 *
 * where c counts the tokens that followed the occurrences of the longest match of the
 * sequence's ending (in tokens) and λ grows with that match's length (CACHE_WEIGHTS, calibrated
 * on validation cases: `npm run bench:calibrate-cache`). Temperature, top-k, top-p, the
 * masks and the confidence rule all apply to logits', so greedy decoding takes the mixture's
 * argmax and a confident copy shows as a confident suggestion.
 *
 * Sources, in two groups with their own weights:
 *   own    the request's text: the prompt's prefix and suffix (in document order, the FIM
 *          special tokens left out) and the output so far;
 *   other  the open documents and the workspace (the token indexes lookup drafts come from,
 *          with the same filters: never the document being completed).
 * The document's own index (lookup's 'document' source) is left out: it holds the text right
 * at the cursor, whose continuation is the text after the cursor, which the cache would copy.
 *
 * Lossless: the mixture depends only on the sequence before the position (prompt, committed
 * tokens, the speculations verified before it), so AR and PTP's verify rows sample from the same
 * distribution with the same u; a speculation is verified against the mixture, never the bare model.
 */
import type { DraftReference } from './lookup';

/**
 * Longest match counted, in tokens. Longer than a lookup draft needs (tokenIndex.ts
 * MAX_REFERENCE_MATCH): while a copy goes on, its match grows, and so does the trust in it.
 */
export const CACHE_MAX_MATCH = 32;

export type CacheGroup = 'own' | 'other';

/**
 * λ by the longest match's length in tokens (index min(matched, length - 1); 0 = no match):
 * how far the mixture trusts the counts over the model.
 */
export type CacheWeights = Readonly<Record<CacheGroup, readonly number[]>>;

/**
 * Fitted by `npm run bench:calibrate-cache` (bench/results/cache-calibration.md): for each range
 * of match lengths, the λ that maximises the likelihood of validation cases' removed code under
 * the mixture, teacher-forced through the shipped model; never falling as the match grows.
 * Other files earn more trust than the prompt's own text at long matches: the model already
 * copies from what it sees (at 25-32 matched tokens it gives the right token half its mass 83% of
 * the time on its own text, 49% on another file's).
 */
export const CACHE_WEIGHTS: CacheWeights = {
  own: [0, 0.05, 0.06, 0.06, 0.14, 0.31, 0.31, 0.31, 0.31, 0.31, 0.46, 0.46, 0.46, 0.46, 0.46, 0.46, 0.46, ...Array<number>(8).fill(0.48), ...Array<number>(8).fill(0.48)],
  other: [0, 0, 0, 0.05, 0.13, 0.22, 0.22, 0.26, 0.26, 0.26, 0.41, 0.41, 0.41, 0.5, 0.5, 0.5, 0.5, ...Array<number>(8).fill(0.83), ...Array<number>(8).fill(0.92)],
};

/** A next-token distribution from the cache: token ids, their probabilities, and λ. */
export interface CacheMix {
  ids: number[];
  probs: number[];
  lambda: number;
  group: CacheGroup;
  /** Tokens of the ending that matched. */
  matched: number;
}

/** Separates the prompt's suffix from its prefix in the own text: matches no token. */
const GAP = -1;

export class CacheModel {
  private readonly own: readonly number[];
  /** `own`, then the output tokens seen so far. */
  private readonly text: number[];
  private readonly banned: ReadonlySet<number>;

  /**
   * @param promptIds the prompt's token ids as the model sees them (FIM layout, healed).
   * @param special the FIM and end-of-text ids: never proposed, and where the prompt's parts end.
   */
  constructor(
    promptIds: readonly number[],
    special: { endoftext: number; fim_prefix?: number; fim_middle?: number; fim_suffix?: number; file_sep?: number },
    private readonly references: readonly DraftReference[] = [],
    private readonly weights: CacheWeights = CACHE_WEIGHTS,
  ) {
    const specials = [special.endoftext, special.fim_prefix, special.fim_middle, special.fim_suffix, special.file_sep].filter((t): t is number => t !== undefined);
    this.banned = new Set(specials);
    this.own = ownText(promptIds, special);
    this.text = [...this.own];
  }

  /**
   * The cache's distribution for the position after the prompt, `output` and the first
   * `extraCount` of `extra`; undefined when no source matches (or its λ is 0).
   */
  next(output: readonly number[], extra: readonly number[] = [], extraCount = 0): CacheMix | undefined {
    // The own text and the output so far, extended in place (a request's output only grows; a
    // shorter one starts over), with the speculations pushed for this query and popped after it.
    const text = this.text;
    if (text.length - this.own.length > output.length) text.length = this.own.length;
    for (let i = text.length - this.own.length; i < output.length; i++) text.push(output[i]!);
    for (let i = 0; i < extraCount; i++) text.push(extra[i]!);
    try {
      return this.query(text);
    } finally {
      text.length -= extraCount;
    }
  }

  private query(text: readonly number[]): CacheMix | undefined {
    const own = this.ownContinuations(text);
    const tail = text.slice(Math.max(0, text.length - CACHE_MAX_MATCH));
    let other: Continuations = { matched: 0, counts: new Map() };
    for (const ref of this.references) {
      if (ref.source === 'document') continue;
      const found = ref.index.continuations(tail, { only: ref.only, exclude: ref.exclude }, CACHE_MAX_MATCH);
      other = longest(other, found.filter((c) => !this.banned.has(c.next)));
    }
    const lambdaOwn = weight(this.weights.own, own.matched);
    const lambdaOther = weight(this.weights.other, other.matched);
    const [group, found, lambda] = lambdaOwn >= lambdaOther ? (['own', own, lambdaOwn] as const) : (['other', other, lambdaOther] as const);
    if (lambda <= 0 || found.counts.size === 0) return undefined;
    let total = 0;
    for (const n of found.counts.values()) total += n;
    const ids = [...found.counts.keys()].sort((a, b) => a - b);
    return { ids, probs: ids.map((t) => found.counts.get(t)! / total), lambda, group, matched: found.matched };
  }

  /** The continuations of the longest earlier matches of `text`'s ending within `text` itself. */
  private ownContinuations(text: readonly number[]): Continuations {
    const N = text.length;
    const out: { matched: number; next: number }[] = [];
    if (N < 2) return { matched: 0, counts: new Map() };
    const last = text[N - 1]!;
    for (let i = N - 2; i >= 0; i--) {
      if (text[i] !== last) continue;
      const next = text[i + 1]!;
      if (next === GAP || this.banned.has(next)) continue;
      let n = 1;
      while (n < CACHE_MAX_MATCH && i - n >= 0 && text[i - n] === text[N - 1 - n] && text[i - n] !== GAP) n++;
      out.push({ matched: n, next });
    }
    return longest({ matched: 0, counts: new Map() }, out);
  }
}

interface Continuations {
  /** The longest match's length. */
  matched: number;
  /** Next token -> occurrences of the longest match followed by it. */
  counts: Map<number, number>;
}

/** `so_far` with `found` counted in: only the occurrences of the longest match count. */
function longest(soFar: Continuations, found: readonly { matched: number; next: number }[]): Continuations {
  let best = soFar;
  for (const c of found) {
    if (c.matched > best.matched) best = { matched: c.matched, counts: new Map() };
    if (c.matched === best.matched) best.counts.set(c.next, (best.counts.get(c.next) ?? 0) + 1);
  }
  return best;
}

function weight(table: readonly number[], matched: number): number {
  return matched <= 0 ? 0 : table[Math.min(matched, table.length - 1)]!;
}

/**
 * The prompt as text in document order: the suffix, a gap, then the prefix (which the output
 * continues), without the FIM tokens. A prompt without them is all prefix.
 */
export function ownText(ids: readonly number[], special: { fim_prefix?: number; fim_middle?: number; fim_suffix?: number }): number[] {
  const { fim_prefix, fim_middle, fim_suffix } = special;
  const p = fim_prefix === undefined ? -1 : ids.indexOf(fim_prefix);
  const s = fim_suffix === undefined ? -1 : ids.indexOf(fim_suffix);
  const m = fim_middle === undefined ? -1 : ids.lastIndexOf(fim_middle);
  if (p < 0 || s < 0 || m < 0) return [...ids];
  // Suffix-first: [fs, S, fp, P, fm]; prefix-first: [fp, P, fs, S, fm].
  const suffix = s < p ? ids.slice(s + 1, p) : ids.slice(s + 1, m);
  const prefix = s < p ? ids.slice(p + 1, m) : ids.slice(p + 1, s);
  return [...suffix, GAP, ...prefix];
}

/** mixRow's output row, reused: it is read at once (sampled, its probability taken) and dropped. */
let scratch = new Float32Array(0);

/**
 * The logits row [offset, offset + V) with the cache's distribution mixed in, as normalised log
 * probabilities: V values, valid until the next call (one buffer, reused). One pass of exps for
 * the model's log-partition; a token the cache does not propose is the model's log probability
 * shifted by ln(1 - λ), so only the cache's few tokens need the log of a sum.
 */
export function mixRow(logits: Float32Array, offset: number, V: number, mix: CacheMix): Float32Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = offset, end = offset + V; i < end; i++) {
    const x = logits[i]!;
    if (x > max) max = x;
  }
  let sum = 0;
  for (let i = offset, end = offset + V; i < end; i++) sum += Math.exp(logits[i]! - max);
  const logZ = max + Math.log(sum);
  const shift = Math.log(1 - mix.lambda) - logZ;
  if (scratch.length !== V) scratch = new Float32Array(V);
  const row = scratch;
  for (let i = 0; i < V; i++) row[i] = logits[offset + i]! + shift;
  mix.ids.forEach((t, k) => (row[t] = Math.log((1 - mix.lambda) * Math.exp(logits[offset + t]! - logZ) + mix.lambda * mix.probs[k]!)));
  return row;
}

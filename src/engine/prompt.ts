/**
 * Prompt token layout (MODEL_CONTRACT.md, "FIM prompt layout") and truncation to the context.
 *
 *   with a suffix:    <|fim_suffix|> suffix <|fim_prefix|> prefix <|fim_middle|>   (suffix-first)
 *   or, for a model trained prefix-first (manifest fim_layout "prefix-first ..."; converted
 *   Qwen2.5-Coder, StarCoder2, DeepSeek-Coder):
 *                     <|fim_prefix|> prefix <|fim_suffix|> suffix <|fim_middle|>
 *   without a suffix: prefix
 *
 * Suffix-first keeps everything before the newly typed characters identical between
 * keystrokes, so the KV cache of the previous request covers almost all of the next prompt.
 *
 * Truncation keeps the text nearest the cursor: the suffix loses its far end, the prefix its
 * beginning. The prefix is cut in steps of TRUNCATION_STEP tokens so that, while a person types
 * at the end of a long prefix, the kept start stays put and the cache stays reusable.
 */
import type { SpecialTokens } from './tokenizer';

export interface Prompt {
  prefix: string;
  /** Present => fill-in-the-middle, suffix-first. */
  suffix?: string;
  /**
   * FIM prompts only: text ahead of the prefix, after <|fim_prefix|> (a retrieved snippet,
   * snippets.ts), followed by <|file_sep|> when `contextSeparator` is set and the tokenizer has
   * one. It takes room from the prefix, and is left out whole when the prefix would keep fewer
   * than MIN_PREFIX_WITH_CONTEXT tokens (all of them when it has fewer), or has none.
   */
  context?: string;
  contextSeparator?: boolean;
}

/** Prefix tokens a prompt keeps, at least, before it carries a `context`. */
export const MIN_PREFIX_WITH_CONTEXT = 128;

export const TRUNCATION_STEP = 32;

export type FimLayout = 'suffix-first' | 'prefix-first';

export interface PromptTokens {
  ids: number[];
  /** Index in `ids` of the prefix's last token (where token healing looks). */
  prefixEnd: number;
  /** Prompt tokens dropped to fit the budget. */
  dropped: number;
}

/**
 * @param budget most tokens the prompt may have (context length minus room for the output).
 */
export function promptTokens(prompt: Prompt, encode: (text: string) => number[], special: SpecialTokens, budget: number, layout: FimLayout = 'suffix-first'): PromptTokens {
  const prefix = encode(prompt.prefix);
  const { fim_prefix, fim_middle, fim_suffix } = special;
  // A model without FIM tokens (hasFim false) completes left to right: the suffix is not used.
  if (prompt.suffix === undefined || fim_prefix === undefined || fim_middle === undefined || fim_suffix === undefined) {
    const keep = keptPrefix(prefix.length, Math.max(1, budget));
    const ids = prefix.slice(prefix.length - keep);
    // An empty prompt still needs one row to predict from; end-of-text marks a document start.
    return ids.length > 0 ? { ids, prefixEnd: ids.length - 1, dropped: prefix.length - keep } : { ids: [special.endoftext], prefixEnd: 0, dropped: prefix.length - keep };
  }
  const suffix = encode(prompt.suffix);
  const room = Math.max(0, budget - 3);
  const split = (context: number): { suffixKeep: number; prefixKeep: number } => {
    // The suffix gets at least a quarter of the room, more when the prefix leaves it unused.
    const suffixKeep = Math.min(suffix.length, Math.max(Math.floor(room / 4), room - prefix.length - context));
    return { suffixKeep, prefixKeep: keptPrefix(prefix.length, Math.max(0, room - suffixKeep - context)) };
  };
  let context = contextTokens(prompt, encode, special);
  let { suffixKeep, prefixKeep } = split(context.length);
  if (context.length > 0 && (prefix.length === 0 || prefixKeep < Math.min(prefix.length, MIN_PREFIX_WITH_CONTEXT))) {
    context = [];
    ({ suffixKeep, prefixKeep } = split(0));
  }
  const keptPrefixIds = [...context, ...prefix.slice(prefix.length - prefixKeep)];
  const keptSuffixIds = suffix.slice(0, suffixKeep);
  const dropped = suffix.length - suffixKeep + prefix.length - prefixKeep;
  if (layout === 'prefix-first') {
    return { ids: [fim_prefix, ...keptPrefixIds, fim_suffix, ...keptSuffixIds, fim_middle], prefixEnd: keptPrefixIds.length, dropped };
  }
  const ids = [fim_suffix, ...keptSuffixIds, fim_prefix, ...keptPrefixIds, fim_middle];
  return { ids, prefixEnd: ids.length - 2, dropped };
}

/** A prompt's `context` as tokens (with the file separator when asked for and there is one); [] without. */
function contextTokens(prompt: Prompt, encode: (text: string) => number[], special: SpecialTokens): number[] {
  if (prompt.context === undefined || prompt.context === '') return [];
  const ids = encode(prompt.context);
  return prompt.contextSeparator === true && special.file_sep !== undefined ? [...ids, special.file_sep] : ids;
}

/** The manifest's `fim_layout`: "prefix-first ..." (PSM) or anything else (the contract's suffix-first). */
export function fimLayout(description: string | undefined): FimLayout {
  return description !== undefined && /^prefix-first\b/.test(description) ? 'prefix-first' : 'suffix-first';
}

/** Whether the tokenizer has the FIM tokens; without them a prompt's suffix is dropped. */
export function hasFim(special: SpecialTokens): boolean {
  return special.fim_prefix !== undefined && special.fim_middle !== undefined && special.fim_suffix !== undefined;
}

/** How many trailing prefix tokens to keep: all if they fit, else drop whole steps from the start. */
function keptPrefix(length: number, room: number): number {
  if (length <= room) return length;
  const drop = Math.min(length, Math.ceil((length - room) / TRUNCATION_STEP) * TRUNCATION_STEP);
  return length - drop;
}

/** The index range [start, end) of a FIM prompt's suffix tokens in `ids`; undefined without a suffix. */
export function suffixSpan(ids: readonly number[], special: SpecialTokens): [number, number] | undefined {
  const { fim_prefix, fim_middle, fim_suffix } = special;
  const start = fim_suffix === undefined ? -1 : ids.indexOf(fim_suffix) + 1;
  if (start <= 0) return undefined;
  let end = start;
  while (end < ids.length && ids[end] !== fim_prefix && ids[end] !== fim_middle) end++;
  return [start, end];
}

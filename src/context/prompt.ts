/**
 * The fill-in-the-middle prompt: the text before the cursor (prefix) and after it
 * (suffix), clipped to character budgets at line boundaries, with CRLF turned into LF
 * for the model. Token layout (suffix-first or prefix-first) is the engine's business.
 *
 *   document: …… older lines ……|line 40|line 41|cur|sor|line 43|line 44|…… later ……
 *                               └──── prefix ──────┘   └──── suffix ───────┘
 *   the prefix keeps its end and starts at a line start; the suffix keeps its start and
 *   ends at a line end. Only a single line longer than the budget is cut mid-line.
 */
import { splitsSurrogatePair, toLf } from './text';

export type Eol = '\n' | '\r\n';

export interface PromptOptions {
  /** Characters of text before the cursor to keep (after CRLF -> LF). */
  readonly prefixChars?: number;
  /** Characters of text after the cursor to keep. */
  readonly suffixChars?: number;
  /** A cursor line longer than this is minified or generated code: no completion. */
  readonly maxLineChars?: number;
}

export interface FimPrompt {
  readonly prefix: string;
  readonly suffix: string;
  /** The document's line ending; pass completions through `restoreEol` before inserting. */
  readonly eol: Eol;
  /** Text was dropped before the prefix / after the suffix. */
  readonly prefixClipped: boolean;
  readonly suffixClipped: boolean;
}

export type NoPromptReason = 'binary' | 'bad-offset' | 'line-too-long';

export type PromptResult =
  | { readonly prompt: FimPrompt }
  | { readonly prompt: null; readonly reason: NoPromptReason; readonly detail: string };

/** About 1k tokens of code before the cursor and 300 after, for a model with a 2k context. */
export const DEFAULT_PREFIX_CHARS = 4096;
export const DEFAULT_SUFFIX_CHARS = 1024;
export const DEFAULT_MAX_LINE_CHARS = 10_000;

/** Share of U+FFFD (undecodable bytes) or control characters above which text is binary. */
const BINARY_RATIO = 0.1;
const BINARY_SAMPLE = 4096;

export function buildPrompt(text: string, offset: number, options: PromptOptions = {}): PromptResult {
  const prefixChars = budget('prefixChars', options.prefixChars ?? DEFAULT_PREFIX_CHARS);
  const suffixChars = budget('suffixChars', options.suffixChars ?? DEFAULT_SUFFIX_CHARS);
  const maxLineChars = budget('maxLineChars', options.maxLineChars ?? DEFAULT_MAX_LINE_CHARS);
  if (!Number.isInteger(offset) || offset < 0 || offset > text.length) {
    return { prompt: null, reason: 'bad-offset', detail: `offset ${offset} is outside [0, ${text.length}]` };
  }
  const binary = binaryEvidence(text, offset);
  if (binary !== undefined) return { prompt: null, reason: 'binary', detail: binary };

  // A cursor between `\r` and `\n` is treated as before the pair.
  if (offset > 0 && text[offset - 1] === '\r' && text[offset] === '\n') offset--;
  const eol: Eol = detectEol(text);

  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const nl = text.indexOf('\n', offset);
  const lineEnd = nl < 0 ? text.length : nl;
  if (lineEnd - lineStart > maxLineChars) {
    return { prompt: null, reason: 'line-too-long', detail: `the cursor's line has ${lineEnd - lineStart} characters (limit ${maxLineChars})` };
  }

  // Normalise only a window a little larger than the budgets: CRLF -> LF only shrinks text.
  const prefixFrom = Math.max(0, offset - 2 * prefixChars - 2);
  const suffixTo = Math.min(text.length, offset + 2 * suffixChars + 2);
  const prefix = clipPrefix(toLf(text.slice(prefixFrom, offset)), prefixChars, prefixFrom === 0);
  const suffix = clipSuffix(toLf(text.slice(offset, suffixTo)), suffixChars, suffixTo === text.length);
  return {
    prompt: {
      prefix: prefix.text,
      suffix: suffix.text,
      eol,
      prefixClipped: prefix.clipped,
      suffixClipped: suffix.clipped,
    },
  };
}

/** `\r\n` if the document's first line break is one, else `\n`. */
export function detectEol(text: string): Eol {
  const nl = text.indexOf('\n');
  return nl > 0 && text[nl - 1] === '\r' ? '\r\n' : '\n';
}

/** Model text (LF) in the document's line ending. */
export function restoreEol(text: string, eol: Eol): string {
  return eol === '\n' ? text : text.replace(/\r?\n/g, '\r\n');
}

/**
 * Keeps the end of `text`, at most `max` characters, starting at a line start. `complete`
 * says `text` starts at the document start (its first line is whole).
 */
function clipPrefix(text: string, max: number, complete: boolean): { text: string; clipped: boolean } {
  if (text.length <= max && complete) return { text, clipped: false };
  const from = text.length - max;
  // The first line start at or after `from` (a `\n` at from-1 or later).
  const nl = text.indexOf('\n', Math.max(0, from - 1));
  if (nl >= 0) return { text: text.slice(nl + 1), clipped: true };
  // The cursor's line alone is over budget: cut it, but not inside a surrogate pair.
  let cut = Math.max(0, from);
  if (splitsSurrogatePair(text, cut)) cut++;
  return { text: text.slice(cut), clipped: cut > 0 || !complete };
}

/** Keeps the start of `text`, at most `max` characters, ending after a line break. */
function clipSuffix(text: string, max: number, complete: boolean): { text: string; clipped: boolean } {
  if (text.length <= max && complete) return { text, clipped: false };
  const limit = Math.min(max, text.length);
  if (limit === 0) return { text: '', clipped: text.length > 0 || !complete };
  const nl = text.lastIndexOf('\n', limit - 1);
  if (nl >= 0) return { text: text.slice(0, nl + 1), clipped: true };
  let cut = limit;
  if (splitsSurrogatePair(text, cut)) cut--;
  return { text: text.slice(0, cut), clipped: cut < text.length || !complete };
}

/** Why the text looks binary, or undefined. NUL anywhere is proof; otherwise sample near the cursor. */
function binaryEvidence(text: string, offset: number): string | undefined {
  const nul = text.indexOf('\u0000');
  if (nul >= 0) return `NUL character at offset ${nul}`;
  const from = Math.max(0, offset - BINARY_SAMPLE / 2);
  const sample = text.slice(from, from + BINARY_SAMPLE);
  if (sample.length < 64) return undefined;
  let odd = 0;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if (c === 0xfffd || (c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12)) odd++;
  }
  return odd / sample.length > BINARY_RATIO ? `${odd} of ${sample.length} characters near the cursor are control or undecodable characters` : undefined;
}

function budget(name: string, v: number): number {
  if (!(Number.isInteger(v) && v >= 0)) throw new RangeError(`${name} must be an integer >= 0, got ${v}`);
  return v;
}

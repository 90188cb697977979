/**
 * What a finished completion reports besides its text: the per-call trace with token texts and
 * confidences, the running confidence of what is shown, the prompt as a reader wants to see it.
 */
import type { FimPrompt } from '../context/index';
import type { CallTrace, DecodeResult, Engine } from '../engine/index';
import type { TraceCall } from '../protocol/index';

const PREVIEW_PREFIX_CHARS = 600;
const PREVIEW_SUFFIX_CHARS = 200;
export const CURSOR_MARK = '\u2588';

/** Per-call token texts. A token that is part of a multi-byte character shows as U+FFFD. */
export function traceCalls(engine: Engine, trace: readonly CallTrace[]): TraceCall[] {
  return trace.map((c) => ({
    index: c.index,
    tokens: c.committed.map((id) => engine.decode([id])),
    acceptedDrafts: c.acceptedDrafts,
    draft: c.draft,
    confidence: c.confidence.map((p) => round(p, 4)),
    rows: c.rows,
    ms: round(c.ms, 2),
  }));
}

/**
 * The running confidence of what is shown: the product of the probabilities of the tokens that
 * wrote it, from its first code character (the healed word and typed whitespace do not count,
 * as in the engine's rule) to its end. 1 when nothing is shown.
 */
export function shownConfidence(engine: Engine, result: DecodeResult, shown: string): number {
  const code = shown.replace(/^\s+/, '').replace(/\r\n/g, '\n');
  if (code === '') return 1;
  const full = result.healed + result.text;
  const start = full.indexOf(code, result.healed.length);
  if (start < 0) return 1;
  let product = 1;
  let end = 0;
  for (const [i, token] of result.tokens.entries()) {
    const from = end;
    end += engine.decode([token]).length;
    if (end > start && from < start + code.length) product *= result.confidence[i] ?? 1;
    if (end >= start + code.length) break;
  }
  return product;
}

/** The prompt: prefix tail, a cursor mark, suffix head. */
export function preview(prompt: FimPrompt): string {
  return prompt.prefix.slice(-PREVIEW_PREFIX_CHARS) + CURSOR_MARK + prompt.suffix.slice(0, PREVIEW_SUFFIX_CHARS);
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

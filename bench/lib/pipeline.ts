/**
 * The worker's completion pipeline, in-process: FIM prompt from the document, scope and block
 * size from the syntax context, the engine with the scope's stop rules, then the final trim.
 * This is what a `textDocument/inlineCompletion` request costs, less the LSP round trip.
 *
 *   buildPrompt ──> analyze ──> makeStopper ──> Engine.complete ──> trimCompletion ──> restoreEol
 *   (ms.prompt)     (ms.analyze ................)  (ms.engine)        (ms.trim ...............)
 */
import { performance } from 'node:perf_hooks';
import type { LatencyPoint, ScopeInfo, SyntaxDocument } from '../../src/context';
import { analyze, buildPrompt, makeStopper, restoreEol, trimCompletion } from '../../src/context';
import type { DecodeResult, DraftReference, Engine } from '../../src/engine';
import { FOLLOWING_LINES, fitCompletion } from '../../src/extension/fitCompletion';
import { type CompletionDecoding, type CompletionOutcome, completeAt as workerCompleteAt } from '../../src/completion/index';

export interface Decoding {
  decoder: 'ptp' | 'ar';
  seed: number;
  temperature: number;
  topK: number;
  topP: number;
}

/** Where the policy's inputs come from: the measured latency curve and the model's acceptance histogram. */
export interface Policy {
  curve: readonly LatencyPoint[];
  histogram: readonly number[];
}

export interface CompletionRequest {
  decoding: Decoding;
  policy: Policy;
  /**
   * 'policy': M and B from analyze(). A number fixes M (as the `ptp.decoding.blockSize` setting
   * does) and analyze() picks B for it, unless `budget` is given too.
   */
  blockSize?: 'policy' | number;
  budget?: number;
  /** A cap on top of the scope's token cap. */
  maxTokens?: number;
  /** 'scope': the context's stop rules; 'line': the first line break; 'none': end-of-text or the cap. */
  stop?: 'scope' | 'line' | 'none';
  /** Run trimCompletion (default true). */
  trim?: boolean;
  cacheKey?: string;
  /** The engine's first-line rule (the worker turns it on where the cursor's line is blank). */
  firstLine?: boolean;
  /** Token indexes PTP also drafts from. */
  references?: readonly DraftReference[];
  /**
   * What-if, harness side: a prefix ending in a space is sent without it and the space is
   * taken off the front of the completion (a one-character "token healing"; see
   * bench/README.md). Off by default: the extension does not do this today.
   */
  healTrailingSpace?: boolean;
}

export interface CompletionRun {
  /** The text that would be shown (trimmed, document line endings). */
  text: string;
  /** The engine's text, before trimming (after un-healing, with healTrailingSpace). */
  raw: string;
  info: ScopeInfo;
  result: DecodeResult;
  ms: { prompt: number; analyze: number; engine: number; trim: number; total: number };
}

/** Cuts at the first line break (the next-line evaluation's rule). */
export const firstLineBreak = (text: string): number | undefined => {
  const i = text.indexOf('\n');
  return i < 0 ? undefined : i;
};

export async function completeAt(engine: Engine, doc: SyntaxDocument, offset: number, req: CompletionRequest): Promise<CompletionRun> {
  const t0 = performance.now();
  const built = buildPrompt(doc.text, offset);
  if (built.prompt === null) throw new Error(`no prompt at ${doc.uri}:${offset}: ${built.reason} (${built.detail})`);
  const prompt = built.prompt;
  const t1 = performance.now();
  const fixed = typeof req.blockSize === 'number' ? { blockSize: req.blockSize } : undefined;
  const info = analyze(doc, offset, { latency: req.policy.curve, acceptance: req.policy.histogram, blockSize: fixed });
  const stopMode = req.stop ?? 'scope';
  const rule = stopMode === 'scope' ? makeStopper(doc, offset, info) : stopMode === 'line' ? firstLineBreak : undefined;
  const heal = req.healTrailingSpace === true && prompt.prefix.endsWith(' ');
  // With healing, the engine's text starts with the space the prompt no longer ends with.
  const unheal = (text: string): string => (heal && text.startsWith(' ') ? text.slice(1) : text);
  const stop =
    rule === undefined || !heal
      ? rule
      : (text: string): number | undefined => {
          const cut = rule(unheal(text));
          return cut === undefined ? undefined : cut + (text.length - unheal(text).length);
        };
  const t2 = performance.now();
  const result = await engine.complete(
    { prefix: heal ? prompt.prefix.slice(0, -1) : prompt.prefix, suffix: prompt.suffix },
    {
      ...req.decoding,
      blockSize: info.blockSize,
      budget: req.budget ?? info.budget,
      maxTokens: Math.min(info.maxTokens, req.maxTokens ?? Infinity),
      stop,
      cacheKey: req.cacheKey ?? doc.uri,
      ...(req.firstLine !== undefined ? { firstLine: req.firstLine } : {}),
      ...(req.references !== undefined ? { references: req.references } : {}),
    },
  );
  const t3 = performance.now();
  const raw = unheal(result.text);
  const trimmed = req.trim === false ? raw : trimCompletion(doc, offset, raw, info);
  const text = restoreEol(trimmed, prompt.eol);
  const t4 = performance.now();
  return { text, raw, info, result, ms: { prompt: t1 - t0, analyze: t2 - t1, engine: t3 - t2, trim: t4 - t3, total: t4 - t0 } };
}

/**
 * What the extension shows at `offset`, greedy: the worker's own `completeAt` (its typed-whitespace
 * holdback, the scope's stop rules and trimming), as the eval's "shown" column scores it.
 */
export async function shownCompletion(
  engine: Engine,
  policy: Policy,
  doc: SyntaxDocument,
  offset: number,
  request: { seed: number; cacheKey: string; requestId: string },
): Promise<string> {
  return (await shownRun(engine, policy, doc, offset, request)).text;
}

/**
 * The worker's own `completeAt` at `offset`, inline mode, with its whole outcome: greedy AR
 * unless `decoding` says otherwise; `firstLine` overrides the engine's first-line rule (what-if).
 */
export async function shownRun(
  engine: Engine,
  policy: Policy,
  doc: SyntaxDocument,
  offset: number,
  request: { seed: number; cacheKey: string; requestId: string; decoding?: Partial<CompletionDecoding>; firstLine?: boolean; references?: readonly DraftReference[] },
): Promise<CompletionOutcome> {
  const r = await workerCompleteAt({ engine, latency: policy.curve }, doc, offset, {
    decoding: { decoder: 'ar', seed: request.seed, temperature: 0, topK: 50, topP: 0.95, blockSize: 1, ...request.decoding },
    mode: 'inline',
    cacheKey: request.cacheKey,
    requestId: request.requestId,
    ...(request.firstLine !== undefined ? { firstLine: request.firstLine } : {}),
    ...(request.references !== undefined ? { references: request.references } : {}),
  });
  if (r.kind !== 'done') throw new Error(`${request.cacheKey}: the worker's pipeline gave ${r.kind}`);
  return r;
}

/**
 * What VS Code gets for the worker's `text` at `offset` of `documentText`: the extension's
 * fitCompletion with the inputs its inline provider passes (the rest of the cursor's line, the
 * FOLLOWING_LINES lines after it, the line's indentation); '' when it shows nothing.
 */
export function editorItem(documentText: string, offset: number, text: string, explicit: boolean): string {
  const lineStart = documentText.lastIndexOf('\n', offset - 1) + 1;
  const lineEnd = documentText.indexOf('\n', offset);
  const end = lineEnd < 0 ? documentText.length : lineEnd;
  const followingText = lineEnd < 0 ? '' : documentText.slice(end + 1).split('\n').slice(0, FOLLOWING_LINES).join('\n');
  const lineIndent = /^[ \t]*/.exec(documentText.slice(lineStart, end))![0];
  return fitCompletion(text, documentText.slice(offset, end), { explicit, followingText, lineIndent })?.insertText ?? '';
}

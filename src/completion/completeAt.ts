/**
 * `completeAt`: the one "complete this document at this offset" pipeline, shared by the
 * worker (inline completion, ptp/generate) and the CLI (complete, generate).
 *
 *   document + offset
 *     -> buildPrompt        FIM prefix/suffix (LF), or a reason not to complete
 *     -> analyze            scope, token cap, block size M and budget B (auto: from the
 *                           measured latency curve and the model's acceptance histogram)
 *     -> engine.complete    AR or PTP, stop rule from makeStopper, KV reuse per cacheKey,
 *                           lookup drafts from the references (open documents, workspace); on
 *                           an empty line the first-line rule (code on that line, ended by a
 *                           line break)
 *     -> trimCompletion     no duplicated suffix, no half construct, no new parse errors; on an
 *                           empty line, when nothing is left, up to two more decodes with the
 *                           first code token of the last one ruled out
 *     -> restoreEol         the document's line endings
 *
 * Whitespace before the cursor is given back to the model. A BPE tokenizer glues a space to
 * the word after it (" return"), so a prompt ending in "  " (the indentation VS Code types
 * after Enter) makes the model start with " return" and the line gets one space too many.
 * The prompt therefore ends before that whitespace, and the model's text must first re-type
 * it; the pipeline drops the re-typed part (see `TypedWhitespace`):
 *
 *   document   "  |"            prompt prefix ""  (+ "  " held back)
 *   model      "  return x;"    -> inserted at the cursor: "return x;"
 */
import { performance } from 'node:perf_hooks';
import type { DocumentView, FimPrompt, LatencyPoint, NoPromptReason, Scope, ScopeInfo } from '../context/index';
import { DEFAULT_MAX_TOKENS, analyze, buildPrompt, chooseBlockSize, makeStopper, restoreEol, trimCompletion } from '../context/index';
import type { DecodeResult, DraftReference, Engine, Prompt, ReferenceSource, SnippetLayout } from '../engine/index';
import { SNIPPET_QUERY, formatSnippet, retrieveSnippet, snippetName, snippetSource } from '../engine/index';
import type { CompletionStats, ConfidenceLevel, TraceCall, Withheld } from '../protocol/index';
import { type CutBoundary, confidenceThreshold, cutBack, holdsWord, withheldReason } from './confidence';
import { preview, round, shownConfidence, traceCalls } from './report';
import { type FittedItem, fitAt } from './fitCompletion';
export { CURSOR_MARK } from './report';

/** What to decode with. Same fields as the protocol's DecodingSettings, but the seed is resolved. */
export interface CompletionDecoding {
  decoder: 'ptp' | 'ar';
  blockSize: number | 'auto';
  seed: number;
  temperature: number;
  topK: number;
  topP: number;
  /** PTP also verifies context lookup drafts (engine default true); the output is the same. */
  lookup?: boolean;
}

export interface CompleteAtOptions {
  decoding: CompletionDecoding;
  /**
   * 'inline': the scope decides how much to write. 'generate': a whole block (ptp/generate,
   * `ptp-complete generate`), with GENERATE_MAX_TOKENS unless `maxTokens` says otherwise.
   */
  mode: 'inline' | 'generate';
  /** Token cap: one number for every scope, or per scope (missing scopes keep their defaults). */
  maxTokens?: number | Partial<Record<Scope, number>>;
  /**
   * ptp/generate: a comment line written just before the cursor in the prompt (not in the
   * document); the result continues after it.
   */
  instruction?: string;
  /** Engine KV-cache key; the document URI, so keystrokes in one file reuse its prefix. */
  cacheKey?: string;
  /**
   * Token indexes PTP also drafts from (the open documents, the workspace; the worker's
   * OpenDocumentIndex and WorkspaceIndex). Drafts are verified, so the text is the same without.
   */
  references?: readonly DraftReference[];
  /**
   * Mix the cache model into the model's distribution (src/engine/cacheModel.ts;
   * ptp.context.cacheModel): what followed the longest earlier match of the text so far in the
   * prompt, the output and the 'open' and 'workspace' `references`. This changes the text.
   * Default false.
   */
  cacheModel?: boolean;
  /**
   * Also put the best-matching window of another open file or workspace file (from the 'open'
   * and 'workspace' `references`, never this document) ahead of the prefix in the prompt
   * (src/engine/snippets.ts; ptp.context.snippets). Default false.
   */
  snippets?: boolean;
  /** How the snippet is written (default SNIPPET_LAYOUT): a what-if knob for bench/eval-snippets.ts. */
  snippetLayout?: SnippetLayout;
  /**
   * What the retrieval matches (default SNIPPET_QUERY_FROM): 'lines', the whole lines before the
   * cursor's line (the snippet then stays put while a line is typed, and so does the cached
   * prompt); 'tail', the text right up to the cursor. A what-if knob for bench/eval-snippets.ts.
   */
  snippetQuery?: 'lines' | 'tail';
  /**
   * The engine's first-line rule (code on the cursor's line before any line break or
   * end-of-text). Default: on where the cursor's line is empty but for indentation. A what-if
   * knob for benchmarks; the worker and the CLI leave it unset.
   */
  firstLine?: boolean;
  /**
   * Hold back the whitespace typed before the cursor (TypedWhitespace; default true). false: the
   * prompt ends with it and the model's text is taken as it comes, as the pipeline did before
   * the holdback. A what-if knob for bench/eval.ts's "model+pipeline" column.
   */
  holdTypedWhitespace?: boolean;
  /**
   * Also end the completion at its first line break; the scope's stop rules see the text before
   * it. A what-if knob for bench/eval.ts's next-line cases (the worker and the CLI leave it unset).
   */
  stopAtLineBreak?: boolean;
  /** B for a numeric `decoding.blockSize` instead of the policy's: a what-if knob for bench/eval.ts (M 8, B 16). */
  budget?: number;
  /**
   * Inline mode: how sure the model must be of what is shown (confidence.ts). Default 'off'.
   * Generate mode is never cut (its trace still carries each token's confidence).
   */
  confidence?: ConfidenceLevel;
  /** The person asked (Alt+\\, Trigger Inline Suggestion): a lower threshold than automatic requests. */
  explicit?: boolean;
  /** A threshold instead of the level's (0 to 1): a what-if knob for the eval's sweep. */
  confidenceThreshold?: number;
  /** Where a confidence cut ends the text (default CONFIDENCE_BOUNDARY): a what-if knob for the eval. */
  confidenceBoundary?: CutBoundary;
  requestId: string;
  signal?: AbortSignal;
  /** Text so far (document line endings, before trimming), after every model call. */
  onText?: (text: string) => void;
}

export interface CompletionEnv {
  engine: Engine;
  /** Milliseconds per model call by rows, measured at startup (see measureLatencyCurve). */
  latency?: readonly LatencyPoint[];
}

export type CompleteAtResult =
  | { kind: 'rejected'; reason: NoPromptReason; detail: string }
  /** The document changed while decoding: the result no longer fits it. */
  | { kind: 'stale' }
  | CompletionOutcome;

export interface CompletionOutcome {
  kind: 'done';
  /** What to insert at the cursor (document line endings); '' when nothing useful remains. */
  text: string;
  /**
   * Inline mode: what the editor inserts at the cursor, `text` fitted to the cursor's line
   * (fitCompletion.ts: the rest of the line, auto-closed closers, the lines that follow), and
   * how many characters after the cursor it replaces; undefined when nothing is shown.
   */
  item?: FittedItem;
  /** The model's text before trimming (LF). */
  rawText: string;
  stats: CompletionStats;
  /** Per-call trace with token texts, for ptp/trace and --json. */
  calls: TraceCall[];
  /** The prompt as a reader wants to see it: prefix tail, a cursor mark, suffix head. */
  promptPreview: string;
  info: ScopeInfo;
  result: DecodeResult;
  /** The retrieved snippet the prompt carried (`snippets`), if one matched; the prompt may still have left it out for room. */
  snippet?: SnippetInfo;
}

export interface SnippetInfo {
  source: ReferenceSource;
  /** The document it came from (an index id: a URI or a path). */
  id: string;
  /** Jaccard similarity with the query. */
  score: number;
  /** The text as the prompt carries it. */
  text: string;
  /** Retrieval time (encoding the query, searching, decoding), milliseconds. */
  ms: number;
}

/** How a snippet is written ahead of the prefix: measured in bench/results/eval-snippets.md. */
export const SNIPPET_LAYOUT: SnippetLayout = 'lines';
/** What the retrieval matches: see CompleteAtOptions.snippetQuery. */
export const SNIPPET_QUERY_FROM: 'lines' | 'tail' = 'lines';
/** Characters before the cursor encoded for the query (more than SNIPPET_QUERY tokens of code). */
const QUERY_CHARS = 800;

/** ptp/generate writes up to this many tokens (the model's context is 512, so more rarely fits). */
export const GENERATE_MAX_TOKENS = 384;
/** More attempts after Enter when the trimmer leaves nothing (each one more model decode). */
const FIRST_LINE_RETRIES = 2;
/** Where a confidence cut ends the text: measured in bench/results/eval-confidence.md. */
export const CONFIDENCE_BOUNDARY: CutBoundary = 'word';

export async function completeAt(env: CompletionEnv, doc: DocumentView, offset: number, options: CompleteAtOptions): Promise<CompleteAtResult> {
  const start = performance.now();
  const { engine } = env;
  const version = doc.version;

  // ptp/generate's instruction goes into a copy of the text, just before the cursor.
  let view: DocumentView = doc;
  let at = offset;
  if (options.instruction !== undefined && options.instruction.trim() !== '') {
    const inserted = instructionBlock(doc.text, offset, options.instruction);
    // The copy has no tree: the context layer falls back to indentation and bracket rules.
    view = { languageId: doc.languageId, text: doc.text.slice(0, offset) + inserted + doc.text.slice(offset) };
    at = offset + inserted.length;
  }

  // Generate Code: a line that states the instruction again starts the task over; cut before it.
  const instructionLine = options.instruction !== undefined && options.instruction.trim() !== '' ? options.instruction.replace(/\r?\n/g, ' ').trim() : undefined;
  const planned = plan(env, view, at, options);
  if ('reason' in planned) return { kind: 'rejected', ...planned };
  const { prompt, info, typed } = planned;
  const { decoding } = options;
  const onText = options.onText;
  const firstLine = options.firstLine ?? planned.emptyLine;
  const minConfidence = options.mode !== 'inline' ? undefined : (options.confidenceThreshold ?? confidenceThreshold(options.confidence, options.explicit === true));
  const attempt = async (firstLineBan: readonly number[]): Promise<{ result: DecodeResult; text: string; withheld?: Withheld }> => {
    const stopper = makeStopper(view, at, info, instructionLine === undefined ? [] : [instructionLine]);
    const stop = (raw: string): number | undefined => {
      const after = typed.after(raw);
      if (after === undefined) return undefined;
      const lineEnd = options.stopAtLineBreak === true ? after.text.indexOf('\n') : -1;
      const cut = lineEnd < 0 ? stopper(after.text) : (stopper(after.text.slice(0, lineEnd)) ?? lineEnd);
      return cut === undefined ? undefined : after.offset + cut;
    };
    const streamed = new CompleteLines(onText);
    const result = await engine.complete(planned.enginePrompt, {
      decoder: decoding.decoder,
      seed: decoding.seed,
      temperature: decoding.temperature,
      topK: decoding.topK,
      topP: decoding.topP,
      blockSize: decoding.decoder === 'ar' ? 1 : info.blockSize,
      budget: decoding.decoder === 'ar' ? 0 : (options.budget ?? info.budget),
      ...(decoding.lookup !== undefined ? { lookup: decoding.lookup } : {}),
      ...(options.references !== undefined && options.references.length > 0 ? { references: options.references } : {}),
      ...(options.cacheModel === true ? { cacheModel: true } : {}),
      typedAhead: typed.ws,
      firstLine,
      firstLineBan,
      maxTokens: info.maxTokens,
      ...(minConfidence !== undefined ? { minConfidence } : {}),
      stop,
      signal: options.signal,
      cacheKey: options.cacheKey,
      onText: onText ? (raw) => streamed.push(restoreEol(typed.after(raw)?.text ?? '', prompt.eol)) : undefined,
    });
    // The context layer reads doc.text and doc.tree: both must still be the ones analyzed.
    if (doc.version !== version) return { result, text: '' };
    let raw = typed.after(result.text)?.text ?? '';
    const unsure = result.unsure === undefined ? undefined : { ...result.unsure, text: engine.decode([result.unsure.token]) };
    const boundary = options.confidenceBoundary ?? CONFIDENCE_BOUNDARY;
    if (unsure !== undefined) raw = cutBack(raw, unsure.text, boundary);
    const trimmed = trimCompletion(view, at, raw, info, { partial: unsure !== undefined && boundary !== 'syntax' });
    // Cut where the model stopped being sure: less than a word of code left is not worth showing.
    if (unsure !== undefined && minConfidence !== undefined && (trimmed.trim() === '' || !holdsWord(trimmed))) {
      return { result, text: '', withheld: withheldReason(trimmed, unsure, minConfidence) };
    }
    return { result, text: trimmed.trim() === '' ? '' : restoreEol(trimmed, prompt.eol) };
  };
  let { result, text, withheld } = await attempt([]);
  if (doc.version !== version) return { kind: 'stale' };
  // After Enter, a first line the trimmer took back (a docstring opened and never closed, a
  // header whose body did not fit) leaves the person nothing. Up to FIRST_LINE_RETRIES more
  // attempts, inline only, each with the first code token of the ones before ruled out: the
  // same rule in AR and PTP, so the same text.
  const banned: number[] = [];
  // Not after a confidence cut: the model was unsure there, and a banned first token makes it less so.
  while (firstLine && text === '' && withheld === undefined && options.mode === 'inline' && banned.length < FIRST_LINE_RETRIES && !options.signal?.aborted) {
    const first = engine.firstCodeToken(result.tokens, result.healed);
    if (first < 0) break;
    banned.push(result.tokens[first]!);
    ({ result, text, withheld } = await attempt(banned));
    if (doc.version !== version) return { kind: 'stale' };
  }
  const stats: CompletionStats = {
    requestId: options.requestId,
    seed: decoding.seed,
    scope: info.scope,
    blockSize: result.blockSize,
    calls: result.calls,
    tokens: result.tokens.length,
    tokensPerCall: round(result.tokensPerCall, 3),
    msPrefill: round(result.msPrefill, 1),
    msDecode: round(result.msDecode, 1),
    msTotal: round(performance.now() - start, 1),
    stopReason: result.stopReason,
    promptTokens: result.promptTokens,
    reusedTokens: result.reusedTokens,
    confidence: round(shownConfidence(engine, result, text), 4),
    ...(withheld !== undefined ? { withheld } : {}),
  };
  // Inline: what the editor inserts, fitted to the cursor's line (fitCompletion.ts).
  const item = options.mode === 'inline' && text !== '' ? fitAt(doc.text, offset, text, options.explicit === true) : undefined;
  return { kind: 'done', text, ...(item !== undefined ? { item } : {}), rawText: result.text, stats, calls: traceCalls(engine, result.trace), promptPreview: preview(prompt), info, result, ...(planned.snippet !== undefined ? { snippet: planned.snippet } : {}) };
}

/**
 * Warms the engine's cache for a completion at `offset` with these options: the same prompt
 * `completeAt` would send, run through the model without generating. The worker does this
 * where the cursor comes to rest, so the first keystroke there reuses the cache instead of
 * prefilling ~300 prompt tokens. Returns the prompt tokens run, or undefined when there is no
 * prompt here.
 */
export async function warmAt(env: CompletionEnv, doc: DocumentView, offset: number, options: CompleteAtOptions): Promise<number | undefined> {
  const planned = plan(env, doc, offset, options);
  if ('reason' in planned) return undefined;
  const warm = await env.engine.prefill(planned.enginePrompt, { maxTokens: planned.info.maxTokens, cacheKey: options.cacheKey, signal: options.signal });
  return warm.prefilled;
}

/**
 * The engine prompt `completeAt` would send for `doc` at `offset` (before healing and
 * truncation: `engine.promptIds(prompt, { maxTokens })` gives its tokens), its token cap and
 * the snippet it carries; undefined when there is no prompt here. For tests and benchmarks.
 */
export function promptAt(env: CompletionEnv, doc: DocumentView, offset: number, options: CompleteAtOptions): { prompt: Prompt; maxTokens: number; snippet?: SnippetInfo } | undefined {
  const planned = plan(env, doc, offset, options);
  if ('reason' in planned) return undefined;
  return { prompt: planned.enginePrompt, maxTokens: planned.info.maxTokens, ...(planned.snippet !== undefined ? { snippet: planned.snippet } : {}) };
}

/**
 * What `completeAt` and `warmAt` send the engine for `view` at `at`: the FIM prompt, the scope,
 * the whitespace typed before the cursor, and the prompt without it; or why there is no prompt.
 */
function plan(
  env: CompletionEnv,
  view: DocumentView,
  at: number,
  options: CompleteAtOptions,
): { prompt: FimPrompt; info: ScopeInfo; typed: TypedWhitespace; enginePrompt: Prompt; emptyLine: boolean; snippet?: SnippetInfo } | { reason: NoPromptReason; detail: string } {
  const built = buildPrompt(view.text, at);
  if (built.prompt === null) return { reason: built.reason, detail: built.detail };
  const prompt = built.prompt;
  const typed = new TypedWhitespace(options.holdTypedWhitespace === false ? '' : (/[ \t]+$/.exec(prompt.prefix)?.[0] ?? ''));
  const enginePrompt: Prompt = { prefix: prompt.prefix.slice(0, prompt.prefix.length - typed.ws.length), ...(prompt.suffix !== '' ? { suffix: prompt.suffix } : {}) };
  // After Enter the cursor's line holds only indentation: the completion must write that line
  // (the engine's first-line rule), not end at once or start with a line break.
  const emptyLine = /(^|\n)[ \t]*$/.test(prompt.prefix) && /^[ \t]*(\n|$)/.test(prompt.suffix);
  const snippet = options.snippets === true && enginePrompt.suffix !== undefined ? snippetFor(env.engine, view.languageId, enginePrompt.prefix, options) : undefined;
  if (snippet !== undefined) {
    enginePrompt.context = snippet.text;
    if ((options.snippetLayout ?? SNIPPET_LAYOUT) === 'file_sep') enginePrompt.contextSeparator = true;
  }
  return { prompt, info: scopeInfo(env, view, at, options), typed, enginePrompt, emptyLine, ...(snippet !== undefined ? { snippet } : {}) };
}

/**
 * The retrieved snippet for a prompt ending with `prefix` (src/engine/snippets.ts), written as
 * the layout says; undefined when none matches well enough or no whole line of it is left.
 */
function snippetFor(engine: Engine, languageId: string, prefix: string, options: CompleteAtOptions): SnippetInfo | undefined {
  const references = options.references ?? [];
  if (!references.some(snippetSource)) return undefined;
  const start = performance.now();
  const upTo = (options.snippetQuery ?? SNIPPET_QUERY_FROM) === 'lines' ? prefix.lastIndexOf('\n') + 1 : prefix.length;
  const tail = prefix.slice(Math.max(0, upTo - QUERY_CHARS), upTo);
  if (tail.trim() === '') return undefined;
  const query = engine.encode(tail).slice(-SNIPPET_QUERY);
  const found = retrieveSnippet(query, references);
  if (found === undefined) return undefined;
  const text = formatSnippet(engine.decode(found.tokens), options.snippetLayout ?? SNIPPET_LAYOUT, { fromStart: found.offset === 0, toEnd: found.toEnd, name: snippetName(found.id), languageId });
  if (text === undefined) return undefined;
  return { source: found.source, id: found.id, score: found.score, text, ms: performance.now() - start };
}

/**
 * Streams whole lines only. A stop rule may still cut inside the line being written (before a
 * closing bracket, at a repeated line once it completes), so the partial text a client sees
 * only ever grows: every partial is a prefix of the final text.
 */
class CompleteLines {
  private sent = -1;

  constructor(private readonly emit: ((text: string) => void) | undefined) {}

  push(text: string): void {
    const end = text.lastIndexOf('\n');
    const upTo = end > 0 && text[end - 1] === '\r' ? end - 1 : end;
    if (upTo > this.sent) {
      this.sent = upTo;
      this.emit?.(text.slice(0, upTo));
    }
  }
}

/**
 * The whitespace typed before the cursor, held back from the prompt, and where the model's
 * text continues past it. The model usually re-types it exactly; where it indents less (a
 * dedent the cursor cannot express), more, or with other characters, all of its leading
 * spaces and tabs are dropped: the person's indentation wins for the first line, so the text
 * shown starts with code right at the cursor.
 */
class TypedWhitespace {
  constructor(readonly ws: string) {}

  /** The model's text after its leading whitespace; undefined while that could still go on. */
  after(raw: string): { text: string; offset: number } | undefined {
    if (this.ws === '') return { text: raw, offset: 0 };
    let i = 0;
    while (i < raw.length && (raw[i] === ' ' || raw[i] === '\t')) i++;
    if (i === raw.length) return undefined;
    return { text: raw.slice(i), offset: i };
  }
}

/**
 * Scope, token cap, M and B. In generate mode the scope is a block whatever the cursor
 * says (the stop rules then end it where the enclosing bracket or body ends).
 */
function scopeInfo(env: CompletionEnv, view: DocumentView, at: number, options: CompleteAtOptions): ScopeInfo {
  const acceptance = env.engine.manifest.ptp.acceptance_histogram;
  const fixedM = typeof options.decoding.blockSize === 'number' ? { blockSize: options.decoding.blockSize } : undefined;
  const cap = options.maxTokens;
  const perScope = typeof cap === 'number' ? Object.fromEntries(Object.keys(DEFAULT_MAX_TOKENS).map((s) => [s, cap])) : cap;
  const info = analyze(view, at, { maxTokens: perScope, latency: env.latency, acceptance, blockSize: fixedM });
  if (options.mode === 'inline') return info;
  const maxTokens = typeof cap === 'number' ? cap : (cap?.block ?? GENERATE_MAX_TOKENS);
  const blockChoice = chooseBlockSize('block', env.latency, acceptance, fixedM);
  return {
    ...info,
    scope: 'block',
    maxTokens,
    blockSize: Math.min(blockChoice.blockSize, maxTokens),
    budget: blockChoice.budget,
    reason: 'generate',
    blockChoice,
  };
}

/**
 * The instruction as its own line before the cursor:
 *
 *   "    |"      -> "    // sort by name\n    |"   (indentation repeated after it)
 *   "x = 1|"     -> "x = 1\n// sort by name\n|"
 */
function instructionBlock(text: string, offset: number, instruction: string): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const before = text.slice(lineStart, offset);
  const line = instruction.replace(/\r?\n/g, ' ').trim();
  if (before.trim() === '') return `${line}\n${before}`;
  const indent = /^[ \t]*/.exec(before)![0];
  return `\n${indent}${line}\n${indent}`;
}

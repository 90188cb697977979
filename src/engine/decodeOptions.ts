/**
 * What a request asks of the Engine (DecodeOptions, checked once per request) and what it gets
 * back (DecodeResult).
 */
import type { CacheWeights } from './cacheModel';
import type { DraftReference } from './lookup';
import type { CallTrace, StopReason, UnsureStop } from './generation';
import { validateSamplingParams } from './sampling';

export interface DecodeOptions {
  decoder: 'ptp' | 'ar';
  seed: number;
  temperature: number;
  topK: number;
  topP: number;
  /** M: most tokens drafted (and committed) per call; 1 is AR. ('auto' is the block-size policy's to resolve: src/completion.) */
  blockSize: number;
  /** B: draft rows per call across all hypotheses; default 2 * M. */
  budget?: number;
  maxTokens: number;
  stop?: (text: string) => number | undefined;
  signal?: AbortSignal;
  onCall?: (t: CallTrace) => void;
  onText?: (textSoFar: string) => void;
  /** Usually the document URI: requests with the same key share the KV cache. */
  cacheKey?: string;
  /**
   * Token healing (healing.ts): the prompt drops its last token (and the rest of the word it
   * ends in) and the output re-types them first; the completion is the text after them.
   * Default true.
   */
  heal?: boolean;
  /**
   * The completion's first line must hold code (firstLine.ts): until it does, end-of-text and
   * line breaks are masked, then end-of-text until a line break ends that line. For a cursor on
   * an empty line, where the person wants that line written. Default false.
   */
  firstLine?: boolean;
  /** With `firstLine`: tokens that may not start the first line's code (a second attempt's). */
  firstLineBan?: readonly number[];
  /**
   * End the completion before the token at which the running product of the tokens'
   * probabilities falls below this (confidence.ts; both decoders, the same cut). Default: none.
   */
  minConfidence?: number;
  /** PTP also drafts from the context (lookup.ts); output is the same either way. Default true. */
  lookup?: boolean;
  /**
   * Whitespace the person typed at the cursor that the prompt leaves out (completeAt holds the
   * indentation after Enter back): the output most likely starts with it. With `lookup`, PTP
   * drafts it (after the healed text, when that is whitespace too) on its first call; output is
   * the same either way.
   */
  typedAhead?: string;
  /**
   * With `lookup`: token indexes of other text to draft from too (the document beyond the
   * prompt's window, the open files, the workspace); output is the same either way.
   */
  references?: readonly DraftReference[];
  /**
   * Mix the cache model (cacheModel.ts) into the output distribution: what followed the longest
   * earlier match of the ending in the prompt, the output and the open-file and workspace
   * `references`. This changes the text (both decoders the same way). true: CACHE_WEIGHTS;
   * a table: those weights (calibration). Default false.
   */
  cacheModel?: boolean | CacheWeights;
  /**
   * PTP drops the speculation's tail where the chance that all of it is accepted falls below
   * this (ptp.ts truncate(); default 0.2): a tuning knob for benchmarks.
   */
  minSurvival?: number;
  /** Most uncached prompt rows per call (default PREFILL_CHUNK): a tuning knob for benchmarks. */
  prefillChunk?: number;
}

export interface DecodeResult {
  text: string;
  tokens: number[];
  calls: number;
  tokensPerCall: number;
  /** Wall time from the request's start through the first model call (prompt rows + first token). */
  msPrefill: number;
  /** Wall time of all later calls, engine work included. */
  msDecode: number;
  blockSize: number;
  stopReason: StopReason;
  /** Per token of `tokens`: the probability the model gave it (temperature 1, before top-k/top-p). */
  confidence: number[];
  /** When the confidence rule ended it: the token it stopped before, that token's probability, and the product with it. */
  unsure?: UnsureStop;
  trace: CallTrace[];
  /** Draft rows per call (B); 0 for AR. */
  budget: number;
  /** Time inside session.run for this request. */
  modelTimeMs: number;
  /** Time outside session.run (layout, sampling, cache, detokenizing) for this request. */
  engineTimeMs: number;
  promptTokens: number;
  /** Prompt tokens whose KV came from the cache. */
  reusedTokens: number;
  /** The prompt's last token or word, dropped from the prompt and re-typed first (not in `text`); '' when none. */
  healed: string;
}

/** Draft rows per call per unit of M when the caller gives no budget. */
export const DEFAULT_BUDGET_PER_BLOCK = 2;
/**
 * Most uncached prompt rows per model call. A longer prompt is filled in calls of this many
 * rows before decoding starts, so that no call is wider than this (or than a decoding call),
 * and a cancelled request stops after the current chunk. 320 is the widest prompt the engine
 * builds for a 512-token context (context minus OUTPUT_RESERVE): every prompt of the shipped
 * model goes in one call, and a longer-context model's prompt in chunks of this size. Smaller
 * chunks cost memory for time: 128-row chunks ended a soak 15 MiB lower but got the first
 * tokens of a cold 320-token prompt 6-8% later, 64-row chunks 16-20% later
 * (bench/results/prefill-chunks.md, soak-variants.md).
 */
export const PREFILL_CHUNK = 320;

/** The request's prompt rows per call: its `prefillChunk`, else PREFILL_CHUNK. @throws RangeError */
export function prefillChunk(opts: Pick<DecodeOptions, 'prefillChunk'>): number {
  const chunk = opts.prefillChunk ?? PREFILL_CHUNK;
  if (!Number.isInteger(chunk) || chunk < 1) throw new RangeError(`prefillChunk must be an integer >= 1, got ${chunk}`);
  return chunk;
}

export function checkOptions(opts: DecodeOptions): { M: number; B: number } {
  if (opts.decoder !== 'ptp' && opts.decoder !== 'ar') throw new RangeError(`decoder must be 'ptp' or 'ar', got ${String(opts.decoder)}`);
  if (!Number.isInteger(opts.maxTokens) || opts.maxTokens < 0) throw new RangeError(`maxTokens must be an integer >= 0, got ${opts.maxTokens}`);
  validateSamplingParams(opts);
  const M = opts.blockSize;
  if (!Number.isInteger(M) || M < 1) throw new RangeError(`blockSize must be an integer >= 1 (the block-size policy resolves 'auto'), got ${String(M)}`);
  const B = opts.budget ?? DEFAULT_BUDGET_PER_BLOCK * M;
  if (!Number.isInteger(B) || B < 0) throw new RangeError(`budget must be an integer >= 0, got ${opts.budget}`);
  if (opts.minConfidence !== undefined && !(opts.minConfidence >= 0 && opts.minConfidence <= 1)) throw new RangeError(`minConfidence must be in [0, 1], got ${opts.minConfidence}`);
  if (opts.minSurvival !== undefined && !(opts.minSurvival >= 0 && opts.minSurvival <= 1)) throw new RangeError(`minSurvival must be in [0, 1], got ${opts.minSurvival}`);
  return { M, B };
}

/**
 * The Engine: one loaded model, its tokenizer, and the KV cache of recent requests. Requests
 * run one at a time (one ORT session, one cache per key); each reuses the longest common token
 * prefix with the previous request under the same cacheKey and prefills only the rest.
 */
import { performance } from 'node:perf_hooks';
import { decodeAr } from './ar';
import type { DecoderHooks, DecodeState } from './decoder';
import type { Forward } from './forward';
import { Generation, type CallTrace, type StopReason, type UnsureStop } from './generation';
import { FirstLineRule, firstCodeToken } from './firstLine';
import { TokenHealing } from './healing';
import { KvCache } from './kvcache';
import { hasAdapters, kvHeads, type Manifest } from './manifest';
import { loadModel, type LoadOptions } from './model';
import { layoutCall } from './mask';
import type { DraftReference } from './lookup';
import { fimLayout, hasFim, promptTokens, suffixSpan, type Prompt } from './prompt';
import { decodePtp } from './ptp';
import type { CallTiming } from './runner';
import { validateSamplingParams } from './sampling';
import type { CodeTokenizer } from './tokenizer';
import { UStream } from './ustream';

export interface DecodeOptions {
  decoder: 'ptp' | 'ar';
  seed: number;
  temperature: number;
  topK: number;
  topP: number;
  /** M: most tokens drafted (and committed) per call. 'auto' => DEFAULT_BLOCK_SIZE. */
  blockSize: number | 'auto';
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

export type { CallTrace, StopReason, UnsureStop };

/** Block size and budget when the caller passes blockSize 'auto' (it normally resolves it). */
export const DEFAULT_BLOCK_SIZE = 8;
export const DEFAULT_BUDGET_PER_BLOCK = 2;
/** Tokens of context kept free for the output of any inline completion (the largest scope cap). */
export const OUTPUT_RESERVE = 192;
/** Documents whose caches are kept (least recently used dropped first). */
const CACHE_SLOTS = 4;
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

/** Everything an Engine runs on; `Engine.load` builds it from a model directory. */
export interface EngineParts {
  manifest: Manifest;
  modelDir: string;
  tokenizer: CodeTokenizer;
  forward: Forward;
  timings?: () => readonly CallTiming[];
  dispose?: () => Promise<void>;
  /** The requested device did not load and the CPU runs instead: why, and what to install. */
  deviceNote?: string;
}

interface CacheSlot {
  cache: KvCache;
  /** The tokens whose keys/values the cache holds (cache.length of them). */
  tokens: number[];
}

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** After a failed call the cache may hold rows the token list does not: start the slot over. */
function forget(slot: CacheSlot): void {
  slot.cache.crop(0);
  slot.tokens = [];
}

/** The request's prompt rows per call: its `prefillChunk`, else PREFILL_CHUNK. @throws RangeError */
function prefillChunk(opts: Pick<DecodeOptions, 'prefillChunk'>): number {
  const chunk = opts.prefillChunk ?? PREFILL_CHUNK;
  if (!Number.isInteger(chunk) || chunk < 1) throw new RangeError(`prefillChunk must be an integer >= 1, got ${chunk}`);
  return chunk;
}

function checkOptions(opts: DecodeOptions): { M: number; B: number } {
  if (opts.decoder !== 'ptp' && opts.decoder !== 'ar') throw new RangeError(`decoder must be 'ptp' or 'ar', got ${String(opts.decoder)}`);
  if (!Number.isInteger(opts.maxTokens) || opts.maxTokens < 0) throw new RangeError(`maxTokens must be an integer >= 0, got ${opts.maxTokens}`);
  validateSamplingParams(opts);
  const M = opts.blockSize === 'auto' ? DEFAULT_BLOCK_SIZE : opts.blockSize;
  if (!Number.isInteger(M) || M < 1) throw new RangeError(`blockSize must be 'auto' or an integer >= 1, got ${opts.blockSize}`);
  const B = opts.budget ?? DEFAULT_BUDGET_PER_BLOCK * M;
  if (!Number.isInteger(B) || B < 0) throw new RangeError(`budget must be an integer >= 0, got ${opts.budget}`);
  if (opts.minConfidence !== undefined && !(opts.minConfidence >= 0 && opts.minConfidence <= 1)) throw new RangeError(`minConfidence must be in [0, 1], got ${opts.minConfidence}`);
  if (opts.minSurvival !== undefined && !(opts.minSurvival >= 0 && opts.minSurvival <= 1)) throw new RangeError(`minSurvival must be in [0, 1], got ${opts.minSurvival}`);
  return { M, B };
}

export class Engine {
  readonly manifest: Manifest;
  readonly modelDir: string;
  private readonly tokenizer: CodeTokenizer;
  private readonly forward: Forward;
  private readonly parts: EngineParts;
  private readonly slots = new Map<string, CacheSlot>();
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  /** Loads and validates a model directory. @throws ModelLoadError */
  static async load(modelDir: string, opts: LoadOptions = {}): Promise<Engine> {
    return new Engine(await loadModel(modelDir, opts));
  }

  /** An engine over parts you built yourself (tests and benches with another Forward). */
  static fromParts(parts: EngineParts): Engine {
    return new Engine(parts);
  }

  private constructor(parts: EngineParts) {
    this.parts = parts;
    this.manifest = parts.manifest;
    this.modelDir = parts.modelDir;
    this.tokenizer = parts.tokenizer;
    this.forward = parts.forward;
  }

  /** Set when the requested device fell back to the CPU: one line, what to install. */
  get deviceNote(): string | undefined {
    return this.parts.deviceNote;
  }

  encode(text: string): number[] {
    return this.tokenizer.encode(text);
  }

  decode(ids: number[]): string {
    return this.tokenizer.decode(ids);
  }

  /** Median model-call time by rows per call, from the calls run so far; undefined before any. */
  latencyCurve(): { rows: number; ms: number }[] | undefined {
    const timings = this.parts.timings?.() ?? [];
    if (timings.length === 0) return undefined;
    const byRows = new Map<number, number[]>();
    for (const t of timings) byRows.set(t.rows, [...(byRows.get(t.rows) ?? []), t.ms]);
    return [...byRows.entries()]
      .sort(([a], [b]) => a - b)
      .map(([rows, ms]) => ({ rows, ms: ms.sort((x, y) => x - y)[ms.length >> 1]! }));
  }

  /**
   * Completes a prompt. Requests are queued and run one at a time.
   * @param hooks test-only fault injection and drafter replacement; never set in production.
   */
  complete(prompt: Prompt, opts: DecodeOptions, hooks?: DecoderHooks): Promise<DecodeResult> {
    return this.enqueue('complete', () => this.run(prompt, opts, hooks));
  }

  /** Runs `work` after every request queued before it (one ORT session, one request at a time). */
  private enqueue<T>(what: string, work: () => Promise<T>): Promise<T> {
    if (this.disposed) return Promise.reject(new Error(`Engine.${what}: the engine was disposed`));
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.queue;
    for (const slot of this.slots.values()) slot.cache.dispose();
    this.slots.clear();
    await this.parts.dispose?.();
  }

  private slot(key: string): CacheSlot {
    let slot = this.slots.get(key);
    if (slot) {
      this.slots.delete(key);
    } else if (this.slots.size >= CACHE_SLOTS) {
      // The least recently used document's cache, emptied, holds the new one: its buffers have
      // already grown to a full prompt, and the garbage collector gets nothing to free.
      const [oldest, evicted] = this.slots.entries().next().value!;
      this.slots.delete(oldest);
      evicted.cache.crop(0);
      slot = { cache: evicted.cache, tokens: [] };
    } else {
      const { num_layers, head_dim } = this.manifest.architecture;
      slot = { cache: new KvCache({ numLayers: num_layers, numHeads: kvHeads(this.manifest), headDim: head_dim }, 256), tokens: [] };
    }
    this.slots.set(key, slot);
    return slot;
  }

  /**
   * Runs a prompt's tokens through the model into the cache under `cacheKey`, generating
   * nothing, so that a `complete` with the same prompt and options (or one that extends it, as
   * typing does) starts from a warm cache. Queued like `complete`.
   */
  prefill(prompt: Prompt, opts: Pick<DecodeOptions, 'maxTokens' | 'cacheKey' | 'heal' | 'signal' | 'prefillChunk'>): Promise<{ promptTokens: number; prefilled: number }> {
    return this.enqueue('prefill', async () => {
      if (opts.signal?.aborted) return { promptTokens: 0, prefilled: 0 };
      const { ids, slot, reused } = this.prepare(prompt, opts);
      // The last prompt token stays uncached, as in `complete`: its row is the first call's.
      await this.fill(slot, ids, ids.length - 1, prefillChunk(opts), opts.signal);
      return { promptTokens: ids.length, prefilled: slot.cache.length - reused };
    });
  }

  /**
   * Runs ids[cache.length, end) into the slot's cache, `chunk` rows per call, and stops early
   * (with what it has cached) when `signal` aborts. The token list follows the cache.
   */
  private async fill(slot: CacheSlot, ids: readonly number[], end: number, chunk: number, signal: AbortSignal | undefined): Promise<void> {
    try {
      while (slot.cache.length < end && !signal?.aborted) {
        const pastLen = slot.cache.length;
        const tokens = ids.slice(pastLen, Math.min(end, pastLen + chunk));
        const layout = layoutCall({ pastLen, tokens, contextRows: tokens.length, groups: [], firstOutputIndex: 0, u: () => 0 });
        const result = await this.forward.run({ ...layout, past: slot.cache.view() });
        slot.cache.append(result.newKeys, result.newValues, tokens.length);
        slot.tokens = ids.slice(0, slot.cache.length);
      }
    } catch (error) {
      forget(slot);
      throw error;
    }
  }

  /** The token ids a request with these options feeds the model for `prompt` (truncated, healed). */
  promptIds(prompt: Prompt, opts: Pick<DecodeOptions, 'maxTokens' | 'heal'>): number[] {
    return this.tokenize(prompt, opts).ids;
  }

  /** The prompt's token ids (truncated, healed) and its cache slot, cropped to the common prefix. */
  private prepare(prompt: Prompt, opts: Pick<DecodeOptions, 'maxTokens' | 'cacheKey' | 'heal'>) {
    const { built, ids, healing } = this.tokenize(prompt, opts);
    const slot = this.slot(opts.cacheKey ?? '');
    // Keep at least the last prompt token uncached: the first call needs a row that predicts.
    const reused = Math.min(commonPrefix(slot.tokens, ids), ids.length - 1);
    slot.cache.crop(reused);
    slot.tokens.length = reused;
    return { built, ids, healing, slot, reused };
  }

  private tokenize(request: Prompt, opts: Pick<DecodeOptions, 'maxTokens' | 'heal'>) {
    // A model without FIM tokens completes left to right from the prefix.
    const prompt = hasFim(this.tokenizer.special) ? request : { prefix: request.prefix };
    const contextLength = this.manifest.context_length;
    // Room kept for the output. Not the request's own cap: that changes with the scope from one
    // keystroke to the next, and a different prompt budget re-cuts the suffix-first prompt,
    // which throws the cached prefix away (bench/results/latency.md: 28% of keystrokes).
    const reserve = Math.min(Math.max(opts.maxTokens, OUTPUT_RESERVE), Math.floor(contextLength / 2));
    const built = promptTokens(prompt, (t) => this.tokenizer.encode(t), this.tokenizer.special, contextLength - Math.max(1, reserve), fimLayout(this.manifest.fim_layout));
    const { ids, healing } = this.heal(built.ids, built.prefixEnd, opts);
    return { built, ids, healing };
  }

  private async run(prompt: Prompt, opts: DecodeOptions, hooks: DecoderHooks | undefined): Promise<DecodeResult> {
    const start = performance.now();
    const { M, B } = checkOptions(opts);
    const contextLength = this.manifest.context_length;
    const { built, ids, healing, slot, reused } = this.prepare(prompt, opts);
    // All but the last chunk of prompt rows go in first; the rest is the first call's.
    const chunk = prefillChunk(opts);
    await this.fill(slot, ids, ids.length - chunk, chunk, opts.signal);

    let firstCallAt: number | undefined;
    const generation = new Generation(this.tokenizer.createDetokenizer(), {
      endOfText: this.tokenizer.special.endoftext,
      // The re-typed word is not part of the completion, nor of its token budget.
      maxTokens: opts.maxTokens + built.ids.length - ids.length,
      contextLength,
      promptLength: ids.length,
      stop: opts.stop,
      hiddenPrefix: healing?.text.length,
      minConfidence: opts.minConfidence,
      onCall: (t) => {
        firstCallAt ??= performance.now();
        opts.onCall?.(t);
      },
      onText: opts.onText,
    });
    const state: DecodeState = {
      forward: this.forward,
      cache: slot.cache,
      vocabSize: this.manifest.architecture.vocab_size,
      sequence: [...ids],
      sampling: { temperature: opts.temperature, topK: opts.topK, topP: opts.topP },
      u: new UStream(opts.seed),
      generation,
      healing,
      references: opts.references,
      typedDraft: opts.lookup === false ? undefined : this.typedDraft((healing?.text ?? '') + (opts.typedAhead ?? '')),
      suffixSpan: suffixSpan(ids, this.tokenizer.special),
      firstLine: opts.firstLine === true ? this.firstLineRule(healing, opts.firstLineBan ?? []) : undefined,
      signal: opts.signal,
      hooks,
    };
    if (opts.maxTokens === 0) generation.stopReason = 'maxTokens';
    else if (ids.length >= contextLength) generation.stopReason = 'context';
    try {
      // M = 1 is AR, except on a model without adapters: there PTP verifies context drafts only, whatever M.
      if (opts.decoder === 'ar' || (M === 1 && (hasAdapters(this.manifest) || opts.lookup === false))) await decodeAr(state);
      else await decodePtp(state, { blockSize: M, budget: B, histogram: this.manifest.ptp.acceptance_histogram, lookup: opts.lookup ?? true, drafter: hasAdapters(this.manifest), minSurvival: opts.minSurvival });
    } catch (error) {
      forget(slot);
      throw error;
    }
    slot.tokens = state.sequence.slice(0, slot.cache.length);

    const end = performance.now();
    const calls = generation.trace.length;
    const modelTimeMs = generation.trace.reduce((s, t) => s + t.ms, 0);
    const tokens = generation.finalTokens;
    return {
      text: generation.text,
      tokens,
      calls,
      tokensPerCall: calls > 0 ? generation.count / calls : 0,
      msPrefill: (firstCallAt ?? end) - start,
      msDecode: end - (firstCallAt ?? end),
      blockSize: opts.decoder === 'ar' ? 1 : M,
      stopReason: generation.stopReason ?? 'maxTokens',
      confidence: generation.finalConfidences,
      ...(generation.unsure !== undefined ? { unsure: generation.unsure } : {}),
      trace: generation.trace,
      budget: opts.decoder === 'ar' || M === 1 || !hasAdapters(this.manifest) ? 0 : B,
      modelTimeMs,
      engineTimeMs: end - start - modelTimeMs,
      promptTokens: ids.length,
      reusedTokens: reused,
      healed: healing?.text ?? '',
    };
  }

  /**
   * The tokens a whitespace `text` the output starts with most likely comes as: its encoding
   * with a word after it, less the token that holds the word (a byte-level BPE glues the last
   * space to the word: "\n    x" -> "\n", "   ", " x"). Undefined unless `text` is whitespace.
   */
  private typedDraft(text: string): number[] | undefined {
    if (text === '' || !/^\s+$/.test(text)) return undefined;
    const tokens = this.tokenizer.encode(`${text}x`).slice(0, -1);
    return tokens.length > 0 ? tokens : undefined;
  }

  private firstLineRule(healing: TokenHealing | undefined, ban: readonly number[]): FirstLineRule {
    const special = new Set(Object.values(this.tokenizer.special));
    return new FirstLineRule((id) => this.tokenizer.bytesOf(id), this.manifest.architecture.vocab_size, special, healing?.byteLength ?? 0, new Set(ban));
  }

  /** Index in `tokens` (healed text first, as DecodeResult.tokens) of the token that starts the first code, or -1 (firstLine.ts). */
  firstCodeToken(tokens: readonly number[], healed: string): number {
    return firstCodeToken(tokens, (id) => this.tokenizer.bytesOf(id), healed.length);
  }

  /** The prompt without its last token (or word), and the healing that re-types it (healing.ts). */
  private heal(ids: number[], at: number, opts: Pick<DecodeOptions, 'maxTokens' | 'heal'>): { ids: number[]; healing?: TokenHealing } {
    if (opts.heal === false || opts.maxTokens === 0) return { ids };
    // `at`: the prefix's last token (before <|fim_middle|> suffix-first, before <|fim_suffix|> prefix-first, else the last one).
    const special = new Set(Object.values(this.tokenizer.special));
    // Keep at least one prompt row: a prefix-only prompt that is one word is left alone.
    const found = TokenHealing.of(ids, at, 1, (id) => this.tokenizer.bytesOf(id), this.manifest.architecture.vocab_size, special);
    if (found === undefined) return { ids };
    return { ids: [...ids.slice(0, found.start), ...ids.slice(at + 1)], healing: found.healing };
  }
}

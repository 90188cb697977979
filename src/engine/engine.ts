/**
 * The Engine: one loaded model, its tokenizer, and the KV cache of recent requests. Requests
 * run one at a time (one ORT session, one cache per key); each reuses the longest common token
 * prefix with the previous request under the same cacheKey and prefills only the rest.
 */
import { performance } from 'node:perf_hooks';
import { decodeAr } from './ar';
import { CACHE_WEIGHTS, CacheModel } from './cacheModel';
import type { DecoderHooks, DecodeState } from './decoder';
import type { Forward } from './forward';
import { Generation, type CallTrace, type StopReason, type UnsureStop } from './generation';
import { checkOptions, DEFAULT_BUDGET_PER_BLOCK, PREFILL_CHUNK, prefillChunk, type DecodeOptions, type DecodeResult } from './decodeOptions';
import { FirstLineRule, firstCodeToken } from './firstLine';
import { TokenHealing } from './healing';
import { KvCache } from './kvcache';
import { hasAdapters, kvHeads, type Manifest } from './manifest';
import { loadModel, type LoadOptions } from './model';
import { layoutCall } from './mask';
import { fimLayout, hasFim, promptTokens, suffixSpan, type Prompt } from './prompt';
import { decodePtp } from './ptp';
import type { CallTiming } from './runner';
import type { CodeTokenizer } from './tokenizer';
import { UStream } from './ustream';

export type { CallTrace, StopReason, UnsureStop };
export type { DecodeOptions, DecodeResult };
export { DEFAULT_BUDGET_PER_BLOCK, PREFILL_CHUNK };

/** Tokens of context kept free for the output of any inline completion (the largest scope cap). */
export const OUTPUT_RESERVE = 192;
/** Documents whose caches are kept (least recently used dropped first). */
const CACHE_SLOTS = 4;
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
      cacheModel: opts.cacheModel === undefined || opts.cacheModel === false ? undefined : new CacheModel(ids, this.tokenizer.special, opts.references, opts.cacheModel === true ? CACHE_WEIGHTS : opts.cacheModel),
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

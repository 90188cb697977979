/**
 * The n-gram baseline: a 4-gram model over the tokenized training shards (data/tokens/train,
 * the same corpus and tokenizer the model was trained on), used greedily with backoff:
 *
 *   next(history) = the most frequent token after the longest context (last 3, 2 or 1
 *                   tokens) that occurs in training; ties go to the lowest id; with no
 *                   context seen, the most frequent token overall.
 *
 * (For greedy decoding this is Katz-style backoff: a lower order is consulted only when the
 * higher-order context was never seen, so no discounting constants are needed.)
 *
 * Counting: every position whose context lies inside one document (no n-gram spans two
 * documents) gives a key context * 8192 + next. With 13-bit token ids a 3-token context and
 * its next token fit in 52 bits, exact in a float64, so one sort of a Float64Array groups
 * equal contexts and, inside them, equal next tokens; one scan then keeps each context's most
 * frequent next token. Built once (~1 minute, ~1 GB of memory) and cached in data/ngram/
 * (ignored by git, like the corpus it needs).
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DecodeResult, Engine } from '../../src/engine';
import type { Decoder } from './engineSpy';
import { REPO } from './machine';

export const TOKENS_DIR = join(REPO, 'data/tokens/train');
export const CACHE_DIR = join(REPO, 'data/ngram');
const ORDER = 4;
const VOCAB_BITS = 13;
const BASE = 2 ** VOCAB_BITS;

interface Table {
  /** Sorted context keys. */
  keys: Float64Array;
  /** Most frequent next token per context. */
  best: Uint16Array;
}

function readTokens(): { tokens: Uint16Array; offsets: number[] } {
  const bin = readFileSync(join(TOKENS_DIR, 'tokens.bin'));
  const tokens = new Uint16Array(bin.buffer, bin.byteOffset, bin.length / 2);
  const idx = readFileSync(join(TOKENS_DIR, 'docs.idx'));
  const offsets = Array.from(new BigInt64Array(idx.buffer, idx.byteOffset, idx.length / 8), Number);
  return { tokens, offsets };
}

/** Most frequent next token per context of `n` tokens. */
function buildTable(tokens: Uint16Array, offsets: number[], n: number): Table {
  let count = 0;
  for (let d = 0; d + 1 < offsets.length; d++) count += Math.max(0, offsets[d + 1]! - offsets[d]! - n);
  const keys = new Float64Array(count);
  let k = 0;
  for (let d = 0; d + 1 < offsets.length; d++) {
    for (let i = offsets[d]! + n; i < offsets[d + 1]!; i++) {
      let ctx = 0;
      for (let j = i - n; j < i; j++) ctx = ctx * BASE + tokens[j]!;
      keys[k++] = ctx * BASE + tokens[i]!;
    }
  }
  keys.sort();
  const outKeys: number[] = [];
  const outBest: number[] = [];
  let i = 0;
  while (i < keys.length) {
    const ctx = Math.floor(keys[i]! / BASE);
    let best = -1;
    let bestCount = 0;
    while (i < keys.length && Math.floor(keys[i]! / BASE) === ctx) {
      const key = keys[i]!;
      let c = 0;
      while (i < keys.length && keys[i] === key) {
        c++;
        i++;
      }
      // Next tokens arrive in ascending id order: strict > keeps the lowest id on ties.
      if (c > bestCount) {
        bestCount = c;
        best = key - ctx * BASE;
      }
    }
    outKeys.push(ctx);
    outBest.push(best);
  }
  return { keys: Float64Array.from(outKeys), best: Uint16Array.from(outBest) };
}

function sourceStamp(): string {
  const s = statSync(join(TOKENS_DIR, 'tokens.bin'));
  return `${s.size}:${Math.floor(s.mtimeMs)}`;
}

export class NGramModel {
  private constructor(
    /** tables[n-1]: contexts of n tokens, n = 1..ORDER-1. */
    private readonly tables: Table[],
    private readonly unigram: number,
    readonly info: { order: number; trainingTokens: number; contexts: number[]; builtIn: string },
  ) {}

  /** Loads the cached tables, building them first if the cache is missing or stale. */
  static load(log: (line: string) => void = () => undefined): NGramModel {
    if (!existsSync(join(TOKENS_DIR, 'tokens.bin'))) {
      throw new Error(`${TOKENS_DIR}/tokens.bin is missing: the n-gram baseline needs the local tokenized corpus (training/tokenize_corpus.mjs)`);
    }
    const metaPath = join(CACHE_DIR, 'meta.json');
    const stamp = sourceStamp();
    if (existsSync(metaPath)) {
      const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as { stamp: string; unigram: number; trainingTokens: number; builtIn: string };
      if (meta.stamp === stamp) {
        const tables: Table[] = [];
        for (let n = 1; n < ORDER; n++) {
          const kb = readFileSync(join(CACHE_DIR, `ctx${n}.keys.f64`));
          const bb = readFileSync(join(CACHE_DIR, `ctx${n}.best.u16`));
          tables.push({
            keys: new Float64Array(kb.buffer.slice(kb.byteOffset, kb.byteOffset + kb.length)),
            best: new Uint16Array(bb.buffer.slice(bb.byteOffset, bb.byteOffset + bb.length)),
          });
        }
        return new NGramModel(tables, meta.unigram, { order: ORDER, trainingTokens: meta.trainingTokens, contexts: tables.map((t) => t.keys.length), builtIn: meta.builtIn });
      }
    }
    const started = performance.now();
    const { tokens, offsets } = readTokens();
    log(`n-gram: building ${ORDER}-gram tables from ${tokens.length} training tokens (cached in ${CACHE_DIR})`);
    const counts = new Float64Array(BASE);
    for (let i = 0; i < tokens.length; i++) counts[tokens[i]!]!++;
    let unigram = 0;
    for (let t = 1; t < BASE; t++) if (counts[t]! > counts[unigram]!) unigram = t;
    const tables: Table[] = [];
    mkdirSync(CACHE_DIR, { recursive: true });
    for (let n = 1; n < ORDER; n++) {
      const t = buildTable(tokens, offsets, n);
      tables.push(t);
      writeFileSync(join(CACHE_DIR, `ctx${n}.keys.f64`), new Uint8Array(t.keys.buffer));
      writeFileSync(join(CACHE_DIR, `ctx${n}.best.u16`), new Uint8Array(t.best.buffer));
      log(`n-gram: ${t.keys.length} contexts of ${n} token(s), ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
    const builtIn = `${((performance.now() - started) / 1000).toFixed(0)} s`;
    writeFileSync(metaPath, JSON.stringify({ stamp, unigram, trainingTokens: tokens.length, builtIn }));
    return new NGramModel(tables, unigram, { order: ORDER, trainingTokens: tokens.length, contexts: tables.map((t) => t.keys.length), builtIn });
  }

  /** The greedy next token after `history`. */
  next(history: readonly number[]): number {
    for (let n = Math.min(ORDER - 1, history.length); n >= 1; n--) {
      let ctx = 0;
      for (let j = history.length - n; j < history.length; j++) ctx = ctx * BASE + history[j]!;
      const { keys, best } = this.tables[n - 1]!;
      let lo = 0;
      let hi = keys.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const k = keys[mid]!;
        if (k === ctx) return best[mid]!;
        if (k < ctx) lo = mid + 1;
        else hi = mid - 1;
      }
    }
    return this.unigram;
  }

  /**
   * Greedy continuation of `history` until `stop` returns a cut index for the decoded text
   * (then cut there) or `maxTokens` tokens.
   */
  complete(history: readonly number[], decode: (ids: number[]) => string, maxTokens: number, stop: (text: string) => number | undefined): string {
    const ctx = [...history];
    const out: number[] = [];
    let text = '';
    for (let i = 0; i < maxTokens; i++) {
      const t = this.next(ctx);
      ctx.push(t);
      out.push(t);
      text = decode(out);
      const cut = stop(text);
      if (cut !== undefined) return text.slice(0, cut);
    }
    return text;
  }

  /**
   * This model in the engine's place (bench/lib/engineSpy.ts `decoder`), so the baseline runs
   * through the same pipeline as the model: greedy from the prompt's prefix (it reads no
   * suffix; the last 2,000 characters, well past its 3 tokens of context), up to the request's
   * stop rule or token cap, in `engine`'s tokens. No token healing, no first-line rule.
   */
  decoder(engine: Engine): Decoder {
    return async (prompt, options): Promise<DecodeResult> => {
      const history = engine.encode(prompt.prefix.slice(-2000));
      const text = this.complete(history, (ids) => engine.decode(ids), options.maxTokens, options.stop ?? (() => undefined));
      const tokens = engine.encode(text);
      return {
        text,
        tokens,
        calls: tokens.length,
        tokensPerCall: 1,
        msPrefill: 0,
        msDecode: 0,
        blockSize: 1,
        stopReason: 'stop',
        confidence: [],
        trace: [],
        budget: 0,
        modelTimeMs: 0,
        engineTimeMs: 0,
        promptTokens: history.length,
        reusedTokens: 0,
        healed: '',
      };
    };
  }
}

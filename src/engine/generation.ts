/**
 * The output side of one request, shared by the AR and PTP decoders: committed tokens, their
 * text, the per-call trace and every stop rule. Both decoders feed it the tokens each call
 * commits, in order, so for the same token stream they stop at the same place.
 */
import type { LookupSource } from './lookup';
import type { IncrementalDetokenizer } from './tokenizer';

import { confidenceSteps, stepLimit, stepsToProbability } from './confidence';

/** `unsure`: the confidence rule (confidence.ts) ended the completion before a token. */
export type StopReason = 'eot' | 'maxTokens' | 'stop' | 'cancelled' | 'context' | 'unsure';

/**
 * Where the speculation a call verified came from: PTP's drafter, a lookup source (lookup.ts),
 * the whitespace typed at the cursor (the first call's), or none.
 */
export type DraftSource = 'ptp' | LookupSource | 'typed' | 'none';

export interface CallTrace {
  index: number;
  committed: number[];
  committedText: string;
  /** Per committed token: the probability the model gave it (sampling.ts tokenProbability). */
  confidence: number[];
  acceptedDrafts: number;
  draft: DraftSource;
  rows: number;
  ms: number;
}

export interface GenerationOptions {
  endOfText: number;
  maxTokens: number;
  /** Tokens the sequence may hold (prompt included) before decoding must stop. */
  contextLength: number;
  promptLength: number;
  /**
   * Checked on the whole generated text after every call; a returned char index ends the
   * request and cuts the text there. It should be prefix-monotone (once it fires on a text, it
   * fires at the same index on any extension), which holds for "first occurrence of X" rules.
   */
  stop?: (text: string) => number | undefined;
  onCall?: (trace: CallTrace) => void;
  onText?: (textSoFar: string) => void;
  /**
   * Characters at the start of the output that are not part of the completion (token healing
   * re-types the prompt's last word first). `text`, `stop` and `onText` see the text after them.
   */
  hiddenPrefix?: number;
  /**
   * End the completion before the token at which the running product of the tokens'
   * probabilities falls below this (confidence.ts). Tokens before the first non-whitespace
   * character of the completion (the healed word, the typed indentation) do not count.
   */
  minConfidence?: number;
}

/** Where the confidence rule stopped: the token it stopped before and the running confidence there. */
export interface UnsureStop {
  token: number;
  /** The token's own probability. */
  probability: number;
  /** The running confidence the completion would have had with it. */
  confidence: number;
}

export class Generation {
  readonly tokens: number[] = [];
  /** Per token in `tokens`: its probability (sampling.ts tokenProbability). */
  readonly confidences: number[] = [];
  readonly trace: CallTrace[] = [];
  stopReason: StopReason | undefined;
  /** Set when the confidence rule ended the completion. */
  unsure: UnsureStop | undefined;
  private cutAt: number | undefined;
  /** Running -ln(confidence) in steps over the tokens that count, and the limit. */
  private steps = 0;
  private readonly limit: number;
  private coded = false;

  constructor(
    private readonly detok: IncrementalDetokenizer,
    private readonly options: GenerationOptions,
  ) {
    this.limit = options.minConfidence === undefined ? Number.POSITIVE_INFINITY : stepLimit(options.minConfidence);
  }

  /** The running confidence of the text so far (1 before any token counts), as the rule rounds it. */
  get runningConfidence(): number {
    return stepsToProbability(this.steps);
  }

  get done(): boolean {
    return this.stopReason !== undefined;
  }

  /** Output index of the next token (tokens committed so far). */
  get count(): number {
    return this.tokens.length;
  }

  /** Tokens this request may still commit before hitting maxTokens or the context length. */
  get remaining(): number {
    const { maxTokens, contextLength, promptLength } = this.options;
    return Math.max(0, Math.min(maxTokens - this.count, contextLength - promptLength - this.count));
  }

  cancel(): void {
    this.stopReason ??= 'cancelled';
  }

  /**
   * Records one call. `tokens` are the tokens the call committed, in order; those after an
   * end-of-text token or beyond a limit are dropped. Returns how many were kept.
   */
  commitCall(tokens: readonly number[], info: { confidence: readonly number[]; acceptedDrafts: number; draft: DraftSource; rows: number; ms: number }): number {
    const { endOfText, maxTokens, contextLength, promptLength } = this.options;
    const kept: number[] = [];
    let text = '';
    for (const [i, t] of tokens.entries()) {
      if (this.done) break;
      if (t === endOfText) {
        this.stopReason = 'eot';
        break;
      }
      const p = info.confidence[i] ?? 1;
      const before = this.detok.text.length;
      kept.push(t);
      this.tokens.push(t);
      this.confidences.push(p);
      text += this.detok.push(t);
      if (this.counts()) {
        const steps = this.steps + confidenceSteps(p);
        if (steps > this.limit) {
          // The token stays in the sequence (its row is cached) but not in the text.
          this.stopReason = 'unsure';
          this.unsure = { token: t, probability: p, confidence: stepsToProbability(steps) };
          this.cutAt = before;
          break;
        }
        this.steps = steps;
      }
      if (this.count >= maxTokens) this.stopReason = 'maxTokens';
      else if (promptLength + this.count >= contextLength) this.stopReason = 'context';
    }
    if (this.done) text += this.detok.flush();
    const hidden = this.hidden;
    const full = this.detok.text.slice(0, this.cutAt);
    const cut = full.length >= hidden ? this.options.stop?.(full.slice(hidden)) : undefined;
    if (cut !== undefined) {
      this.stopReason = 'stop';
      this.unsure = undefined;
      this.cutAt = hidden + Math.max(0, Math.min(cut, full.length - hidden));
    }
    const entry: CallTrace = { index: this.trace.length, committed: kept, committedText: text, confidence: info.confidence.slice(0, kept.length), acceptedDrafts: info.acceptedDrafts, draft: info.draft, rows: info.rows, ms: info.ms };
    this.trace.push(entry);
    this.options.onCall?.(entry);
    this.options.onText?.(this.text);
    return kept.length;
  }

  /** The generated text so far (cut where the stop rule said), after the hidden prefix. */
  get text(): string {
    const full = this.detok.text;
    return full.slice(Math.min(this.hidden, full.length), this.cutAt ?? full.length);
  }

  private get hidden(): number {
    return this.options.hiddenPrefix ?? 0;
  }

  /** Whether the token just pushed counts for the confidence rule: the completion holds code by now. */
  private counts(): boolean {
    if (this.limit === Number.POSITIVE_INFINITY) return false;
    this.coded ||= /\S/.test(this.detok.text.slice(this.hidden));
    return this.coded;
  }

  /** The committed tokens; after a stop-rule cut, the shortest prefix whose text covers the cut. */
  get finalTokens(): number[] {
    if (this.cutAt === undefined) return [...this.tokens];
    const cut = this.cutAt;
    const n = this.detok.endsAt.findIndex((end) => end >= cut);
    return this.tokens.slice(0, cut === 0 ? 0 : n < 0 ? this.tokens.length : n + 1);
  }

  /** The confidences of `finalTokens`. */
  get finalConfidences(): number[] {
    return this.confidences.slice(0, this.finalTokens.length);
  }
}

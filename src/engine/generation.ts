/**
 * The output side of one request, shared by the AR and PTP decoders: committed tokens, their
 * text, the per-call trace and every stop rule. Both decoders feed it the tokens each call
 * commits, in order, so for the same token stream they stop at the same place.
 */
import type { LookupSource } from './lookup';
import type { IncrementalDetokenizer } from './tokenizer';

export type StopReason = 'eot' | 'maxTokens' | 'stop' | 'cancelled' | 'context';

/** Where the speculation a call verified came from: PTP's drafter, a lookup source (lookup.ts), or none. */
export type DraftSource = 'ptp' | LookupSource | 'none';

export interface CallTrace {
  index: number;
  committed: number[];
  committedText: string;
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
}

export class Generation {
  readonly tokens: number[] = [];
  readonly trace: CallTrace[] = [];
  stopReason: StopReason | undefined;
  private cutAt: number | undefined;

  constructor(
    private readonly detok: IncrementalDetokenizer,
    private readonly options: GenerationOptions,
  ) {}

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
  commitCall(tokens: readonly number[], info: { acceptedDrafts: number; draft: DraftSource; rows: number; ms: number }): number {
    const { endOfText, maxTokens, contextLength, promptLength } = this.options;
    const kept: number[] = [];
    let text = '';
    for (const t of tokens) {
      if (this.done) break;
      if (t === endOfText) {
        this.stopReason = 'eot';
        break;
      }
      kept.push(t);
      this.tokens.push(t);
      text += this.detok.push(t);
      if (this.count >= maxTokens) this.stopReason = 'maxTokens';
      else if (promptLength + this.count >= contextLength) this.stopReason = 'context';
    }
    if (this.done) text += this.detok.flush();
    const hidden = this.hidden;
    const full = this.detok.text;
    const cut = full.length >= hidden ? this.options.stop?.(full.slice(hidden)) : undefined;
    if (cut !== undefined) {
      this.stopReason = 'stop';
      this.cutAt = hidden + Math.max(0, Math.min(cut, full.length - hidden));
    }
    const entry: CallTrace = { index: this.trace.length, committed: kept, committedText: text, acceptedDrafts: info.acceptedDrafts, draft: info.draft, rows: info.rows, ms: info.ms };
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

  /** The committed tokens; after a stop-rule cut, the shortest prefix whose text covers the cut. */
  get finalTokens(): number[] {
    if (this.cutAt === undefined) return [...this.tokens];
    const cut = this.cutAt;
    const n = this.detok.endsAt.findIndex((end) => end >= cut);
    return this.tokens.slice(0, cut === 0 ? 0 : n < 0 ? this.tokens.length : n + 1);
  }
}

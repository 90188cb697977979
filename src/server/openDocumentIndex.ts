/**
 * `OpenDocumentIndex`: a TokenIndex over the open documents' text (ids: their URIs), for
 * lookup drafts. The document being completed is in it too: its text beyond the prompt's
 * window (the model sees about 320 tokens around the cursor) is where its earlier code is.
 *
 * Nothing is tokenized on the request path. Opening or editing a document marks it dirty;
 * REFRESH_DELAY_MS after the last of those, the dirty documents are tokenized in IdleGate
 * turns (a chunk of text per unit, encodeInSlices). A request drafts from whatever is indexed
 * then: an entry a few keystrokes old only drafts a little worse, since every draft is
 * verified exactly. Closing a document drops it; a new model (its tokenizer) re-tokenizes all.
 */
import { DEFAULT_MAX_LENGTH } from '../context/index';
import { TokenIndex } from '../engine/index';
import type { IndexStatus } from '../protocol/index';
import type { Encoder } from './encodeInSlices';
import { encodeInSlices } from './encodeInSlices';
import type { IdleGate } from './idleGate';
import type { Logger } from './logger';
import { message } from './modelHost';

/** A typing pause this long refreshes the index (the next completion request usually comes first). */
export const REFRESH_DELAY_MS = 500;
/** About seven of the longest documents tokenized (DEFAULT_MAX_LENGTH each); the index's arrays stay near 14 MB. */
export const OPEN_MAX_TOKENS = 2_000_000;

export interface OpenIndexConfig {
  /** ptp.context.openFiles (and ptp.enable). */
  enabled: boolean;
  /** The loaded model's tokenizer; undefined while none is loaded. */
  encoder: Encoder | undefined;
}

export class OpenDocumentIndex {
  private tokens: TokenIndex | undefined;
  private encoder: Encoder | undefined;
  private readonly open = new Set<string>();
  private readonly dirty = new Set<string>();
  /** Documents already named in the log as too long to index. */
  private readonly tooLong = new Set<string>();
  private generation = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  /** `textOf`: a document's current text (OpenDocuments), undefined once it is closed. */
  constructor(
    private readonly gate: IdleGate,
    private readonly textOf: (uri: string) => string | undefined,
    private readonly log: Logger,
    private readonly delayMs = REFRESH_DELAY_MS,
  ) {}

  /** The index to draft from; undefined while the source is off or no model is loaded. */
  get index(): TokenIndex | undefined {
    return this.tokens;
  }

  configure({ enabled, encoder }: OpenIndexConfig): void {
    const on = enabled && encoder !== undefined;
    if (on && this.tokens !== undefined && encoder === this.encoder) return;
    if (!on && this.tokens === undefined) return;
    // Off drops the index (its memory goes); a new tokenizer's ids mean other text, so all is redone.
    this.generation++;
    this.encoder = encoder;
    this.tokens = on ? new TokenIndex({ maxTokens: OPEN_MAX_TOKENS }) : undefined;
    this.dirty.clear();
    if (!on) return;
    for (const uri of this.open) this.dirty.add(uri);
    this.schedule();
  }

  opened(uri: string): void {
    this.open.add(uri);
    this.changed(uri);
  }

  changed(uri: string): void {
    if (!this.open.has(uri)) return;
    this.dirty.add(uri);
    this.schedule();
  }

  closed(uri: string): void {
    this.open.delete(uri);
    this.dirty.delete(uri);
    this.tooLong.delete(uri);
    this.tokens?.delete(uri);
  }

  status(): IndexStatus['open'] {
    return { documents: this.tokens?.documents ?? 0, tokens: this.tokens?.tokens ?? 0, bytes: this.tokens?.bytes ?? 0 };
  }

  /** Resolves once nothing is dirty and no refresh is running or due (tests). */
  async settled(): Promise<void> {
    while (this.running !== undefined || this.timer !== undefined) {
      await (this.running ?? new Promise((resolve) => setTimeout(resolve, this.delayMs)));
    }
  }

  dispose(): void {
    this.generation++;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.tokens = undefined;
    this.open.clear();
    this.dirty.clear();
  }

  private schedule(): void {
    if (this.tokens === undefined) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.start();
    }, this.delayMs);
  }

  /** One refresh at a time: the documents dirty now; later edits wait for their own delay. */
  private start(): void {
    if (this.running !== undefined) return;
    const batch = [...this.dirty];
    this.dirty.clear();
    this.running = this.refresh(batch, this.generation)
      .catch((e: unknown) => this.log.error(`[index] open documents: ${message(e)}`))
      .finally(() => {
        this.running = undefined;
        // Edits that came while this ran, whose delay is already over.
        if (this.dirty.size > 0 && this.timer === undefined) this.start();
      });
  }

  private async refresh(uris: readonly string[], generation: number): Promise<void> {
    const stopped = (): boolean => generation !== this.generation;
    for (const uri of uris) {
      const text = this.textOf(uri);
      if (stopped()) return;
      if (text === undefined || !this.open.has(uri)) continue;
      if (text.length > DEFAULT_MAX_LENGTH) {
        this.tokens!.delete(uri);
        if (!this.tooLong.has(uri)) this.log.info(`[index] ${uri}: ${text.length} characters, over the ${DEFAULT_MAX_LENGTH} an open document may have to be indexed for lookup drafts; left out`);
        this.tooLong.add(uri);
        continue;
      }
      this.tooLong.delete(uri);
      const ids = await encodeInSlices(text, this.encoder!, this.gate, stopped);
      if (ids === undefined || stopped()) return;
      // Closed while it was tokenized: closed() has dropped it already.
      if (!this.open.has(uri)) continue;
      if (!this.tokens!.set(uri, ids)) {
        this.tokens!.delete(uri);
        this.log.info(`[index] ${uri}: ${ids.length} tokens do not fit the open documents' index (${this.tokens!.tokens} of ${OPEN_MAX_TOKENS} in use); left out`);
      }
    }
  }
}

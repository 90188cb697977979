/**
 * The soak's simulated typist (bench/soak.ts has the picture): over the real worker's LSP
 * connection it types into files, one inline completion request per keystroke, cancels,
 * pauses, accepts, asks explicitly and runs Generate Code, and polls ptp/status all along.
 * All waits are in simulated time, divided by `speed`.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CancellationTokenSource,
  DidChangeTextDocumentNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  InlineCompletionRequest,
  InlineCompletionTriggerKind,
  ResponseError,
  type InlineCompletionItem,
  type InlineCompletionList,
} from 'vscode-languageserver-protocol/node';
import type { DecodingSettings, InlineCompletionExtras, StatusResult } from '../../src/protocol/index';
import { ErrorCodes, GenerateRequest, StatusRequest } from '../../src/protocol/index';
import type { Rng } from './rng';
import type { SourceFile } from './typistFiles';
import type { Worker } from './worker';

export interface TypistOptions {
  /** Requests to send in all. */
  readonly requests: number;
  /** Simulated seconds per real second. */
  readonly speed: number;
  /** Fewest requests before warm-up may end (see `Typist.warmupEnd`). */
  readonly warmup: number;
  /** Generate Code at the first pause after every this many requests. */
  readonly generateEvery: number;
  /** Decoding settings sent with every request. */
  readonly decoding: DecodingSettings;
  readonly statusPollMs: number;
  /** A further condition for warm-up to end (the soak's: the workspace index is built). */
  readonly ready?: () => boolean;
}

export type Outcome = 'completed' | 'empty' | 'cancelled' | 'superseded' | 'timeout' | 'failed';

export interface Sent {
  index: number;
  sentAt: number;
  cts: CancellationTokenSource;
  cancelledAt?: number;
  answeredAt?: number;
  outcome?: Outcome;
  items: InlineCompletionItem[];
  explicit: boolean;
}

export interface StatusSample {
  t: number;
  sent: number;
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
  pending: number;
  statusMs: number;
  /** The workspace index's state (ptp/status `index.workspace`). */
  workspace: StatusResult['index']['workspace'];
}

export class Typist {
  readonly sent: Sent[] = [];
  readonly statusSamples: StatusSample[] = [];
  readonly failures: string[] = [];
  readonly generates: Array<{ ms: number; tokens: number; error?: string }> = [];
  readonly counts = { keystrokes: 0, typos: 0, accepted: 0, acceptedChars: 0, pauses: 0, longPauses: 0, invoked: 0, fileSwitches: 0, closes: 0, reopens: 0 };
  /**
   * The request index where warm-up ended: at least `warmup` requests, one Generate Code run,
   * every file typed in or a fifth of the requests sent, and `ready()` if given.
   */
  warmupEnd: number | undefined;
  private readonly visited = new Set<string>();
  private inflight: Sent | undefined;
  private clock = performance.now();
  private readonly open = new Set<string>();
  private readonly versions = new Map<string, number>();
  private readonly texts = new Map<string, string>();
  private polling = true;
  private readonly poller: Promise<void>;

  constructor(
    private readonly w: Worker,
    private readonly random: Rng,
    private readonly options: TypistOptions,
  ) {
    this.poller = this.poll();
  }

  get done(): boolean {
    return this.sent.length >= this.options.requests;
  }

  private fileCount = 0;

  async run(files: SourceFile[]): Promise<void> {
    this.fileCount = files.length;
    for (const f of files) await this.openFile(f, f.target);
    let fileIndex = 0;
    while (!this.done) {
      const file = files[fileIndex % files.length]!;
      if (!this.open.has(file.uri)) {
        this.counts.reopens++;
        await this.openFile(file, this.texts.get(file.uri)!);
      }
      await this.retypeRun(file);
      if (this.random.next() < 0.25) await this.closeFile(file);
      fileIndex++;
      this.counts.fileSwitches++;
    }
    this.polling = false;
    await this.poller;
    await this.settleInflight();
  }

  /** Deletes a run of lines and types it back. */
  private async retypeRun(file: SourceFile): Promise<void> {
    const lines = file.target.split('\n');
    const count = 4 + Math.floor(this.random.next() * 11);
    const first = Math.floor(this.random.next() * Math.max(1, lines.length - count));
    const start = lines.slice(0, first).join('\n').length + (first > 0 ? 1 : 0);
    const run = lines.slice(first, first + count).join('\n');
    // Keep the run's leading indentation (the cursor sits after it, as after Enter).
    const indent = /^[ \t]*/.exec(run)![0];
    let cursor = start + indent.length;
    await this.edit(file, cursor, cursor + run.length - indent.length, '');
    let i = indent.length;
    while (i < run.length && !this.done) {
      let typed = run[i]!;
      if (typed === '\n') {
        // Enter: the editor indents the new line.
        const next = /^[ \t]*/.exec(run.slice(i + 1))![0];
        typed += next;
      }
      if (typed !== '\n' && this.random.next() < 1 / 40) {
        await this.typo(file, cursor);
      }
      await this.keystroke(file, cursor, typed);
      cursor += typed.length;
      i += typed.length;
      const atLineEnd = typed.startsWith('\n');
      if (atLineEnd || /[ .,(]/.test(typed)) {
        const accepted = await this.maybePause(file, cursor, run.slice(i), atLineEnd);
        cursor += accepted;
        i += accepted;
      }
    }
  }

  /** A wrong character, 1-3 more keystrokes, then as many backspaces. */
  private async typo(file: SourceFile, cursor: number): Promise<void> {
    this.counts.typos++;
    const extra = 1 + Math.floor(this.random.next() * 3);
    const junk = 'qxzjvk'.slice(0, extra);
    for (let k = 0; k < extra && !this.done; k++) await this.keystroke(file, cursor + k, junk[k]!);
    for (let k = extra; k > 0 && !this.done; k--) {
      await this.wait(this.keyInterval());
      await this.edit(file, cursor + k - 1, cursor + k, '');
      this.request(file, cursor + k - 1, false);
    }
  }

  private async keystroke(file: SourceFile, cursor: number, text: string): Promise<void> {
    await this.wait(this.keyInterval());
    await this.edit(file, cursor, cursor, text);
    this.counts.keystrokes++;
    this.request(file, cursor + text.length, false);
  }

  /**
   * After a new line (or, less often, after a space or punctuation): maybe pause, accept a
   * matching completion, ask explicitly, or run Generate Code. Returns accepted characters.
   */
  private async maybePause(file: SourceFile, cursor: number, rest: string, atLineEnd: boolean): Promise<number> {
    if (atLineEnd && this.random.next() < 1 / 50) {
      this.counts.longPauses++;
      await this.wait(2000 + this.random.next() * 3000);
    } else if (this.random.next() < (atLineEnd ? 1 / 2 : 1 / 25)) {
      this.counts.pauses++;
      if (this.random.next() < 1 / 40) {
        this.counts.invoked++;
        this.request(file, cursor, true);
      }
      await this.wait(300 + this.random.next() * 1200);
    } else {
      return 0;
    }
    if (this.generates.length < Math.floor(this.sent.length / this.options.generateEvery)) await this.generate(file, cursor);
    const last = this.inflight;
    const text = last?.outcome === 'completed' ? textOf(last.items[0]!) : '';
    let n = 0;
    while (n < text.length && n < rest.length && text[n] === rest[n]) n++;
    if (n === 0 || this.random.next() < 0.5) return 0;
    await this.edit(file, cursor, cursor, rest.slice(0, n));
    this.counts.accepted++;
    this.counts.acceptedChars += n;
    this.request(file, cursor + n, false);
    return n;
  }

  private async generate(file: SourceFile, cursor: number): Promise<void> {
    await this.settleInflight();
    const started = performance.now();
    try {
      const r = await this.w.connection.sendRequest(GenerateRequest, {
        textDocument: { uri: file.uri },
        position: positionAt(this.texts.get(file.uri)!, cursor),
        decoding: { ...this.options.decoding, maxTokens: 384 },
      });
      this.generates.push({ ms: performance.now() - started, tokens: r.stats.tokens });
    } catch (e) {
      this.generates.push({ ms: performance.now() - started, tokens: 0, error: String(e) });
    }
    this.clock = performance.now();
  }

  /** Sends the request for the cursor; the one before it, if unanswered, is cancelled 4 times in 5. */
  private request(file: SourceFile, cursor: number, explicit: boolean): void {
    if (this.done) return;
    const previous = this.inflight;
    if (previous !== undefined && previous.outcome === undefined && this.random.next() < 0.8) {
      previous.cancelledAt = performance.now();
      previous.cts.cancel();
    }
    const cts = new CancellationTokenSource();
    const sent: Sent = { index: this.sent.length, sentAt: performance.now(), cts, items: [], explicit };
    this.sent.push(sent);
    this.inflight = sent;
    this.visited.add(file.uri);
    const everyFile = this.visited.size === this.fileCount || sent.index >= this.options.requests / 5;
    if (this.warmupEnd === undefined && sent.index >= this.options.warmup && this.generates.length > 0 && everyFile && (this.options.ready?.() ?? true)) this.warmupEnd = sent.index;
    const extras: InlineCompletionExtras = { decoding: this.options.decoding, alternatives: explicit ? 3 : 1 };
    this.w.connection
      .sendRequest(
        InlineCompletionRequest.type,
        {
          textDocument: { uri: file.uri },
          position: positionAt(this.texts.get(file.uri)!, cursor),
          context: { triggerKind: explicit ? InlineCompletionTriggerKind.Invoked : InlineCompletionTriggerKind.Automatic },
          ptp: extras,
        } as never,
        cts.token,
      )
      .then(
        (r: InlineCompletionList | InlineCompletionItem[] | null) => {
          sent.items = r === null ? [] : Array.isArray(r) ? r : r.items;
          sent.outcome =
            sent.items.length > 0 ? 'completed' : sent.cancelledAt !== undefined ? 'cancelled' : this.sent.length > sent.index + 1 ? 'superseded' : 'empty';
        },
        (e: unknown) => {
          if (e instanceof ResponseError && e.code === ErrorCodes.Timeout) sent.outcome = 'timeout';
          else {
            sent.outcome = 'failed';
            this.failures.push(`request ${sent.index}: ${String(e)}`);
          }
        },
      )
      .finally(() => {
        sent.answeredAt = performance.now();
        cts.dispose();
      });
  }

  private async settleInflight(): Promise<void> {
    while (this.sent.some((s) => s.outcome === undefined)) await sleep(10);
  }

  private async edit(file: SourceFile, from: number, to: number, text: string): Promise<void> {
    const before = this.texts.get(file.uri)!;
    const version = (this.versions.get(file.uri) ?? 1) + 1;
    this.versions.set(file.uri, version);
    this.texts.set(file.uri, before.slice(0, from) + text + before.slice(to));
    await this.w.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri: file.uri, version },
      contentChanges: [{ range: { start: positionAt(before, from), end: positionAt(before, to) }, text }],
    });
  }

  private async openFile(file: SourceFile, text: string): Promise<void> {
    const version = (this.versions.get(file.uri) ?? 0) + 1;
    this.versions.set(file.uri, version);
    this.texts.set(file.uri, text);
    this.open.add(file.uri);
    await this.w.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: file.uri, languageId: file.languageId, version, text } });
  }

  private async closeFile(file: SourceFile): Promise<void> {
    this.counts.closes++;
    this.open.delete(file.uri);
    await this.w.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri: file.uri } });
  }

  /** 20 characters a second on average: 50 ms, jittered between 30 and 70 ms. */
  private keyInterval(): number {
    return 30 + 40 * this.random.next();
  }

  /** Waits `simulatedMs` of simulated time, against an absolute clock so that waits do not drift. */
  private async wait(simulatedMs: number): Promise<void> {
    this.clock += simulatedMs / this.options.speed;
    const ms = this.clock - performance.now();
    if (ms > 0) await sleep(ms);
    else this.clock = performance.now();
  }

  async status(): Promise<StatusResult> {
    const started = performance.now();
    const s = await this.w.connection.sendRequest(StatusRequest);
    this.statusSamples.push({ t: started, sent: this.sent.length, rssBytes: s.rssBytes, heapUsedBytes: s.heapUsedBytes, externalBytes: s.externalBytes, pending: s.pending, statusMs: performance.now() - started, workspace: s.index.workspace });
    return s;
  }

  private async poll(): Promise<void> {
    while (this.polling) {
      await sleep(this.options.statusPollMs);
      if (this.polling) await this.status();
    }
  }
}

function textOf(item: InlineCompletionItem): string {
  return typeof item.insertText === 'string' ? item.insertText : item.insertText.value;
}

function positionAt(text: string, offset: number): { line: number; character: number } {
  let line = 0;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, character: offset - lineStart };
}

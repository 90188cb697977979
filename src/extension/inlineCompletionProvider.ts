/**
 * Ghost text: VS Code asks on every keystroke; this decides whether to ask the worker, when,
 * and what of its answer to show.
 *
 *   keystroke ─> enabled? single cursor? line end or only closers right of the cursor?
 *            ─> cache (type-through) ─> request in flight that the typing follows?
 *            ─> debounce (adaptive) ─> worker (confidence rule, fitted to the line) ─> items
 *
 * The worker answers with items already fitted to the cursor's line (src/completion
 * fitCompletion: the text, and how many characters right of the cursor it replaces); what is
 * left here is VS Code glue: ranges, the suggest widget's selected item, de-duplication.
 *
 * A worker request outlives the VS Code call that started it by ORPHAN_GRACE_MS, so the next
 * keystroke can adopt it when the person typed what it is producing (Continue's generator
 * reuse); otherwise it is cancelled, and the cancellation reaches the worker ($/cancelRequest).
 */
import * as vscode from 'vscode';
import type { InlineCompletionExtras } from '../protocol';
import { allowsAutomatic, classifyLineSuffix } from '../protocol';
import type { Activity } from './activity';
import { AdaptiveDebounce } from './adaptiveDebounce';
import type { CompletionSite } from './completionCache';
import { CompletionCache, PREFIX_TAIL, SUFFIX_HEAD, remainingAfter, typedSince } from './completionCache';
import { decodingKey } from './parseSettings';
import { classifyFailure, failureMessage } from './requestErrors';
import type { SettingsStore } from './settings';
import type { Snooze } from './snooze';
import type { WorkerClient, WorkerCompletion } from './workerClient';

/**
 * How long a request nobody waits for any more may still be adopted by the next keystroke
 * (VS Code asks again right after the keystroke that cancelled the previous call).
 */
const ORPHAN_GRACE_MS = 150;

/** What the provider last did (for tests and the log). */
export interface InlineOutcome {
  readonly uri: string;
  readonly line: number;
  readonly character: number;
  readonly explicit: boolean;
  readonly source: 'cache' | 'inflight' | 'worker';
  readonly items: readonly string[];
  readonly latencyMs?: number;
}

export interface InlineCounters {
  /** provideInlineCompletionItems calls, and those that returned at once, by reason. */
  calls: number;
  skipped: Record<string, number>;
  requests: number;
  cacheHits: number;
  adopted: number;
  cancelledByEditor: number;
  cancelledInWorker: number;
  failed: number;
}

interface Inflight {
  readonly site: CompletionSite;
  readonly wanted: number;
  readonly cts: vscode.CancellationTokenSource;
  readonly promise: Promise<WorkerCompletion[] | undefined>;
  waiters: number;
  done: boolean;
  orphanTimer?: ReturnType<typeof setTimeout>;
}

export class PtpInlineCompletionProvider implements vscode.InlineCompletionItemProvider, vscode.Disposable {
  readonly cache = new CompletionCache<WorkerCompletion>(200);
  readonly debounce = new AdaptiveDebounce();
  readonly counters: InlineCounters = { calls: 0, skipped: {}, requests: 0, cacheHits: 0, adopted: 0, cancelledByEditor: 0, cancelledInWorker: 0, failed: 0 };
  lastOutcome: InlineOutcome | undefined;
  /** Documents Generate Code is streaming into: no ghost text there meanwhile. */
  readonly busyDocuments = new Set<string>();
  private inflight: Inflight | undefined;
  private readonly lastTyped = new Map<string, string>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly worker: WorkerClient,
    private readonly settings: SettingsStore,
    private readonly snooze: Snooze,
    private readonly activity: Activity,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subscriptions.push(
      vscode.workspace.onDidChangeTextDocument((e) => this.recordTyping(e)),
      vscode.workspace.onDidCloseTextDocument((d) => {
        this.cache.deleteDocument(d.uri.toString());
        this.lastTyped.delete(d.uri.toString());
      }),
      settings.onDidChange(() => this.cancelInflight()),
    );
  }

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    try {
      return await this.provide(document, position, context, token);
    } catch (e) {
      const kind = classifyFailure(e);
      if (kind !== 'cancelled' && kind !== 'disconnected') this.log.warn(`Inline completion failed: ${failureMessage(e)}`);
      return undefined;
    }
  }

  private async provide(
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    const settings = this.settings.current;
    const explicit = context.triggerKind === vscode.InlineCompletionTriggerKind.Invoke;
    const uri = document.uri.toString();
    this.counters.calls++;
    const lineSuffix = document.lineAt(position.line).text.slice(position.character);
    const skip = this.skipReason(document, explicit, lineSuffix);
    if (skip !== undefined) {
      this.counters.skipped[skip] = (this.counters.skipped[skip] ?? 0) + 1;
      return undefined;
    }

    const site = siteAt(document, position, decodingKey(settings));
    const wanted = explicit ? settings.completion.alternatives : 1;
    let completions: WorkerCompletion[] | undefined;
    let source: InlineOutcome['source'] = 'worker';
    const started = Date.now();

    const hit = this.cache.get(site);
    if (hit !== undefined && hit.items.length >= wanted) {
      completions = hit.items;
      source = 'cache';
      this.counters.cacheHits++;
    }
    if (completions === undefined) {
      const adoptable = this.adoptable(site, wanted);
      if (adoptable !== undefined) {
        const result = await this.waitFor(adoptable.inflight, token);
        if (result !== undefined) {
          const rest = remainingAfter(result, adoptable.typed);
          if (rest.length > 0) {
            completions = rest;
            source = 'inflight';
            this.counters.adopted++;
          }
        }
      }
    }
    if (completions === undefined) {
      if (token.isCancellationRequested) return this.cancelled();
      const delay = this.debounce.delayMs(
        {
          explicit,
          lastChar: this.lastTyped.get(uri),
          atLineEnd: lineSuffix.trim() === '',
          atDocumentEnd: atDocumentEnd(document, position),
        },
        settings.completion.debounceMode,
        settings.completion.debounceMs,
      );
      if (delay > 0 && !(await sleep(delay, token))) return this.cancelled();
      const extras: InlineCompletionExtras = {
        decoding: { ...settings.decoding, maxTokens: settings.completion.maxTokens },
        alternatives: wanted,
        confidence: settings.completion.confidence,
      };
      const request = this.startRequest(document, position, site, explicit, wanted, extras);
      completions = await this.waitFor(request, token);
      if (completions === undefined) return token.isCancellationRequested ? this.cancelled() : undefined;
    }
    if (token.isCancellationRequested) return this.cancelled();

    const items = toItems(completions, document, position, context.selectedCompletionInfo);
    this.lastOutcome = {
      uri,
      line: position.line,
      character: position.character,
      explicit,
      source,
      items: items.map((i) => (typeof i.insertText === 'string' ? i.insertText : i.insertText.value)),
      latencyMs: Date.now() - started,
    };
    this.log.debug(`inline ${source} ${explicit ? 'explicit' : 'auto'} ${items.length}/${completions.length} item(s) in ${Date.now() - started} ms`);
    return items;
  }

  /** Why not to complete here at all, or undefined. */
  private skipReason(document: vscode.TextDocument, explicit: boolean, lineSuffix: string): string | undefined {
    const settings = this.settings.current;
    if (!this.settings.enabledFor(document.languageId)) return 'disabled';
    if (this.busyDocuments.has(document.uri.toString())) return 'generating';
    if (!explicit && !settings.completion.automatic) return 'manual-only';
    if (!explicit && this.snooze.active) return 'snoozed';
    if (!this.worker.isReady) return 'worker-not-ready';
    const editor = vscode.window.activeTextEditor;
    if (editor !== undefined && editor.document === document) {
      // Several cursors: one completion cannot fit them all (Continue skips them too).
      if (editor.selections.length > 1) return 'multiple-cursors';
      if (!explicit && !editor.selection.isEmpty) return 'selection';
    }
    if (!explicit && !allowsAutomatic(classifyLineSuffix(lineSuffix))) return 'text-right-of-cursor';
    return undefined;
  }

  /** The request in flight, if this site is it plus typing; any other request is cancelled now. */
  private adoptable(site: CompletionSite, wanted: number): { inflight: Inflight; typed: string } | undefined {
    const inflight = this.inflight;
    if (inflight === undefined) return undefined;
    const typed = typedSince(inflight.site, site);
    if (typed !== undefined && inflight.wanted >= wanted) return { inflight, typed };
    this.cancelInflight();
    return undefined;
  }

  private startRequest(
    document: vscode.TextDocument,
    position: vscode.Position,
    site: CompletionSite,
    explicit: boolean,
    wanted: number,
    extras: InlineCompletionExtras,
  ): Inflight {
    this.cancelInflight();
    const cts = new vscode.CancellationTokenSource();
    const end = this.activity.begin('completion');
    const started = Date.now();
    this.counters.requests++;
    const promise = this.worker
      .inlineCompletion(document, position, explicit, extras, cts.token)
      .then(({ completions, last }) => {
        // Cancelled while in the worker: it stops and answers with nothing (or an error, below).
        if (cts.token.isCancellationRequested) {
          this.counters.cancelledInWorker++;
          return undefined;
        }
        const ms = Date.now() - started;
        this.debounce.recordLatency(ms);
        // The status bar says at once what this request did, also why it showed nothing.
        this.activity.record(ms, last ?? completions.find((c) => c.stats !== undefined)?.stats);
        this.cache.put(site, completions);
        return completions;
      })
      .catch((e: unknown) => {
        const kind = classifyFailure(e);
        if (kind === 'cancelled' || cts.token.isCancellationRequested) this.counters.cancelledInWorker++;
        else if (kind !== 'disconnected') {
          this.counters.failed++;
          this.log.warn(`Worker inline completion (${kind}): ${failureMessage(e)}`);
        }
        return undefined;
      })
      .finally(() => {
        inflight.done = true;
        if (inflight.orphanTimer !== undefined) clearTimeout(inflight.orphanTimer);
        if (this.inflight === inflight) this.inflight = undefined;
        end();
        cts.dispose();
      });
    const inflight: Inflight = { site, wanted, cts, promise, waiters: 0, done: false };
    this.inflight = inflight;
    return inflight;
  }

  /** Waits for a request on behalf of one VS Code call; undefined if that call is cancelled first. */
  private waitFor(inflight: Inflight, token: vscode.CancellationToken): Promise<WorkerCompletion[] | undefined> {
    inflight.waiters++;
    if (inflight.orphanTimer !== undefined) {
      clearTimeout(inflight.orphanTimer);
      inflight.orphanTimer = undefined;
    }
    return new Promise((resolve) => {
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        sub.dispose();
        inflight.waiters--;
        if (inflight.waiters === 0 && !inflight.done) {
          inflight.orphanTimer = setTimeout(() => {
            if (inflight.waiters === 0 && !inflight.done) inflight.cts.cancel();
          }, ORPHAN_GRACE_MS);
        }
      };
      const sub = token.onCancellationRequested(() => {
        release();
        resolve(undefined);
      });
      void inflight.promise.then((result) => {
        release();
        resolve(token.isCancellationRequested ? undefined : result);
      });
    });
  }

  private cancelInflight(): void {
    const inflight = this.inflight;
    this.inflight = undefined;
    if (inflight !== undefined && !inflight.done) inflight.cts.cancel();
  }

  private cancelled(): undefined {
    this.counters.cancelledByEditor++;
    return undefined;
  }

  private recordTyping(e: vscode.TextDocumentChangeEvent): void {
    if (e.contentChanges.length !== 1) return;
    const change = e.contentChanges[0]!;
    // A keystroke: a short insert (with an auto-closed partner, or Enter plus indentation).
    if (change.rangeLength === 0 && change.text.length > 0 && (change.text.length <= 2 || /^\r?\n[ \t]*$/.test(change.text))) {
      this.debounce.recordKeystroke(Date.now());
      this.lastTyped.set(e.document.uri.toString(), change.text[0]!);
    }
  }

  dispose(): void {
    this.cancelInflight();
    for (const s of this.subscriptions) s.dispose();
  }
}

function siteAt(document: vscode.TextDocument, position: vscode.Position, settingsKey: string): CompletionSite {
  const offset = document.offsetAt(position);
  const prefixStart = document.positionAt(Math.max(0, offset - PREFIX_TAIL));
  const suffixEnd = document.positionAt(offset + SUFFIX_HEAD);
  return {
    uri: document.uri.toString(),
    offset,
    prefixTail: document.getText(new vscode.Range(prefixStart, position)),
    suffixHead: document.getText(new vscode.Range(position, suffixEnd)),
    settingsKey,
  };
}

function atDocumentEnd(document: vscode.TextDocument, position: vscode.Position): boolean {
  const last = document.lineCount - 1;
  if (last - position.line > 3) return false;
  return document.getText(new vscode.Range(position, document.lineAt(last).range.end)).trim() === '';
}

/** The worker's fitted completions -> VS Code items at the cursor (each replacing the closers it covers). */
function toItems(
  completions: readonly WorkerCompletion[],
  document: vscode.TextDocument,
  position: vscode.Position,
  selected: vscode.SelectedCompletionInfo | undefined,
): vscode.InlineCompletionItem[] {
  // With the suggest widget open, VS Code shows only items that extend the selected suggestion.
  let typedInSelection = '';
  let selectionRest = '';
  if (selected !== undefined) {
    typedInSelection = document.getText(new vscode.Range(selected.range.start, position));
    if (!selected.text.startsWith(typedInSelection)) return [];
    selectionRest = selected.text.slice(typedInSelection.length);
  }
  const lineLength = document.lineAt(position.line).text.length;
  const seen = new Set<string>();
  const items: vscode.InlineCompletionItem[] = [];
  for (const completion of completions) {
    if (completion.text === '' || seen.has(completion.text)) continue;
    seen.add(completion.text);
    const end = position.translate(0, Math.min(completion.coverLength, lineLength - position.character));
    if (selected !== undefined) {
      if (!completion.text.startsWith(selectionRest)) continue;
      items.push(new vscode.InlineCompletionItem(typedInSelection + completion.text, new vscode.Range(selected.range.start, end)));
    } else {
      items.push(new vscode.InlineCompletionItem(completion.text, new vscode.Range(position, end)));
    }
  }
  return items;
}

/** Resolves true after ms, false as soon as the token is cancelled. */
function sleep(ms: number, token: vscode.CancellationToken): Promise<boolean> {
  if (token.isCancellationRequested) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      sub.dispose();
      resolve(true);
    }, ms);
    const sub = token.onCancellationRequested(() => {
      clearTimeout(timer);
      sub.dispose();
      resolve(false);
    });
  });
}

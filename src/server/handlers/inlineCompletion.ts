/**
 * `textDocument/inlineCompletion`: completeAt per alternative (seeds seed, seed+1, ...), each
 * result fitted to the cursor's line (src/completion fitAt) before it goes back, so the client
 * shows the items as they are.
 *
 *   request ─> the model (or ModelNotLoaded) ─> decoding (request, else settings, else the
 *           model's sampling) ─> a turn on the model ─> completeAt (confidence: the level;
 *           explicit: an Invoked trigger, fitted to the line) ─> items [cursor, cursor + covered closers)
 *
 * An item whose text the confidence rule withheld, or that fitting drops (a repeat of the
 * next line, too short to show), is left out; the last request's stats still say why
 * (ptp/status `last`, stats.withheld).
 */
import { InlineCompletionTriggerKind, ResponseError } from 'vscode-languageserver/node';
import type { CancellationToken, InlineCompletionItem, InlineCompletionList, InlineCompletionParams } from 'vscode-languageserver/node';
import type { Scope } from '../../context/index';
import { DEFAULT_MAX_TOKENS as SCOPE_MAX_TOKENS } from '../../context/index';
import type { CompletionStats, InlineCompletionAnswer, InlineCompletionExtras } from '../../protocol/index';
import { ErrorCodes, seededDecoding } from '../../protocol/index';
import { completeAt } from '../../completion/index';
import { freshSeed } from '../settings';
import type { WorkerContext } from '../workerContext';

/** Alternatives for an invoked request without `ptp` extras (VS Code's next/previous). */
const INVOKED_ALTERNATIVES = 3;
const MAX_ALTERNATIVES = 8;

export function registerInlineCompletion(w: WorkerContext): void {
  w.connection.languages.inlineCompletion.on((params, token) => inlineCompletion(w, params, token));
}

async function inlineCompletion(w: WorkerContext, params: InlineCompletionParams, token: CancellationToken): Promise<InlineCompletionList> {
  const { docs, log } = w;
  const uri = params.textDocument.uri;
  const extras = (params as InlineCompletionParams & { ptp?: Partial<InlineCompletionExtras> }).ptp;
  // One lane for every document: one person types in one place, so the newest keystroke
  // anywhere makes older inline requests obsolete (the extension cancels them too).
  const request = w.tracker.begin('inline', token, w.settings.requestTimeoutMs);
  const none: InlineCompletionList = { items: [] };
  let served = false;
  try {
    const doc = w.documentFor(uri);
    const version = doc.version;
    const model = await w.modelFor(request);
    if (model === undefined) return none;
    // The person asked (Alt+\, Trigger Inline Suggestion): the lower confidence bar, shorter items allowed.
    const explicit = params.context?.triggerKind === InlineCompletionTriggerKind.Invoked;
    const alternatives = Math.max(1, Math.min(MAX_ALTERNATIVES, Math.floor(extras?.alternatives ?? (explicit ? INVOKED_ALTERNATIVES : 1))));
    const decoding = w.decodingOf(extras?.decoding, model, !explicit && alternatives === 1 ? 'automatic' : 'other');
    const confidence = w.confidenceOf(extras?.confidence);
    const offset = docs.insertionOffset(uri, params.position);
    if (offset === undefined) {
      log.debug(`[complete] ${uri}: ${params.position.line + 1}:${params.position.character + 1} is inside a character; no completion`);
      return none;
    }
    const seed = freshSeed();
    const items: InlineCompletionItem[] = [];
    let shownStats: CompletionStats | undefined;
    let lastStats: CompletionStats | undefined;
    // Aborted while waiting for the model: no turn, and the reason below decides the answer.
    await w.turns.run(request.signal, async () => {
      // The position was for the text as it was when the request came; it may have moved on since.
      if (!docs.isCurrent(uri, doc, version)) return log.debug(`[complete] ${uri}: the document changed while the request waited; dropped`);
      for (let i = 0; i < alternatives && !request.signal.aborted; i++) {
        const outcome = await completeAt(model, doc, offset, {
          decoding: seededDecoding(decoding, i, seed),
          mode: 'inline',
          maxTokens: perScopeCap(decoding.maxTokens),
          confidence,
          explicit,
          cacheKey: uri,
          references: w.references(uri),
          snippets: w.snippets(),
          cacheModel: w.cacheModel(),
          requestId: alternatives > 1 ? `${request.id}.${i + 1}` : request.id,
          signal: request.signal,
        });
        if (outcome.kind === 'rejected') {
          log.debug(`[complete] ${uri}: no completion (${outcome.reason}: ${outcome.detail})`);
          break;
        }
        if (outcome.kind === 'stale') {
          log.debug(`[complete] ${uri}: the document changed while decoding; result dropped`);
          break;
        }
        w.record(uri, params.position, decoding, outcome, request);
        lastStats = outcome.stats;
        if (request.reason === 'cancelled' || request.reason === 'superseded' || request.reason === 'reload') break;
        // completeAt returned 'stale' had the document moved on, so its item fits doc.text as it is.
        const fit = outcome.item;
        if (fit === undefined || items.some((it) => it.insertText === fit.insertText)) continue;
        const end = { line: params.position.line, character: params.position.character + fit.coverLength };
        items.push({ insertText: fit.insertText, range: { start: params.position, end }, data: outcome.stats } as InlineCompletionItem);
        shownStats ??= outcome.stats;
      }
    });
    // ptp/status `last` and the answer's: the last decode (when nothing is shown, stats.withheld
    // says why), but not a withheld alternative's when an earlier one is shown.
    const last = shownStats !== undefined && lastStats?.withheld !== undefined ? shownStats : lastStats;
    if (last !== undefined) w.counters.last = last;
    const reason = request.reason;
    if (reason === 'cancelled' || reason === 'superseded' || reason === 'reload') return none;
    served = true;
    if (reason === 'timeout') {
      log.warn(`[complete] request ${request.id} for ${uri} hit the ${w.settings.requestTimeoutMs} ms cap (ptp.completion.requestTimeoutMs)`);
      if (items.length === 0) throw new ResponseError(ErrorCodes.Timeout, `no completion within ${w.settings.requestTimeoutMs} ms`);
    }
    return answer(items, last);
  } finally {
    w.finish(request, served);
  }
}

/** The LSP list, with the last decode's stats beside it (InlineCompletionAnswer). */
function answer(items: InlineCompletionItem[], last: CompletionStats | undefined): InlineCompletionList {
  const ptp: InlineCompletionAnswer = last !== undefined ? { last } : {};
  return { items, ptp } as InlineCompletionList;
}

/** ptp.completion.maxTokens is a ceiling on top of each scope's own cap. */
export function perScopeCap(cap: number): Partial<Record<Scope, number>> {
  return Object.fromEntries(Object.entries(SCOPE_MAX_TOKENS).map(([scope, n]) => [scope, Math.min(n, cap)]));
}

/**
 * `startServer`: the worker's language server. Reads like a table of contents; each handler
 * hands off to one class or function.
 *
 *   initialize / initialized        settings, grammar directory, workspace folders, background model load
 *   didOpen / didChange / didClose  OpenDocuments (text + incremental tree-sitter tree), OpenDocumentIndex
 *   didChangeConfiguration          new settings; reload when path, device or threads change
 *   didChangeWorkspaceFolders       WorkspaceIndex walks the new folders
 *   didChangeWatchedFiles           WorkspaceIndex re-reads or drops the files
 *   textDocument/inlineCompletion   completeAt per alternative (seeds seed, seed+1, ...)
 *   ptp/generate                    completeAt in 'generate' mode, partial text via $/progress
 *   ptp/status, ptp/statusChanged   ModelHost state + counters + index sizes
 *   ptp/trace                       TraceLog
 *
 * The two lookup-draft indexes fill in idle time between requests (IdleGate: busy while the
 * tracker holds a request or the queue a turn) and every completion drafts from them.
 */
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  ErrorCodes as RpcErrorCodes,
  FileChangeType,
  InlineCompletionTriggerKind,
  LSPErrorCodes,
  ProgressType,
  ResponseError,
  TextDocumentSyncKind,
} from 'vscode-languageserver/node';
import type { CancellationToken, Connection, FileEvent, InlineCompletionItem, InlineCompletionList, InlineCompletionParams, Position, WorkspaceFolder } from 'vscode-languageserver/node';
import type { Scope, SyntaxDocument } from '../context/index';
import { DEFAULT_MAX_TOKENS as SCOPE_MAX_TOKENS, setGrammarDirectory } from '../context/index';
import type { DraftReference } from '../engine/index';
import type {
  CompletionStats,
  DecodingSettings,
  GenerateParams,
  GeneratePartial,
  GenerateResult,
  InlineCompletionExtras,
  StatusResult,
  TraceResult,
  WorkerSettings,
} from '../protocol/index';
import { ErrorCodes, GenerateRequest, StatusChangedNotification, StatusRequest, TraceRequest, WarmNotification } from '../protocol/index';
import type { CompletionOutcome } from '../completion/index';
import { GENERATE_MAX_TOKENS, completeAt, warmAt } from '../completion/index';
import { EngineQueue } from './engineQueue';
import { IdleGate } from './idleGate';
import { createLogger } from './logger';
import type { LoadedModel } from './modelHost';
import { ModelHost, ModelUnavailableError, message } from './modelHost';
import { OpenDocumentIndex } from './openDocumentIndex';
import { OpenDocuments } from './openDocuments';
import type { TrackedRequest } from './requestTracker';
import { RequestTracker } from './requestTracker';
import {
  DEFAULT_CONTEXT_SETTINGS,
  DEFAULT_WORKER_SETTINGS,
  GENERATE_TIMEOUT_MS,
  bundledPaths,
  decodingFor,
  decodingProblem,
  freshSeed,
  readSettings,
  resolveDecoding,
} from './settings';
import { TraceLog } from './traceLog';
import type { FileChange } from './workspaceIndex';
import { WorkspaceIndex } from './workspaceIndex';

/** Alternatives for an invoked request without `ptp` extras (VS Code's next/previous). */
const INVOKED_ALTERNATIVES = 3;
const MAX_ALTERNATIVES = 8;
/** Partial text for ptp/generate goes out at most this often (a model call is ~5-30 ms). */
const PARTIAL_INTERVAL_MS = 50;
/** statusChanged after requests is coalesced: the status bar needs no more. */
const STATUS_AFTER_REQUEST_MS = 250;

const GeneratePartialType = new ProgressType<GeneratePartial>();

export function startServer(connection: Connection, scriptDir: string): void {
  let settings: WorkerSettings = { ...DEFAULT_WORKER_SETTINGS };
  const paths = bundledPaths(scriptDir);
  let defaultModelPath = paths.defaultModelPath;
  const log = createLogger(connection.console, () => settings.logLevel);
  const docs = new OpenDocuments((line) => log.info(line));
  const host = new ModelHost(log);
  const tracker = new RequestTracker();
  const turns = new EngineQueue();
  const traces = new TraceLog();
  const counters = { served: 0, cancelled: 0, last: undefined as CompletionStats | undefined };
  // Background indexing gives way to every request, waiting or running.
  const gate = new IdleGate(() => tracker.pending > 0 || turns.depth > 0);
  const openIndex = new OpenDocumentIndex(gate, (uri) => docs.get(uri)?.text, log);
  const workspaceIndex = new WorkspaceIndex(gate, log, () => docs.languages(), { onStateChange: () => notifyStatusSoon() });
  /** The workspace folders on disk (file: URIs; others cannot be walked). */
  let folders: string[] = [];

  const status = (): StatusResult => {
    const memory = process.memoryUsage();
    return {
      state: host.state,
      ...(host.error !== undefined ? { error: host.error } : {}),
      ...(host.model !== undefined ? { model: host.model.info } : {}),
      ...(counters.last !== undefined ? { last: counters.last } : {}),
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      externalBytes: memory.external,
      pid: process.pid,
      served: counters.served,
      cancelled: counters.cancelled,
      pending: tracker.pending,
      index: { open: openIndex.status(), workspace: workspaceIndex.status() },
    };
  };
  const notifyStatus = (): void => void connection.sendNotification(StatusChangedNotification, status()).catch(() => undefined);
  let statusTimer: NodeJS.Timeout | undefined;
  const notifyStatusSoon = (): void => {
    statusTimer ??= setTimeout(() => {
      statusTimer = undefined;
      notifyStatus();
    }, STATUS_AFTER_REQUEST_MS);
  };

  /** The indexes follow the settings, the folders and the loaded model's tokenizer. */
  const configureIndexes = (): void => {
    const context = settings.context ?? DEFAULT_CONTEXT_SETTINGS;
    const encoder = host.state === 'ready' ? host.model?.engine : undefined;
    openIndex.configure({ enabled: context.openFiles, encoder });
    workspaceIndex.configure({ enabled: context.workspace, trusted: context.trusted, folders, exclude: context.exclude, encoder });
  };
  host.onDidChange(() => {
    configureIndexes();
    notifyStatus();
  });

  /**
   * Lookup-draft references for a request in `uri`: the document itself beyond the prompt's
   * window, the other open documents, the workspace's files but this one (its text on disk).
   */
  const references = (uri: string): DraftReference[] => {
    const open = openIndex.index;
    const workspace = workspaceIndex.index;
    const onDisk = pathOf(uri);
    return [
      ...(open !== undefined ? [{ source: 'document', index: open, only: uri } as const, { source: 'open', index: open, exclude: uri } as const] : []),
      ...(workspace !== undefined ? [{ source: 'workspace', index: workspace, ...(onDisk !== undefined ? { exclude: onDisk } : {}) } as const] : []),
    ];
  };

  const loadModel = (): void => {
    const path = settings.modelPath !== undefined && settings.modelPath !== '' ? settings.modelPath : defaultModelPath;
    void host.configure({ path, device: settings.device, threads: settings.threads }, () => tracker.abortAll('reload'));
  };

  const applySettings = (raw: unknown): void => {
    const read = readSettings(raw, settings);
    settings = read.settings;
    if (read.defaultModelPath !== undefined) defaultModelPath = read.defaultModelPath;
    if (read.grammarDirectory !== undefined) setGrammarDirectory(read.grammarDirectory);
    for (const p of read.problems) log.warn(`[settings] ${p}; keeping ${JSON.stringify(settings)}`);
  };

  // ---- lifecycle ----------------------------------------------------------------------------

  let folderEvents = false;
  connection.onInitialize((params) => {
    // The bundle's own grammars, unless the client names a directory.
    if (fs.existsSync(paths.grammarDirectory)) setGrammarDirectory(paths.grammarDirectory);
    applySettings(params.initializationOptions);
    folders = folderPaths(params.workspaceFolders ?? []);
    folderEvents = params.capabilities.workspace?.workspaceFolders === true;
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        inlineCompletionProvider: true,
        workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
      },
      serverInfo: { name: 'ptp-complete-worker' },
    };
  });
  // The model loads after the handshake, so initialize answers at once.
  connection.onInitialized(() => {
    if (folderEvents) {
      connection.workspace.onDidChangeWorkspaceFolders(({ added, removed }) => {
        const gone = new Set(folderPaths(removed));
        folders = [...folders.filter((f) => !gone.has(f)), ...folderPaths(added).filter((f) => !folders.includes(f))];
        configureIndexes();
      });
    }
    configureIndexes();
    loadModel();
  });
  connection.onDidChangeConfiguration(({ settings: raw }) => {
    applySettings(raw);
    configureIndexes();
    loadModel();
  });
  connection.onDidChangeWatchedFiles(({ changes }) => workspaceIndex.filesChanged(changes.flatMap(fileChange)));
  connection.onShutdown(async () => {
    tracker.abortAll('reload');
    openIndex.dispose();
    workspaceIndex.dispose();
    await host.dispose();
    docs.dispose();
  });

  // ---- documents ----------------------------------------------------------------------------

  connection.onDidOpenTextDocument((p) => {
    void docs.open(p).catch((e: unknown) => log.error(`[syntax] ${p.textDocument.uri}: ${message(e)}`));
    openIndex.opened(p.textDocument.uri);
  });
  connection.onDidChangeTextDocument((p) => {
    docs.change(p);
    openIndex.changed(p.textDocument.uri);
  });
  connection.onDidCloseTextDocument((p) => {
    docs.close(p);
    openIndex.closed(p.textDocument.uri);
  });

  // ---- requests -----------------------------------------------------------------------------

  /** The model, or a coded error; undefined when the request was cancelled while waiting. */
  const modelFor = async (request: TrackedRequest): Promise<LoadedModel | undefined> => {
    try {
      return await host.ready(request.signal);
    } catch (e) {
      if (request.signal.aborted) return undefined;
      if (e instanceof ModelUnavailableError) throw new ResponseError(ErrorCodes.ModelNotLoaded, e.message);
      throw e;
    }
  };

  const documentFor = (uri: string): SyntaxDocument => {
    const doc = docs.get(uri);
    if (doc === undefined) throw new ResponseError(RpcErrorCodes.InvalidParams, `${uri} is not open in the worker (send textDocument/didOpen first)`);
    return doc;
  };

  const decodingOf = (requested: Partial<DecodingSettings> | undefined, model: LoadedModel): DecodingSettings => {
    const decoding = resolveDecoding(requested, settings.decoding, model.engine.manifest);
    const problem = decodingProblem(decoding);
    if (problem !== undefined) throw new ResponseError(RpcErrorCodes.InvalidParams, problem);
    return decoding;
  };

  /** Trace, counters and a log line for one finished decode. */
  const record = (uri: string, position: Position, decoder: 'ptp' | 'ar', outcome: CompletionOutcome, request: TrackedRequest): void => {
    const stats = request.reason !== undefined ? { ...outcome.stats, stopReason: request.reason } : outcome.stats;
    outcome.stats = stats;
    traces.add({ requestId: stats.requestId, uri, decoder, stats, prompt: outcome.promptPreview, calls: outcome.calls });
    counters.last = stats;
    const { info, result } = outcome;
    log.debug(
      `[complete] ${stats.requestId} ${uri}:${position.line + 1}:${position.character + 1} ${stats.scope} (${info.reason}) ` +
        `${decoder} M=${result.blockSize} B=${result.budget} seed=${stats.seed}: ${stats.tokens} tokens in ${stats.calls} calls ` +
        `(${stats.tokensPerCall}/call), prompt ${result.promptTokens} (${result.reusedTokens} cached), prefill ${stats.msPrefill} ms, ` +
        `decode ${stats.msDecode} ms, total ${stats.msTotal} ms, stop ${stats.stopReason}, ${outcome.text.length} chars kept`,
    );
  };

  const finish = (request: TrackedRequest, served: boolean): void => {
    request.done();
    if (served) counters.served++;
    else if (request.reason !== undefined && request.reason !== 'timeout') counters.cancelled++;
    notifyStatusSoon();
  };

  connection.languages.inlineCompletion.on(async (params: InlineCompletionParams, token: CancellationToken): Promise<InlineCompletionList> => {
    const uri = params.textDocument.uri;
    const extras = (params as InlineCompletionParams & { ptp?: Partial<InlineCompletionExtras> }).ptp;
    // One lane for every document: one person types in one place, so the newest keystroke
    // anywhere makes older inline requests obsolete (the extension cancels them too).
    const request = tracker.begin('inline', token, settings.requestTimeoutMs);
    const none: InlineCompletionList = { items: [] };
    let served = false;
    try {
      const doc = documentFor(uri);
      const version = doc.version;
      const model = await modelFor(request);
      if (model === undefined) return none;
      const decoding = decodingOf(extras?.decoding, model);
      const offset = docs.insertionOffset(uri, params.position);
      if (offset === undefined) {
        log.debug(`[complete] ${uri}: ${params.position.line + 1}:${params.position.character + 1} is inside a character; no completion`);
        return none;
      }
      const invoked = params.context?.triggerKind === InlineCompletionTriggerKind.Invoked;
      const alternatives = Math.max(1, Math.min(MAX_ALTERNATIVES, Math.floor(extras?.alternatives ?? (invoked ? INVOKED_ALTERNATIVES : 1))));
      const seed = freshSeed();
      const items: InlineCompletionItem[] = [];
      // Aborted while waiting for the model: no turn, and the reason below decides the answer.
      await turns.run(request.signal, async () => {
        // The position was for the text as it was when the request came; it may have moved on since.
        if (!docs.isCurrent(uri, doc, version)) return log.debug(`[complete] ${uri}: the document changed while the request waited; dropped`);
        for (let i = 0; i < alternatives && !request.signal.aborted; i++) {
          const outcome = await completeAt(model, doc, offset, {
            decoding: decodingFor(decoding, i, seed),
            mode: 'inline',
            maxTokens: perScopeCap(decoding.maxTokens),
            cacheKey: uri,
            references: references(uri),
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
          record(uri, params.position, decoding.decoder, outcome, request);
          if (request.reason === 'cancelled' || request.reason === 'superseded' || request.reason === 'reload') break;
          if (outcome.text !== '' && !items.some((it) => it.insertText === outcome.text)) {
            items.push({ insertText: outcome.text, range: { start: params.position, end: params.position }, data: outcome.stats } as InlineCompletionItem);
          }
        }
      });
      const reason = request.reason;
      if (reason === 'cancelled' || reason === 'superseded' || reason === 'reload') return none;
      served = true;
      if (reason === 'timeout') {
        log.warn(`[complete] request ${request.id} for ${uri} hit the ${settings.requestTimeoutMs} ms cap (ptp.completion.requestTimeoutMs)`);
        if (items.length === 0) throw new ResponseError(ErrorCodes.Timeout, `no completion within ${settings.requestTimeoutMs} ms`);
      }
      return { items };
    } finally {
      finish(request, served);
    }
  });

  connection.onRequest(GenerateRequest, async (params: GenerateParams, token: CancellationToken): Promise<GenerateResult> => {
    const uri = params.textDocument.uri;
    const capMs = Math.max(settings.requestTimeoutMs, GENERATE_TIMEOUT_MS);
    const request = tracker.begin(`generate:${uri}`, token, capMs);
    let served = false;
    try {
      const doc = documentFor(uri);
      const version = doc.version;
      const model = await modelFor(request);
      if (model === undefined) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled');
      const decoding = decodingOf(params.decoding, model);
      const offset = docs.insertionOffset(uri, params.position);
      if (offset === undefined) throw new ResponseError(ErrorCodes.DocumentRejected, `${uri}: the position is between the two halves of a character`);
      const partialToken = params.partialResultToken;
      let lastSent = 0;
      let lastText = '';
      const outcome = await turns.run(request.signal, async () => {
        if (!docs.isCurrent(uri, doc, version)) return { kind: 'stale' } as const;
        return completeAt(model, doc, offset, {
          decoding: decodingFor(decoding, 0, freshSeed()),
          mode: 'generate',
          maxTokens: Math.max(decoding.maxTokens, GENERATE_MAX_TOKENS),
          ...(params.instruction !== undefined ? { instruction: params.instruction } : {}),
          cacheKey: uri,
          references: references(uri),
          requestId: request.id,
          signal: request.signal,
          onText:
            partialToken === undefined
              ? undefined
              : (text) => {
                  const now = performance.now();
                  if (text === lastText || now - lastSent < PARTIAL_INTERVAL_MS) return;
                  [lastSent, lastText] = [now, text];
                  void connection.sendProgress(GeneratePartialType, partialToken, { text }).catch(() => undefined);
                },
        });
      });
      if (outcome === undefined) {
        if (request.reason === 'timeout') throw new ResponseError(ErrorCodes.Timeout, `the model was busy for ${capMs} ms`);
        throw new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled');
      }
      if (outcome.kind === 'rejected') throw new ResponseError(ErrorCodes.DocumentRejected, `${uri}: ${outcome.detail}`);
      if (outcome.kind === 'stale') throw new ResponseError(LSPErrorCodes.ContentModified, `${uri} changed while generating`);
      record(uri, params.position, decoding.decoder, outcome, request);
      if (request.reason === 'timeout') log.warn(`[generate] request ${request.id} for ${uri} hit the ${GENERATE_TIMEOUT_MS} ms cap`);
      served = request.reason === undefined || request.reason === 'timeout';
      return { text: outcome.text, stats: outcome.stats };
    } finally {
      finish(request, served);
    }
  });

  connection.onNotification(WarmNotification, (params) => {
    const uri = params.textDocument.uri;
    const model = host.model;
    const doc = docs.get(uri);
    // Only into an idle model: a warm-up never delays a request.
    if (host.state !== 'ready' || model === undefined || doc === undefined || turns.depth > 0) return;
    const offset = docs.insertionOffset(uri, params.position);
    if (offset === undefined) return;
    const version = doc.version;
    const never = new AbortController();
    void turns
      .run(never.signal, async () => {
        if (!docs.isCurrent(uri, doc, version)) return;
        const decoding = resolveDecoding(undefined, settings.decoding, model.engine.manifest);
        const started = performance.now();
        const prefilled = await warmAt(model, doc, offset, {
          decoding: decodingFor(decoding, 0, 0),
          mode: 'inline',
          maxTokens: perScopeCap(decoding.maxTokens),
          cacheKey: uri,
          requestId: 'warm',
        });
        if (prefilled) log.debug(`[warm] ${uri}:${params.position.line + 1}:${params.position.character + 1}: ${prefilled} prompt tokens in ${(performance.now() - started).toFixed(1)} ms`);
      })
      .catch((e: unknown) => log.warn(`[warm] ${uri}: ${message(e)}`));
  });

  connection.onRequest(StatusRequest, status);
  connection.onRequest(TraceRequest, (params): TraceResult => ({ requests: traces.recent(params?.limit ?? 20) }));
}

/** The folders' paths on disk; a folder of another scheme (a remote or virtual one) has none. */
function folderPaths(list: readonly WorkspaceFolder[]): string[] {
  return list.flatMap((f) => pathOf(f.uri) ?? []);
}

/** An LSP file event as the workspace index takes it; none for a file of another scheme. */
function fileChange(event: FileEvent): FileChange[] {
  const path = pathOf(event.uri);
  if (path === undefined) return [];
  const kind = event.type === FileChangeType.Created ? 'created' : event.type === FileChangeType.Deleted ? 'deleted' : 'changed';
  return [{ path, kind }];
}

/** A local file: URI's path; undefined for any other (a UNC host on POSIX, another scheme). */
function pathOf(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

/** ptp.completion.maxTokens is a ceiling on top of each scope's own cap. */
function perScopeCap(cap: number): Partial<Record<Scope, number>> {
  return Object.fromEntries(Object.entries(SCOPE_MAX_TOKENS).map(([scope, n]) => [scope, Math.min(n, cap)]));
}

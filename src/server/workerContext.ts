/**
 * `WorkerContext`: what the worker's request handlers (src/server/handlers/) share: the current
 * settings, the open documents, the model, the request tracker and queue, the trace log, the
 * counters and the two lookup-draft indexes; and the steps every request takes (the model or a
 * coded error, the document or a coded error, the decoding settings it runs with, the record
 * of what it did).
 *
 * The indexes fill in idle time between requests (IdleGate: busy while the tracker holds a
 * request or the queue a turn) and every completion drafts from them.
 */
import { fileURLToPath } from 'node:url';
import { ErrorCodes as RpcErrorCodes, ResponseError } from 'vscode-languageserver/node';
import type { Connection, Position } from 'vscode-languageserver/node';
import type { SyntaxDocument } from '../context/index';
import type { DraftReference } from '../engine/index';
import type { CompletionStats, ConfidenceLevel, DecodingUse, ResolvedDecoding, StatusResult, WorkerSettings } from '../protocol/index';
import { DEFAULT_CONTEXT_SETTINGS, DEFAULT_WORKER_SETTINGS, ErrorCodes, SETTINGS, StatusChangedNotification, parseDecoding, readSetting, resolveDecoding } from '../protocol/index';
import type { CompletionOutcome } from '../completion/index';
import { EngineQueue } from './engineQueue';
import { IdleGate } from './idleGate';
import type { Logger } from './logger';
import { createLogger } from './logger';
import type { LoadedModel } from './modelHost';
import { ModelHost, ModelUnavailableError } from './modelHost';
import { OpenDocumentIndex } from './openDocumentIndex';
import { OpenDocuments } from './openDocuments';
import type { TrackedRequest } from './requestTracker';
import { RequestTracker } from './requestTracker';
import { readSettings } from './settings';
import { TraceLog } from './traceLog';
import { WorkspaceIndex } from './workspaceIndex';

/** statusChanged after requests is coalesced: the status bar needs no more. */
const STATUS_AFTER_REQUEST_MS = 250;

export class WorkerContext {
  settings: WorkerSettings = { ...DEFAULT_WORKER_SETTINGS };
  /** The bundled model, unless the client names another default (InitializationOptions). */
  defaultModelPath: string;
  /** The workspace folders on disk (file: URIs; others cannot be walked). */
  folders: string[] = [];
  readonly log: Logger;
  readonly docs: OpenDocuments;
  readonly host: ModelHost;
  readonly tracker = new RequestTracker();
  readonly turns = new EngineQueue();
  readonly traces = new TraceLog();
  readonly counters = { served: 0, cancelled: 0, last: undefined as CompletionStats | undefined };
  readonly openIndex: OpenDocumentIndex;
  readonly workspaceIndex: WorkspaceIndex;
  private statusTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly connection: Connection,
    defaultModelPath: string,
  ) {
    this.defaultModelPath = defaultModelPath;
    this.log = createLogger(connection.console, () => this.settings.logLevel);
    this.docs = new OpenDocuments((line) => this.log.info(line));
    this.host = new ModelHost(this.log);
    // Background indexing gives way to every request, waiting or running.
    const gate = new IdleGate(() => this.tracker.pending > 0 || this.turns.depth > 0);
    this.openIndex = new OpenDocumentIndex(gate, (uri) => this.docs.get(uri)?.text, this.log);
    this.workspaceIndex = new WorkspaceIndex(gate, this.log, () => this.docs.languages(), { onStateChange: () => this.notifyStatusSoon() });
    this.host.onDidChange(() => {
      this.configureIndexes();
      this.notifyStatus();
    });
  }

  status(): StatusResult {
    const memory = process.memoryUsage();
    const { host, counters } = this;
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
      pending: this.tracker.pending,
      index: { open: this.openIndex.status(), workspace: this.workspaceIndex.status() },
    };
  }

  notifyStatus(): void {
    void this.connection.sendNotification(StatusChangedNotification, this.status()).catch(() => undefined);
  }

  notifyStatusSoon(): void {
    this.statusTimer ??= setTimeout(() => {
      this.statusTimer = undefined;
      this.notifyStatus();
    }, STATUS_AFTER_REQUEST_MS);
  }

  /** Settings from the client (initializationOptions or didChangeConfiguration); problems go to the log. */
  applySettings(raw: unknown): { grammarDirectory?: string } {
    const read = readSettings(raw, this.settings);
    this.settings = read.settings;
    if (read.defaultModelPath !== undefined) this.defaultModelPath = read.defaultModelPath;
    for (const p of read.problems) this.log.warn(`[settings] ${p}; keeping ${JSON.stringify(this.settings)}`);
    return read.grammarDirectory !== undefined ? { grammarDirectory: read.grammarDirectory } : {};
  }

  /** The indexes follow the settings, the folders and the loaded model's tokenizer. */
  configureIndexes(): void {
    const context = this.settings.context ?? DEFAULT_CONTEXT_SETTINGS;
    const encoder = this.host.state === 'ready' ? this.host.model?.engine : undefined;
    this.openIndex.configure({ enabled: context.openFiles, encoder });
    this.workspaceIndex.configure({ enabled: context.workspace, trusted: context.trusted, folders: this.folders, exclude: context.exclude, encoder });
  }

  /** (Re)loads the model the settings name; the host does nothing when nothing changed. */
  loadModel(): void {
    const { settings } = this;
    const path = settings.modelPath !== undefined && settings.modelPath !== '' ? settings.modelPath : this.defaultModelPath;
    void this.host.configure({ path, device: settings.device, threads: settings.threads }, () => this.tracker.abortAll('reload'));
  }

  /**
   * Lookup-draft references for a request in `uri`: the document itself beyond the prompt's
   * window, the other open documents, the workspace's files but this one (its text on disk).
   */
  references(uri: string): DraftReference[] {
    const open = this.openIndex.index;
    const workspace = this.workspaceIndex.index;
    const onDisk = pathOf(uri);
    return [
      ...(open !== undefined ? [{ source: 'document', index: open, only: uri } as const, { source: 'open', index: open, exclude: uri } as const] : []),
      ...(workspace !== undefined ? [{ source: 'workspace', index: workspace, ...(onDisk !== undefined ? { exclude: onDisk } : {}) } as const] : []),
    ];
  }

  /**
   * Whether completions carry a retrieved snippet (ptp.context.snippets): from the same two
   * indexes as the drafts (references()), so under the same rules (trust, exclusions, never
   * this document), and only while one of them is on.
   */
  snippets(): boolean {
    const context = this.settings.context ?? DEFAULT_CONTEXT_SETTINGS;
    return (context.snippets ?? SETTINGS['context.snippets'].default) && (context.openFiles || context.workspace);
  }

  /**
   * Whether completions mix in the cache model (ptp.context.cacheModel): over the prompt's own
   * text always, and over the two indexes of references() while they are on.
   */
  cacheModel(): boolean {
    return (this.settings.context ?? DEFAULT_CONTEXT_SETTINGS).cacheModel ?? SETTINGS['context.cacheModel'].default;
  }

  /** The model, or a coded error; undefined when the request was cancelled while waiting. */
  async modelFor(request: TrackedRequest): Promise<LoadedModel | undefined> {
    try {
      return await this.host.ready(request.signal);
    } catch (e) {
      if (request.signal.aborted) return undefined;
      if (e instanceof ModelUnavailableError) throw new ResponseError(ErrorCodes.ModelNotLoaded, e.message);
      throw e;
    }
  }

  documentFor(uri: string): SyntaxDocument {
    const doc = this.docs.get(uri);
    if (doc === undefined) throw new ResponseError(RpcErrorCodes.InvalidParams, `${uri} is not open in the worker (send textDocument/didOpen first)`);
    return doc;
  }

  /**
   * What a request decodes with: its own settings (checked; a bad value is InvalidParams), else
   * what the client sent as settings, else the defaults and the model's own sampling settings.
   */
  decodingOf(requested: unknown, model: LoadedModel, use: DecodingUse = 'other'): ResolvedDecoding {
    const read = parseDecoding(requested, 'decoding.');
    if (read.problems.length > 0) throw new ResponseError(RpcErrorCodes.InvalidParams, read.problems.join('; '));
    return resolveDecoding(read.decoding, this.settings.decoding, model.engine.manifest.sampling, use);
  }

  /** The request's confidence level (checked), else the client's setting, else the setting's default. */
  confidenceOf(requested: unknown): ConfidenceLevel {
    if (requested !== undefined && requested !== null) {
      const read = readSetting('completion.confidence', requested, 'confidence');
      if (read.problem !== undefined) throw new ResponseError(RpcErrorCodes.InvalidParams, read.problem);
      return read.value;
    }
    return this.settings.confidence ?? SETTINGS['completion.confidence'].default;
  }

  /** Trace, counters (the last request's stats) and a log line for one finished decode. */
  record(uri: string, position: Position, decoding: ResolvedDecoding, outcome: CompletionOutcome, request: TrackedRequest): void {
    const stats = request.reason !== undefined ? { ...outcome.stats, stopReason: request.reason } : outcome.stats;
    outcome.stats = stats;
    const { decoder } = decoding;
    this.traces.add({ requestId: stats.requestId, uri, decoder, stats, prompt: outcome.promptPreview, calls: outcome.calls });
    this.counters.last = stats;
    const { info, result } = outcome;
    const shown = stats.withheld !== undefined ? `nothing shown (${stats.withheld.reason}: ${stats.withheld.detail})` : `${outcome.text.length} chars kept`;
    this.log.debug(
      `[complete] ${stats.requestId} ${uri}:${position.line + 1}:${position.character + 1} ${stats.scope} (${info.reason}) ` +
        `${decoder} M=${result.blockSize} B=${result.budget} seed=${stats.seed} T=${decoding.temperature} top-k=${decoding.topK} top-p=${decoding.topP}: ` +
        `${stats.tokens} tokens in ${stats.calls} calls (${stats.tokensPerCall}/call), prompt ${result.promptTokens} (${result.reusedTokens} cached), ` +
        `prefill ${stats.msPrefill} ms, decode ${stats.msDecode} ms, total ${stats.msTotal} ms, stop ${stats.stopReason}, ${shown}`,
    );
  }

  /** The request is answered: release it, count it, and tell the client soon. */
  finish(request: TrackedRequest, served: boolean): void {
    request.done();
    if (served) this.counters.served++;
    else if (request.reason !== undefined && request.reason !== 'timeout') this.counters.cancelled++;
    this.notifyStatusSoon();
  }

  async dispose(): Promise<void> {
    this.tracker.abortAll('reload');
    this.openIndex.dispose();
    this.workspaceIndex.dispose();
    await this.host.dispose();
    this.docs.dispose();
  }
}

/** A local file: URI's path; undefined for any other (a UNC host on POSIX, another scheme). */
export function pathOf(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

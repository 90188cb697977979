/**
 * The worker process and the language client that talks to it.
 *
 *   extension host ──(LSP over Node IPC)──> dist/server.js (worker: model, tree-sitter)
 *
 * `start()` returns at once; the client forks the worker in the background and the worker
 * loads the model after `initialize`, reporting `ptp/statusChanged` (loading -> ready | error).
 * vscode-languageclient gives restart, cancellation ($/cancelRequest), tracing (`ptp.trace.server`)
 * and the output channel; the worker's stderr lands in the same log.
 *
 * The client also tells the worker the workspace folders (LSP workspaceFolders, as
 * vscode-languageclient does by itself) and every file created, changed or deleted in them
 * (`workspace/didChangeWatchedFiles`, from one file system watcher), for its workspace index.
 *
 * Inline completions do not use the client's built-in inline completion feature: it cannot add
 * the `ptp` extras (decoding settings, alternatives) to the request, and the provider here
 * needs its own cache and debounce. The built-in one is muted by middleware (see
 * `clientOptions`), so the worker may advertise the capability like any LSP server.
 */
import * as vscode from 'vscode';
import type { CloseHandlerResult, ErrorHandler, ErrorHandlerResult, InlineCompletionParams, LanguageClientOptions, ServerOptions } from 'vscode-languageclient/node';
import {
  CloseAction,
  DidChangeConfigurationNotification,
  ErrorAction,
  InlineCompletionRequest,
  InlineCompletionTriggerKind,
  LanguageClient,
  RevealOutputChannelOn,
  State,
  TransportKind,
} from 'vscode-languageclient/node';
import type { CompletionStats, GenerateParams, GenerateResult, InitializationOptions, InlineCompletionExtras, StatusResult, TraceResult } from '../protocol';
import { BUNDLED_MODEL_DIR, GenerateRequest, StatusChangedNotification, StatusRequest, TraceRequest, WarmNotification, WORKER_ENV, WORKER_EXEC_ARGV } from '../protocol';
import type { WorkerCompletion } from './inlineItems';
import { completionsOf, lastStatsOf } from './inlineItems';
import type { PtpSettings } from './parseSettings';
import { MAX_RESTARTS, RESTART_WINDOW_MS, RestartPolicy } from './restartPolicy';

export type { WorkerCompletion } from './inlineItems';

/** What the status bar shows about the worker. */
export type WorkerPhase = 'starting' | 'loading' | 'ready' | 'error' | 'stopped';

export interface WorkerStatus {
  readonly phase: WorkerPhase;
  /** One line for the person, when phase is 'error' or 'stopped'. */
  readonly error?: string;
  /** The worker's own report, when it has sent one. */
  readonly report?: StatusResult;
}

export class WorkerClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  /** Every file event in the workspace folders, for the worker's index; one per client. */
  private watcher: vscode.FileSystemWatcher | undefined;
  private starting: Promise<void> | undefined;
  private statusValue: WorkerStatus = { phase: 'starting' };
  private readonly statusEmitter = new vscode.EventEmitter<WorkerStatus>();
  private readonly restarts = new RestartPolicy();
  private relaunchTimer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;
  private generateCounter = 0;
  /** Documents whose didChange notifications are held back (see holdChanges). */
  private readonly held = new Map<string, Array<() => Promise<void>>>();
  readonly onDidChangeStatus = this.statusEmitter.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly settings: () => PtpSettings,
  ) {}

  get status(): WorkerStatus {
    return this.statusValue;
  }

  get isReady(): boolean {
    return this.statusValue.phase === 'ready' && this.client?.state === State.Running;
  }

  /** Starts the worker in the background; never throws (failures become the 'error' phase). */
  start(): void {
    if (this.starting !== undefined) return;
    this.setStatus({ phase: 'starting' });
    this.starting = this.startClient()
      .catch((e: unknown) => {
        const message = e instanceof Error ? e.message : String(e);
        this.log.error(`Worker failed to start: ${message}`);
        this.setStatus({ phase: 'error', error: `The PTP worker did not start: ${message}` });
      })
      .finally(() => {
        this.starting = undefined;
      });
  }

  async restart(): Promise<void> {
    this.log.info('Restarting the worker');
    clearTimeout(this.relaunchTimer);
    this.relaunchTimer = undefined;
    await this.stop();
    this.restarts.reset();
    this.start();
    await this.starting;
  }

  async stop(): Promise<void> {
    await this.starting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) {
      try {
        await client.stop(5000);
      } catch (e) {
        this.log.warn(`Stopping the worker: ${e instanceof Error ? e.message : String(e)}`);
      }
      await client.dispose().catch(() => undefined);
    }
    this.watcher?.dispose();
    this.watcher = undefined;
    this.setStatus({ phase: 'stopped' });
  }

  /** Asks the worker for its report now (ptp/status); undefined while no worker runs. */
  async report(): Promise<StatusResult | undefined> {
    const client = this.client;
    if (client === undefined || !client.isRunning()) return undefined;
    const report = await client.sendRequest(StatusRequest);
    this.adoptReport(client, report);
    return report;
  }

  /** Resolves with the worker's report once it is ready; rejects on error or after timeoutMs. */
  whenReady(timeoutMs: number): Promise<StatusResult> {
    return new Promise((resolve, reject) => {
      const check = (s: WorkerStatus): boolean => {
        if (s.phase === 'ready' && s.report !== undefined) {
          resolve(s.report);
          return true;
        }
        if (s.phase === 'error') {
          reject(new Error(s.error ?? 'worker error'));
          return true;
        }
        return false;
      };
      if (check(this.statusValue)) return;
      const timer = setTimeout(() => {
        sub.dispose();
        reject(new Error(`worker not ready after ${timeoutMs} ms (phase ${this.statusValue.phase})`));
      }, timeoutMs);
      const sub = this.onDidChangeStatus((s) => {
        if (check(s)) {
          clearTimeout(timer);
          sub.dispose();
        }
      });
    });
  }

  /** Sends all worker settings; the worker applies them live (a new model path or device reloads the model). */
  sendSettings(): void {
    if (this.client?.state !== State.Running) return;
    void this.client
      .sendNotification(DidChangeConfigurationNotification.type, { settings: this.initializationOptions() })
      .catch((e: unknown) => this.log.warn(`Sending settings: ${String(e)}`));
  }

  /** Asks the worker to warm its prompt cache for a completion here (see cursorWarmer.ts). */
  warm(document: vscode.TextDocument, position: vscode.Position): void {
    const client = this.client;
    if (!this.isReady || client === undefined) return;
    void client
      .sendNotification(WarmNotification, {
        textDocument: { uri: client.code2ProtocolConverter.asUri(document.uri) },
        position: { line: position.line, character: position.character },
      })
      .catch((e: unknown) => this.log.debug(`ptp/warm: ${String(e)}`));
  }

  async inlineCompletion(
    document: vscode.TextDocument,
    position: vscode.Position,
    explicit: boolean,
    extras: InlineCompletionExtras,
    token: vscode.CancellationToken,
  ): Promise<{ completions: WorkerCompletion[]; last?: CompletionStats }> {
    const client = this.requireClient();
    // LSP's trigger kinds are Invoked = 1, Automatic = 2 (VS Code's enum is 0 and 1).
    const params: InlineCompletionParams & { ptp: InlineCompletionExtras } = {
      textDocument: { uri: client.code2ProtocolConverter.asUri(document.uri) },
      position: { line: position.line, character: position.character },
      context: { triggerKind: explicit ? InlineCompletionTriggerKind.Invoked : InlineCompletionTriggerKind.Automatic },
      ptp: extras,
    };
    const result = await client.sendRequest(InlineCompletionRequest.type, params, token);
    if (result === null || result === undefined) return { completions: [] };
    const completions = completionsOf(Array.isArray(result) ? result : result.items, position, document.lineAt(position.line).text);
    const last = lastStatsOf(result);
    return last !== undefined ? { completions, last } : { completions };
  }

  /**
   * Holds back this document's changes from the worker until the returned function is called,
   * then sends them in order. Generate Code streams into the document while the worker
   * generates from the text as it was when the request started; the worker drops a result whose
   * document changed underneath it, so it must see the streamed edits only afterwards.
   */
  holdChanges(uri: vscode.Uri): () => void {
    const key = uri.toString();
    if (!this.held.has(key)) this.held.set(key, []);
    return () => {
      const queue = this.held.get(key);
      this.held.delete(key);
      // Sent in one go, in order: no later change can get between them.
      for (const send of queue ?? []) void send().catch((e: unknown) => this.log.warn(`Sending held changes: ${String(e)}`));
    };
  }

  /** Runs ptp/generate; `onPartial` gets the text so far as it streams. */
  async generate(params: Omit<GenerateParams, 'partialResultToken'>, onPartial: (textSoFar: string) => void, token: vscode.CancellationToken): Promise<GenerateResult> {
    const client = this.requireClient();
    const partialResultToken = `ptp-generate-${++this.generateCounter}`;
    const progress = client.onProgress(GenerateRequest, partialResultToken, (partial) => {
      if (!token.isCancellationRequested && typeof partial?.text === 'string') onPartial(partial.text);
    });
    try {
      return await client.sendRequest(GenerateRequest, { ...params, partialResultToken }, token);
    } finally {
      progress.dispose();
    }
  }

  async trace(limit: number): Promise<TraceResult> {
    return this.requireClient().sendRequest(TraceRequest, { limit });
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.relaunchTimer);
    void this.stop();
    this.statusEmitter.dispose();
  }

  /** A new worker after a crash, keeping the crash count (Restart Worker resets it). */
  private async relaunch(): Promise<void> {
    this.relaunchTimer = undefined;
    if (this.disposed) return;
    await this.stop();
    if (this.disposed) return;
    this.start();
    await this.starting;
  }

  private requireClient(): LanguageClient {
    if (this.client === undefined) throw new Error('Client is not running');
    return this.client;
  }

  private setStatus(status: WorkerStatus): void {
    this.statusValue = status;
    this.statusEmitter.fire(status);
  }

  private onReport(report: StatusResult): void {
    const phase: WorkerPhase = report.state === 'ready' ? 'ready' : report.state === 'error' ? 'error' : 'loading';
    if (report.state === 'error') this.log.error(`Worker: ${report.error ?? 'unknown error'}`);
    this.setStatus({ phase, report, error: report.error });
  }

  private initializationOptions(): InitializationOptions {
    const settings = this.settings();
    return {
      // decoding: the fallback for requests that carry none (ours always do).
      settings: { ...settings.worker, decoding: { ...settings.decoding, maxTokens: settings.completion.maxTokens } },
      grammarDirectory: this.context.asAbsolutePath('dist/grammars'),
      defaultModelPath: this.context.asAbsolutePath(BUNDLED_MODEL_DIR),
    };
  }

  private async startClient(): Promise<void> {
    const module = this.context.asAbsolutePath('dist/server.js');
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc, options: { execArgv: [...WORKER_EXEC_ARGV], env: { ...WORKER_ENV } } },
      debug: { module, transport: TransportKind.ipc, options: { execArgv: [...WORKER_EXEC_ARGV, '--nolazy', '--inspect=6011'], env: { ...WORKER_ENV } } },
    };
    this.watcher?.dispose();
    // The worker checks each path against .gitignore, files.exclude and its other rules.
    this.watcher = vscode.workspace.createFileSystemWatcher('**/*');
    const clientOptions: LanguageClientOptions = {
      // Every text document on disk or unsaved; the worker decides what it can complete.
      documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
      synchronize: { fileEvents: this.watcher },
      outputChannel: this.log,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: () => this.initializationOptions(),
      errorHandler: this.errorHandler(),
      initializationFailedHandler: (error) => {
        this.log.error(`Worker initialization failed: ${error instanceof Error ? error.message : String(error)}`);
        return false;
      },
      middleware: {
        // Inline completions go through PtpInlineCompletionProvider (see the file comment).
        provideInlineCompletionItems: () => undefined,
        didChange: (event, next) => {
          const queue = this.held.get(event.document.uri.toString());
          if (queue === undefined) return next(event);
          queue.push(() => next(event));
          return Promise.resolve();
        },
      },
    };
    const client = new LanguageClient('ptp', 'PTP Complete', serverOptions, clientOptions);
    this.client = client;
    client.onDidChangeState((e) => {
      if (e.newState === State.Stopped && this.client === client && this.statusValue.phase !== 'error') {
        this.setStatus({ phase: 'stopped', error: 'The PTP worker stopped.' });
      } else if (e.newState === State.Starting) {
        this.setStatus({ phase: 'starting' });
      } else if (e.newState === State.Running) {
        // After a restart by the error handler the worker loads again.
        void this.refreshStatus(client);
      }
    });
    client.onNotification(StatusChangedNotification, (report) => {
      if (this.client === client) this.onReport(report);
    });
    const started = Date.now();
    await client.start();
    this.log.info(`Worker started in ${Date.now() - started} ms (${module})`);
    await this.refreshStatus(client);
  }

  private async refreshStatus(client: LanguageClient): Promise<void> {
    try {
      this.adoptReport(client, await client.sendRequest(StatusRequest));
    } catch (e) {
      this.log.warn(`ptp/status: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** A ptp/status answer from `client`, unless that worker is gone or a newer state overtook it. */
  private adoptReport(client: LanguageClient, report: StatusResult): void {
    // A statusChanged notification may have overtaken this answer; the newest state wins.
    if (this.client === client && !(this.statusValue.report !== undefined && this.statusValue.report.state !== 'loading' && report.state === 'loading')) {
      this.onReport(report);
    }
  }

  private errorHandler(): ErrorHandler {
    return {
      error: (error, _message, count): ErrorHandlerResult => {
        this.log.error(`Worker connection error: ${error.message}`);
        return { action: count !== undefined && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown };
      },
      closed: (): CloseHandlerResult => {
        const decision = this.restarts.stopped();
        if ('giveUp' in decision) {
          this.log.error(decision.giveUp);
          this.setStatus({ phase: 'error', error: decision.giveUp });
          return { action: CloseAction.DoNotRestart, message: decision.giveUp, handled: true };
        }
        this.log.warn(`The worker stopped (${decision.count} of ${MAX_RESTARTS} allowed in ${RESTART_WINDOW_MS / 60000} minutes); restarting it in ${decision.restartInMs} ms`);
        clearTimeout(this.relaunchTimer);
        this.relaunchTimer = setTimeout(() => void this.relaunch(), decision.restartInMs);
        return { action: CloseAction.DoNotRestart, handled: true };
      },
    };
  }
}

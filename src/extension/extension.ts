/**
 * PTP Complete: local code completion with Parallel Token Prediction.
 *
 * Activation only wires things up and returns (< 100 ms); the worker process starts in the
 * background and loads the model after `initialize`. Contents:
 *
 *   settings.ts                  ptp.* settings, read in one place, applied without reload
 *   workerClient.ts              the worker process and its language client
 *   inlineCompletionProvider.ts  ghost text (cache, reuse, debounce, mid-line rules)
 *   generateCode.ts              Generate Code… (comment prompt, streaming, one undo step)
 *   statusBar.ts / statusMenu.ts state, latency and tokens per call; the click menu
 *   traceView.ts                 Show Decoding Trace (webview)
 *   selectModel.ts               Select Model
 *
 * The extension opens no network connection and sends no telemetry.
 */
import * as vscode from 'vscode';
import type { StatusResult, TraceResult } from '../protocol';
import { Activity } from './activity';
import { Commands } from './commandIds';
import { CursorWarmer } from './cursorWarmer';
import type { GenerateArgs, GenerateOutcome } from './generateCode';
import { CodeGenerator } from './generateCode';
import type { InlineCounters, InlineOutcome } from './inlineCompletionProvider';
import { PtpInlineCompletionProvider } from './inlineCompletionProvider';
import { selectModel } from './selectModel';
import { SettingsStore } from './settings';
import { Snooze } from './snooze';
import { StatusBar } from './statusBar';
import { showStatusMenu } from './statusMenu';
import { TraceView } from './traceView';
import type { WorkerStatus } from './workerClient';
import { WorkerClient } from './workerClient';

/** What `activate` returns: used by the extension-host tests (test/suite), not a public API. */
export interface PtpExtensionApi {
  readonly activationMs: number;
  whenReady(timeoutMs?: number): Promise<StatusResult>;
  workerStatus(): WorkerStatus;
  /** The worker's report, asked for now (ptp/status). */
  workerReport(): Promise<StatusResult | undefined>;
  lastInlineOutcome(): InlineOutcome | undefined;
  inlineCounters(): Readonly<InlineCounters>;
  statusBarText(): string;
  /** The status bar tooltip's markdown (why the last suggestion was withheld, when it was). */
  statusBarTooltip(): string;
  /** Cancels a running Generate Code, as its notification's Cancel button does. */
  cancelGenerate(): void;
  /** Forgets cached completions (tests that compare fresh requests). */
  clearCache(): void;
  /** The worker's recent requests (ptp/trace). */
  trace(limit: number): Promise<TraceResult>;
  /** Calls the inline provider as VS Code does, with a token the caller controls. */
  provideInlineCompletions(document: vscode.TextDocument, position: vscode.Position, explicit: boolean, token: vscode.CancellationToken): Promise<string[]>;
}

export function activate(context: vscode.ExtensionContext): PtpExtensionApi {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('PTP Complete', { log: true });
  try {
    return wireUp(context, log, started);
  } catch (e) {
    log.error(`Activation failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    throw e;
  }
}

function wireUp(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, started: number): PtpExtensionApi {
  const settings = new SettingsStore();
  const activity = new Activity();
  const snooze = new Snooze();
  const worker = new WorkerClient(context, log, () => settings.current);
  const provider = new PtpInlineCompletionProvider(worker, settings, snooze, activity, log);
  const generator = new CodeGenerator(worker, settings, activity, provider.busyDocuments, log);
  const statusBar = new StatusBar(worker, settings, activity, snooze);
  const traceView = new TraceView(context.extensionUri, worker);
  const warmer = new CursorWarmer(worker, settings, provider.busyDocuments);
  context.subscriptions.push(log, settings, activity, worker, provider, generator, statusBar, traceView, warmer);

  context.subscriptions.push(
    vscode.languages.registerInlineCompletionItemProvider([{ scheme: 'file' }, { scheme: 'untitled' }], provider),
    vscode.commands.registerCommand(Commands.generateCode, (args?: GenerateArgs): Promise<GenerateOutcome> => generator.run(args)),
    vscode.commands.registerCommand(Commands.toggleCompletions, () => settings.update('enable', !settings.current.enable)),
    vscode.commands.registerCommand(Commands.toggleLanguage, (languageId?: string) => toggleLanguage(settings, languageId)),
    vscode.commands.registerCommand(Commands.snooze, () => {
      snooze.extend();
      statusBar.snoozeChanged();
    }),
    vscode.commands.registerCommand(Commands.cancelSnooze, () => {
      snooze.cancel();
      statusBar.snoozeChanged();
    }),
    vscode.commands.registerCommand(Commands.showTrace, () => traceView.show()),
    vscode.commands.registerCommand(Commands.showLog, () => log.show(true)),
    vscode.commands.registerCommand(Commands.selectModel, () => selectModel(settings)),
    vscode.commands.registerCommand(Commands.restartWorker, () => worker.restart()),
    vscode.commands.registerCommand(Commands.statusMenu, () => showStatusMenu(settings, snooze, worker)),
    vscode.commands.registerCommand(Commands.openSettings, () => vscode.commands.executeCommand('workbench.action.openSettings', `@ext:${context.extension.id}`)),
    // Applied without reload: requests read settings as they go; the worker gets its part now.
    settings.onDidChange(() => worker.sendSettings()),
    settings.onDidChange((s) => logSettingProblems(s.problems, log)),
    reportWorkerErrors(worker, log),
  );

  logSettingProblems(settings.current.problems, log);
  // The worker starts in the background: activation does not wait for the process or the model.
  worker.start();
  const activationMs = performance.now() - started;
  log.info(`Activated in ${activationMs.toFixed(1)} ms${vscode.workspace.isTrusted ? '' : ' (restricted mode: model path, device and threads come from user settings only, and no workspace file is indexed)'}`);

  return {
    activationMs,
    whenReady: (timeoutMs = 120_000) => worker.whenReady(timeoutMs),
    workerStatus: () => worker.status,
    workerReport: () => worker.report(),
    lastInlineOutcome: () => provider.lastOutcome,
    inlineCounters: () => ({ ...provider.counters, skipped: { ...provider.counters.skipped } }),
    statusBarText: () => statusBar.text,
    statusBarTooltip: () => statusBar.tooltip,
    cancelGenerate: () => generator.cancel(),
    clearCache: () => provider.cache.clear(),
    trace: (limit) => worker.trace(limit),
    provideInlineCompletions: async (document, position, explicit, token) => {
      const context: vscode.InlineCompletionContext = {
        triggerKind: explicit ? vscode.InlineCompletionTriggerKind.Invoke : vscode.InlineCompletionTriggerKind.Automatic,
        selectedCompletionInfo: undefined,
      };
      const items = (await provider.provideInlineCompletionItems(document, position, context, token)) ?? [];
      return items.map((i) => (typeof i.insertText === 'string' ? i.insertText : i.insertText.value));
    },
  };
}

export function deactivate(): void {
  // Disposables in context.subscriptions stop the worker.
}

async function toggleLanguage(settings: SettingsStore, languageId?: string): Promise<void> {
  const id = languageId ?? vscode.window.activeTextEditor?.document.languageId;
  if (id === undefined) {
    void vscode.window.showInformationMessage('PTP: open a file to turn completions on or off for its language.');
    return;
  }
  const next = { ...settings.current.enableLanguages, [id]: !settings.enabledFor(id) };
  await settings.update('enableLanguages', next);
}

/** An invalid `ptp.*` value works as its default; the log says which and why. */
function logSettingProblems(problems: readonly string[], log: vscode.LogOutputChannel): void {
  for (const p of problems) log.warn(`Setting ${p}; using its default`);
}

/** One clear message per distinct worker failure, with the two things the person can do. */
function reportWorkerErrors(worker: WorkerClient, log: vscode.LogOutputChannel): vscode.Disposable {
  let lastShown: string | undefined;
  return worker.onDidChangeStatus((status) => {
    if (status.phase !== 'error') {
      if (status.phase === 'ready') lastShown = undefined;
      return;
    }
    const message = status.error ?? 'The PTP worker failed.';
    if (message === lastShown) return;
    lastShown = message;
    void vscode.window.showErrorMessage(`PTP Complete: ${message}`, 'Show Log', 'Restart Worker').then((choice) => {
      if (choice === 'Show Log') log.show(true);
      else if (choice === 'Restart Worker') void worker.restart();
    });
  });
}

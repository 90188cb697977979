/**
 * Warms the worker's prompt cache where the cursor comes to rest. A completion at a new place
 * first runs its ~300-token prompt through the model (about 70 ms on a laptop core); typing
 * then reuses it. When the person clicks or moves the cursor somewhere and pauses, this sends
 * `ptp/warm` for that position, so the first keystroke there is answered from a warm cache.
 *
 * Not with a selection or several cursors, not for languages that are off, and only to a ready
 * worker; the worker itself only warms when it has nothing else to do. While typing, the
 * completion requests keep the cache warm, so a warm-up at a pause finds it cached and costs
 * only the prompt's tokenization.
 */
import * as vscode from 'vscode';
import type { SettingsStore } from './settings';
import type { WorkerClient } from './workerClient';

/** The cursor must rest this long. */
const REST_MS = 250;

export class CursorWarmer implements vscode.Disposable {
  private timer: NodeJS.Timeout | undefined;
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly worker: WorkerClient,
    private readonly settings: SettingsStore,
    private readonly busyDocuments: ReadonlySet<string>,
  ) {
    this.subscriptions = [
      vscode.window.onDidChangeTextEditorSelection((e) => this.schedule(e.textEditor)),
      vscode.window.onDidChangeActiveTextEditor((editor) => editor !== undefined && this.schedule(editor)),
    ];
  }

  private schedule(editor: vscode.TextEditor): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.warm(editor), REST_MS);
  }

  private warm(editor: vscode.TextEditor): void {
    if (vscode.window.activeTextEditor !== editor) return;
    const { document, selections } = editor;
    const settings = this.settings.current;
    if (!settings.enable || !settings.completion.automatic || !this.settings.enabledFor(document.languageId)) return;
    if (selections.length !== 1 || !selections[0]!.isEmpty) return;
    if (document.uri.scheme !== 'file' && document.uri.scheme !== 'untitled') return;
    if (this.busyDocuments.has(document.uri.toString())) return;
    this.worker.warm(document, selections[0]!.active);
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const s of this.subscriptions) s.dispose();
  }
}

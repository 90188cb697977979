/**
 * Generate Code…: the instruction becomes a comment line at the cursor, the worker writes the
 * code below it, and the text streams into the editor under a cancellable progress
 * notification.
 *
 * One undo step: the first edit pushes an undo stop before it, every streamed edit is merged
 * into the same undo element (no stops), the last one pushes the stop after it. Cancelling
 * removes everything the command inserted, comment included, so nothing is left behind.
 *
 *   before:   ····if (ok) {|                       (cursor at the end of a line)
 *   comment:  ····if (ok) {
 *             ····// parse the header               <- commentLine(languageId, instruction)
 *             ····|                                 <- generation starts here
 *
 * On a blank line the comment goes at the cursor. An empty instruction generates at the cursor
 * without a comment. The worker puts the instruction into its own copy of the text in the same
 * layout and generates from the document as it was; the streamed edits reach it afterwards
 * (WorkerClient.holdChanges), so the document the worker decodes from never moves under it.
 */
import * as vscode from 'vscode';
import type { GenerateResult } from '../protocol';
import type { Activity } from './activity';
import { commentLine } from './commentSyntax';
import { classifyFailure, failureMessage } from './requestErrors';
import type { SettingsStore } from './settings';
import type { WorkerClient } from './workerClient';

export interface GenerateArgs {
  /** The instruction; when given, no input box is shown (tests, keybindings). */
  readonly instruction?: string;
}

export type GenerateOutcome =
  | { readonly status: 'inserted'; readonly text: string; readonly result: GenerateResult }
  | { readonly status: 'cancelled' | 'no-editor' | 'not-ready' | 'dismissed' | 'empty' | 'interrupted' }
  | { readonly status: 'failed'; readonly message: string };

export class CodeGenerator implements vscode.Disposable {
  private current: vscode.CancellationTokenSource | undefined;

  constructor(
    private readonly worker: WorkerClient,
    private readonly settings: SettingsStore,
    private readonly activity: Activity,
    private readonly busyDocuments: Set<string>,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Cancels the running generation, exactly as the notification's Cancel button does. */
  cancel(): void {
    this.current?.cancel();
  }

  async run(args?: GenerateArgs): Promise<GenerateOutcome> {
    const editor = vscode.window.activeTextEditor;
    if (editor === undefined) {
      void vscode.window.showWarningMessage('PTP: open a file and place the cursor where the code should go.');
      return { status: 'no-editor' };
    }
    if (!this.worker.isReady) {
      const phase = this.worker.status.phase;
      void vscode.window.showWarningMessage(phase === 'error' ? `PTP: ${this.worker.status.error ?? 'the worker failed'}` : 'PTP: the model is still loading; try again in a moment.');
      return { status: 'not-ready' };
    }
    const instruction =
      args?.instruction ??
      (await vscode.window.showInputBox({
        title: 'PTP: Generate Code',
        prompt: 'What should the code do? It becomes a comment above the generated code.',
        placeHolder: 'e.g. read a CSV file and return the rows as objects',
        ignoreFocusOut: true,
      }));
    if (instruction === undefined) return { status: 'dismissed' };
    this.current?.cancel();
    const cts = new vscode.CancellationTokenSource();
    this.current = cts;
    const document = editor.document;
    const uri = document.uri.toString();
    this.busyDocuments.add(uri);
    const end = this.activity.begin('generate');
    try {
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'PTP: generating code', cancellable: true },
        async (progress, progressToken) => {
          const sub = progressToken.onCancellationRequested(() => cts.cancel());
          try {
            return await this.generateInto(editor, instruction.trim(), cts, (chars) => progress.report({ message: `${chars} characters` }));
          } finally {
            sub.dispose();
          }
        },
      );
    } finally {
      end();
      this.busyDocuments.delete(uri);
      if (this.current === cts) this.current = undefined;
      cts.dispose();
    }
  }

  private async generateInto(editor: vscode.TextEditor, instruction: string, cts: vscode.CancellationTokenSource, onProgress: (chars: number) => void): Promise<GenerateOutcome> {
    const token = cts.token;
    const document = editor.document;
    const eol = document.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n';
    const cursor = editor.selection.active;
    const line = document.lineAt(cursor.line);
    // On a blank line generate at the cursor, otherwise below the cursor's line.
    const at = line.isEmptyOrWhitespace ? cursor : line.range.end;
    const before = line.text.slice(0, at.character);
    const comment = instruction === '' ? undefined : commentLine(document.languageId, instruction);
    // The same layout the worker gives the instruction in its copy of the text.
    const indent = before.slice(0, before.length - before.trimStart().length);
    const block = comment === undefined ? '' : before.trim() === '' ? `${comment}${eol}${before}` : `${eol}${indent}${comment}${eol}${indent}`;
    const atOffset = document.offsetAt(at);
    const startOffset = atOffset + block.length;
    let shown = '';
    let interrupted = false;
    let ownEdits = 0;
    let queue = Promise.resolve();

    // The worker keeps seeing the text as it was until the result is in (see holdChanges).
    const release = this.worker.holdChanges(document.uri);
    // The person edits the document meanwhile: stop, and keep what is there.
    const changes = vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document === document && e.contentChanges.length > 0 && ownEdits === 0 && !interrupted) {
        interrupted = true;
        cts.cancel();
      }
    });
    const edit = async (range: vscode.Range, text: string, options: { undoStopBefore: boolean; undoStopAfter: boolean }): Promise<boolean> => {
      ownEdits++;
      try {
        return await editor.edit((b) => b.replace(range, text), options);
      } catch {
        return false;
      } finally {
        ownEdits--;
      }
    };
    /** Replaces what is shown after the comment with `text` (edits queue up in order). */
    const show = (text: string, last: boolean): Promise<void> => {
      queue = queue.then(async () => {
        if (interrupted || (token.isCancellationRequested && !last)) return;
        const next = text.replace(/\r?\n/g, eol);
        if (next === shown && !last) return;
        const range = new vscode.Range(document.positionAt(startOffset), document.positionAt(startOffset + shown.length));
        if (await edit(range, next, { undoStopBefore: false, undoStopAfter: last })) shown = next;
        else interrupted = true;
        onProgress(shown.length);
      });
      return queue;
    };
    /** Puts the document back as it was (comment and streamed code gone). */
    const removeAll = async (): Promise<void> => {
      const range = new vscode.Range(document.positionAt(atOffset), document.positionAt(startOffset + shown.length));
      if (!range.isEmpty && !(await edit(range, '', { undoStopBefore: false, undoStopAfter: true }))) {
        this.log.warn('Generate Code: could not remove the partial text');
      }
    };

    try {
      // The comment: an undo stop before it and none after, so the code joins the same step.
      if (block !== '' && !(await edit(new vscode.Range(at, at), block, { undoStopBefore: true, undoStopAfter: false }))) {
        return { status: 'failed', message: 'the editor refused the edit' };
      }
      const settings = this.settings.current;
      const result = await this.worker.generate(
        {
          textDocument: { uri: document.uri.toString() },
          position: { line: at.line, character: at.character },
          ...(comment !== undefined ? { instruction: comment } : {}),
          // No maxTokens: the worker's own length for a generated block (ptp.completion.maxTokens is for ghost text).
          decoding: settings.decoding,
        },
        (textSoFar) => void show(textSoFar, false),
        token,
      );
      if (token.isCancellationRequested) throw new vscode.CancellationError();
      await queue;
      if (result.text.trim() === '') {
        await removeAll();
        void vscode.window.showInformationMessage('PTP: the model wrote no code here.');
        return { status: 'empty' };
      }
      await show(result.text, true);
      if (interrupted) return { status: 'interrupted' };
      const s = result.stats;
      this.log.info(`Generate Code: ${result.text.length} characters, ${s.tokens} tokens in ${s.calls} calls (${s.tokensPerCall.toFixed(2)} per call), ${s.msTotal} ms`);
      return { status: 'inserted', text: shown, result };
    } catch (e) {
      await queue;
      if (interrupted) return { status: 'interrupted' };
      const kind = e instanceof vscode.CancellationError ? 'cancelled' : classifyFailure(e);
      await removeAll();
      if (kind === 'cancelled' || token.isCancellationRequested) return { status: 'cancelled' };
      const message = failureMessage(e);
      this.log.error(`Generate Code failed (${kind}): ${message}`);
      void vscode.window.showErrorMessage(`PTP: Generate Code failed: ${message}`, 'Show Log').then((choice) => {
        if (choice === 'Show Log') this.log.show(true);
      });
      return { status: 'failed', message };
    } finally {
      changes.dispose();
      release();
    }
  }

  dispose(): void {
    this.current?.cancel();
  }
}

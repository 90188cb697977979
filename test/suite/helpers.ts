/** Shared steps for the extension-host suites. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { TraceResult } from '../../src/protocol';
import type { PtpExtensionApi } from '../../src/extension/extension';

export const EXTENSION_ID = 'ptp-complete.ptp-complete';

let cached: PtpExtensionApi | undefined;

/** The activated extension's test API, once its worker reports ready. */
export async function ptp(): Promise<PtpExtensionApi> {
  if (cached !== undefined) return cached;
  const ext = vscode.extensions.getExtension<PtpExtensionApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not installed`);
  const api = await ext.activate();
  await api.whenReady(180_000);
  cached = api;
  return api;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string | (() => string), probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(everyMs);
  }
}

/** Sets user settings under ptp. (undefined removes one) and gives the change a moment to land. */
export async function configure(values: Record<string, unknown>): Promise<void> {
  const config = vscode.workspace.getConfiguration('ptp');
  for (const [k, v] of Object.entries(values)) await config.update(k, v, vscode.ConfigurationTarget.Global);
  await sleep(100);
}

/**
 * Opens `text` as an untitled document of `languageId`, with the cursor where `[|]` is.
 * Untitled documents need no workspace file and are synced to the worker like saved ones.
 */
export async function openAt(languageId: string, fixture: string): Promise<vscode.TextEditor> {
  const at = fixture.indexOf('[|]');
  assert.ok(at >= 0, 'fixture needs a [|] cursor marker');
  const content = fixture.slice(0, at) + fixture.slice(at + 3);
  const doc = await vscode.workspace.openTextDocument({ language: languageId, content });
  const editor = await vscode.window.showTextDocument(doc, { preview: false });
  const pos = doc.positionAt(at);
  editor.selection = new vscode.Selection(pos, pos);
  return editor;
}

/** Closes every editor without a save prompt (untitled fixtures are dirty). */
export async function closeAll(): Promise<void> {
  for (let i = 0; i < 20 && vscode.window.activeTextEditor !== undefined; i++) {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  }
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

/**
 * Asks for a completion explicitly and waits until the provider answered for this cursor;
 * returns the items it offered (possibly none).
 */
export async function triggerInline(api: PtpExtensionApi, editor: vscode.TextEditor, timeoutMs = 20_000): Promise<readonly string[]> {
  const before = api.lastInlineOutcome();
  const pos = editor.selection.active;
  await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
  const outcome = await waitFor(
    () => `an inline completion (counters ${JSON.stringify(api.inlineCounters())})`,
    () => {
      const o = api.lastInlineOutcome();
      // The trigger command asks explicitly; an automatic request VS Code made on its own for the
      // same position (and may have cancelled) is not the answer to it.
      return o !== undefined && o !== before && o.explicit && o.uri === editor.document.uri.toString() && o.line === pos.line && o.character === pos.character ? o : undefined;
    },
    timeoutMs,
  );
  return outcome.items;
}

/**
 * Triggers, then commits the shown ghost text the way Tab does. Commit does nothing unless
 * VS Code really shows the suggestion, so a changed document proves it was displayed.
 */
export async function triggerAndAccept(api: PtpExtensionApi, editor: vscode.TextEditor): Promise<{ items: readonly string[]; before: string; after: string }> {
  const before = editor.document.getText();
  const items = await triggerInline(api, editor);
  assert.ok(items.length > 0, 'the provider offered no completion');
  // VS Code renders the ghost text asynchronously after the provider answers.
  let after = before;
  for (let i = 0; i < 40 && after === before; i++) {
    await sleep(100);
    await vscode.commands.executeCommand('editor.action.inlineSuggest.commit');
    after = editor.document.getText();
  }
  return { items, before, after };
}

export async function trace(api: PtpExtensionApi, limit = 10): Promise<TraceResult> {
  return api.trace(limit);
}

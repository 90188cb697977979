/**
 * The menu behind the status bar item: toggles, snooze, trace, log, settings, model, restart.
 * Each entry runs one of the contributed commands, so the menu adds no behaviour of its own.
 */
import * as vscode from 'vscode';
import { Commands } from './commandIds';
import type { SettingsStore } from './settings';
import type { Snooze } from './snooze';
import type { WorkerClient } from './workerClient';

interface MenuItem extends vscode.QuickPickItem {
  readonly command?: string;
}

export async function showStatusMenu(settings: SettingsStore, snooze: Snooze, worker: WorkerClient): Promise<void> {
  const languageId = vscode.window.activeTextEditor?.document.languageId;
  const current = settings.current;
  const status = worker.status;
  const items: MenuItem[] = [];
  const state =
    status.phase === 'ready'
      ? `ready — ${status.report?.model?.name ?? 'model'} on ${status.report?.model?.device ?? 'cpu'}`
      : status.phase === 'error' || status.phase === 'stopped'
        ? `not running — ${status.error ?? 'see the log'}`
        : 'loading the model…';
  items.push({ label: 'PTP Complete', kind: vscode.QuickPickItemKind.Separator });
  items.push({ label: current.enable ? '$(circle-slash) Turn off completions' : '$(check) Turn on completions', description: 'everywhere', command: Commands.toggleCompletions });
  if (languageId !== undefined) {
    const on = settings.enabledFor(languageId);
    items.push({ label: on ? `$(circle-slash) Turn off for ${languageId}` : `$(check) Turn on for ${languageId}`, command: Commands.toggleLanguage });
  }
  if (snooze.active) {
    items.push({ label: '$(bell) Cancel snooze', description: `${Math.ceil(snooze.remainingMs() / 60000)} min left`, command: Commands.cancelSnooze });
  } else {
    items.push({ label: '$(bell-slash) Snooze for 5 minutes', description: 'no automatic completions meanwhile', command: Commands.snooze });
  }
  items.push({ label: 'Tools', kind: vscode.QuickPickItemKind.Separator });
  items.push({ label: '$(wand) Generate Code…', command: Commands.generateCode });
  items.push({ label: '$(graph) Show Decoding Trace', description: 'tokens committed per model call', command: Commands.showTrace });
  items.push({ label: '$(output) Show Log', command: Commands.showLog });
  items.push({ label: '$(settings-gear) Settings', command: Commands.openSettings });
  items.push({ label: '$(folder-opened) Select Model…', description: current.worker.modelPath ?? 'bundled ptp-code-10m', command: Commands.selectModel });
  items.push({ label: '$(debug-restart) Restart Worker', description: state, command: Commands.restartWorker });
  const picked = await vscode.window.showQuickPick(items, { title: `PTP Complete: ${state}`, placeHolder: 'PTP Complete' });
  if (picked?.command !== undefined) await vscode.commands.executeCommand(picked.command);
}

/**
 * Reads `ptp.*` from VS Code (the only file that does) and says when it changed. Changes apply
 * without a reload: every request reads `current`; worker settings go to the worker. Besides
 * `ptp.*` the worker hears whether the workspace is trusted and what `files.exclude` leaves
 * out, for its workspace index (ptp.context.workspace).
 *
 * Restricted mode (an untrusted workspace): the settings that choose which files the worker
 * loads and how (`ptp.model.path`, `ptp.model.device`, `ptp.threads`) are read from user
 * settings only, never from the workspace (package.json: capabilities.untrustedWorkspaces).
 */
import * as vscode from 'vscode';
import type { PtpSettings } from './parseSettings';
import { languageEnabled, parseSettings } from './parseSettings';

export const SECTION = 'ptp';
export const RESTRICTED_KEYS: readonly string[] = ['model.path', 'model.device', 'threads'];
const FILES_EXCLUDE = 'files.exclude';

export class SettingsStore implements vscode.Disposable {
  private value: PtpSettings;
  private readonly emitter = new vscode.EventEmitter<PtpSettings>();
  private readonly subscriptions: vscode.Disposable[] = [];
  readonly onDidChange = this.emitter.event;

  constructor() {
    this.value = readSettings();
    this.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration(SECTION) && !e.affectsConfiguration(FILES_EXCLUDE)) return;
        this.value = readSettings();
        this.emitter.fire(this.value);
      }),
      // Trust brings the workspace settings back and lets the worker index the workspace.
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        this.value = readSettings();
        this.emitter.fire(this.value);
      }),
    );
  }

  get current(): PtpSettings {
    return this.value;
  }

  enabledFor(languageId: string): boolean {
    return languageEnabled(this.value, languageId);
  }

  /** Writes a user (global) setting; `ptp.` is implied. */
  async update(key: string, value: unknown): Promise<void> {
    await vscode.workspace.getConfiguration(SECTION).update(key, value, vscode.ConfigurationTarget.Global);
    // Whoever awaited this sees the new value at once, before the change event arrives.
    this.value = readSettings();
  }

  dispose(): void {
    this.emitter.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}

function readSettings(): PtpSettings {
  const config = vscode.workspace.getConfiguration(SECTION);
  const trusted = vscode.workspace.isTrusted;
  const filesExclude = vscode.workspace.getConfiguration().get(FILES_EXCLUDE);
  return parseSettings(
    (key) => {
      if (!trusted && RESTRICTED_KEYS.includes(key)) {
        const inspected = config.inspect(key);
        return inspected?.globalValue ?? inspected?.defaultValue;
      }
      return config.get(key);
    },
    { trusted, filesExclude },
  );
}

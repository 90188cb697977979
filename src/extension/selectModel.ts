/**
 * Select Model: the bundled model or a folder with the same contract (model.onnx, tokenizer.json,
 * model.json; docs/MODEL_CONTRACT.md). Writes `ptp.model.path` in user settings (the setting is
 * machine-scoped, so a workspace can never point the worker at other files); the settings
 * listener restarts the worker, which checks the files and their sha256 and says what is wrong.
 */
import * as vscode from 'vscode';
import type { SettingsStore } from './settings';

const REQUIRED_FILES = ['model.onnx', 'tokenizer.json', 'model.json'];

export async function selectModel(settings: SettingsStore): Promise<void> {
  const current = settings.current.worker.modelPath;
  const choice = await vscode.window.showQuickPick(
    [
      { label: '$(package) Bundled model', description: 'ptp-code-10m', value: 'bundled' as const },
      { label: '$(folder-opened) Choose a folder…', description: current ?? '', value: 'folder' as const },
    ],
    { title: 'PTP: Select Model', placeHolder: current === undefined ? 'Using the bundled model' : `Using ${current}` },
  );
  if (choice === undefined) return;
  if (choice.value === 'bundled') {
    await settings.update('model.path', undefined);
    return;
  }
  const picked = await vscode.window.showOpenDialog({
    canSelectFiles: false,
    canSelectFolders: true,
    canSelectMany: false,
    openLabel: 'Use This Model',
    title: 'A folder with model.onnx, tokenizer.json and model.json',
    defaultUri: current !== undefined ? vscode.Uri.file(current) : undefined,
  });
  const folder = picked?.[0];
  if (folder === undefined) return;
  const missing: string[] = [];
  for (const name of REQUIRED_FILES) {
    try {
      await vscode.workspace.fs.stat(vscode.Uri.joinPath(folder, name));
    } catch {
      missing.push(name);
    }
  }
  if (missing.length > 0) {
    void vscode.window.showErrorMessage(`PTP: ${folder.fsPath} is not a model folder: ${missing.join(', ')} missing.`);
    return;
  }
  await settings.update('model.path', folder.fsPath);
}

/**
 * The worker's lifecycle and configuration: `initialize` (settings, grammar directory,
 * workspace folders), `initialized` (folder events, the indexes, the background model load),
 * `workspace/didChangeConfiguration` (new settings; a reload when path, device or threads
 * change), `workspace/didChangeWorkspaceFolders` and `workspace/didChangeWatchedFiles` (the
 * workspace index), and `shutdown`.
 */
import * as fs from 'node:fs';
import { FileChangeType, TextDocumentSyncKind } from 'vscode-languageserver/node';
import type { FileEvent, WorkspaceFolder } from 'vscode-languageserver/node';
import { setGrammarDirectory } from '../../context/index';
import type { WorkerContext } from '../workerContext';
import { pathOf } from '../workerContext';
import type { FileChange } from '../workspaceIndex';

/** `bundledGrammars`: the bundle's own grammars (dist/grammars), used unless the client names a directory. */
export function registerLifecycle(w: WorkerContext, bundledGrammars: string): void {
  const { connection } = w;
  const applySettings = (raw: unknown): void => {
    const { grammarDirectory } = w.applySettings(raw);
    if (grammarDirectory !== undefined) setGrammarDirectory(grammarDirectory);
  };

  let folderEvents = false;
  connection.onInitialize((params) => {
    if (fs.existsSync(bundledGrammars)) setGrammarDirectory(bundledGrammars);
    applySettings(params.initializationOptions);
    w.folders = folderPaths(params.workspaceFolders ?? []);
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
        w.folders = [...w.folders.filter((f) => !gone.has(f)), ...folderPaths(added).filter((f) => !w.folders.includes(f))];
        w.configureIndexes();
      });
    }
    w.configureIndexes();
    w.loadModel();
  });
  connection.onDidChangeConfiguration(({ settings: raw }) => {
    applySettings(raw);
    w.configureIndexes();
    w.loadModel();
  });
  connection.onDidChangeWatchedFiles(({ changes }) => w.workspaceIndex.filesChanged(changes.flatMap(fileChange)));
  connection.onShutdown(() => w.dispose());
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

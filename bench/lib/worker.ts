/**
 * The real worker for a bench: dist/server.js forked over IPC as the extension starts it (its
 * Node options and environment, WORKER_EXEC_ARGV and WORKER_ENV in src/protocol, not this
 * process's: its RSS is what a user's worker has), initialized and waited on until the model is
 * loaded. `npm run build` first.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DidChangeWorkspaceFoldersNotification,
  ExitNotification,
  InitializeRequest,
  InitializedNotification,
  IPCMessageReader,
  IPCMessageWriter,
  ShutdownRequest,
  createProtocolConnection,
  type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import type { InitializationOptions, WorkerSettings } from '../../src/protocol/index';
import { StatusRequest, WORKER_ENV, WORKER_EXEC_ARGV } from '../../src/protocol/index';
import { REPO } from './machine';

export const SERVER = join(REPO, 'dist', 'server.js');

export interface Worker {
  child: ChildProcess;
  connection: ProtocolConnection;
  stderr: () => string;
  /** window/logMessage lines of type Error. */
  logErrors: string[];
}

export async function startWorker(settings: WorkerSettings, modelDir: string): Promise<Worker> {
  if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing: run npm run build first`);
  // Started as the extension starts it: its Node options and environment, not this process's
  // (fork's default execArgv would load tsx into the worker: +25 MiB that users never have).
  const child = fork(SERVER, ['--node-ipc'], { execArgv: [...WORKER_EXEC_ARGV], env: { ...process.env, ...WORKER_ENV }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const connection = createProtocolConnection(new IPCMessageReader(child), new IPCMessageWriter(child));
  const logErrors: string[] = [];
  connection.onNotification('window/logMessage', (p: { type: number; message: string }) => {
    if (p.type === 1) logErrors.push(p.message);
  });
  // The server registers for folder changes; the client says yes, as VS Code does.
  connection.onRequest('client/registerCapability', () => null);
  // As vscode-languageclient does: a closed connection rejects what is pending.
  connection.onClose(() => connection.dispose());
  connection.listen();
  const initializationOptions: InitializationOptions = { settings, defaultModelPath: modelDir };
  // No folder yet; like VS Code, the client sends folder changes (addFolder).
  const capabilities = { workspace: { workspaceFolders: true } };
  await connection.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, workspaceFolders: null, capabilities, initializationOptions });
  await connection.sendNotification(InitializedNotification.type, {});
  for (;;) {
    const s = await connection.sendRequest(StatusRequest);
    if (s.state === 'ready') break;
    if (s.state === 'error') throw new Error(`the worker could not load the model: ${s.error}`);
    await sleep(100);
  }
  return { child, connection, stderr: () => stderr, logErrors };
}

/** Opens a workspace folder, as VS Code's "Add Folder to Workspace" does. */
export async function addFolder(w: Worker, dir: string): Promise<void> {
  const folder = { uri: pathToFileURL(dir).href, name: basename(dir) };
  await w.connection.sendNotification(DidChangeWorkspaceFoldersNotification.type, { event: { added: [folder], removed: [] } });
}

export function isAlive(w: Worker): boolean {
  return w.child.exitCode === null && w.child.signalCode === null;
}

/** LSP shutdown and exit; a worker that is gone already is left to the caller to report. */
export async function shutdownWorker(w: Worker): Promise<void> {
  try {
    await w.connection.sendRequest(ShutdownRequest.type);
    await w.connection.sendNotification(ExitNotification.type);
  } catch {
    // The caller reports it as not alive.
  }
}

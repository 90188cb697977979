/**
 * `startServer`: the worker's language server, as a table of contents. The handlers share one
 * WorkerContext (settings, documents, model, request tracker and queue, trace log, indexes);
 * each request or notification has its own file in handlers/:
 *
 *   lifecycle.ts         initialize / initialized, didChangeConfiguration (reload when path,
 *                        device or threads change), didChangeWorkspaceFolders,
 *                        didChangeWatchedFiles (the workspace index), shutdown
 *   documents.ts         didOpen / didChange / didClose: OpenDocuments, OpenDocumentIndex
 *   inlineCompletion.ts  textDocument/inlineCompletion: completeAt per alternative, fitted to the line
 *   generate.ts          ptp/generate: completeAt in 'generate' mode, partial text via $/progress
 *   warm.ts              ptp/warm: the prompt at a resting cursor into the cache, when idle
 *   status.ts            ptp/status (ptp/statusChanged goes out from WorkerContext)
 *   trace.ts             ptp/trace: TraceLog
 */
import type { Connection } from 'vscode-languageserver/node';
import { bundledPaths } from '../completion/index';
import { registerDocuments } from './handlers/documents';
import { registerGenerate } from './handlers/generate';
import { registerInlineCompletion } from './handlers/inlineCompletion';
import { registerLifecycle } from './handlers/lifecycle';
import { registerStatus } from './handlers/status';
import { registerTrace } from './handlers/trace';
import { registerWarm } from './handlers/warm';
import { WorkerContext } from './workerContext';

export function startServer(connection: Connection, scriptDir: string): void {
  const paths = bundledPaths(scriptDir);
  const worker = new WorkerContext(connection, paths.defaultModelPath);
  registerLifecycle(worker, paths.grammarDirectory);
  registerDocuments(worker);
  registerInlineCompletion(worker);
  registerGenerate(worker);
  registerWarm(worker);
  registerStatus(worker);
  registerTrace(worker);
}

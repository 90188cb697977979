/**
 * Document sync: `textDocument/didOpen`, `didChange` (incremental) and `didClose` keep
 * OpenDocuments (text + tree-sitter tree) and the open-documents index in step.
 */
import type { WorkerContext } from '../workerContext';
import { message } from '../modelHost';

export function registerDocuments(w: WorkerContext): void {
  const { connection, docs, openIndex, log } = w;
  connection.onDidOpenTextDocument((p) => {
    void docs.open(p).catch((e: unknown) => log.error(`[syntax] ${p.textDocument.uri}: ${message(e)}`));
    openIndex.opened(p.textDocument.uri);
  });
  connection.onDidChangeTextDocument((p) => {
    docs.change(p);
    openIndex.changed(p.textDocument.uri);
  });
  connection.onDidCloseTextDocument((p) => {
    docs.close(p);
    openIndex.closed(p.textDocument.uri);
  });
}

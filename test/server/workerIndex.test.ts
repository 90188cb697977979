// The built worker's lookup-draft indexes end to end: workspace folders from initialize, the
// open documents, file events, folder changes, trust and the settings that turn them off, as
// ptp/status reports them; completions draft from them.
// Run: npm run build && node --import tsx --test test/server/workerIndex.test.ts
import { after, before, suite, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  DidChangeConfigurationNotification,
  DidChangeWatchedFilesNotification,
  DidChangeWorkspaceFoldersNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  FileChangeType,
  InlineCompletionRequest,
  InlineCompletionTriggerKind,
} from 'vscode-languageserver-protocol/node';
import type { ContextSettings, StatusResult } from '../../src/protocol/index';
import { StatusRequest, TraceRequest } from '../../src/protocol/index';
import { INVOICE_TS, PRICING_TS } from '../completion/pricingFixture';
import { TEST_SETTINGS, startWorker, type Worker } from './workerClient';

const TRUSTED: ContextSettings = { openFiles: true, workspace: true, trusted: true, exclude: ['**/excluded'] };

/** Polls ptp/status until `done` holds (the indexes fill in idle time, after a short delay). */
async function until(w: Worker, done: (s: StatusResult) => boolean, what: string, timeoutMs = 30_000): Promise<StatusResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await w.connection.sendRequest(StatusRequest);
    if (done(s)) return s;
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms; index ${JSON.stringify(s.index)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

suite('worker lookup-draft indexes', () => {
  let w: Worker;
  let dir: string;
  let folder: { uri: string; name: string };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ptp-worker-index-'));
    fs.writeFileSync(path.join(dir, '.gitignore'), 'dist/\n');
    fs.writeFileSync(path.join(dir, 'shapes.ts'), 'export function area(width: number, height: number): number {\n  return width * height;\n}\n');
    fs.mkdirSync(path.join(dir, 'dist'));
    fs.writeFileSync(path.join(dir, 'dist', 'shapes.js'), 'ignored\n');
    fs.mkdirSync(path.join(dir, 'excluded'));
    fs.writeFileSync(path.join(dir, 'excluded', 'x.ts'), 'excluded\n');
    folder = { uri: pathToFileURL(dir).href, name: 'ws' };
    w = await startWorker({ context: TRUSTED }, 'stdio', { workspaceFolders: [folder], capabilities: { workspace: { workspaceFolders: true } } });
    const s = await w.settled();
    assert.equal(s.state, 'ready', s.error);
  });
  after(async () => {
    await w.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the workspace folder from initialize is indexed once the model is ready, minus what is ignored or excluded', async () => {
    const s = await until(w, (x) => x.index.workspace.state === 'done', 'workspace built');
    assert.equal(s.index.workspace.files, 1);
    assert.equal(s.index.workspace.found, 1);
    assert.ok(s.index.workspace.tokens > 10);
    assert.ok(s.index.workspace.bytes > 0);
    assert.equal(typeof s.index.workspace.buildMs, 'number');
  });

  test('an open document is indexed after a pause and dropped on close; a completion drafts from it', async () => {
    // A function far above the cursor (beyond the ~320-token prompt window), started again at the cursor.
    const earlier = 'export function describe(point: { x: number; y: number }): string {\n  return `(${point.x}, ${point.y})`;\n}\n';
    const filler = Array.from({ length: 60 }, (_, i) => `export const value${i} = ${i} * ${i + 1};`).join('\n');
    const text = `${earlier}\n${filler}\n\nexport function describe2(point: { x: number; y: number }): string {\n  return \``;
    const uri = pathToFileURL(path.join(dir, 'points.ts')).href;
    await w.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'typescript', version: 1, text } });
    await until(w, (x) => x.index.open.documents === 1, 'open document indexed');
    const lines = text.split('\n');
    const position = { line: lines.length - 1, character: lines.at(-1)!.length };
    await w.connection.sendRequest(InlineCompletionRequest.type, {
      textDocument: { uri },
      position,
      context: { triggerKind: InlineCompletionTriggerKind.Automatic },
      ptp: { decoding: { decoder: 'ptp', blockSize: 'auto', seed: 1, temperature: 0, topK: 50, topP: 0.95, maxTokens: 32 }, alternatives: 1 },
    } as never);
    const trace = await w.connection.sendRequest(TraceRequest, { limit: 1 });
    const sources = new Set(trace.requests[0]!.calls.map((c) => c.draft));
    assert.ok(trace.requests[0]!.calls.length > 0);
    // The request drafted from the document's own index entry (only PTP's drafter and the prompt otherwise).
    assert.ok(sources.has('document'), [...sources].join(', '));
    await w.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
    await until(w, (x) => x.index.open.documents === 0, 'closed document dropped');
  });

  test('the cache model: a call another open document makes after the same code comes back; ptp.context.cacheModel off, it does not', async () => {
    const cursor = INVOICE_TS.indexOf('|');
    const invoice = INVOICE_TS.replace('|', '');
    const lines = invoice.slice(0, cursor).split('\n');
    const uris = ['pricing.ts', 'invoice.ts'].map((f) => pathToFileURL(path.join(dir, f)).href);
    for (const [i, text] of [PRICING_TS, invoice].entries()) {
      await w.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: uris[i]!, languageId: 'typescript', version: 1, text } });
    }
    await until(w, (x) => x.index.open.documents === 2, 'both documents indexed');
    // After Enter below `const taxed = ...` (the fixture's cursor).
    const complete = async (): Promise<string> => {
      const reply = (await w.connection.sendRequest(InlineCompletionRequest.type, {
        textDocument: { uri: uris[1]! },
        position: { line: lines.length - 1, character: lines.at(-1)!.length },
        context: { triggerKind: InlineCompletionTriggerKind.Automatic },
        ptp: { decoding: { decoder: 'ptp', blockSize: 'auto', seed: 1, temperature: 0, topK: 50, topP: 0.95, maxTokens: 32 }, alternatives: 1 },
      } as never)) as { items: { insertText: string }[] } | { insertText: string }[] | null;
      const items = reply === null ? [] : Array.isArray(reply) ? reply : reply.items;
      return items[0]?.insertText ?? '';
    };
    assert.equal(await complete(), 'return applyLoyaltyDiscount(taxed, order.customer);');
    await w.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: { ...TEST_SETTINGS, context: { ...TRUSTED, cacheModel: false } } });
    assert.ok(!(await complete()).includes('applyLoyaltyDiscount'));
    await w.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: { ...TEST_SETTINGS, context: TRUSTED } });
    for (const uri of uris) await w.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
    await until(w, (x) => x.index.open.documents === 0 && x.index.workspace.state === 'done', 'documents closed, workspace back');
  });

  test('file events add and drop workspace files', async () => {
    const added = path.join(dir, 'more.py');
    fs.writeFileSync(added, 'def more():\n    return 1\n');
    await w.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: pathToFileURL(added).href, type: FileChangeType.Created }] });
    await until(w, (x) => x.index.workspace.files === 2, 'created file indexed');
    fs.rmSync(added);
    await w.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: pathToFileURL(added).href, type: FileChangeType.Deleted }] });
    await until(w, (x) => x.index.workspace.files === 1, 'deleted file dropped');
  });

  test('removing the folder turns the workspace index off; adding it back builds it again', async () => {
    await w.connection.sendNotification(DidChangeWorkspaceFoldersNotification.type, { event: { added: [], removed: [folder] } });
    await until(w, (x) => x.index.workspace.state === 'off' && x.index.workspace.files === 0, 'folder removed');
    await w.connection.sendNotification(DidChangeWorkspaceFoldersNotification.type, { event: { added: [folder], removed: [] } });
    await until(w, (x) => x.index.workspace.state === 'done' && x.index.workspace.files === 1, 'folder added back');
  });

  test('untrusted, or the sources turned off (ptp.enable off sends both off), drops the indexes', async () => {
    const uri = pathToFileURL(path.join(dir, 'open.ts')).href;
    await w.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'typescript', version: 1, text: 'export const a = 1;\n' } });
    await until(w, (x) => x.index.open.documents === 1, 'open document indexed');
    await w.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: { ...TEST_SETTINGS, context: { ...TRUSTED, trusted: false } } });
    let s = await until(w, (x) => x.index.workspace.state === 'off', 'untrusted');
    assert.deepEqual(s.index.workspace, { state: 'off', files: 0, found: 0, tokens: 0, bytes: 0, maxTokens: 8_000_000 });
    assert.equal(s.index.open.documents, 1);
    await w.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: { ...TEST_SETTINGS, context: { ...TRUSTED, openFiles: false, workspace: false } } });
    s = await until(w, (x) => x.index.open.documents === 0, 'open files off');
    assert.deepEqual(s.index.open, { documents: 0, tokens: 0, bytes: 0 });
    assert.equal(s.index.workspace.state, 'off');
    await w.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: { ...TEST_SETTINGS, context: TRUSTED } });
    s = await until(w, (x) => x.index.open.documents === 1 && x.index.workspace.state === 'done', 'both on again');
    assert.equal(s.index.workspace.files, 1);
  });
});

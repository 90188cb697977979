// The worker's parts that need no model: settings, request tracking, the trace ring buffer
// and incremental document sync. Run: node --import tsx --test test/server/parts.test.ts
import { suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { CancellationTokenSource } from 'vscode-languageserver/node';
import type { Manifest } from '../../src/engine/index';
import type { WorkerSettings } from '../../src/protocol/index';
import { OpenDocuments } from '../../src/server/openDocuments';
import { RequestTracker } from '../../src/server/requestTracker';
import { DEFAULT_CONTEXT_SETTINGS, DEFAULT_WORKER_SETTINGS, decodingFor, decodingProblem, readSettings, resolveDecoding } from '../../src/server/settings';
import { TraceLog, type TraceEntry } from '../../src/server/traceLog';

suite('readSettings', () => {
  const current: WorkerSettings = { ...DEFAULT_WORKER_SETTINGS, modelPath: '/old' };

  test('takes a whole InitializationOptions or a bare WorkerSettings', () => {
    const whole = readSettings({ settings: { modelPath: '/m', device: 'cpu', threads: 2, logLevel: 'debug', requestTimeoutMs: 500 }, grammarDirectory: '/g', defaultModelPath: '/d' }, current);
    assert.deepEqual(whole.settings, { modelPath: '/m', device: 'cpu', threads: 2, logLevel: 'debug', requestTimeoutMs: 500 });
    assert.equal(whole.grammarDirectory, '/g');
    assert.equal(whole.defaultModelPath, '/d');
    const bare = readSettings({ modelPath: '/m', device: 'cpu', threads: 2, logLevel: 'debug', requestTimeoutMs: 500 }, current);
    assert.deepEqual(bare.settings, whole.settings);
    assert.deepEqual(bare.problems, []);
  });

  test('a missing or empty model path means the bundled model', () => {
    assert.equal(readSettings({ settings: { device: 'cpu' } }, current).settings.modelPath, undefined);
    assert.equal(readSettings({ settings: { modelPath: '' } }, current).settings.modelPath, undefined);
  });

  test('an invalid field keeps its value and is named', () => {
    const r = readSettings({ settings: { device: 'tpu', threads: -1, logLevel: 'loud', requestTimeoutMs: 0, modelPath: '/m' } }, current);
    assert.equal(r.settings.device, current.device);
    assert.equal(r.settings.threads, current.threads);
    assert.equal(r.settings.logLevel, current.logLevel);
    assert.equal(r.settings.requestTimeoutMs, current.requestTimeoutMs);
    assert.equal(r.problems.length, 4);
    assert.match(r.problems[0]!, /^device must be one of auto, cpu, cuda, dml, coreml, got "tpu"$/);
  });

  test('context: missing means the defaults (no workspace file read until trusted); fields are checked', () => {
    assert.equal(readSettings({ settings: {} }, current).settings.context, undefined);
    assert.deepEqual(DEFAULT_CONTEXT_SETTINGS, { openFiles: true, workspace: true, trusted: false, exclude: [] });
    const on = readSettings({ settings: { context: { openFiles: false, workspace: true, trusted: true, exclude: ['**/gen'] } } }, current);
    assert.deepEqual(on.settings.context, { openFiles: false, workspace: true, trusted: true, exclude: ['**/gen'] });
    assert.deepEqual(readSettings({ settings: { context: { trusted: true } } }, current).settings.context, { ...DEFAULT_CONTEXT_SETTINGS, trusted: true });
    const kept = { ...current, context: { ...DEFAULT_CONTEXT_SETTINGS, trusted: true } };
    const bad = readSettings({ settings: { context: { trusted: 'yes' } } }, kept);
    assert.deepEqual(bad.settings.context, kept.context);
    assert.deepEqual(bad.problems, ['context.trusted must be true or false, got "yes"']);
    assert.match(readSettings({ settings: { context: { exclude: '**/gen' } } }, current).problems[0]!, /^context\.exclude must be a list of glob patterns/);
  });
});

suite('decoding settings', () => {
  const manifest = { sampling: { temperature: 0.2, top_k: 50, top_p: 0.95 } } as Manifest;

  test('a request overrides the worker, the worker overrides the model', () => {
    const d = resolveDecoding({ temperature: 0.5 }, { decoder: 'ar', blockSize: 4, temperature: 0.1, topK: 5, topP: 0.9, maxTokens: 32 }, manifest);
    assert.deepEqual(d, { decoder: 'ar', blockSize: 4, temperature: 0.5, topK: 5, topP: 0.9, maxTokens: 32 });
    const bare = resolveDecoding(undefined, undefined, manifest);
    assert.deepEqual(bare, { decoder: 'ptp', blockSize: 'auto', temperature: 0.2, topK: 50, topP: 0.95, maxTokens: 256 });
  });

  test('alternative i uses seed + i, and a fixed seed wins over a fresh one', () => {
    const d = resolveDecoding({ seed: 4294967295 }, undefined, manifest);
    assert.deepEqual([0, 1, 2].map((i) => decodingFor(d, i, 77).seed), [4294967295, 0, 1]);
    const fresh = resolveDecoding({}, undefined, manifest);
    assert.deepEqual([0, 1].map((i) => decodingFor(fresh, i, 77).seed), [77, 78]);
  });

  test('bad values are named', () => {
    const d = resolveDecoding({}, undefined, manifest);
    assert.equal(decodingProblem(d), undefined);
    assert.match(decodingProblem({ ...d, blockSize: 0 })!, /^blockSize must be 'auto' or an integer >= 1, got 0$/);
    assert.match(decodingProblem({ ...d, decoder: 'beam' as 'ar' })!, /^decoder must be 'ptp' or 'ar'/);
    assert.match(decodingProblem({ ...d, maxTokens: 0 })!, /^maxTokens must be/);
  });
});

suite('RequestTracker', () => {
  test('a newer request in the same lane aborts the older one; other lanes are untouched', () => {
    const t = new RequestTracker();
    const a = t.begin('inline:a', undefined, 10_000);
    const other = t.begin('inline:b', undefined, 10_000);
    const b = t.begin('inline:a', undefined, 10_000);
    assert.equal(a.reason, 'superseded');
    assert.equal(b.reason, undefined);
    assert.equal(other.reason, undefined);
    for (const r of [a, b, other]) r.done();
  });

  test('the client cancelling aborts with reason cancelled, also when it came first', () => {
    const t = new RequestTracker();
    const source = new CancellationTokenSource();
    const r = t.begin('x', source.token, 10_000);
    source.cancel();
    assert.equal(r.reason, 'cancelled');
    r.done();
    const early = t.begin('y', source.token, 10_000);
    assert.equal(early.reason, 'cancelled');
    early.done();
  });

  test('the time cap aborts with reason timeout', async () => {
    const r = new RequestTracker().begin('x', undefined, 5);
    await new Promise((resolve) => r.signal.addEventListener('abort', resolve));
    assert.equal(r.reason, 'timeout');
    r.done();
  });

  test('done() releases the lane: a later request does not abort a finished one', () => {
    const t = new RequestTracker();
    const a = t.begin('x', undefined, 10_000);
    a.done();
    t.begin('x', undefined, 10_000).done();
    assert.equal(a.reason, undefined);
  });
});

suite('TraceLog', () => {
  const entry = (id: number): TraceEntry => ({ requestId: String(id), uri: 'u', decoder: 'ptp', stats: {} as TraceEntry['stats'], prompt: '', calls: [] });

  test('keeps the newest entries, newest first', () => {
    const log = new TraceLog(3);
    for (let i = 1; i <= 5; i++) log.add(entry(i));
    assert.deepEqual(log.recent().map((e) => e.requestId), ['5', '4', '3']);
    assert.deepEqual(log.recent(2).map((e) => e.requestId), ['5', '4']);
    assert.deepEqual(log.recent(0), []);
  });
});

suite('OpenDocuments', () => {
  test('incremental LSP edits keep the text and the syntax tree equal to a fresh parse', async () => {
    const docs = new OpenDocuments(() => undefined);
    const uri = 'file:///a.ts';
    const text = 'function f(a: number) {\r\n  return a;\r\n}\r\n';
    await docs.open({ textDocument: { uri, languageId: 'typescript', version: 1, text } });
    docs.change({
      textDocument: { uri, version: 2 },
      contentChanges: [
        // "return a;" -> "return a + 1;" then a new line, then an emoji (two UTF-16 units) removed again.
        { range: { start: { line: 1, character: 10 }, end: { line: 1, character: 10 } }, text: ' + 1' },
        { range: { start: { line: 1, character: 15 }, end: { line: 1, character: 15 } }, text: '\r\n  // done 🙂' },
        { range: { start: { line: 2, character: 9 }, end: { line: 2, character: 12 } }, text: '' },
      ],
    });
    const expected = 'function f(a: number) {\r\n  return a + 1;\r\n  // done\r\n}\r\n';
    const doc = docs.get(uri)!;
    assert.equal(doc.text, expected);
    assert.equal(doc.version, 1);
    const fresh = new OpenDocuments(() => undefined);
    const reference = await fresh.open({ textDocument: { uri, languageId: 'typescript', version: 1, text: expected } });
    assert.equal(doc.tree!.rootNode.toString(), reference.tree!.rootNode.toString());
    assert.equal(docs.offsetAt(uri, { line: 2, character: 2 }), expected.indexOf('// done'));
    docs.close({ textDocument: { uri } });
    assert.equal(docs.get(uri), undefined);
    docs.dispose();
    fresh.dispose();
  });

  test('a full-text change replaces the document', async () => {
    const docs = new OpenDocuments(() => undefined);
    await docs.open({ textDocument: { uri: 'u', languageId: 'python', version: 1, text: 'x = 1\n' } });
    docs.change({ textDocument: { uri: 'u', version: 2 }, contentChanges: [{ text: 'y = 2\n' }] });
    assert.equal(docs.get('u')!.text, 'y = 2\n');
    assert.equal(docs.get('u')!.tree!.rootNode.hasError, false);
    docs.dispose();
  });
});

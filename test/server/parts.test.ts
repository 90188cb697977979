// The worker's parts that need no model: settings, request tracking, the trace ring buffer
// and incremental document sync. Run: node --import tsx --test test/server/parts.test.ts
import { suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { CancellationTokenSource } from 'vscode-languageserver/node';
import type { ModelSampling, WorkerSettings } from '../../src/protocol/index';
import { DEFAULT_CONTEXT_SETTINGS, DEFAULT_WORKER_SETTINGS, parseDecoding, resolveDecoding, seededDecoding } from '../../src/protocol/index';
import { OpenDocuments } from '../../src/server/openDocuments';
import { RequestTracker } from '../../src/server/requestTracker';
import { readSettings } from '../../src/server/settings';
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

  test('decoding: valid fields are kept, an invalid one is left out and named, unset ones stay unset', () => {
    const r = readSettings({ settings: { decoding: { decoder: 'ar', blockSize: 99, temperature: 0.5, maxTokens: 32 }, confidence: 'high' } }, current);
    assert.deepEqual(r.settings.decoding, { decoder: 'ar', temperature: 0.5, maxTokens: 32 });
    assert.equal(r.settings.confidence, 'high');
    assert.deepEqual(r.problems, ["decoding.blockSize must be 'auto' or an integer from 1 to 64, got 99"]);
    assert.equal(readSettings({ settings: {} }, { ...current, decoding: { decoder: 'ar' } }).settings.decoding, undefined);
  });

  test('context: missing means the defaults (no workspace file read until trusted); fields are checked', () => {
    assert.equal(readSettings({ settings: {} }, current).settings.context, undefined);
    assert.deepEqual(DEFAULT_CONTEXT_SETTINGS, { openFiles: true, workspace: true, snippets: false, cacheModel: true, trusted: false, exclude: [] });
    const on = readSettings({ settings: { context: { openFiles: false, workspace: true, trusted: true, exclude: ['**/gen'] } } }, current);
    assert.deepEqual(on.settings.context, { openFiles: false, workspace: true, snippets: false, cacheModel: true, trusted: true, exclude: ['**/gen'] });
    assert.deepEqual(readSettings({ settings: { context: { trusted: true } } }, current).settings.context, { ...DEFAULT_CONTEXT_SETTINGS, trusted: true });
    const kept = { ...current, context: { ...DEFAULT_CONTEXT_SETTINGS, trusted: true } };
    const bad = readSettings({ settings: { context: { trusted: 'yes' } } }, kept);
    assert.deepEqual(bad.settings.context, kept.context);
    assert.deepEqual(bad.problems, ['context.trusted must be true or false, got "yes"']);
    assert.match(readSettings({ settings: { context: { exclude: '**/gen' } } }, current).problems[0]!, /^context\.exclude must be a list of glob patterns/);
    assert.equal(readSettings({ settings: { context: { snippets: true } } }, current).settings.context?.snippets, true);
    assert.deepEqual(readSettings({ settings: { context: { snippets: 1 } } }, current).problems, ['context.snippets must be true or false, got 1']);
    assert.equal(readSettings({ settings: { context: { cacheModel: false } } }, current).settings.context?.cacheModel, false);
    assert.deepEqual(readSettings({ settings: { context: { cacheModel: 'on' } } }, current).problems, ['context.cacheModel must be true or false, got "on"']);
  });
});

suite('decoding settings', () => {
  // A model whose model.json asks for other sampling settings than the bundled one.
  const model: ModelSampling = { temperature: 0.7, top_k: 7, top_p: 0.6 };

  test('a request overrides the settings the client sent, and those the model\'s manifest', () => {
    const d = resolveDecoding({ temperature: 0.5 }, { decoder: 'ar', blockSize: 4, temperature: 0.1, topK: 5, maxTokens: 32 }, model);
    assert.deepEqual(d, { decoder: 'ar', blockSize: 4, temperature: 0.5, topK: 5, topP: 0.6, maxTokens: 32 });
  });

  test('nothing set: the schema\'s defaults, the model\'s sampling settings, no seed (a fresh one per request)', () => {
    assert.deepEqual(resolveDecoding(undefined, undefined, model), { decoder: 'ptp', blockSize: 'auto', temperature: 0.7, topK: 7, topP: 0.6, maxTokens: 64 });
  });

  test('alternative i uses seed + i (mod 2^32), and a fixed seed wins over a fresh one', () => {
    const d = resolveDecoding({ seed: 4294967295 }, undefined, model);
    assert.deepEqual([0, 1, 2].map((i) => seededDecoding(d, i, 77).seed), [4294967295, 0, 1]);
    const fresh = resolveDecoding({}, undefined, model);
    assert.deepEqual([0, 1].map((i) => seededDecoding(fresh, i, 77).seed), [77, 78]);
  });

  test('bad values on the wire are named with the rule they break', () => {
    assert.deepEqual(parseDecoding({ decoder: 'ptp', blockSize: 'auto', seed: 3, temperature: 0, topK: 0, topP: 1, maxTokens: 1 }).problems, []);
    // A request may ask for more tokens than the setting allows (ptp/generate): the scope and the context end it.
    assert.deepEqual(parseDecoding({ maxTokens: 100_000 }).decoding, { maxTokens: 100_000 });
    assert.deepEqual(parseDecoding({ blockSize: 0, decoder: 'beam', maxTokens: 0, seed: -1, topP: 0 }, 'decoding.').problems, [
      'decoding.decoder must be one of ptp, ar, got "beam"',
      "decoding.blockSize must be 'auto' or an integer from 1 to 64, got 0",
      'decoding.seed must be an integer from 0 to 4294967295, or empty, got -1',
      'decoding.topP must be a number from 0.01 to 1, or empty, got 0',
      'decoding.maxTokens must be an integer >= 1, got 0',
    ]);
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

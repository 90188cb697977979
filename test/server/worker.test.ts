// The built worker (dist/server.js) with the shipped model, over stdio and IPC, driven the way
// vscode-languageclient drives it. One worker per suite: the model loads once.
// Run: npm run build && node --import tsx --test test/server/worker.test.ts
import { after, before, suite, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CancellationTokenSource,
  DidChangeConfigurationNotification,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  InlineCompletionRequest,
  InlineCompletionTriggerKind,
  ProgressType,
  ResponseError,
  type InlineCompletionItem,
  type InlineCompletionList,
  type InlineCompletionParams,
} from 'vscode-languageserver-protocol/node';
import type { CompletionStats, DecodingSettings, GeneratePartial, InlineCompletionExtras } from '../../src/protocol/index';
import { ErrorCodes, GenerateRequest, StatusRequest, TraceRequest, WarmNotification } from '../../src/protocol/index';
import { DEFAULT_MODEL, REPO, TEST_SETTINGS, startWorker, withCursor, type Worker } from './workerClient';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOOKUP_BLOCK } from '../../src/engine/index';

const DECODING: DecodingSettings = { decoder: 'ptp', blockSize: 'auto', seed: 1, temperature: 0.2, topK: 50, topP: 0.95, maxTokens: 64 };

// Fixtures the shipped model completes with something non-empty at seed 1 (checked by hand;
// PTP is seeded and lossless, so the output is reproducible on any machine).
const TEMPLATE = 'function greet(name: string): string {\n  return `Hello, ${[|]}`;\n}\n';
const LOOP = 'for (let i = 0; i < 10; i++) {\n  console.log([|]);\n}\n';
/** A block body: the model writes a long way before the stop rules end it. */
const LONG = 'export class Matrix {\n  constructor(readonly rows: number, readonly cols: number) {}\n\n  multiply(other: Matrix): Matrix {\n    [|]\n  }\n}\n';

let docCounter = 0;

async function open(w: Worker, marked: string, languageId = 'typescript'): Promise<{ uri: string; position: { line: number; character: number }; text: string }> {
  const { text, line, character } = withCursor(marked);
  const uri = `file:///test/doc${++docCounter}.${languageId === 'python' ? 'py' : 'ts'}`;
  await w.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId, version: 1, text } });
  return { uri, position: { line, character }, text };
}

function inline(
  w: Worker,
  uri: string,
  position: { line: number; character: number },
  extras?: Partial<InlineCompletionExtras>,
  token?: CancellationTokenSource,
  triggerKind: InlineCompletionTriggerKind = InlineCompletionTriggerKind.Automatic,
): Promise<InlineCompletionItem[]> {
  const params: InlineCompletionParams & { ptp?: Partial<InlineCompletionExtras> } = {
    textDocument: { uri },
    position,
    context: { triggerKind },
    ...(extras !== undefined ? { ptp: { decoding: DECODING, alternatives: 1, ...extras } } : {}),
  };
  return w.connection
    .sendRequest(InlineCompletionRequest.type, params, token?.token)
    .then((r: InlineCompletionList | InlineCompletionItem[] | null) => (r === null ? [] : Array.isArray(r) ? r : r.items));
}

const statsOf = (item: InlineCompletionItem): CompletionStats => (item as InlineCompletionItem & { data: CompletionStats }).data;

suite('worker with the shipped model (stdio)', () => {
  let w: Worker;
  before(async () => {
    w = await startWorker();
    const s = await w.settled();
    assert.equal(s.state, 'ready', `worker did not get ready: ${s.error}`);
  });
  after(() => w.stop());

  test('status reports ready with the model name, size, device and threads', async () => {
    const s = await w.connection.sendRequest(StatusRequest);
    assert.equal(s.state, 'ready');
    assert.equal(s.error, undefined);
    assert.match(s.model!.name, /^ptp-code-10m /);
    assert.equal(s.model!.path, DEFAULT_MODEL);
    assert.ok(s.model!.parameters > 1e6, `parameters ${s.model!.parameters}`);
    assert.equal(s.model!.device, 'cpu');
    assert.equal(s.model!.threads, 1);
    assert.ok(s.rssBytes > 0);
    assert.ok(s.heapUsedBytes > 0 && s.heapUsedBytes < s.rssBytes, 'the JS heap is part of the resident memory');
    assert.ok(s.externalBytes > 0, 'the engine holds its buffers outside the JS heap');
    assert.ok(w.statuses.some((n) => n.state === 'loading') && w.statuses.some((n) => n.state === 'ready'), 'statusChanged went loading -> ready');
  });

  test('an inline completion comes fitted to the line: accepting it leaves the closers after the cursor once', async () => {
    const { uri, position, text } = await open(w, TEMPLATE);
    const items = await inline(w, uri, position, {});
    assert.equal(items.length, 1);
    const item = items[0]!;
    const insert = typeof item.insertText === 'string' ? item.insertText : item.insertText.value;
    // The document already has `}` + "`;" after the cursor (auto-closed): the item covers them
    // and writes them once, as VS Code needs to show it (src/completion/fitCompletion.ts).
    const line = text.split('\n')[position.line]!;
    assert.equal(line.slice(position.character), '}`;');
    assert.deepEqual(item.range, { start: position, end: { line: position.line, character: position.character + 3 } });
    assert.match(insert, /^[^}`]+\}`;$/, `the completion, then the closers once: ${JSON.stringify(insert)}`);
    const accepted = line.slice(0, position.character) + insert + line.slice(position.character + 3);
    assert.equal(accepted.split('}`;').length, 2, accepted);
    const stats = statsOf(item);
    assert.equal(stats.seed, 1);
    assert.equal(stats.scope, 'line');
    assert.ok(stats.calls >= 1 && stats.tokens >= 1);
  });

  test('a request without ptp fields uses the worker defaults (the built-in client feature)', async () => {
    const { uri, position } = await open(w, TEMPLATE);
    const items = await inline(w, uri, position);
    for (const item of items) assert.equal(typeof statsOf(item).seed, 'number');
    const last = (await w.connection.sendRequest(StatusRequest)).last!;
    assert.equal(last.scope, 'line');
  });

  test('ptp/warm where the cursor rests: the first completion there finds its prompt cached', async () => {
    const cold = await open(w, LONG);
    const coldStats = statsOf((await inline(w, cold.uri, cold.position, {}))[0]!);
    assert.ok(coldStats.reusedTokens < coldStats.promptTokens / 2, `cold: ${coldStats.reusedTokens} of ${coldStats.promptTokens} cached`);

    const warm = await open(w, LONG);
    await w.connection.sendNotification(WarmNotification, { textDocument: { uri: warm.uri }, position: warm.position });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const items = await inline(w, warm.uri, warm.position, {});
    const stats = statsOf(items[0]!);
    assert.equal(stats.reusedTokens, stats.promptTokens - 1, 'all but the last prompt token came from the warm-up');
    assert.ok(stats.msPrefill < coldStats.msPrefill, `first call ${stats.msPrefill} ms warm, ${coldStats.msPrefill} ms cold`);
    // The same completion as without the warm-up.
    const insert = (i: InlineCompletionItem) => (typeof i.insertText === 'string' ? i.insertText : i.insertText.value);
    const again = await inline(w, cold.uri, cold.position, {});
    assert.equal(insert(items[0]!), insert(again[0]!));
  });

  test('alternatives decode with consecutive seeds and are distinct', async () => {
    const { uri, position } = await open(w, LOOP);
    const items = await inline(w, uri, position, { alternatives: 3, decoding: { ...DECODING, seed: 40 } });
    const texts = items.map((i) => i.insertText);
    assert.equal(new Set(texts).size, texts.length, 'duplicate alternatives');
    for (const item of items) assert.ok([40, 41, 42].includes(statsOf(item).seed));
    const traced = (await w.connection.sendRequest(TraceRequest, { limit: 3 })).requests.map((r) => r.stats.seed);
    assert.deepEqual(traced, [42, 41, 40]);
  });

  test('edits synced incrementally give the same completion as the same text opened fresh', async () => {
    // Open a document, then type a line into it in three incremental edits.
    const start = withCursor('function greet(name: string): string {\n[|]}\n');
    const uri = `file:///test/edited${++docCounter}.ts`;
    await w.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'typescript', version: 1, text: start.text } });
    const at = (character: number) => ({ line: 1, character });
    const edits = ['  return `Hel', 'lo, ${}`;\n', ''];
    let col = 0;
    let version = 1;
    for (const piece of edits.slice(0, 2)) {
      await w.connection.sendNotification(DidChangeTextDocumentNotification.type, {
        textDocument: { uri, version: ++version },
        contentChanges: [{ range: { start: at(col), end: at(col) }, text: piece }],
      });
      col += piece.length;
    }
    // ...and delete a stray character typed and removed again.
    await w.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: ++version },
      contentChanges: [
        { range: { start: { line: 1, character: 2 }, end: { line: 1, character: 2 } }, text: 'x' },
        { range: { start: { line: 1, character: 2 }, end: { line: 1, character: 3 } }, text: '' },
      ],
    });
    const fresh = await open(w, TEMPLATE);
    const position = { line: 1, character: '  return `Hello, ${'.length };
    assert.deepEqual(position, fresh.position);
    const edited = await inline(w, uri, position, {});
    const opened = await inline(w, fresh.uri, fresh.position, {});
    assert.deepEqual(
      edited.map((i) => i.insertText),
      opened.map((i) => i.insertText),
    );
    assert.equal(statsOf(edited[0]!).scope, statsOf(opened[0]!).scope);
  });

  test('a cancelled request resolves with no item and the worker keeps answering', async () => {
    const before = (await w.connection.sendRequest(StatusRequest)).cancelled;
    const { uri, position } = await open(w, LONG);
    const source = new CancellationTokenSource();
    const pending = inline(w, uri, position, { decoding: { ...DECODING, maxTokens: 192, temperature: 1, topK: 0, topP: 1 } }, source);
    source.cancel();
    assert.deepEqual(await pending, []);
    const s = await w.connection.sendRequest(StatusRequest);
    assert.equal(s.state, 'ready');
    assert.equal(s.cancelled, before + 1);
    const again = await open(w, TEMPLATE);
    assert.equal((await inline(w, again.uri, again.position, {})).length, 1);
  });

  test('a newer request for the same document cancels the older one', async () => {
    const { uri, position } = await open(w, LONG);
    const older = inline(w, uri, position, { decoding: { ...DECODING, maxTokens: 192, temperature: 1, topK: 0, topP: 1 } });
    const newer = inline(w, uri, position, { decoding: { ...DECODING, maxTokens: 8 } });
    assert.deepEqual(await older, []);
    await newer;
    const [latest, previous] = (await w.connection.sendRequest(TraceRequest, { limit: 2 })).requests;
    assert.equal(previous!.stats.stopReason, 'superseded');
    assert.notEqual(latest!.stats.stopReason, 'superseded');
  });

  test('a request over requestTimeoutMs stops with reason timeout', async () => {
    const { uri, position } = await open(w, LONG);
    await w.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: { ...TEST_SETTINGS, requestTimeoutMs: 100 } });
    try {
      await inline(w, uri, position, { decoding: { ...DECODING, maxTokens: 192, temperature: 1, topK: 0, topP: 1 } }).catch((e: unknown) => {
        assert.ok(e instanceof ResponseError && e.code === ErrorCodes.Timeout, `unexpected ${String(e)}`);
      });
      const s = await w.connection.sendRequest(StatusRequest);
      assert.equal(s.last!.stopReason, 'timeout');
      assert.equal(s.state, 'ready', 'a settings change that keeps the model must not reload it');
    } finally {
      await w.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: TEST_SETTINGS });
    }
  });

  test('ptp/generate streams partial text, then returns the final text', async () => {
    // A class body the shipped model writes at length (~150 tokens) at seed 2 and
    // temperature 0.5 (a second or two).
    const { uri, position } = await open(w, 'import os\nimport sys\n\n\nclass Config:\n[|]', 'python');
    const token = 'generate-1';
    const partials: string[] = [];
    const listener = w.connection.onProgress(new ProgressType<GeneratePartial>(), token, (p) => void partials.push(p.text));
    try {
      const result = await w.connection.sendRequest(GenerateRequest, {
        textDocument: { uri },
        position,
        decoding: { ...DECODING, seed: 2, temperature: 0.5 },
        partialResultToken: token,
      });
      assert.ok(partials.length >= 2, `${partials.length} partial(s)`);
      for (let i = 1; i < partials.length; i++) assert.ok(partials[i]!.startsWith(partials[i - 1]!), 'partials only grow');
      assert.equal(result.stats.scope, 'block');
      assert.equal(result.stats.seed, 2);
      assert.ok(result.stats.tokens > 64, `${result.stats.tokens} tokens: generate allows more than an inline completion`);
      assert.notEqual(result.text.trim(), '');
      // The final text is the streamed text, trimmed at its end.
      const streamed = partials.at(-1)!;
      const n = Math.min(streamed.length, result.text.length);
      assert.equal(result.text.slice(0, n), streamed.slice(0, n));
    } finally {
      listener.dispose();
    }
  });

  test('the confidence rule: nothing appears by itself where the model is unsure, ptp/status says why, and Alt+\\ still offers something', async () => {
    // After `let sum = 0;` in mean() (examples/sample.ts), at seed 1 the model is unsure what comes next.
    const text = readFileSync(join(REPO, 'examples', 'sample.ts'), 'utf8');
    const line = text.split('\n').findIndex((l) => l === '  let sum = 0;');
    const { uri, position } = await open(w, text.split('\n').map((l, i) => (i === line ? `${l}[|]` : l)).join('\n'));
    const request = { confidence: 'medium' as const, decoding: { ...DECODING, seed: 1 } };

    assert.deepEqual(await inline(w, uri, position, request), [], 'an automatic request shows nothing here');
    const status = await w.connection.sendRequest(StatusRequest);
    assert.ok(status.last?.withheld !== undefined, 'ptp/status says the last suggestion was withheld');
    assert.ok(['unsure', 'short'].includes(status.last.withheld.reason));
    assert.match(status.last.withheld.detail, /needs \d+%/);
    const trace = (await w.connection.sendRequest(TraceRequest, { limit: 1 })).requests[0]!;
    assert.ok(trace.calls.every((c) => c.confidence.length === c.tokens.length && c.confidence.every((p) => p >= 0 && p <= 1)), 'the trace has a confidence per token');

    const explicit = await inline(w, uri, position, request, undefined, InlineCompletionTriggerKind.Invoked);
    assert.ok(explicit.length >= 1, 'an explicit request (lower bar) offers a suggestion');
    assert.equal((await w.connection.sendRequest(StatusRequest)).last!.withheld, undefined, 'and ptp/status no longer says withheld');
    assert.ok((await inline(w, uri, position, { ...request, confidence: 'off' })).length >= 1, 'confidence off shows what the model writes');

    // Generate Code is never cut, whatever the setting.
    await w.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: { ...TEST_SETTINGS, confidence: 'high' } });
    try {
      const generated = await w.connection.sendRequest(GenerateRequest, { textDocument: { uri }, position, decoding: { ...DECODING, seed: 1 } });
      assert.equal(generated.stats.withheld, undefined);
      assert.notEqual(generated.stats.stopReason, 'unsure');
      assert.notEqual(generated.text.trim(), '');
    } finally {
      await w.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: TEST_SETTINGS });
    }
  });

  test('a request with a decoding value out of range is answered with InvalidParams naming it', async () => {
    const { uri, position } = await open(w, TEMPLATE);
    await assert.rejects(inline(w, uri, position, { decoding: { ...DECODING, blockSize: 65 } }), (e: unknown) => {
      assert.ok(e instanceof ResponseError);
      assert.equal(e.message, "decoding.blockSize must be 'auto' or an integer from 1 to 64, got 65");
      return true;
    });
  });

  test('ptp/trace lists recent requests newest first, with the tokens each call committed', async () => {
    const { uri, position } = await open(w, LOOP);
    await inline(w, uri, position, { decoding: { ...DECODING, seed: 3 } });
    const { requests } = await w.connection.sendRequest(TraceRequest, { limit: 5 });
    assert.ok(requests.length >= 2);
    const r = requests[0]!;
    assert.equal(r.uri, uri);
    assert.equal(r.decoder, 'ptp');
    assert.equal(r.stats.seed, 3);
    assert.match(r.prompt, /console\.log\(\u2588\);/);
    assert.equal(r.calls.length, r.stats.calls);
    for (const [i, c] of r.calls.entries()) {
      assert.equal(c.index, i);
      // A call commits its accepted drafts plus one token (fewer only at end of text or a cap);
      // PTP drafts hold at most M - 1 tokens, lookup drafts (the prompt, the open documents, the
      // workspace) at most LOOKUP_BLOCK - 1.
      const most = c.draft === 'ptp' ? r.stats.blockSize : c.draft === 'none' ? 1 : LOOKUP_BLOCK;
      assert.ok(c.tokens.length <= c.acceptedDrafts + 1 && c.acceptedDrafts + 1 <= most, `call ${i}: ${JSON.stringify(c)}`);
      assert.ok(c.rows >= 1 && c.ms > 0);
    }
    assert.ok(r.calls.reduce((n, c) => n + c.tokens.length, 0) >= r.stats.tokens);
    assert.ok(Number(requests[0]!.requestId) > Number(requests[1]!.requestId.split('.')[0]));
  });
});

suite('worker with a bad model path (IPC)', () => {
  let w: Worker;
  before(async () => {
    w = await startWorker({ modelPath: '/nonexistent/ptp-model' }, 'ipc');
  });
  after(() => w.stop());

  test('reports error naming the path, answers requests with ModelNotLoaded, and recovers when the path is fixed', async () => {
    const s = await w.settled();
    assert.equal(s.state, 'error');
    assert.match(s.error!, /^\/nonexistent\/ptp-model: /);
    assert.ok(!s.error!.includes('\n'), 'one line');
    assert.ok(w.statuses.some((n) => n.state === 'error'), 'statusChanged announced the error');

    const { uri, position } = await open(w, TEMPLATE);
    await assert.rejects(inline(w, uri, position, {}), (e: unknown) => {
      assert.ok(e instanceof ResponseError);
      assert.equal(e.code, ErrorCodes.ModelNotLoaded);
      assert.equal(e.message, s.error);
      return true;
    });
    // Still answering.
    assert.equal((await w.connection.sendRequest(StatusRequest)).state, 'error');

    // Clearing the path falls back to the bundled model.
    await w.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: { ...TEST_SETTINGS } });
    const fixed = await w.settled();
    assert.equal(fixed.state, 'ready', fixed.error);
    assert.equal(fixed.model!.path, DEFAULT_MODEL);
    assert.equal((await inline(w, uri, position, {})).length, 1);
  });
});

// A model's own sampling settings reach editor requests. A person converts their checkpoint
// (`ptp-complete convert`), writes the temperature, top-k and top-p it wants into its model.json
// and points ptp.model.path at it. With ptp.decoding.temperature, topK and topP unset, the
// extension sends none of them (src/extension/parseSettings.ts, what VS Code reports for an
// unset nullable setting), and the worker decodes with the model's values; set, the person's win.
// Needs Python with PyTorch for the conversion (as test/engine/byoModel.test.ts); without it the
// tiny fixture model stands in for the converted one.
// Run: npm run build && node --import tsx --test test/server/modelSampling.test.ts
import { after, before, suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DidOpenTextDocumentNotification, InlineCompletionRequest, InlineCompletionTriggerKind } from 'vscode-languageserver-protocol/node';
import { convertCheckpoint } from '../../src/cli/convert';
import { parseSettings } from '../../src/extension/parseSettings';
import type { InlineCompletionExtras, TraceResult } from '../../src/protocol/index';
import { TraceRequest } from '../../src/protocol/index';
import { REPO, startWorker, type Worker } from './workerClient';

const PYTHON = process.env.PTP_PYTHON ?? '/usr/bin/python3';
const HAS_TORCH = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
/** What the model's model.json asks for: none of it the bundled model's (0.2, 50, 0.95). */
const MODEL_SAMPLING = { temperature: 1.3, top_k: 9, top_p: 0.8 };
const WORK = mkdtempSync(join(tmpdir(), 'ptp-sampling-'));

/** A converted model directory whose model.json declares MODEL_SAMPLING. */
async function modelWithOwnSampling(): Promise<{ dir: string; converted: boolean }> {
  const dir = join(WORK, 'model');
  if (HAS_TORCH) {
    const hf = join(WORK, 'hf');
    const made = spawnSync(PYTHON, [join(REPO, 'training', 'make_tiny_hf.py'), '--family', 'llama', '--out', hf], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    await convertCheckpoint({ hf, out: dir, name: 'tiny-llama-own-sampling', python: PYTHON, root: REPO });
  } else {
    cpSync(join(REPO, 'test', 'fixtures', 'tiny-model'), dir, { recursive: true });
  }
  const manifestPath = join(dir, 'model.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { sampling: unknown };
  manifest.sampling = MODEL_SAMPLING;
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 1));
  return { dir, converted: HAS_TORCH };
}

/** What the extension sends for these ptp.* values: its settings to the worker, and a request's extras. */
function fromEditor(values: Record<string, unknown>): { settings: ReturnType<typeof parseSettings>; extras: InlineCompletionExtras } {
  const settings = parseSettings((key) => values[key]);
  assert.deepEqual(settings.problems, []);
  const extras: InlineCompletionExtras = { decoding: { ...settings.decoding, maxTokens: settings.completion.maxTokens }, alternatives: 1, confidence: settings.completion.confidence };
  // As JSON-RPC sends it: an unset field is not there at all.
  return { settings, extras: JSON.parse(JSON.stringify(extras)) as InlineCompletionExtras };
}

suite("a model's own sampling settings apply to editor requests", () => {
  let w: Worker;
  let docs = 0;
  before(async () => {
    const model = await modelWithOwnSampling();
    const { settings } = fromEditor({ 'model.path': model.dir, 'decoding.temperature': null, 'decoding.topK': null, 'decoding.topP': null });
    // The worker's settings as the extension sends them (WorkerClient.initializationOptions).
    w = await startWorker({ ...settings.worker, device: 'cpu', threads: 1, logLevel: 'debug', decoding: { ...settings.decoding, maxTokens: 16 } });
    const s = await w.settled(120_000);
    assert.equal(s.state, 'ready', s.error);
    assert.equal(s.model!.path, model.dir);
    // The first decode after a load can differ from later ones in the last bits of the logits
    // (onnxruntime's first runs), which at this random model's flat distributions may flip a
    // pick: compare requests after it.
    await complete({});
  });
  after(async () => {
    await w.stop();
    rmSync(WORK, { recursive: true, force: true });
  });

  /** One inline request (Invoked unless `automatic`, AR, seed 5, 12 tokens, no confidence cut): the decode's log line and its tokens. */
  async function complete(values: Record<string, unknown>, automatic = false): Promise<{ logLine: string; tokens: string }> {
    const { extras } = fromEditor({ 'decoding.decoder': 'ar', 'decoding.seed': 5, 'completion.maxTokens': 12, 'completion.confidence': 'off', ...values });
    const uri = `file:///sampling/doc${++docs}.py`;
    const text = 'def add(a, b):\n    return a + b\n\n\ndef scale(xs, k):\n    ';
    await w.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'python', version: 1, text } });
    await w.connection.sendRequest(InlineCompletionRequest.type, {
      textDocument: { uri },
      position: { line: 5, character: 4 },
      context: { triggerKind: automatic ? InlineCompletionTriggerKind.Automatic : InlineCompletionTriggerKind.Invoked },
      ptp: { ...extras, alternatives: 1 },
    } as never);
    const trace: TraceResult = await w.connection.sendRequest(TraceRequest, { limit: 1 });
    const request = trace.requests[0]!;
    assert.equal(request.uri, uri);
    const logLine = w.logs.find((l) => l.startsWith(`[complete] ${request.requestId} ${uri}`));
    assert.ok(logLine !== undefined, `no log line for request ${request.requestId}`);
    return { logLine, tokens: request.calls.flatMap((c) => c.tokens).join('') };
  }

  test("unset in the editor: the worker decodes with the model.json's temperature, top-k and top-p", async () => {
    const unset = await complete({ 'decoding.temperature': null, 'decoding.topK': null, 'decoding.topP': null });
    assert.match(unset.logLine, / T=1\.3 top-k=9 top-p=0\.8: /);
    // The same tokens as a request that names the model's values itself.
    const named = await complete({ 'decoding.temperature': 1.3, 'decoding.topK': 9, 'decoding.topP': 0.8 });
    assert.match(named.logLine, / T=1\.3 top-k=9 top-p=0\.8: /);
    assert.equal(unset.tokens, named.tokens);
  });

  test("set in the editor: the person's values win over the model's", async () => {
    const set = await complete({ 'decoding.temperature': 0, 'decoding.topK': 1, 'decoding.topP': 1 });
    assert.match(set.logLine, / T=0 top-k=1 top-p=1: /);
    const one = await complete({ 'decoding.temperature': 0.5 });
    assert.match(one.logLine, / T=0\.5 top-k=9 top-p=0\.8: /, 'one value set: the others still the model\'s');
  });

  test('an automatic suggestion is greedy unless the person set a temperature; top-k and top-p stay the model\'s', async () => {
    const unset = await complete({ 'decoding.temperature': null, 'decoding.topK': null, 'decoding.topP': null }, true);
    assert.match(unset.logLine, / T=0 top-k=9 top-p=0\.8: /);
    const set = await complete({ 'decoding.temperature': 0.5 }, true);
    assert.match(set.logLine, / T=0\.5 top-k=9 top-p=0\.8: /);
  });

  test('a request without ptp fields (the built-in client feature) falls back the same way', async () => {
    const uri = `file:///sampling/doc${++docs}.py`;
    await w.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'python', version: 1, text: 'x = 1\n' } });
    await w.connection.sendRequest(InlineCompletionRequest.type, { textDocument: { uri }, position: { line: 1, character: 0 }, context: { triggerKind: InlineCompletionTriggerKind.Invoked } } as never);
    const id = (await w.connection.sendRequest(TraceRequest, { limit: 1 })).requests[0]!.requestId;
    assert.match(w.logs.find((l) => l.startsWith(`[complete] ${id} ${uri}`)) ?? '', / T=1\.3 top-k=9 top-p=0\.8: /);
  });
});

/**
 * The ONNX runner on the tiny fixture: zero-size tensors, cache views, the gating contract
 * (aux rows never change token rows), cached calls against full recomputes, device fallback.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { Engine } from '../../src/engine/index';
import { KvCache } from '../../src/engine/kvcache';
import { layoutCall } from '../../src/engine/mask';
import { loadModel, type LoadedModel } from '../../src/engine/model';
import { sampleRow } from '../../src/engine/sampling';
import { uniform } from '../../src/engine/ustream';
import { FIXTURE_DIR } from './helpers/models';

const skip = existsSync(join(FIXTURE_DIR, 'model.json')) ? false : 'test/fixtures/tiny-model is not there yet';
/** float32 ORT kernels give slightly different sums for different row counts. */
const TOLERANCE = 1e-3;

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

suite('onnx runner on the tiny fixture', { skip }, () => {
  let model: LoadedModel;
  let V: number;
  let newCache: (capacity?: number) => KvCache;
  const prompt = 'def add(a, b):\n    return a + b\n';

  before(async () => {
    model = await loadModel(FIXTURE_DIR, { threads: 1 });
    const a = model.manifest.architecture;
    V = a.vocab_size;
    newCache = (capacity = 4) => new KvCache({ numLayers: a.num_layers, numHeads: a.num_heads, headDim: a.head_dim }, capacity);
  });
  after(async () => {
    await model.dispose();
  });

  async function call(cache: KvCache, tokens: number[], groups: number[] = [], contextRows = tokens.length) {
    const layout = layoutCall({ pastLen: cache.length, tokens, contextRows, groups, firstOutputIndex: 0, u: (k) => uniform(5, k) });
    const result = await model.forward.run({ ...layout, past: cache.view() });
    // The runner reuses its output buffers on the next call: keep copies.
    const copy = (a: Float32Array[]) => a.map((x) => x.slice());
    return { layout, result: { ...result, logits: result.logits.slice(), newKeys: copy(result.newKeys), newValues: copy(result.newValues) } };
  }

  test('accepts zero past rows and zero aux rows, alone and together', async () => {
    const ids = model.tokenizer.encode(prompt);
    const cold = await call(newCache(), ids);
    assert.equal(cold.result.logits.length, ids.length * V);
    const withAux = await call(newCache(), ids, [3]);
    assert.equal(withAux.result.logits.length, (ids.length + 3) * V);
    const cache = newCache();
    cache.append(cold.result.newKeys, cold.result.newValues, ids.length);
    const warm = await call(cache, [ids[0]!]);
    assert.equal(warm.result.logits.length, V);
  });

  test('a cached call gives the logits and keys of a full recompute', async () => {
    const ids = model.tokenizer.encode(prompt);
    const full = await call(newCache(), ids);
    const cache = newCache();
    const head = await call(cache, ids.slice(0, -4));
    cache.append(head.result.newKeys, head.result.newValues, ids.length - 4);
    const tail = await call(cache, ids.slice(-4));
    assert.ok(maxAbsDiff(tail.result.logits, full.result.logits.subarray((ids.length - 4) * V)) < TOLERANCE);
    const rowSize = cache.rowSize;
    assert.ok(maxAbsDiff(tail.result.newKeys[1]!, full.result.newKeys[1]!.subarray((ids.length - 4) * rowSize)) < TOLERANCE);
  });

  test('past rows passed as a view into a larger buffer read the same as an exact copy', async () => {
    const ids = model.tokenizer.encode(prompt);
    const big = newCache(1024);
    const first = await call(big, ids.slice(0, -1));
    big.append(first.result.newKeys, first.result.newValues, ids.length - 1);
    const viaView = await call(big, ids.slice(-1));
    const view = big.view();
    const copied = { length: view.length, keys: view.keys.map((k) => k.slice()), values: view.values.map((v) => v.slice()) };
    const layout = layoutCall({ pastLen: big.length, tokens: ids.slice(-1), contextRows: 1, groups: [], firstOutputIndex: 0, u: () => 0 });
    const viaCopy = await model.forward.run({ ...layout, past: copied });
    assert.notEqual(viaView.result.logits.buffer, viaCopy.logits.buffer);
    assert.equal(maxAbsDiff(viaView.result.logits, viaCopy.logits), 0);
  });

  test('aux rows never change the token rows (token rows are exactly the teacher)', async () => {
    const ids = model.tokenizer.encode(prompt);
    const plain = await call(newCache(), ids);
    const mixed = await call(newCache(), ids, [4, 3], ids.length - 1);
    assert.ok(maxAbsDiff(mixed.result.logits.subarray(0, ids.length * V), plain.result.logits) < TOLERANCE);
  });

  test('AR through the engine equals picking from full recomputes without cache', async () => {
    const engine = Engine.fromParts(model);
    // Plain AR over the prompt as typed (token healing has its own tests).
    const opts = { decoder: 'ar' as const, seed: 3, temperature: 0.8, topK: 50, topP: 0.95, blockSize: 1, maxTokens: 6, heal: false };
    const result = await engine.complete({ prefix: prompt }, opts);
    const sequence = model.tokenizer.encode(prompt);
    for (let k = 0; k < result.tokens.length; k++) {
      const { result: out } = await call(newCache(), sequence);
      const token = sampleRow(out.logits, (sequence.length - 1) * V, V, opts, uniform(opts.seed, k));
      assert.equal(result.tokens[k], token, `token ${k}`);
      sequence.push(token);
    }
  });

  test('ORT writes every output into buffers the runner reuses: calls leave no garbage behind', async () => {
    const ids = model.tokenizer.encode(prompt);
    const layout = layoutCall({ pastLen: 0, tokens: ids, contextRows: ids.length, groups: [], firstOutputIndex: 0, u: () => 0 });
    const first = await model.forward.run({ ...layout, past: newCache().view() });
    const buffers = [first.logits, ...first.newKeys, ...first.newValues].map((a) => a.buffer);
    const expected = first.newValues.at(-1)!.slice();
    const second = await model.forward.run({ ...layout, past: newCache().view() });
    assert.deepEqual([second.logits, ...second.newKeys, ...second.newValues].map((a) => a.buffer), buffers);
    assert.equal(new Set(buffers).size, buffers.length, 'each output has its own buffer');
    assert.equal(second.newValues.at(-1)!.length, ids.length * newCache().rowSize);
    assert.ok(maxAbsDiff(second.newValues.at(-1)!, expected) < TOLERANCE);
  });

  test('records each call for the latency curve', async () => {
    const engine = Engine.fromParts(model);
    await engine.complete({ prefix: prompt }, { decoder: 'ptp', seed: 1, temperature: 0.2, topK: 50, topP: 0.95, blockSize: 4, maxTokens: 8 });
    const curve = engine.latencyCurve();
    assert.ok(curve && curve.length > 0 && curve.every((p) => p.rows > 0 && p.ms > 0));
  });

  test('an unavailable device falls back to CPU with a log line', async () => {
    const lines: string[] = [];
    const engine = await Engine.load(FIXTURE_DIR, { threads: 1, device: 'cuda', log: (l) => lines.push(l) });
    await engine.dispose();
    assert.ok(lines.some((l) => /device cuda is not available, running on the CPU: install onnxruntime.s CUDA 12 provider/.test(l)), lines.join('\n'));
  });
});

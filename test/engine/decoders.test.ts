/**
 * Decoder behaviour on the in-process reference model: stop rules, limits, cancellation,
 * prefix reuse, and AR against a brute-force full recompute without cache.
 */
import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import type { DecodeOptions } from '../../src/engine/index';
import { layoutCall } from '../../src/engine/mask';
import { KvCache } from '../../src/engine/kvcache';
import { sampleRow } from '../../src/engine/sampling';
import { uniform } from '../../src/engine/ustream';
import { referenceEngine } from './helpers/models';

const base: DecodeOptions = { decoder: 'ptp', seed: 7, temperature: 0.8, topK: 50, topP: 0.95, blockSize: 4, maxTokens: 20 };

suite('decoders on the reference model', () => {
  test('AR equals a brute-force recompute of the whole sequence without cache', async () => {
    const { engine, model } = referenceEngine();
    const prompt = { prefix: 'def the(x):\n    return' };
    // Plain AR over the prompt as typed (token healing has its own tests).
    const opts: DecodeOptions = { ...base, decoder: 'ar', maxTokens: 12, heal: false };
    const result = await engine.complete(prompt, opts);
    const sequence = engine.encode(prompt.prefix);
    const V = engine.manifest.architecture.vocab_size;
    const empty = new KvCache({ numLayers: 2, numHeads: 2, headDim: 4 }, 1);
    for (let k = 0; k < result.tokens.length; k++) {
      const layout = layoutCall({ pastLen: 0, tokens: sequence, contextRows: sequence.length, groups: [], firstOutputIndex: k, u: () => 0 });
      const out = await model.run({ ...layout, past: empty.view() });
      const token = sampleRow(out.logits, (sequence.length - 1) * V, V, opts, uniform(opts.seed, k));
      assert.equal(result.tokens[k], token, `token ${k}`);
      sequence.push(token);
    }
    assert.ok(result.tokens.length >= 5);
  });

  test('PTP commits several tokens per call when the drafts are right', async () => {
    const { engine } = referenceEngine();
    const ar = await engine.complete({ prefix: 'the' }, { ...base, decoder: 'ar', maxTokens: 30 });
    // The hook's drafts are right whatever the drafter's confidence says: keep them all.
    const ptp = await engine.complete({ prefix: 'the' }, { ...base, blockSize: 8, maxTokens: 30, minSurvival: 0 }, { draftToken: (k) => ar.tokens[k] ?? 0 });
    assert.deepEqual(ptp.tokens, ar.tokens);
    assert.ok(ptp.calls < ar.calls / 2, `${ptp.calls} PTP calls vs ${ar.calls} AR calls`);
    assert.ok(ptp.trace.some((t) => t.acceptedDrafts >= 3));
  });

  test('stops at maxTokens exactly, for AR and PTP', async () => {
    const { engine } = referenceEngine();
    for (const decoder of ['ar', 'ptp'] as const) {
      const r = await engine.complete({ prefix: 'x' }, { ...base, decoder, temperature: 0, maxTokens: 5 });
      if (r.stopReason === 'maxTokens') assert.equal(r.tokens.length, 5);
      else assert.equal(r.stopReason, 'eot');
    }
  });

  test('stops at the context length', async () => {
    const { engine } = referenceEngine(48);
    for (const decoder of ['ar', 'ptp'] as const) {
      const r = await engine.complete({ prefix: 'the '.repeat(8) }, { ...base, decoder, maxTokens: 200, temperature: 0 }, { draftToken: () => 70 });
      if (r.stopReason !== 'eot') {
        assert.equal(r.stopReason, 'context');
        assert.equal(r.promptTokens + r.tokens.length, 48);
      }
    }
  });

  test('a stop rule ends the request and cuts the text where it says', async () => {
    const { engine } = referenceEngine();
    const full = await engine.complete({ prefix: 'a' }, { ...base, maxTokens: 16 });
    assert.ok(full.text.length >= 4);
    const cutAt = 3;
    const r = await engine.complete({ prefix: 'a' }, { ...base, maxTokens: 16, stop: (t) => (t.length >= cutAt ? cutAt : undefined) });
    assert.equal(r.stopReason, 'stop');
    assert.equal(r.text, full.text.slice(0, cutAt));
    assert.ok(engine.decode(r.tokens).startsWith(r.text));
  });

  test('cancellation stops between calls and returns what was committed', async () => {
    const { engine } = referenceEngine();
    const controller = new AbortController();
    const r = await engine.complete({ prefix: 'a' }, { ...base, maxTokens: 50, signal: controller.signal, onCall: (t) => t.index === 2 && controller.abort() });
    assert.equal(r.stopReason, 'cancelled');
    assert.equal(r.calls, 3);
    const before = await engine.complete({ prefix: 'a' }, { ...base, maxTokens: 50, signal: AbortSignal.abort() });
    assert.equal(before.calls, 0);
    assert.equal(before.stopReason, 'cancelled');
  });

  test('prefill warms the cache: the next request runs only its last prompt row, with the same result', async () => {
    const { engine, model } = referenceEngine();
    const prompt = { prefix: 'def the(x):\n    return x', suffix: '\n\nprint(the(1))\n' };
    const opts = { ...base, cacheKey: 'file:///a.py' };
    const warm = await engine.prefill(prompt, opts);
    assert.ok(warm.prefilled > 5 && warm.prefilled === warm.promptTokens - 1, JSON.stringify(warm));
    assert.equal((await engine.prefill(prompt, opts)).prefilled, 0, 'a second prefill finds it cached');
    model.calls.length = 0;
    const after = await engine.complete(prompt, opts);
    assert.equal(after.reusedTokens, after.promptTokens - 1);
    assert.equal(model.calls[0]!.past, after.promptTokens - 1);
    const cold = await referenceEngine().engine.complete(prompt, opts);
    assert.deepEqual(after.tokens, cold.tokens);
  });

  test('a long prompt goes in chunks: no call is wider than the chunk, and the tokens are those of one wide call', async () => {
    const prompt = { prefix: 'def the(x):\n    return x + the(x - 1) * 2\n\ndef other(y):\n    return', suffix: '\n\nprint(the(1))\n' };
    for (const decoder of ['ar', 'ptp'] as const) {
      const { engine, model } = referenceEngine();
      const chunked = await engine.complete(prompt, { ...base, decoder, prefillChunk: 8 });
      assert.ok(chunked.promptTokens > 40, `${chunked.promptTokens} prompt tokens`);
      const fills = model.calls.length - chunked.calls;
      assert.equal(fills, Math.ceil((chunked.promptTokens - 8) / 8), 'the chunks before the first decoding call');
      assert.ok(model.calls.slice(0, fills).every((c) => c.rows <= 8), JSON.stringify(model.calls.slice(0, fills)));
      assert.ok(model.calls[fills]!.past >= chunked.promptTokens - 8, 'the first decoding call has at most a chunk of prompt rows');
      const wide = referenceEngine();
      const whole = await wide.engine.complete(prompt, { ...base, decoder, prefillChunk: 1000 });
      assert.equal(wide.model.calls.length, whole.calls, 'one wide call: nothing before the decoding calls');
      assert.deepEqual(chunked.tokens, whole.tokens, decoder);
      assert.equal(chunked.calls, whole.calls, 'the chunks are not decoding calls');
      const warm = referenceEngine();
      const filled = await warm.engine.prefill(prompt, { ...base, prefillChunk: 8, cacheKey: 'k' });
      assert.equal(filled.prefilled, filled.promptTokens - 1);
      assert.ok(warm.model.calls.every((c) => c.rows <= 8));
    }
  });

  test('a cancelled request stops filling its prompt after the current chunk and keeps what it cached', async () => {
    const { engine, model } = referenceEngine();
    const prompt = { prefix: 'def the(x):\n    return x + the(x - 1) * 2\n\ndef other(y):\n    return' };
    const controller = new AbortController();
    const run = model.run.bind(model);
    model.run = async (request) => {
      const out = await run(request);
      if (model.calls.length === 2) controller.abort();
      return out;
    };
    const opts = { ...base, prefillChunk: 8, cacheKey: 'k' };
    const cancelled = await engine.complete(prompt, { ...opts, signal: controller.signal });
    assert.equal(cancelled.stopReason, 'cancelled');
    assert.equal(cancelled.calls, 0);
    assert.equal(model.calls.length, 2);
    const next = await engine.complete(prompt, opts);
    assert.equal(next.reusedTokens, 16, 'the next request starts from the two chunks');
  });

  test('a new prompt reuses the cached common prefix and prefills only the rest', async () => {
    const { engine, model } = referenceEngine();
    const opts = { ...base, cacheKey: 'file:///a.py' };
    const first = await engine.complete({ prefix: 'def the(x):\n    return x' }, opts);
    assert.equal(first.reusedTokens, 0);
    model.calls.length = 0;
    const second = await engine.complete({ prefix: 'def the(x):\n    return x +' }, opts);
    assert.ok(second.reusedTokens >= second.promptTokens - 3, `reused ${second.reusedTokens} of ${second.promptTokens}`);
    assert.ok(model.calls[0]!.past >= second.reusedTokens);
    const fresh = referenceEngine().engine;
    const cold = await fresh.complete({ prefix: 'def the(x):\n    return x +' }, opts);
    assert.deepEqual(second.tokens, cold.tokens);
    const other = await engine.complete({ prefix: 'def the(x):\n    return x +' }, { ...opts, cacheKey: 'file:///b.py' });
    assert.equal(other.reusedTokens, 0);
  });

  test('four documents keep their caches; a fifth takes the least recently used one, which starts empty', async () => {
    const { engine } = referenceEngine();
    const prompt = (n: number) => ({ prefix: `def f${n}(x):\n    return x * ${n}` });
    const opts = (n: number) => ({ ...base, cacheKey: `file:///${n}.py` });
    for (const n of [1, 2, 3, 4]) await engine.complete(prompt(n), opts(n));
    for (const n of [2, 3, 4]) assert.ok((await engine.complete(prompt(n), opts(n))).reusedTokens > 5, `document ${n} is cached`);
    const fifth = await engine.complete(prompt(5), opts(5));
    assert.equal(fifth.reusedTokens, 0, 'the recycled cache holds nothing of document 1');
    assert.deepEqual(fifth.tokens, (await referenceEngine().engine.complete(prompt(5), opts(5))).tokens);
    assert.equal((await engine.complete(prompt(1), opts(1))).reusedTokens, 0, 'document 1 was dropped');
    assert.ok((await engine.complete(prompt(5), opts(5))).reusedTokens > 5, 'document 5 is cached');
  });

  test('reports per-request statistics', async () => {
    const { engine } = referenceEngine();
    const r = await engine.complete({ prefix: 'the', suffix: '\n' }, { ...base, blockSize: 8 });
    assert.equal(r.blockSize, 8);
    assert.equal(r.budget, 16);
    assert.equal(r.calls, r.trace.length);
    assert.ok(Math.abs(r.tokensPerCall - r.trace.reduce((s, t) => s + t.committed.length, 0) / r.calls) < 1e-9 || r.stopReason !== 'maxTokens');
    assert.ok(r.msPrefill >= 0 && r.msDecode >= 0 && r.engineTimeMs >= 0);
    // The prompt ends inside the word "the": the output re-types it first, outside the text.
    assert.equal(r.healed, 'the');
    assert.equal(r.healed + r.text, r.trace.map((t) => t.committedText).join(''));
  });

  test('rejects bad options with the value named', async () => {
    const { engine } = referenceEngine();
    await assert.rejects(engine.complete({ prefix: 'a' }, { ...base, blockSize: 0 }), /blockSize .* got 0/);
    await assert.rejects(engine.complete({ prefix: 'a' }, { ...base, temperature: -1 }), /temperature .* got -1/);
    await assert.rejects(engine.complete({ prefix: 'a' }, { ...base, seed: 0.5 }), /seed must be a safe integer/);
    await assert.rejects(engine.complete({ prefix: 'a' }, { ...base, minSurvival: 2 }), /minSurvival must be in \[0, 1\], got 2/);
  });
});

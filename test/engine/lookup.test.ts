/**
 * Context lookup drafts: what they propose, and that on the shipped model they make a
 * repetitive completion take fewer calls while committing exactly the AR tokens.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { suite, test } from 'node:test';
import { Engine, type DecodeOptions } from '../../src/engine/index';
import { contextDraft, expectedAccepted } from '../../src/engine/lookup';
import { REPO } from './helpers/models';

suite('contextDraft', () => {
  test('proposes what followed the longest earlier match of the ending', () => {
    // Ending [7, 8]: position 1 matches only 8, position 5 matches 7 8; the longer wins.
    const d = contextDraft([9, 8, 1, 2, 7, 8, 3, 4, 5, 7, 8], 3);
    assert.deepEqual(d.tokens, [3, 4, 5]);
    assert.equal(d.matched, 2);
  });

  test('prefers the most recent of equally long matches', () => {
    const d = contextDraft([5, 1, 5, 2, 5], 1);
    assert.deepEqual(d.tokens, [2]);
  });

  test('continues a loop past the end of the sequence with its period', () => {
    const d = contextDraft([1, 2, 3, 1, 2, 3, 1, 2], 7);
    assert.deepEqual(d.tokens, [3, 1, 2, 3, 1, 2, 3]);
  });

  test('proposes nothing when the last token never occurred before, or nothing is asked', () => {
    assert.deepEqual(contextDraft([1, 2, 3, 4], 4).tokens, []);
    assert.deepEqual(contextDraft([1], 4).tokens, []);
    assert.deepEqual(contextDraft([1, 2, 1], 0).tokens, []);
  });

  test('is more confident after a longer match', () => {
    const short = contextDraft([1, 9, 2, 1], 2);
    const long = contextDraft([1, 2, 3, 4, 5, 6, 7, 9, 1, 2, 3, 4, 5, 6, 7], 2);
    assert.equal(short.matched, 1);
    assert.equal(long.matched, 7);
    assert.ok(long.conf[0]! > short.conf[0]!, `${long.conf[0]} vs ${short.conf[0]}`);
    assert.ok(expectedAccepted(long.conf) > expectedAccepted(short.conf));
  });

  test('expectedAccepted sums the chances that each prefix survives', () => {
    assert.equal(expectedAccepted([]), 0);
    assert.ok(Math.abs(expectedAccepted([0.5, 0.5]) - 0.75) < 1e-12);
  });
});

suite('context lookup on the shipped model', () => {
  test('a completion that repeats its context takes fewer calls with lookup, with the same tokens as AR', async (t) => {
    const engine = await Engine.load(join(REPO, 'models/ptp-code-10m'));
    try {
      const rows = Array.from({ length: 6 }, (_, i) => `    s${i + 1} = Student(id=${i + 1}, name='S${i + 1}', group=g1)\n`).join('');
      const prompt = { prefix: `def setup(db):\n    g1 = Group(id=1)\n${rows}    s7 = Student(` };
      const opts: DecodeOptions = { decoder: 'ptp', seed: 3, temperature: 0.2, topK: 50, topP: 0.95, blockSize: 4, budget: 4, maxTokens: 48 };
      const ar = await engine.complete(prompt, { ...opts, decoder: 'ar' });
      const plain = await engine.complete(prompt, { ...opts, lookup: false });
      const looked = await engine.complete(prompt, { ...opts, lookup: true });
      assert.deepEqual(plain.tokens, ar.tokens);
      assert.deepEqual(looked.tokens, ar.tokens);
      t.diagnostic(`lookup ${looked.calls} calls, without ${plain.calls}, AR ${ar.calls}`);
      assert.ok(looked.calls * 1.5 <= plain.calls, `lookup ${looked.calls} calls vs ${plain.calls} without (AR ${ar.calls})`);
    } finally {
      await engine.dispose();
    }
  });
});

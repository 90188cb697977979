/**
 * chooseBlockSize: the M and B that maximise expected tokens per millisecond.
 */
import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import type { LatencyPoint } from '../../src/context';
import { chooseBlockSize, DEFAULT_ACCEPTANCE, DEFAULT_LATENCY_CURVE, latencyAt, SCOPES } from '../../src/context';

/** P(C = c) for geometric acceptance with per-token probability p over a window of 16. */
function geometric(p: number): number[] {
  return Array.from({ length: 17 }, (_, c) => (c < 16 ? (1 - p) * p ** c : p ** 16));
}

suite('chooseBlockSize', () => {
  test('the default curve interpolates the CPU measurements of docs/ALGORITHM.md §7', () => {
    assert.equal(latencyAt(DEFAULT_LATENCY_CURVE, 1), 5);
    assert.equal(latencyAt(DEFAULT_LATENCY_CURVE, 24), 7);
    assert.equal(latencyAt(DEFAULT_LATENCY_CURVE, 64), 12);
    assert.equal(latencyAt(DEFAULT_LATENCY_CURVE, 96), 16);
    assert.equal(latencyAt([{ rows: 8, ms: 3 }], 100), 3);
  });

  test('block size grows with the scope: expression < line <= statement <= block, on several curves', () => {
    const curves: LatencyPoint[][] = [
      [...DEFAULT_LATENCY_CURVE],
      [{ rows: 1, ms: 10 }, { rows: 128, ms: 14 }],
    ];
    for (const curve of curves) {
      for (const hist of [DEFAULT_ACCEPTANCE, geometric(0.9)]) {
        const m = SCOPES.map((s) => chooseBlockSize(s, curve, hist).blockSize);
        assert.ok(m[0]! < m[3]!, `expression ${m[0]} vs block ${m[3]}`);
        assert.ok(m[0]! <= m[1]! && m[1]! <= m[2]! && m[2]! <= m[3]!, m.join(' '));
      }
    }
  });

  test('with the defaults: short blocks for expressions, longer for bodies, all faster than plain decoding', () => {
    const expr = chooseBlockSize('expression');
    const block = chooseBlockSize('block');
    assert.deepEqual([expr.blockSize, block.blockSize], [3, 4]);
    for (const c of [expr, block]) assert.ok(c.tokensPerMs > 1 / 5, `${c.tokensPerMs} tokens/ms beats 1 token per 5 ms`);
    assert.equal(block.split.reduce((a, b) => a + b, 0), block.budget);
    assert.ok(block.split.every((b) => b <= block.blockSize));
  });

  test('when every extra row costs a full call, plain decoding (M = 1, B = 0) wins', () => {
    const steep = [{ rows: 1, ms: 1 }, { rows: 2, ms: 2 }];
    for (const s of SCOPES) assert.deepEqual([chooseBlockSize(s, steep).blockSize, chooseBlockSize(s, steep).budget], [1, 0]);
  });

  test('when rows are nearly free (a GPU), blocks get long and budgets large', () => {
    const flat = [{ rows: 1, ms: 10 }, { rows: 1000, ms: 10.1 }];
    const c = chooseBlockSize('block', flat, geometric(0.9), { maxBudget: 400 });
    assert.ok(c.blockSize >= 12, `M = ${c.blockSize}`);
    assert.ok(c.budget >= 100, `B = ${c.budget}`);
  });

  test('with every group full and nothing discounted, tokens per call is 1 + E[min(C, M-1)]', () => {
    const hist = geometric(0.8);
    const m = 6;
    const c = chooseBlockSize('block', [{ rows: 1, ms: 1 }], hist, { blockSize: m, maxBudget: m * m, meanTokens: 1e12 });
    let expected = 1;
    for (let j = 1; j <= m - 1; j++) expected += hist.slice(j).reduce((a, b) => a + b, 0);
    assert.equal(c.blockSize, m);
    assert.ok(Math.abs(c.tokensPerCall - expected) < 1e-6, `${c.tokensPerCall} vs ${expected}`);
  });

  test('a fixed block size (the blockSize setting) is respected', () => {
    assert.equal(chooseBlockSize('expression', undefined, undefined, { blockSize: 12 }).blockSize, 12);
  });

  test('bad curves and histograms are rejected, naming the bad value', () => {
    assert.throws(() => chooseBlockSize('line', []), /latency curve is empty/);
    assert.throws(() => chooseBlockSize('line', [{ rows: 0, ms: 1 }]), /curve\[0\]\.rows must be >= 1, got 0/);
    assert.throws(() => chooseBlockSize('line', [{ rows: 1, ms: -2 }]), /curve\[0\]\.ms must be > 0, got -2/);
    assert.throws(() => chooseBlockSize('line', undefined, [0.5, Number.NaN]), /histogram\[1\] must be a probability >= 0, got NaN/);
    assert.throws(() => chooseBlockSize('line', undefined, [0, 0]), /sums to 0/);
    assert.throws(() => chooseBlockSize('line', undefined, undefined, { blockSize: 0 }), /blockSize must be an integer >= 1, got 0/);
  });

  test('choices are memoised per curve and histogram', () => {
    assert.equal(chooseBlockSize('statement'), chooseBlockSize('statement'));
  });
});

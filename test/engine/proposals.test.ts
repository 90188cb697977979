import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { branchProbabilities, proposals, rewardCurve } from '../../src/engine/proposals';

/** The paper's allocator, worked examples (docs/ALGORITHM.md §4): a geometric(0.75) histogram truncated at 16, M = 20. */
const hist = Array.from({ length: 17 }, (_, c) => (c < 16 ? 0.25 * 0.75 ** c : 0.75 ** 16));
const M = 20;
const H = rewardCurve(hist, M);
const zeros = (n: number): number[] => new Array(n).fill(0);

suite('proposals', () => {
  test('H[b] is the cumulative sum of c * hist[c], flat past the histogram', () => {
    assert.equal(H[0], 0);
    assert.ok(Math.abs(H[2]! - (1 * hist[1]! + 2 * hist[2]!)) < 1e-15);
    assert.equal(H[17], H[20]);
  });

  test('branch probabilities follow the drafter confidences and sum to 1', () => {
    const A = branchProbabilities([0.9, 0.5]);
    assert.deepEqual(A.map((a) => +a.toFixed(12)), [0.1, 0.45, 0.45]);
    assert.deepEqual(branchProbabilities([]), [1]);
  });

  test('all confidences 0.9, B = 20 gives [6,5,1,0,...,0,8]', () => {
    const A = branchProbabilities(new Array(19).fill(0.9));
    assert.deepEqual(proposals(A, H, 20, M), [6, 5, 1, ...zeros(16), 8]);
  });

  test('all confidences 0.9, B = 90 gives [10,10,9,9,8,7,7,6,5,3,0,...,0,16]', () => {
    const A = branchProbabilities(new Array(19).fill(0.9));
    assert.deepEqual(proposals(A, H, 90, M), [10, 10, 9, 9, 8, 7, 7, 6, 5, 3, ...zeros(9), 16]);
  });

  test('a weak third draft moves the budget to depth 2: [0,4,16,0,...]', () => {
    const A = branchProbabilities([0.95, 0.9, 0.5, ...new Array(16).fill(0.9)]);
    assert.deepEqual(proposals(A, H, 20, M), [0, 4, 16, ...zeros(17)]);
  });

  test('after a full rejection (A = [1]) everything goes to depth 0, at most M', () => {
    assert.deepEqual(proposals([1], H, 20, M), [20]);
    assert.deepEqual(proposals([1], rewardCurve(hist, 8), 16, 8), [8]);
  });

  test('the allocation always spends exactly min(B, M * depths) with at most M per depth', () => {
    for (const B of [0, 1, 7, 16, 33, 200]) {
      for (const conf of [[], [0.2], [0.99, 0.99, 0.1], new Array(7).fill(0.6)]) {
        const Bd = proposals(branchProbabilities(conf), rewardCurve(hist, 8), B, 8);
        assert.equal(Bd.length, conf.length + 1);
        assert.equal(Bd.reduce((a, b) => a + b, 0), Math.min(B, 8 * Bd.length));
        assert.ok(Bd.every((b) => b >= 0 && b <= 8));
      }
    }
  });
});

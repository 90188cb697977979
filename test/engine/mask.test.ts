import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { layoutCall, MASKED } from '../../src/engine/mask';

/** The mask as 0/1 rows ("1" = may attend) for comparison with the picture in mask.ts. */
function allowed(mask: Float32Array, rows: number): string[] {
  const cols = mask.length / rows;
  return Array.from({ length: rows }, (_, r) =>
    Array.from(mask.subarray(r * cols, (r + 1) * cols), (x) => (x === 0 ? '1' : x === MASKED ? '0' : '?')).join(''),
  );
}

suite('call layout', () => {
  test('reproduces the PQD worked example in the header of mask.ts (K=3, c, s1, s2, groups [2,2,1])', () => {
    const layout = layoutCall({ pastLen: 3, tokens: [10, 11, 12], contextRows: 1, groups: [2, 2, 1], firstOutputIndex: 5, u: (k) => k / 100 });
    assert.deepEqual(allowed(layout.mask, layout.rows), [
      '11110000000',
      '11111000000',
      '11111100000',
      '11110010000',
      '11110011000',
      '11111000100',
      '11111000110',
      '11111100001',
    ]);
    assert.deepEqual([...layout.positionIds].map(Number), [3, 4, 5, 3, 4, 4, 5, 5]);
    assert.deepEqual(layout.auxOutputIndex, [5, 6, 6, 7, 7]);
    assert.deepEqual([...layout.aux], [0.05, 0.06, 0.06, 0.07, 0.07].map(Math.fround));
    assert.deepEqual([...layout.inputIds].map(Number), [10, 11, 12]);
    assert.deepEqual(layout.groupStart, [0, 2, 4]);
  });

  test('an aux row sits one position before the position it predicts', () => {
    // Sequence of 6 tokens, 4 cached: c is at position 5 and predicts position 6 = output index 0.
    const layout = layoutCall({ pastLen: 4, tokens: [1, 2], contextRows: 2, groups: [3], firstOutputIndex: 0, u: () => 0 });
    const positions = [...layout.positionIds].map(Number);
    assert.deepEqual(positions, [4, 5, 5, 6, 7]);
    layout.auxOutputIndex.forEach((k, j) => assert.equal(positions[2 + j]! + 1, 6 + k));
  });

  test('prefill rows are plain causal over the cache (AR: no aux rows)', () => {
    const layout = layoutCall({ pastLen: 2, tokens: [7, 8, 9], contextRows: 3, groups: [], firstOutputIndex: 0, u: () => 0 });
    assert.deepEqual(allowed(layout.mask, layout.rows), ['11100', '11110', '11111']);
    assert.equal(layout.aux.length, 0);
  });

  test('a cold start has no past columns', () => {
    const layout = layoutCall({ pastLen: 0, tokens: [7], contextRows: 1, groups: [2], firstOutputIndex: 0, u: () => 0 });
    assert.deepEqual(allowed(layout.mask, layout.rows), ['100', '110', '111']);
  });

  test('rejects a group count that does not match the speculations', () => {
    assert.throws(() => layoutCall({ pastLen: 0, tokens: [1, 2], contextRows: 1, groups: [1], firstOutputIndex: 0, u: () => 0 }), /need 2 groups/);
  });
});

/**
 * TokenIndex: the longest match of a sequence's ending across documents, what followed it, and
 * documents replaced, deleted and compacted away without a trace in later matches.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GRAM, MAX_REFERENCE_MATCH, TokenIndex } from '../../src/engine/tokenIndex';

const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);

test('the continuation of the longest match, within its own document', () => {
  const index = new TokenIndex();
  index.set('a', [1, 2, 3, 4, 5, 6]);
  index.set('b', [9, 2, 3, 4, 7, 8]);
  // Ending [1 2 3 4]: 'a' matches 4 tokens, 'b' only 3.
  assert.deepEqual(index.match([0, 1, 2, 3, 4], 10), { tokens: [5, 6], matched: 4, id: 'a' });
  // Ending [9 2 3 4]: 'b'; the draft stops at b's end, never runs into another document.
  assert.deepEqual(index.match([9, 2, 3, 4], 10), { tokens: [7, 8], matched: 4, id: 'b' });
  assert.deepEqual(index.match([9, 2, 3, 4], 1)?.tokens, [7]);
});

test('no match shorter than GRAM tokens, and none where nothing follows', () => {
  const index = new TokenIndex();
  index.set('a', [1, 2, 3, 4]);
  assert.equal(GRAM, 3);
  assert.equal(index.match([5, 3, 4], 10), undefined, 'two tokens match');
  assert.equal(index.match([2, 3, 4], 10), undefined, 'the match ends the document');
  assert.equal(index.match([1, 2], 10), undefined, 'the query is shorter than GRAM');
});

test('ties go to the document added last; matches stop at MAX_REFERENCE_MATCH', () => {
  const index = new TokenIndex();
  const long = range(100, 100 + MAX_REFERENCE_MATCH + 5);
  index.set('old', [...long, 1]);
  index.set('new', [...long, 2]);
  const found = index.match(long, 4);
  assert.equal(found?.matched, MAX_REFERENCE_MATCH);
  assert.deepEqual(found?.tokens, [2]);
  assert.equal(found?.id, 'new');
});

test('filters: only one document, or every document but one', () => {
  const index = new TokenIndex();
  index.set('doc', [1, 2, 3, 10]);
  index.set('other', [1, 2, 3, 20]);
  assert.deepEqual(index.match([1, 2, 3], 5, { only: 'doc' })?.tokens, [10]);
  assert.deepEqual(index.match([1, 2, 3], 5, { exclude: 'other' })?.tokens, [10]);
  assert.deepEqual(index.match([1, 2, 3], 5, { exclude: 'doc' })?.tokens, [20]);
  assert.equal(index.match([1, 2, 3], 5, { only: 'missing' }), undefined);
});

test('a replaced or deleted document no longer drafts; compaction keeps the rest intact', () => {
  const index = new TokenIndex({ maxTokens: 4096 });
  index.set('a', [1, 2, 3, 4]);
  index.set('a', [1, 2, 3, 5]);
  assert.deepEqual(index.match([1, 2, 3], 5)?.tokens, [5]);
  assert.equal(index.documents, 1);
  assert.equal(index.tokens, 4);
  assert.ok(index.delete('a'));
  assert.equal(index.match([1, 2, 3], 5), undefined);
  assert.equal(index.tokens, 0);
  // Churn far past the arena's first size forces compactions; the survivor still matches.
  index.set('keep', [7, 8, 9, 6]);
  for (let i = 0; i < 200; i++) index.set('churn', range(1000 + i, 1100 + i));
  assert.deepEqual(index.match([7, 8, 9], 5), { tokens: [6], matched: 3, id: 'keep' });
  assert.deepEqual(index.match([1199, 1200, 1201], 3)?.tokens, [1202, 1203, 1204]);
  assert.equal(index.match([1000, 1001, 1002], 3), undefined, 'an old version of churn');
  assert.ok(index.bytes < 64 * 1024, `the arena kept growing: ${index.bytes} bytes`);
});

test('refuses a document past maxTokens and keeps what it had', () => {
  const index = new TokenIndex({ maxTokens: 10 });
  assert.ok(index.set('a', range(1, 7)));
  assert.equal(index.set('b', range(20, 26)), false);
  assert.ok(!index.has('b'));
  assert.deepEqual(index.match([1, 2, 3], 2)?.tokens, [4, 5]);
});

test('token ids past 16 bits (a large vocabulary) are stored and matched exactly', () => {
  const index = new TokenIndex();
  index.set('small', [1, 2, 3, 4]);
  index.set('large', [70000, 65535, 151000, 42]);
  assert.deepEqual(index.match([70000, 65535, 151000], 5)?.tokens, [42]);
  assert.deepEqual(index.match([1, 2, 3], 5)?.tokens, [4]);
  assert.throws(() => index.set('bad', [1, -1]), /token -1 at 1/);
});

test('memory stays within what maxTokens live tokens need, however often documents are replaced', () => {
  const maxTokens = 20_000;
  const index = new TokenIndex({ maxTokens });
  const headBytes = index.bytes - 1024 * 6;
  for (let i = 0; i < 300; i++) assert.ok(index.set(`doc${i % 3}`, range(i, i + 6000)), `set ${i}`);
  // 6 bytes per slot (16-bit token + chain link); the ceiling is maxTokens + documents + one more document.
  const ceiling = (maxTokens + 4 + 6000) * 6;
  assert.ok(index.bytes - headBytes <= ceiling, `${index.bytes - headBytes} bytes of arena for at most ${maxTokens} live tokens`);
  assert.equal(index.tokens, 18_000);
  assert.deepEqual(index.match([299, 300, 301], 2)?.tokens, [302, 303]);
  // [297 298 299] is in doc0 (297 on) alone: doc1 starts at 298, doc2 at 299.
  assert.equal(index.match([297, 298, 299], 2)?.id, 'doc0', 'the binary search names the right document');
  assert.equal(index.match([300, 301, 302], 2)?.id, 'doc2', 'ties go to the latest');
});

test('continuations: every candidate of the ending, how far it matched and what followed, through the filters', () => {
  const index = new TokenIndex();
  index.set('a', [1, 2, 3, 4, 5]);
  index.set('b', [9, 2, 3, 4, 6]);
  index.set('c', [2, 3, 4]);
  const found = index.continuations([1, 2, 3, 4]);
  // 'c' ends with the window: nothing follows it there.
  assert.deepEqual(found.sort((x, y) => x.next - y.next), [
    { matched: 4, next: 5 },
    { matched: 3, next: 6 },
  ]);
  assert.deepEqual(index.continuations([1, 2, 3, 4], { exclude: 'a' }), [{ matched: 3, next: 6 }]);
  assert.deepEqual(index.continuations([1, 2, 3, 4], { only: 'a' }), [{ matched: 4, next: 5 }]);
  // Matches are counted up to maxMatch (past MAX_REFERENCE_MATCH when asked).
  const long = range(100, 100 + MAX_REFERENCE_MATCH + 8);
  index.set('long', [...long, 7]);
  assert.deepEqual(index.continuations(long), [{ matched: MAX_REFERENCE_MATCH, next: 7 }]);
  assert.deepEqual(index.continuations(long, {}, 40), [{ matched: long.length, next: 7 }]);
});

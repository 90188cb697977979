/**
 * The cache model (src/engine/cacheModel.ts): which continuations it counts, from which text,
 * how much it trusts them, and the mixture it hands the sampler.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CACHE_MAX_MATCH, CACHE_WEIGHTS, CacheModel, type CacheWeights, mixRow, ownText } from '../../src/engine/cacheModel';
import { TokenIndex } from '../../src/engine/tokenIndex';

const SPECIAL = { endoftext: 0, fim_prefix: 1, fim_middle: 2, fim_suffix: 3, file_sep: 4 };
/** Full trust at every length, so a test reads the counts straight off the mixture. */
/** A suffix-first FIM prompt of these tokens. */
const fim = (prefix: number[], suffix: number[] = []): number[] => [3, ...suffix, 1, ...prefix, 2];
const FLAT: CacheWeights = { own: [0, ...Array<number>(CACHE_MAX_MATCH).fill(0.5)], other: [0, ...Array<number>(CACHE_MAX_MATCH).fill(0.5)] };

test('the prompt is read in document order: suffix, a gap, prefix; the FIM tokens left out', () => {
  // Suffix-first [fs S fp P fm] and prefix-first [fp P fs S fm] give the same text.
  assert.deepEqual(ownText([3, 20, 21, 1, 10, 11, 12, 2], SPECIAL), [20, 21, -1, 10, 11, 12]);
  assert.deepEqual(ownText([1, 10, 11, 12, 3, 20, 21, 2], SPECIAL), [20, 21, -1, 10, 11, 12]);
  // No FIM tokens: all prefix.
  assert.deepEqual(ownText([10, 11, 12], SPECIAL), [10, 11, 12]);
});

test('counts what followed the longest match of the ending, in the prompt and the output', () => {
  // Prefix 10 11 12 | 10 11 13 | 10 11 12 ... ending "10 11": both earlier occurrences match 2
  // tokens, one followed by 12, one by 13; the output so far extends the ending.
  const prompt = fim([10, 11, 12, 10, 11, 13, 5, 10]);
  const cache = new CacheModel(prompt, SPECIAL, [], FLAT);
  const mix = cache.next([11]);
  assert.ok(mix !== undefined);
  assert.equal(mix.group, 'own');
  assert.equal(mix.matched, 2);
  assert.deepEqual(mix.ids, [12, 13]);
  assert.deepEqual(mix.probs, [0.5, 0.5]);
  // One more token: "10 11 12" matched three tokens once, followed by 10.
  assert.deepEqual(cache.next([11, 12]), { ids: [10], probs: [1], lambda: 0.5, group: 'own', matched: 3 });
  // Speculations count as text before the position, as AR's output would.
  assert.deepEqual(cache.next([11], [12], 1), cache.next([11, 12]));
});

test('never proposes a special token, nor matches across the gap between suffix and prefix', () => {
  // Suffix [31], prefix [30 33 31 30]: the prefix's start 30 follows the suffix's 31 only
  // across the gap, so the ending "31 30" matches it by one token, not two.
  const mix = new CacheModel(fim([30, 33, 31, 30], [31]), SPECIAL, [], FLAT).next([]);
  assert.deepEqual(mix?.ids, [33]);
  assert.equal(mix?.matched, 1, 'the gap stops the match');
  // An ending whose only earlier occurrence ends the suffix (the gap follows it): nothing.
  assert.equal(new CacheModel(fim([40], [40]), SPECIAL, [], FLAT).next([]), undefined);
});

test('other files count through their index filters, and the document\'s own index never', () => {
  const index = new TokenIndex();
  index.set('this', [50, 51, 52, 53, 60]);
  index.set('other', [50, 51, 52, 53, 70]);
  const prompt = fim([50, 51, 52, 53]);
  const refs = [
    { source: 'document' as const, index, only: 'this' },
    { source: 'open' as const, index, exclude: 'this' },
  ];
  const mix = new CacheModel(prompt, SPECIAL, refs, FLAT).next([]);
  assert.deepEqual(mix, { ids: [70], probs: [1], lambda: 0.5, group: 'other', matched: 4 });
  assert.equal(new CacheModel(prompt, SPECIAL, refs.slice(0, 1), FLAT).next([]), undefined, 'the document index holds the text at the cursor: its continuation is the suffix');
});

test('the group with the larger weight wins; a weight of 0 means no mixing', () => {
  const index = new TokenIndex();
  index.set('other', [50, 51, 52, 53, 70]);
  // The prompt matches its own "51 52 53" (3 tokens, followed by 80); the other file matches 4.
  const prompt = fim([51, 52, 53, 80, 9, 50, 51, 52, 53]);
  const refs = [{ source: 'open' as const, index }];
  const trustOther: CacheWeights = { own: FLAT.own.map((w) => w / 2), other: FLAT.other };
  assert.equal(new CacheModel(prompt, SPECIAL, refs, trustOther).next([])?.group, 'other');
  const trustOwn: CacheWeights = { own: FLAT.own, other: FLAT.other.map((w) => w / 2) };
  assert.deepEqual(new CacheModel(prompt, SPECIAL, refs, trustOwn).next([])?.ids, [80]);
  const none: CacheWeights = { own: FLAT.own.map(() => 0), other: FLAT.other.map(() => 0) };
  assert.equal(new CacheModel(prompt, SPECIAL, refs, none).next([]), undefined);
});

test('the shipped weights trust a longer match more, and another file\'s long match most', () => {
  for (const group of ['own', 'other'] as const) {
    const w = CACHE_WEIGHTS[group];
    assert.equal(w.length, CACHE_MAX_MATCH + 1);
    assert.equal(w[0], 0);
    for (let L = 1; L < w.length; L++) assert.ok(w[L]! >= w[L - 1]! && w[L]! < 1, `${group}[${L}] = ${w[L]}`);
  }
  assert.ok(CACHE_WEIGHTS.other[CACHE_MAX_MATCH]! > CACHE_WEIGHTS.own[CACHE_MAX_MATCH]!);
});

test('the mixture is a distribution: (1 - λ) of the model plus λ of the counts', () => {
  const V = 6;
  const logits = Float32Array.of(9, 2, 1, 0, 0.5, 3, -1, 0); // a row of 6 at offset 1
  const mix = { ids: [3, 5], probs: [0.75, 0.25], lambda: 0.5, group: 'own' as const, matched: 4 };
  const row = mixRow(logits, 1, V, mix);
  const model = Array.from({ length: V }, (_, i) => Math.exp(logits[1 + i]!));
  const z = model.reduce((a, b) => a + b, 0);
  const p = Array.from(row, (x) => Math.exp(x));
  assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  for (let i = 0; i < V; i++) {
    const expected = 0.5 * (model[i]! / z) + (i === 3 ? 0.375 : i === 5 ? 0.125 : 0);
    assert.ok(Math.abs(p[i]! - expected) < 1e-6, `token ${i}: ${p[i]} vs ${expected}`);
  }
  // The model's argmax is token 4 (60%); the counts make token 3 (5%) the mixture's.
  assert.equal(p.indexOf(Math.max(...p)), 3);
});

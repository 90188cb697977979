import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { promptTokens, TRUNCATION_STEP } from '../../src/engine/prompt';
import { SPECIAL_IDS } from './helpers/syntheticTokenizer';

/** One token per character: 'a' -> 97, so kept text is easy to read back. */
const encode = (text: string): number[] => Array.from(text, (c) => c.charCodeAt(0));
const text = (ids: number[]): string => ids.map((i) => (i < 5 ? `<${i}>` : String.fromCharCode(i))).join('');

suite('prompt tokens', () => {
  test('a suffix gives the suffix-first FIM layout', () => {
    const { ids } = promptTokens({ prefix: 'ab', suffix: 'yz' }, encode, SPECIAL_IDS, 100);
    assert.equal(text(ids), '<3>yz<1>ab<2>');
  });

  test('prefix-first (PSM) for converted models; prefixEnd is where healing looks', () => {
    const psm = promptTokens({ prefix: 'ab', suffix: 'yz' }, encode, SPECIAL_IDS, 100, 'prefix-first');
    assert.equal(text(psm.ids), '<1>ab<3>yz<2>');
    assert.equal(text([psm.ids[psm.prefixEnd]!]), 'b');
    const spm = promptTokens({ prefix: 'ab', suffix: 'yz' }, encode, SPECIAL_IDS, 100);
    assert.equal(text([spm.ids[spm.prefixEnd]!]), 'b');
    const long = promptTokens({ prefix: 'p'.repeat(200) + 'END', suffix: 'BEGIN' + 's'.repeat(200) }, encode, SPECIAL_IDS, 100, 'prefix-first');
    assert.ok(long.ids.length <= 100 && text(long.ids).includes('END<3>BEGIN'));
    const { fim_prefix, fim_middle, fim_suffix, ...noFim } = SPECIAL_IDS;
    void fim_prefix, fim_middle, fim_suffix;
    assert.equal(text(promptTokens({ prefix: 'ab', suffix: 'yz' }, encode, noFim, 100, 'prefix-first').ids), 'ab', 'no FIM tokens: left to right');
  });

  test('without a suffix the prompt is the plain prefix', () => {
    assert.equal(text(promptTokens({ prefix: 'abc' }, encode, SPECIAL_IDS, 100).ids), 'abc');
  });

  test('an empty prompt becomes a single end-of-text token', () => {
    assert.deepEqual(promptTokens({ prefix: '' }, encode, SPECIAL_IDS, 100).ids, [SPECIAL_IDS.endoftext]);
  });

  test('a long prefix loses whole steps from its start, keeping the text at the cursor', () => {
    const prefix = 'x'.repeat(100) + 'CURSOR';
    const { ids, dropped } = promptTokens({ prefix }, encode, SPECIAL_IDS, 50);
    assert.ok(ids.length <= 50);
    assert.equal(dropped % TRUNCATION_STEP, 0);
    assert.ok(text(ids).endsWith('CURSOR'));
  });

  test('typing at the end of a truncated prefix keeps the kept start stable', () => {
    const base = 'y'.repeat(90);
    const starts = new Set<number>();
    for (let typed = 0; typed < 10; typed++) starts.add(promptTokens({ prefix: base + 'z'.repeat(typed) }, encode, SPECIAL_IDS, 64).dropped);
    assert.ok(starts.size <= 2, `dropped counts ${[...starts]}`);
  });

  test('with FIM, the suffix keeps its start and the prefix its end', () => {
    const { ids } = promptTokens({ prefix: 'p'.repeat(200) + 'END', suffix: 'BEGIN' + 's'.repeat(200) }, encode, SPECIAL_IDS, 100);
    const t = text(ids);
    assert.ok(ids.length <= 100);
    assert.ok(t.startsWith('<3>BEGIN') && t.endsWith('END<2>'));
  });
});

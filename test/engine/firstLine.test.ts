// The first-line rule (src/engine/firstLine.ts) on a small hand-made vocabulary: what it lets
// through before the cursor's line has code, until that line ends, and after.
import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { FirstLineRule, firstCodeToken } from '../../src/engine/firstLine';

const VOCAB = ['<eot>', '\n', '    ', ' return', ' \n', 'x', ')\n', '\n    ', '"""'];
const [EOT, NL, INDENT, RETURN, , X, CLOSE_NL, NL_INDENT, QUOTES] = VOCAB.map((_, i) => i) as [number, number, number, number, number, number, number, number, number];
const bytes = (id: number): Uint8Array => Uint8Array.from(VOCAB[id]!, (c) => c.charCodeAt(0));
const allowed = (mask: Uint8Array | undefined): string[] | 'all' => (mask === undefined ? 'all' : VOCAB.filter((_, i) => mask[i] === 1));

suite('the first-line rule', () => {
  const rule = new FirstLineRule(bytes, VOCAB.length, new Set([EOT]));

  test('before any code: no end-of-text, no token that breaks the line first', () => {
    assert.deepEqual(allowed(rule.maskAfter([], [], 0, undefined)), ['    ', ' return', 'x', ')\n', '"""']);
    assert.deepEqual(allowed(rule.maskAfter([INDENT], [], 0, undefined)), ['    ', ' return', 'x', ')\n', '"""']);
  });

  test('code on the line: anything but end-of-text until a line break ends it, then no constraint', () => {
    assert.deepEqual(allowed(rule.maskAfter([INDENT, RETURN], [], 0, undefined)), VOCAB.filter((_, i) => i !== EOT));
    assert.equal(rule.maskAfter([INDENT, RETURN, X, NL], [], 0, undefined), undefined);
    assert.equal(rule.maskAfter([CLOSE_NL], [], 0, undefined), undefined);
  });

  test('speculated tokens count as the output before the row they are verified on', () => {
    assert.deepEqual(allowed(rule.maskAfter([INDENT], [RETURN, X], 1, undefined)), VOCAB.filter((_, i) => i !== EOT));
    assert.deepEqual(allowed(rule.maskAfter([], [INDENT, RETURN], 1, undefined)), ['    ', ' return', 'x', ')\n', '"""']);
  });

  test('healed text is re-typed first and does not count as the line', () => {
    // The prompt dropped its "\n"; healing allows only tokens that re-type it.
    const healing = Uint8Array.from(VOCAB, (_, i) => (i === NL || i === NL_INDENT ? 1 : 0));
    const healed = new FirstLineRule(bytes, VOCAB.length, new Set([EOT]), 1);
    assert.deepEqual(allowed(healed.maskAfter([], [], 0, healing)), ['\n', '\n    ']);
    assert.deepEqual(allowed(healed.maskAfter([NL], [], 0, undefined)), ['    ', ' return', 'x', ')\n', '"""']);
    assert.deepEqual(allowed(healed.maskAfter([NL_INDENT], [], 0, undefined)), ['    ', ' return', 'x', ')\n', '"""']);
  });

  test('a banned token may not start the code (a second attempt after Enter)', () => {
    const second = new FirstLineRule(bytes, VOCAB.length, new Set([EOT]), 0, new Set([QUOTES]));
    assert.deepEqual(allowed(second.maskAfter([INDENT], [], 0, undefined)), ['    ', ' return', 'x', ')\n']);
    assert.deepEqual(allowed(second.maskAfter([INDENT, X], [], 0, undefined)), VOCAB.filter((_, i) => i !== EOT));
    // What a token's confidence is judged among: the banned token counts again.
    assert.equal(second.bans, true);
    assert.equal(rule.bans, false);
    assert.deepEqual(allowed(second.maskAfter([INDENT], [], 0, undefined, false)), ['    ', ' return', 'x', ')\n', '"""']);
  });

  test('the token a second attempt bans is the one that starts the code, past the healed text', () => {
    assert.equal(firstCodeToken([NL, INDENT, RETURN, X], bytes, 1), 2);
    assert.equal(firstCodeToken([INDENT, QUOTES, NL], bytes), 1);
    assert.equal(firstCodeToken([INDENT, INDENT], bytes), -1);
  });
});

/**
 * buildPrompt: budgets at line boundaries, edge offsets, CRLF, binary, huge lines.
 */
import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import type { FimPrompt, PromptOptions } from '../../src/context';
import { buildPrompt, detectEol, restoreEol } from '../../src/context';
import { cursorFixture } from './helpers';

function prompt(fixture: string, options?: PromptOptions): FimPrompt {
  const { text, offset } = cursorFixture(fixture);
  const result = buildPrompt(text, offset, options);
  assert.ok(result.prompt, 'reason' in result ? result.reason : '');
  return result.prompt;
}

suite('buildPrompt', () => {
  test('a small document is split at the cursor, nothing clipped', () => {
    const p = prompt('a\nfoo(|)\nb\n');
    assert.deepEqual(p, { prefix: 'a\nfoo(', suffix: ')\nb\n', eol: '\n', prefixClipped: false, suffixClipped: false });
  });

  test('empty documents and cursors at either end work', () => {
    assert.deepEqual(prompt('|'), { prefix: '', suffix: '', eol: '\n', prefixClipped: false, suffixClipped: false });
    assert.equal(prompt('|abc').prefix, '');
    assert.equal(prompt('|abc').suffix, 'abc');
    assert.equal(prompt('abc|').prefix, 'abc');
    assert.equal(prompt('abc|').suffix, '');
  });

  test('the prefix keeps its end and starts at a line start; the suffix keeps its start and ends at a line end', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${String(i).padStart(2, '0')}`);
    const text = `${lines.slice(0, 50).join('\n')}\nX|Y\n${lines.slice(50).join('\n')}\n`;
    const p = prompt(text, { prefixChars: 30, suffixChars: 30 });
    // Each line is 8 characters + \n: three whole lines and the cursor's line fit in 30.
    assert.equal(p.prefix, 'line 47\nline 48\nline 49\nX');
    assert.equal(p.suffix, 'Y\nline 50\nline 51\nline 52\n');
    assert.ok(p.prefix.length <= 30 && p.suffix.length <= 30);
    assert.equal(p.prefixClipped, true);
    assert.equal(p.suffixClipped, true);
  });

  test('a cursor line longer than the budget is cut mid-line, never inside a surrogate pair', () => {
    const p = prompt(`${'😀'.repeat(20)}|${'😀'.repeat(20)}`, { prefixChars: 9, suffixChars: 9 });
    assert.equal(p.prefix, '😀'.repeat(4));
    assert.equal(p.suffix, '😀'.repeat(4));
    const long = prompt(`${'a'.repeat(100)}|${'b'.repeat(100)}\nnext\n`, { prefixChars: 10, suffixChars: 10 });
    assert.equal(long.prefix, 'a'.repeat(10));
    assert.equal(long.suffix, 'b'.repeat(10));
  });

  test('CRLF is LF for the model and comes back with restoreEol', () => {
    const p = prompt('a\r\nb|\r\nc\r\n');
    assert.deepEqual([p.prefix, p.suffix, p.eol], ['a\nb', '\nc\n', '\r\n']);
    assert.equal(restoreEol('x\ny\n', p.eol), 'x\r\ny\r\n');
    assert.equal(restoreEol('x\ny', '\n'), 'x\ny');
    assert.equal(detectEol('only one line'), '\n');
    // A cursor between \r and \n counts as before the pair.
    const mid = buildPrompt('a\r\nb', 2);
    assert.equal(mid.prompt?.prefix, 'a');
    assert.equal(mid.prompt?.suffix, '\nb');
  });

  test('CRLF budgets are counted after conversion', () => {
    const text = `${'abcdefg\r\n'.repeat(100)}|`;
    const p = prompt(text, { prefixChars: 40 });
    assert.equal(p.prefix, 'abcdefg\n'.repeat(5));
  });

  test('binary content gets no prompt, with a reason', () => {
    const nul = buildPrompt('abc\u0000def', 1);
    assert.equal(nul.prompt, null);
    assert.ok(!nul.prompt && nul.reason === 'binary' && /NUL character at offset 3/.test(nul.detail));
    const garbage = buildPrompt('\ufffd\u0001'.repeat(100), 10);
    assert.ok(!garbage.prompt && garbage.reason === 'binary');
  });

  test('a minified line gets no prompt; a bad offset gets no prompt', () => {
    const minified = buildPrompt(`var a=1;${'b=2;'.repeat(5000)}`, 5, { maxLineChars: 10_000 });
    assert.ok(!minified.prompt && minified.reason === 'line-too-long');
    for (const offset of [-1, 4, 1.5, Number.NaN]) {
      const r = buildPrompt('abc', offset);
      assert.ok(!r.prompt && r.reason === 'bad-offset', String(offset));
    }
  });

  test('budgets are validated', () => {
    assert.throws(() => buildPrompt('abc', 1, { prefixChars: -1 }), /prefixChars must be an integer >= 0, got -1/);
    assert.deepEqual(prompt('ab|c', { prefixChars: 0, suffixChars: 0 }), {
      prefix: '',
      suffix: '',
      eol: '\n',
      prefixClipped: true,
      suffixClipped: true,
    });
  });
});

/**
 * Scope detection per language, from cursor-marker fixtures (`|` is the cursor; `‸` where
 * the code itself needs `|`). Each language covers all four scopes.
 */
import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { analyze, DEFAULT_MAX_TOKENS, GRAMMAR_LANGUAGE_IDS, SCOPES } from '../../src/context';
import { markerOf, SCOPE_CASES } from './fixtures';
import { cursorFixture, openDocument } from './helpers';

suite('analyze: scope per language', () => {
  test('every language with a grammar has cases for all four scopes', () => {
    assert.deepEqual(Object.keys(SCOPE_CASES).sort(), [...GRAMMAR_LANGUAGE_IDS].sort());
    for (const [languageId, cases] of Object.entries(SCOPE_CASES)) {
      assert.ok(cases.length >= 5, `${languageId} has ${cases.length} cases`);
      assert.deepEqual(new Set(cases.map(([, s]) => s)), new Set(SCOPES), `${languageId} misses a scope`);
    }
  });

  for (const [languageId, cases] of Object.entries(SCOPE_CASES)) {
    suite(languageId, () => {
      for (const [fixture, expected] of cases) {
        test(`${JSON.stringify(fixture)} is ${expected}`, async () => {
          const { text, offset } = cursorFixture(fixture, markerOf(fixture));
          const doc = await openDocument(languageId, text);
          assert.ok(doc.tree, `${languageId} parsed`);
          const info = analyze(doc, offset);
          assert.equal(info.scope, expected, info.reason);
          assert.equal(info.maxTokens, DEFAULT_MAX_TOKENS[expected]);
        });
      }
    });
  }
});

suite('analyze: without a tree', () => {
  test('the bracket and indentation fallback agrees with the tree on every fixture it can read', async () => {
    let agreed = 0;
    for (const [languageId, cases] of Object.entries(SCOPE_CASES)) {
      for (const [fixture, expected] of cases) {
        const { text, offset } = cursorFixture(fixture, markerOf(fixture));
        // Regex literals and comments inside JSX need the tree.
        if (/\/ab|\{\/\*/.test(text)) continue;
        const info = analyze({ languageId, text }, offset);
        assert.equal(info.cursor.syntax, 'fallback');
        assert.equal(info.scope, expected, `${languageId} ${JSON.stringify(fixture)}: ${info.reason}`);
        agreed++;
      }
    }
    assert.ok(agreed > 80, `${agreed} fixtures checked`);
  });

  test('a language without a grammar still gets scopes from brackets and indentation', () => {
    const yaml = cursorFixture('server:\n  port: 80\n  |\n');
    assert.equal(analyze({ languageId: 'yaml', text: yaml.text }, yaml.offset).scope, 'statement');
    const lua = cursorFixture('print(|)');
    assert.equal(analyze({ languageId: 'lua', text: lua.text }, lua.offset).scope, 'expression');
    const unknown = cursorFixture('fn x {|}');
    assert.equal(analyze({ languageId: 'made-up', text: unknown.text }, unknown.offset).scope, 'block');
  });
});

suite('analyze: block size and caps', () => {
  test('an expression gets a shorter block and fewer tokens than a new body', async () => {
    const e = cursorFixture('foo(|)');
    const b = cursorFixture('function f() {|}');
    const expr = analyze(await openDocument('typescript', e.text), e.offset);
    const block = analyze(await openDocument('typescript', b.text), b.offset);
    assert.ok(expr.blockSize < block.blockSize, `expression M=${expr.blockSize}, block M=${block.blockSize}`);
    assert.ok(expr.maxTokens < block.maxTokens);
  });

  test('token caps are configurable per scope and the block size never exceeds the cap', async () => {
    const b = cursorFixture('function f() {|}');
    const info = analyze(await openDocument('typescript', b.text), b.offset, { maxTokens: { block: 2 } });
    assert.equal(info.maxTokens, 2);
    assert.ok(info.blockSize <= 2);
    assert.throws(() => analyze({ languageId: 'typescript', text: '' }, 0, { maxTokens: { statement: 0 } }), /maxTokens.statement/);
  });

  test('an offset outside the document is rejected, naming it', () => {
    assert.throws(() => analyze({ languageId: 'typescript', text: 'abc' }, 4), /offset .* got 4/);
  });
});

/**
 * Retrieved snippets (src/engine/snippets.ts) and where the prompt puts them (prompt.ts
 * `Prompt.context`): the best-matching window of another document, never the current one, and
 * the prompt's budget kept.
 */
import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import type { DraftReference } from '../../src/engine/lookup';
import { MIN_PREFIX_WITH_CONTEXT, promptTokens } from '../../src/engine/prompt';
import { formatSnippet, jaccard, retrieveSnippet, snippetName } from '../../src/engine/snippets';
import { TokenIndex } from '../../src/engine/tokenIndex';
import { SPECIAL_IDS } from './helpers/syntheticTokenizer';

/** Token ids 100.. for a run of distinct "words". */
const run = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

suite('snippet retrieval', () => {
  // Document "other" holds the query's code (1000..1047) and then what followed it there (5000..).
  const query = run(1000, 48);
  const other = [...run(200, 60), ...query, ...run(5000, 80)];
  const noise = [...run(300, 40), ...run(1000, 5), ...run(400, 100)];

  test('finds the window alike the query and returns what followed it there', () => {
    const index = new TokenIndex();
    index.set('noise', noise);
    index.set('other', other);
    const found = retrieveSnippet(query, [{ source: 'open', index }], { before: 8, after: 16 });
    assert.ok(found !== undefined);
    assert.equal(found.id, 'other');
    assert.equal(found.source, 'open');
    assert.deepEqual(found.tokens, [...run(1040, 8), ...run(5000, 16)], 'the query’s last 8 tokens and the 16 that followed');
    assert.equal(found.offset, 60 + 40);
    assert.equal(found.score, 1);
    assert.equal(found.toEnd, false);
  });

  test('never the excluded document (the one being completed), nor a reference limited to one document', () => {
    const index = new TokenIndex();
    index.set('current', [...query, ...run(7000, 30)]);
    index.set('other', other);
    const excluded = retrieveSnippet(query, [{ source: 'open', index, exclude: 'current' }]);
    assert.equal(excluded?.id, 'other');
    const documentSource: DraftReference = { source: 'document', index, only: 'current' };
    assert.equal(retrieveSnippet(query, [documentSource]), undefined, 'the document source is the current document: never searched');
    const none = new TokenIndex();
    none.set('current', [...query, ...run(7000, 30)]);
    assert.equal(retrieveSnippet(query, [{ source: 'workspace', index: none, exclude: 'current' }]), undefined);
  });

  test('nothing when the best window shares too few tokens', () => {
    const index = new TokenIndex();
    // Only 6 of the query's tokens occur elsewhere.
    index.set('other', [...run(200, 50), ...run(1000, 6), ...run(3000, 50)]);
    assert.equal(retrieveSnippet(query, [{ source: 'workspace', index }]), undefined);
    assert.ok(retrieveSnippet(query, [{ source: 'workspace', index }], { minScore: 0.05 }) !== undefined);
  });

  test('a window is clipped to its document', () => {
    const index = new TokenIndex();
    index.set('short', [...query.slice(20), 9000, 9001]);
    const found = retrieveSnippet(query, [{ source: 'open', index }], { before: 100, after: 100 });
    assert.ok(found !== undefined);
    assert.deepEqual(found.tokens, [...query.slice(20), 9000, 9001]);
    assert.equal(found.offset, 0);
    assert.equal(found.toEnd, true);
  });

  test('jaccard over token sets', () => {
    assert.equal(jaccard(new Set([1, 2, 3]), [2, 3, 4, 4]), 0.5);
    assert.equal(jaccard(new Set(), []), 0);
  });
});

suite('snippet text', () => {
  const o = { fromStart: false, toEnd: false, name: 'lib/util.py', languageId: 'python' };

  test('whole lines only: a partial first and last line are dropped', () => {
    assert.equal(formatSnippet('= 1\ndef f(x):\n    return x\nde', 'lines', o), 'def f(x):\n    return x\n');
    assert.equal(formatSnippet('def f(x):\n    return x', 'lines', { ...o, fromStart: true, toEnd: true }), 'def f(x):\n    return x\n');
    assert.equal(formatSnippet('no line break', 'lines', o), undefined);
  });

  test('the comment layout names the file and comments every line out in the document’s language', () => {
    assert.equal(formatSnippet('x\ndef f(x):\n\n    return x\ny', 'comment', o), '# Compare this snippet from lib/util.py:\n# def f(x):\n#\n#     return x\n');
    assert.equal(formatSnippet('x\nconst a = 1;\ny', 'comment', { ...o, languageId: 'typescript' }), '// Compare this snippet from lib/util.py:\n// const a = 1;\n');
  });

  test('a short name: the last two path segments of a URI or a path', () => {
    assert.equal(snippetName('file:///home/me/proj/src/a%20b.ts'), 'src/a b.ts');
    assert.equal(snippetName('/home/me/proj/lib/util.py'), 'lib/util.py');
  });
});

suite('a snippet in the prompt', () => {
  /** One token per character. */
  const encode = (text: string): number[] => Array.from(text, (c) => c.charCodeAt(0));
  const text = (ids: number[]): string => ids.map((i) => (i < 5 ? `<${i}>` : String.fromCharCode(i))).join('');

  test('after <|fim_prefix|>, ahead of the prefix; with the file separator when asked', () => {
    assert.equal(text(promptTokens({ prefix: 'ab', suffix: 'yz', context: 'SN\n' }, encode, SPECIAL_IDS, 100).ids), '<3>yz<1>SN\nab<2>');
    assert.equal(text(promptTokens({ prefix: 'ab', suffix: 'yz', context: 'SN\n', contextSeparator: true }, encode, SPECIAL_IDS, 100).ids), '<3>yz<1>SN\n<4>ab<2>');
    assert.equal(text(promptTokens({ prefix: 'ab', suffix: 'yz', context: 'SN\n' }, encode, SPECIAL_IDS, 100, 'prefix-first').ids), '<1>SN\nab<3>yz<2>');
    const built = promptTokens({ prefix: 'ab', suffix: 'yz', context: 'SN\n' }, encode, SPECIAL_IDS, 100);
    assert.equal(text([built.ids[built.prefixEnd]!]), 'b', 'the prefix still ends where healing looks');
    assert.equal(text(promptTokens({ prefix: 'ab', context: 'SN\n' }, encode, SPECIAL_IDS, 100).ids), 'ab', 'no suffix: no FIM prompt, no context');
  });

  test('the budget holds: the snippet takes its room from the prefix, not from the suffix', () => {
    const prefix = 'p'.repeat(600) + 'END';
    const suffix = 'BEGIN' + 's'.repeat(600);
    const context = 'c'.repeat(60) + '\n';
    const budget = 320;
    const without = promptTokens({ prefix, suffix }, encode, SPECIAL_IDS, budget);
    const withIt = promptTokens({ prefix, suffix, context }, encode, SPECIAL_IDS, budget);
    assert.ok(withIt.ids.length <= budget, `${withIt.ids.length} tokens`);
    const suffixOf = (ids: number[]): string => text(ids.slice(1, ids.indexOf(SPECIAL_IDS.fim_prefix)));
    assert.equal(suffixOf(withIt.ids), suffixOf(without.ids));
    assert.ok(text(withIt.ids).includes(`<1>${context}p`), 'the snippet, then the kept prefix');
    assert.ok(text(withIt.ids).endsWith('END<2>'));
    assert.ok(withIt.dropped > without.dropped);
  });

  test('left out whole where the prefix would keep fewer than MIN_PREFIX_WITH_CONTEXT tokens', () => {
    const prefix = 'p'.repeat(400) + 'END';
    const suffix = 's'.repeat(400);
    const budget = 200; // room 197, the suffix 49, the prefix 148: a 60-token snippet leaves 88
    const built = promptTokens({ prefix, suffix, context: 'c'.repeat(60) }, encode, SPECIAL_IDS, budget);
    assert.equal(text(built.ids).includes('c'), false);
    assert.deepEqual(built.ids, promptTokens({ prefix, suffix }, encode, SPECIAL_IDS, budget).ids);
    assert.ok(MIN_PREFIX_WITH_CONTEXT > 88);
    // A short prefix keeps all of itself beside the snippet; the suffix gives up what the prefix leaves.
    const short = promptTokens({ prefix: 'ab', suffix, context: 'c'.repeat(60) }, encode, SPECIAL_IDS, budget);
    assert.ok(text(short.ids).includes(`<1>${'c'.repeat(60)}ab<2>`));
    assert.ok(short.ids.length <= budget);
  });
});

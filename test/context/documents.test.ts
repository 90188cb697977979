/**
 * DocumentStore: incremental edits keep the tree equal to a fresh parse; size and time
 * limits fall back and say so.
 */
import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import type { ContentChange, SyntaxTree } from '../../src/context';
import { DocumentStore } from '../../src/context';
import { loadGrammar, parse } from '../../src/context/grammars';
import { rng } from './helpers';

/** Every node as `type[start,end) row:col-row:col`, depth-first: equal dumps mean equal trees. */
function dump(tree: SyntaxTree): string[] {
  const out: string[] = [];
  const cursor = tree.walk();
  for (;;) {
    const n = cursor.currentNode;
    const at = `${n.startPosition.row}:${n.startPosition.column}-${n.endPosition.row}:${n.endPosition.column}`;
    out.push(`${'  '.repeat(cursor.currentDepth)}${n.type}${n.isMissing ? '!' : ''}[${n.startIndex},${n.endIndex}) ${at}`);
    if (cursor.gotoFirstChild()) continue;
    while (!cursor.gotoNextSibling()) {
      if (!cursor.gotoParent()) {
        cursor.delete();
        return out;
      }
    }
  }
}

async function freshDump(languageId: string, text: string): Promise<string[]> {
  const grammar = await loadGrammar(languageId);
  const tree = parse(grammar!, text)!;
  const d = dump(tree);
  tree.delete();
  return d;
}

const SEEDS: Readonly<Record<string, { text: string; snippets: string[] }>> = {
  typescript: {
    text: 'function add(a: number, b: number): number {\n  return a + b;\n}\n\nconst s = "héllo 😀";\nclass A {\n  m() { return [1, 2]; }\n}\n',
    snippets: ['x', ' ', '\n', '\r\n', '(', ')', '{', '}', '"', '// c\n', 'const y = 2;\n', 'é', '😀', 'if (a) {\n  b();\n}\n', '`t${x}`'],
  },
  python: {
    text: 'def f(x):\n    if x > 0:\n        return x\n    return -x\n\ns = "héllo 😀"\nclass A:\n    pass\n',
    snippets: ['x', ' ', '    ', '\n', '\r\n', '(', ')', ':', '"', '# c\n', 'y = 2\n', 'é', '😀', 'def g():\n    pass\n', '"""doc"""'],
  },
  rust: {
    text: "fn main() {\n    let v = vec![1, 2];\n    println!(\"{}\", v.len());\n}\nfn f<'a>(s: &'a str) -> &'a str { s }\n",
    snippets: ['x', ' ', '\n', '(', ')', '{', '}', "'a", '"', '// c\n', 'let y = 2;\n', 'é', '😀'],
  },
};

/** A random edit that never splits a surrogate pair. */
function randomChange(text: string, next: () => number, snippets: string[]): ContentChange {
  const safe = (i: number): number => {
    const c = text.charCodeAt(i);
    return c >= 0xdc00 && c <= 0xdfff ? i - 1 : i;
  };
  const start = safe(Math.floor(next() * (text.length + 1)));
  const kind = next();
  const length = kind < 0.4 ? 0 : Math.min(text.length - start, Math.floor(next() * 12));
  const end = length === 0 ? start : safe(start + length);
  const insert = kind > 0.8 ? '' : snippets[Math.floor(next() * snippets.length)]!;
  return { rangeOffset: start, rangeLength: end - start, text: insert };
}

function applyTo(text: string, c: ContentChange): string {
  return text.slice(0, c.rangeOffset) + c.text + text.slice(c.rangeOffset + c.rangeLength);
}

suite('DocumentStore: incremental parsing', () => {
  for (const [languageId, seed] of Object.entries(SEEDS)) {
    test(`${languageId}: after each of 150 random edits the tree equals a fresh parse`, async () => {
      const logs: string[] = [];
      const store = new DocumentStore({ log: (l) => logs.push(l) });
      let text = seed.text;
      await store.open('file:///a', languageId, text);
      const next = rng(languageId.length * 7919);
      for (let step = 0; step < 150; step++) {
        // Sometimes several changes in one notification, each against the text left by the previous.
        const changes: ContentChange[] = [];
        for (let k = next() < 0.25 ? 3 : 1; k > 0; k--) {
          const c = randomChange(text, next, seed.snippets);
          changes.push(c);
          text = applyTo(text, c);
        }
        const doc = store.applyChange('file:///a', changes, text)!;
        assert.equal(doc.text, text);
        assert.equal(doc.version, step + 1);
        assert.ok(doc.tree, `step ${step} has a tree`);
        assert.deepEqual(dump(doc.tree), await freshDump(languageId, text), `step ${step}`);
      }
      assert.deepEqual(logs, []);
      store.dispose();
    });
  }

  test('edits that do not produce the announced text are logged and the text is parsed afresh', async () => {
    const logs: string[] = [];
    const store = new DocumentStore({ log: (l) => logs.push(l) });
    await store.open('file:///b', 'typescript', 'let a = 1;\n');
    const doc = store.applyChange('file:///b', [{ rangeOffset: 4, rangeLength: 1, text: 'b' }], 'let zz = 1;\n')!;
    assert.equal(doc.text, 'let zz = 1;\n');
    assert.deepEqual(dump(doc.tree!), await freshDump('typescript', 'let zz = 1;\n'));
    assert.equal(logs.length, 1);
    assert.match(logs[0]!, /file:\/\/\/b: edits do not produce the new text/);
    const outOfRange = store.applyChange('file:///b', [{ rangeOffset: 99, rangeLength: 0, text: 'x' }], 'let zz = 1;\nx');
    assert.equal(outOfRange!.text, 'let zz = 1;\nx');
    assert.equal(logs.length, 2);
    store.dispose();
  });

  test('a change to a document that is not open is logged and ignored', () => {
    const logs: string[] = [];
    const store = new DocumentStore({ log: (l) => logs.push(l) });
    assert.equal(store.applyChange('file:///nope', [], ''), undefined);
    assert.match(logs[0]!, /not open/);
  });
});

suite('DocumentStore: limits and fallback', () => {
  test('a document over the size limit gets no tree and one log line, and gets it back when it shrinks', async () => {
    const logs: string[] = [];
    const store = new DocumentStore({ log: (l) => logs.push(l), maxLength: 100 });
    const big = `const a = [${'1, '.repeat(40)}];\n`;
    const doc = await store.open('file:///big', 'typescript', big);
    assert.equal(doc.tree, undefined);
    assert.equal(doc.fallback, 'too-large');
    assert.equal(logs.length, 1);
    assert.match(logs[0]!, /file:\/\/\/big: 13\d characters is over the 100-character syntax limit; using indentation and bracket rules/);
    // Still too large after an edit: no second line.
    store.applyChange('file:///big', [{ rangeOffset: 0, rangeLength: 0, text: ' ' }], ` ${big}`);
    assert.equal(logs.length, 1);
    const small = 'const a = 1;\n';
    store.applyChange('file:///big', [{ rangeOffset: 0, rangeLength: big.length + 1, text: small }], small);
    assert.ok(doc.tree);
    assert.equal(doc.fallback, undefined);
    store.dispose();
  });

  test('a parse that runs past the time budget is cancelled, logged, and the document falls back', async () => {
    const logs: string[] = [];
    let clock = 0;
    // Every reading of the clock is 50 ms later: the first progress check is over budget.
    const store = new DocumentStore({ log: (l) => logs.push(l), parseBudgetMs: 100, now: () => (clock += 50) });
    const text = 'const x = 1;\n'.repeat(20_000);
    const doc = await store.open('file:///slow', 'typescript', text);
    assert.equal(doc.tree, undefined);
    assert.equal(doc.fallback, 'too-slow');
    assert.deepEqual(logs, ['[syntax] file:///slow: parsing took longer than 100 ms; using indentation and bracket rules']);
    // The parser was reset: another document parses normally afterwards.
    const ok = await new DocumentStore({ log: (l) => logs.push(l) }).open('file:///ok', 'typescript', 'let y = 2;\n');
    assert.deepEqual(dump(ok.tree!), await freshDump('typescript', 'let y = 2;\n'));
    store.dispose();
  });

  test('a language without a grammar is tracked without a tree and without a log line', async () => {
    const logs: string[] = [];
    const store = new DocumentStore({ log: (l) => logs.push(l) });
    const doc = await store.open('file:///y', 'yaml', 'a: 1\n');
    assert.equal(doc.fallback, 'no-grammar');
    store.applyChange('file:///y', [{ rangeOffset: 4, rangeLength: 0, text: '2' }], 'a: 12\n');
    assert.equal(doc.text, 'a: 12\n');
    assert.deepEqual(logs, []);
  });

  test('changes that arrive while the grammar loads are parsed once it has loaded', async () => {
    const store = new DocumentStore({ log: () => undefined });
    const opening = store.open('file:///css', 'css', 'a { color: red; }\n');
    store.applyChange('file:///css', [{ rangeOffset: 0, rangeLength: 1, text: 'b' }], 'b { color: red; }\n');
    const doc = await opening;
    assert.equal(doc.text, 'b { color: red; }\n');
    assert.deepEqual(dump(doc.tree!), await freshDump('css', 'b { color: red; }\n'));
  });

  test('a closed document is gone and its tree freed', async () => {
    const store = new DocumentStore({ log: () => undefined });
    await store.open('file:///c', 'go', 'package main\n');
    store.close('file:///c');
    assert.equal(store.get('file:///c'), undefined);
  });
});

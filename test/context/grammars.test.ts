/**
 * Grammar loading: every supported languageId, the default directory, an explicit one.
 * Runs in its own process (node --test isolates files), so the load order here is known.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { suite, test } from 'node:test';
import { GRAMMAR_LANGUAGE_IDS, grammarDirectory, grammarFile, loadGrammar, setGrammarDirectory } from '../../src/context';
import { parse } from '../../src/context/grammars';

const SNIPPETS: Readonly<Record<string, string>> = {
  typescript: 'const x: number = 1;\n',
  typescriptreact: 'const e = <div>{x}</div>;\n',
  javascript: 'const x = () => 1;\n',
  javascriptreact: 'const e = <div />;\n',
  python: 'def f(x):\n    return x\n',
  go: 'package main\n\nfunc main() {}\n',
  rust: 'fn main() {}\n',
  java: 'class A { void m() {} }\n',
  c: 'int main(void) { return 0; }\n',
  cpp: 'int main() { return 0; }\n',
  csharp: 'class A { void M() {} }\n',
  ruby: 'def f\n  1\nend\n',
  php: '<?php\nfunction f() { return 1; }\n',
  shellscript: 'if true; then\n  echo hi\nfi\n',
  css: 'a { color: red; }\n',
};

suite('grammars', () => {
  test('an explicit directory is used for grammars, and a missing file is named in the error', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ptp-grammars-'));
    try {
      fs.copyFileSync(path.join(grammarDirectory(), 'tree-sitter-go.wasm'), path.join(dir, 'tree-sitter-go.wasm'));
      setGrammarDirectory(dir);
      assert.equal(grammarDirectory(), dir);
      assert.equal(grammarFile('go'), path.join(dir, 'tree-sitter-go.wasm'));
      const go = await loadGrammar('go');
      assert.equal(go?.name, 'go');
      await assert.rejects(loadGrammar('rust'), (err: Error) => err.message.includes(path.join(dir, 'tree-sitter-rust.wasm')));
    } finally {
      setGrammarDirectory(undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // A failed load is not cached: with the default directory back, rust loads.
    assert.equal((await loadGrammar('rust'))?.name, 'rust');
  });

  test('the default directory is found through @vscode/tree-sitter-wasm', () => {
    assert.ok(fs.existsSync(path.join(grammarDirectory(), 'tree-sitter-python.wasm')));
  });

  for (const languageId of GRAMMAR_LANGUAGE_IDS) {
    test(`${languageId} loads and parses its snippet without errors`, async () => {
      const grammar = await loadGrammar(languageId);
      assert.ok(grammar);
      const tree = parse(grammar, SNIPPETS[languageId]!)!;
      assert.equal(tree.rootNode.hasError, false, tree.rootNode.toString());
      tree.delete();
    });
  }

  test('C is parsed with the C++ grammar, and grammars are shared', async () => {
    assert.equal(path.basename(grammarFile('c')!), 'tree-sitter-cpp.wasm');
    assert.equal(await loadGrammar('c'), await loadGrammar('cpp'));
    assert.equal(await loadGrammar('javascriptreact'), await loadGrammar('javascript'));
  });

  test('languages without a grammar resolve to undefined', async () => {
    assert.equal(await loadGrammar('yaml'), undefined);
    assert.equal(grammarFile('plaintext'), undefined);
  });
});

/**
 * trimCompletion: balanced cut-back, no repeated suffix, parse-error check.
 */
import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { analyze, trimCompletion } from '../../src/context';
import { cursorFixture, openDocument } from './helpers';

async function trim(languageId: string, fixture: string, completion: string): Promise<string> {
  const { text, offset } = cursorFixture(fixture);
  const doc = await openDocument(languageId, text);
  return trimCompletion(doc, offset, completion, analyze(doc, offset));
}

suite('trimCompletion: never repeats the suffix', () => {
  test('an auto-closed ) that the completion also writes is dropped', async () => {
    assert.equal(await trim('typescript', 'foo(|)', 'a, b)'), 'a, b');
  });

  test('a ) that belongs to the completion is kept', async () => {
    assert.equal(await trim('typescript', 'foo(|)', 'g(x)'), 'g(x)');
    assert.equal(await trim('typescript', 'foo(|)', 'g(x))'), 'g(x)');
  });

  test('an auto-closed quote is dropped', async () => {
    assert.equal(await trim('typescript', 'const s = "hel|";', 'lo"'), 'lo');
    assert.equal(await trim('python', "s = '|'", "abc'"), 'abc');
  });

  test('`);` typed by both the completion and the document appears once', async () => {
    assert.equal(await trim('typescript', 'const x = foo(|);\n', 'a, b);'), 'a, b');
  });

  test('a closing } the document already has is not repeated', async () => {
    assert.equal(await trim('typescript', 'function f() {\n  |\n}\n', 'return 1;\n}'), 'return 1;');
  });

  test('after Enter, a first line that is the next line is dropped whole', async () => {
    assert.equal(await trim('python', 'def f(a):\n    |\n    return a\n', 'return a\n    x = 1'), '');
    // The same line elsewhere than next is code of its own.
    assert.equal(await trim('python', 'def f(a):\n    |\n    b = 2\n    return a\n', 'return a'), 'return a');
  });

  test('trailing lines that repeat the lines after the cursor are dropped', async () => {
    const out = await trim('typescript', 'function f() {\n  |\n  return a;\n}\n', 'const a = 1;\n  return a;\n}');
    assert.equal(out, 'const a = 1;');
    const py = await trim('python', 'def f():\n    |\n    return a\n', 'a = 1\n    return a\n');
    assert.equal(py, 'a = 1');
  });

  test('a line with the same text at another indentation is not a duplicate', async () => {
    const out = await trim('typescript', 'function f() {\n  if (x) {|\n}\n', '\n    y();\n  }');
    assert.equal(out, '\n    y();\n  }');
  });

  test('an overlap must start at a token boundary', async () => {
    assert.equal(await trim('typescript', 'const v = |abc;', 'xa'), 'xa');
  });
});

suite('trimCompletion: complete syntax only', () => {
  test('trailing whitespace-only lines are stripped', async () => {
    assert.equal(await trim('python', 'x = |', '1\n\n   \n'), '1');
  });

  test('a bracket the completion opened and did not close is cut back to the last complete line', async () => {
    const out = await trim('typescript', 'function f() {\n  |\n}\n', 'a();\n  b(1,\n    2');
    assert.equal(out, 'a();');
  });

  test('an unterminated string is cut back', async () => {
    assert.equal(await trim('python', 'x = |', 'f(1)\ny = "abc'), 'f(1)');
  });

  test('a completion that adds parse errors is dropped', async () => {
    assert.equal(await trim('typescript', 'const x = |;\n', '1 +* 2'), '');
    assert.equal(await trim('python', 'def f():\n    |\n', 'return )('), '');
  });

  test('a multi-line completion whose last line breaks the parse loses that line only', async () => {
    const out = await trim('typescript', 'function f() {\n  |\n}\n', 'const a = 1;\n  const b = a +* 2;');
    assert.equal(out, 'const a = 1;');
  });

  test('a completion that repairs a document with errors is kept', async () => {
    const out = await trim('typescript', 'function f() {\n  if (x) {|\n}\n', '\n    y();\n  }');
    assert.equal(out, '\n    y();\n  }');
  });

  test('a completion that opens what the document after the cursor closes is kept whole', async () => {
    // The name and parameters of a function whose body is already there.
    const fn = 'function parse(text) {\n    function on|\n        if (x) {\n            y(value);\n        }\n    }\n    return 1;\n}\n';
    assert.equal(await trim('javascript', fn, 'Value(value) {'), 'Value(value) {');
    // The start of a doc comment whose lines follow.
    const doc = 'const a = 1;\n|\n * Adds.\n * @param {number} b\n */\nfunction add(b) { return a + b; }\n';
    assert.equal(await trim('javascript', doc, '/**'), '/**');
    // The condition's head, its rest on the next lines.
    const cond = 'function f(a, b) {\n  |\n    a.length > 0 &&\n    b\n  ) {\n    return 1;\n  }\n}\n';
    assert.equal(await trim('typescript', cond, 'if ('), 'if (');
  });

  test('an open bracket the document does not close is still cut back', async () => {
    assert.equal(await trim('typescript', 'function f() {\n  |\n}\n', 'if ('), '');
    assert.equal(await trim('typescript', 'const x = 1;\n|\n', 'foo(a, '), 'foo');
  });

  test('`{|}` filled with several lines puts the existing } on its own line', async () => {
    const { text, offset } = cursorFixture('  function f() {|}\n');
    const doc = await openDocument('typescript', text);
    const out = trimCompletion(doc, offset, '\n    return 1;\n', analyze(doc, offset));
    assert.equal(text.slice(0, offset) + out + text.slice(offset), '  function f() {\n    return 1;\n  }\n');
  });

  test('CRLF documents are checked with CRLF, and the result stays LF', async () => {
    const { text, offset } = cursorFixture('function f() {\r\n  |\r\n}\r\n');
    const doc = await openDocument('typescript', text);
    const out = trimCompletion(doc, offset, 'const a = 1;\n  return a;\n}', analyze(doc, offset));
    assert.equal(out, 'const a = 1;\n  return a;');
  });

  test('without a tree, the lexical rules still apply', () => {
    const { text, offset } = cursorFixture('foo(|)');
    const doc = { languageId: 'lua', text };
    assert.equal(trimCompletion(doc, offset, 'a, b)', analyze(doc, offset)), 'a, b');
    assert.equal(trimCompletion(doc, offset, 'bar(1, ', analyze(doc, offset)), 'bar');
  });

  test('a document edited since the analysis is not parse-checked against the wrong offset', async () => {
    const { text, offset } = cursorFixture('const x = |;\n');
    const doc = await openDocument('typescript', text);
    const info = analyze(doc, offset);
    const stale = { ...doc, version: doc.version + 1 };
    assert.equal(trimCompletion(stale, offset, '1 +* 2', info), '1 +* 2');
  });
});

/**
 * Mid-line rules (src/completion/fitCompletion.ts; the line suffix kinds are src/protocol/lineSuffix.ts). Fixtures mark the cursor with [|]:
 * the text left of it is the line prefix, the text right of it the line suffix.
 */
import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { dropDuplicatedClosers, fitAt, fitCompletion } from '../../src/completion/fitCompletion';
import { allowsAutomatic, classifyLineSuffix } from '../../src/protocol/index';

/** The line after accepting `completion` at the cursor of `fixture`, or undefined if nothing is shown. */
function accept(fixture: string, completion: string, explicit = false, followingText = ''): string | undefined {
  const [prefix, suffix] = fixture.split('[|]') as [string, string];
  const item = fitCompletion(completion, suffix, { explicit, followingText });
  if (item === undefined) return undefined;
  // The covered text must be a subsequence of the item text, or VS Code shows nothing.
  const covered = suffix.slice(0, item.coverLength);
  let j = 0;
  for (const c of item.insertText) if (c === covered[j]) j++;
  assert.equal(j, covered.length, `covered ${JSON.stringify(covered)} is not a subsequence of ${JSON.stringify(item.insertText)}`);
  return prefix + item.insertText + suffix.slice(item.coverLength);
}

suite('classifyLineSuffix', () => {
  test('an empty or blank rest of line is a line end', () => {
    assert.equal(classifyLineSuffix('').kind, 'end');
    assert.equal(classifyLineSuffix('   ').kind, 'end');
  });
  test('auto-closed brackets and quotes are closers and are covered up to the last one', () => {
    assert.deepEqual(classifyLineSuffix(')'), { kind: 'closers', coverLength: 1 });
    assert.deepEqual(classifyLineSuffix('");  '), { kind: 'closers', coverLength: 3 });
  });
  test('code right of the cursor blocks automatic completion', () => {
    assert.equal(classifyLineSuffix('price * qty').kind, 'text');
    assert.equal(allowsAutomatic(classifyLineSuffix('price * qty')), false);
    assert.equal(allowsAutomatic(classifyLineSuffix(')')), true);
  });
  test('more closers than an editor auto-closes is code', () => {
    assert.equal(classifyLineSuffix(')))))))))').kind, 'text');
  });
});

suite('fitCompletion', () => {
  test('at a line end the completion is inserted as it is, multi-line included', () => {
    assert.equal(accept('def add(a, b):[|]', '\n    return a + b'), 'def add(a, b):\n    return a + b');
  });
  test('an auto-closed bracket is not duplicated when the model closes it too', () => {
    assert.equal(accept('print([|])', '"hello")'), 'print("hello")');
    assert.equal(accept('print([|])', '"hello"'), 'print("hello")');
  });
  test('a bracket the completion opened and closed itself stays', () => {
    assert.equal(accept('foo([|])', 'bar(x)'), 'foo(bar(x))');
  });
  test('a closing quote and bracket after a string are not duplicated', () => {
    assert.equal(accept('say("[|]")', 'hi")'), 'say("hi")');
  });
  test('after a multi-line body the closer goes on its own line, at the line\'s indentation', () => {
    assert.equal(accept('call([|])', '\n  a,\n  b'), 'call(\n  a,\n  b\n)');
    assert.equal(accept('call([|])', '\n  a,\n  b\n'), 'call(\n  a,\n  b\n)');
    assert.equal(fitCompletion('\n    x();', '}', { explicit: false, followingText: '', lineIndent: '  ' })?.insertText, '\n    x();\n  }');
  });
  test('a quote closer stays right after a multi-line text', () => {
    assert.equal(accept('s = "[|]"', 'a\nb'), 's = "a\nb"');
  });
  test('mid-line, an explicit completion is cut to one line', () => {
    assert.equal(accept('x = [|] + 1', 'compute()\nmore()', true), 'x = compute() + 1');
  });
  test('mid-line, a completion that rewrites the rest of the line replaces it', () => {
    assert.equal(accept('total = [|]price * qty', 'base + price * qty', true), 'total = base + price * qty');
  });
  test('mid-line, a completion that only repeats the rest of the line is dropped', () => {
    assert.equal(accept('total = [|]price * qty', 'price', true), undefined);
  });
  test('a completion equal to the next line is dropped', () => {
    assert.equal(accept('[|]', 'return x', false, '  \nreturn x\n'), undefined);
  });
  test('automatic completions shorter than the minimum or only closers are dropped', () => {
    assert.equal(accept('x = foo[|]', ';'), undefined);
    assert.equal(accept('  [|]', '}'), undefined);
    assert.equal(accept('  [|]', '}', true), '  }');
  });
  test('whitespace-only completions are dropped', () => {
    assert.equal(accept('x = 1[|]', '\n\n  '), undefined);
  });
});

suite('dropDuplicatedClosers', () => {
  test('only unmatched trailing closers that start the line suffix go', () => {
    assert.equal(dropDuplicatedClosers('a, b)', ')'), 'a, b');
    assert.equal(dropDuplicatedClosers('a, b);', ');'), 'a, b');
    assert.equal(dropDuplicatedClosers('f(x)', ')'), 'f(x)');
    assert.equal(dropDuplicatedClosers('a]', ')'), 'a]');
  });
});

suite('fitAt: fitting against the document, as the worker does before it answers', () => {
  /** The document with the cursor marked, and what accepting the fitted item leaves on disk. */
  const acceptIn = (marked: string, completion: string, explicit = false): string | undefined => {
    const offset = marked.indexOf('[|]');
    const text = marked.replace('[|]', '');
    const item = fitAt(text, offset, completion, explicit);
    return item === undefined ? undefined : text.slice(0, offset) + item.insertText + text.slice(offset + item.coverLength);
  };

  test('the auto-closed bracket right of the cursor is covered, so accepting leaves one', () => {
    assert.equal(acceptIn('print([|])\nx = 1\n', '"hello")'), 'print("hello")\nx = 1\n');
  });
  test('a completion that repeats the line below the cursor is not shown', () => {
    assert.equal(acceptIn('def f():\n    [|]\n    return x\n', 'return x'), undefined);
  });
  test('a multi-line body before an auto-closed bracket puts the bracket on its own line at the line\'s indentation', () => {
    assert.equal(acceptIn('  call([|])\n', '\n    a,\n    b'), '  call(\n    a,\n    b\n  )\n');
  });
  test('mid-line with CRLF line endings: one line, the rest of the line kept', () => {
    assert.equal(acceptIn('x = [|] + 1\r\ny = 2\r\n', 'compute()\r\nmore()', true), 'x = compute() + 1\r\ny = 2\r\n');
  });
});

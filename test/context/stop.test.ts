/**
 * Stop rules: feed the stopper plausible model output and check where it cuts.
 */
import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { analyze, makeStopper, trimCompletion } from '../../src/context';
import { RepetitionStopper } from '../../src/context/repetition';
import { cursorFixture, openDocument } from './helpers';

/** The stopper's cut for `generated`, fed in chunks the way the engine does (a few tokens a call). */
async function cutAt(languageId: string, fixture: string, generated: string, chunk = 3, marker = '|'): Promise<number | undefined> {
  const { text, offset } = cursorFixture(fixture, marker);
  const doc = await openDocument(languageId, text);
  const stop = makeStopper(doc, offset, analyze(doc, offset));
  for (let end = Math.min(chunk, generated.length); ; end = Math.min(end + chunk, generated.length)) {
    const cut = stop(generated.slice(0, end));
    if (cut !== undefined) return cut;
    if (end === generated.length) return undefined;
  }
}

/** Index just after the n-th (1-based) occurrence of `needle`. */
function after(haystack: string, needle: string, n = 1): number {
  let at = -1;
  for (let i = 0; i < n; i++) at = haystack.indexOf(needle, at + 1);
  assert.ok(at >= 0, `${JSON.stringify(needle)} occurs ${n} times`);
  return at + needle.length;
}

suite('makeStopper: TypeScript bodies opened by {', () => {
  const body = '\n  const b = a * 2;\n  if (b > 10) {\n    return b;\n  }\n  return 0;\n}\n\nfunction h() {\n';

  test('an unclosed { is completed through its matching }', async () => {
    const cut = await cutAt('typescript', 'function f(a: number) {|\n\nfunction g() {}\n', body);
    // The first `}` closes the inner if; the second is f's own.
    assert.equal(cut, after(body, '}', 2));
    assert.equal(body.slice(0, cut).trimEnd().endsWith('return 0;\n}'), true);
  });

  test('with the } already there, the completion stops before it', async () => {
    const cut = await cutAt('typescript', 'function f(a: number) {|}\n', body);
    assert.equal(cut, after(body, '}', 2) - 1);
  });

  test('a } inside a string or comment does not end the body', async () => {
    const gen = '\n  log("}"); // }\n  return a;\n}\n';
    const cut = await cutAt('typescript', 'function f(a: number) {\n  |\n}\n', gen);
    assert.equal(cut, gen.lastIndexOf('}'));
  });

  test('stopping then trimming leaves the body on its lines and the } on its own', async () => {
    const { text, offset } = cursorFixture('function f(a: number) {|}\n');
    const doc = await openDocument('typescript', text);
    const info = analyze(doc, offset);
    const stop = makeStopper(doc, offset, info);
    const gen = '\n  return a + 1;\n}\n';
    const cut = stop(gen);
    assert.equal(cut, gen.indexOf('}'));
    const done = trimCompletion(doc, offset, gen.slice(0, cut), info);
    assert.equal(text.slice(0, offset) + done + text.slice(offset), 'function f(a: number) {\n  return a + 1;\n}\n');
  });
});

suite('makeStopper: Python blocks end at the dedent', () => {
  const gen = 'if x > 0:\n        return x\n    return -x\n\ndef g():\n    pass\n';

  test('a body written after `def f(x):` ends before the next top-level line', async () => {
    const cut = await cutAt('python', 'def f(x):\n    |\n\nprint(f(1))\n', gen);
    assert.equal(cut, after(gen, 'return -x'));
  });

  test('from the end of the header line, the body starts on the next line', async () => {
    const g = '\n    return x * 2\nprint(1)\n';
    const cut = await cutAt('python', 'def f(x):|', g);
    assert.equal(cut, after(g, 'return x * 2'));
  });

  test('a nested body ends when the text returns to the header indentation', async () => {
    const g = 'return self.x\n\n    def other(self):\n        pass\n';
    const cut = await cutAt('python', 'class A:\n    def m(self):\n        |\n', g);
    assert.equal(cut, after(g, 'return self.x'));
  });

  test('a dedent inside brackets or a triple-quoted string is not an end', async () => {
    const g = 'x = [\n1,\n]\n        s = """\ndoc\n"""\n        return s\nfoo()\n';
    const cut = await cutAt('python', 'def f():\n        |\n', g);
    assert.equal(cut, after(g, 'return s'));
  });
});

suite('makeStopper: expressions and lines', () => {
  test('an argument list stops before the ) the document already has', async () => {
    assert.equal(await cutAt('typescript', 'foo(a, |)', 'b, c)\nbar()'), 4);
  });

  test('an argument list without its ) gets one, and the rest of its line', async () => {
    assert.equal(await cutAt('typescript', 'foo(a, |', 'b, c);\nbar()'), 6);
  });

  test('a closed condition does not run on into a new block', async () => {
    // both closers the document lacks, not the new block
    assert.equal(await cutAt('typescript', 'if (isArray(|', 'arg)) {\n  x();\n}'), 5);
  });

  test('a closed condition keeps its { when the document already has the body', async () => {
    const fixture = 'function f(arg) {\n  if (Array.isArray(|\n    return arg;\n  }\n  return [arg];\n}\n';
    assert.equal(await cutAt('javascript', fixture, 'arg)) {\n    x();'), 'arg)) {'.length);
  });

  test('with text right of the cursor the closer alone ends it', async () => {
    assert.equal(await cutAt('typescript', 'foo(a, | // note', 'b, c);\nbar()'), 5);
  });

  test('brackets and ) inside strings do not count', async () => {
    const g = '"a)b", [1, 2], c)';
    assert.equal(await cutAt('typescript', 'foo(|)', g), g.length - 1);
  });

  test('the rest of a line stops at the line break', async () => {
    const g = 'compute(1, 2);\nconst y = 3;\n';
    assert.equal(await cutAt('typescript', 'const x = |', g), g.indexOf('\n'));
  });

  test('a line that opens a bracket continues until it is closed', async () => {
    const g = 'items.map((x) => {\n  return x + 1;\n});\nnext();\n';
    assert.equal(await cutAt('typescript', 'const ys = |', g), after(g, '});'));
  });

  test('at the end of a finished line, one more line is allowed', async () => {
    const g = '\nconst y = 2;\nconst z = 3;\n';
    assert.equal(await cutAt('typescript', 'const x = 1;|', g), after(g, 'const y = 2;'));
  });

  test('inside a string, the completion stops at the existing closing quote', async () => {
    assert.equal(await cutAt('typescript', 'const s = "hel|";', 'lo world";\n'), 'lo world'.length);
  });

  test('a half-typed nested call gets all its closers, even where the parse tree is broken', async () => {
    // The cursor's line has two open ( that the tree-sitter error node around it starts after.
    const fixture =
      'Dropdown.prototype.toggle = function (e) {\n  var $this = $(this)\n  if (!isActive) {\n    var relatedTarget = { relatedTarget: this }\n' +
      "    $parent.trigger(e = $.Event('show.bs.dropdown', rela|\n\n    if (e.isDefaultPrevented()) return\n\n    $this\n      .trigger('focus')\n  }\n\n  return false\n}\n";
    assert.equal(await cutAt('javascript', fixture, 'tedTarget))\n    next()'), 'tedTarget))'.length);
  });

  test('a one-line block comment being typed is closed by the completion, not by a later comment', async () => {
    const fixture = 'const hooks = {\n  /** @type {Asy|\n  a: 1,\n  /** @type {number} */\n  b: 2,\n};\n';
    const g = 'ncHook<[]>} */\n  c: 3,';
    assert.equal(await cutAt('typescript', fixture, g), g.indexOf('\n'));
    // A closer already on the cursor's line still ends it.
    assert.equal(await cutAt('typescript', 'const a = 1; /** note | */\n', 'here */\n'), 'here '.length);
  });

  test('closing a multi-line bracket the document leaves open keeps the rest of its line', async () => {
    // `},` after the last entry of a dict whose } the suffix lacks (the suffix's } is the outer dict's)
    const py = "schema = {\n    'properties': {\n        'a': 1,\n    |\n    'required': ['a'],\n}\n";
    assert.equal(await cutAt('python', py, "},\n    'more': 2,"), 2);
    // `});` closes the object and the call around it, innermost first
    const js = 'items.each(function() {\n  return el.tipsy({\n    gravity: g\n  |\n});\n';
    assert.equal(await cutAt('javascript', js, '});\n  next();'), 3);
    // but not a closer of another kind
    assert.equal(await cutAt('javascript', js, '}]);\n'), 1);
  });

  test('a block comment whose */ in the suffix belongs to a later comment is closed by the completion', async () => {
    const fixture = 'interface I {\n  /**\n  Make an element.\n  |\n  elt(): void;\n  /** Later. */\n  b(): void;\n}\n';
    assert.equal(await cutAt('typescript', fixture, '*/\n  elt(): void;'), 2);
    // A later comment after the cursor's own closer does not reopen it.
    assert.equal(await cutAt('typescript', 'const a = 1; /** note | */ const b = 2; /* x */\n', 'here */\n'), 'here '.length);
  });

  test('a header above the body the document holds is completed to the end of its line', async () => {
    const fixture = 'declare namespace ErrorObject |\n  function create(obj: ErrorObject): ErrorObject;\n}\n';
    assert.equal(await cutAt('typescript', fixture, '{\n  interface X {\n    a: 1;\n  }\n}'), 1);
  });

  test('inside a line comment, the completion stops at the end of the line', async () => {
    const g = 'the total of all items\nconst t = 0;\n';
    assert.equal(await cutAt('python', '# compute |', g), g.indexOf('\n'));
  });
});

suite('makeStopper: statements and keyword blocks', () => {
  test('a blank line after some statements ends a statement completion', async () => {
    const g = 'b();\n  c();\n\n  d();\n}';
    assert.equal(await cutAt('typescript', 'function f() {\n  a();\n  |\n}\n', g), after(g, 'c();'));
  });

  test('a Python statement completion stops where the indentation drops', async () => {
    const g = 'y = x + 1\n    z = y * 2\nprint(z)\n';
    assert.equal(await cutAt('python', 'def f(x):\n    a = 1\n    |\n', g), after(g, 'z = y * 2'));
  });

  test('a Ruby body without its end keeps the end the model writes', async () => {
    const g = 'puts 1\nend\n\ndef bar\n';
    assert.equal(await cutAt('ruby', 'def foo\n  |\n', g), after(g, 'end'));
  });

  test('a Ruby body whose end already exists stops before the model\'s end', async () => {
    const g = 'puts 1\nend\n';
    assert.equal(await cutAt('ruby', 'def foo\n  |\nend\n', g), after(g, 'puts 1'));
  });

  test('a shell if-body without fi keeps the fi, waiting until the word is complete', async () => {
    const g = 'echo yes\nfi\necho after\n';
    assert.equal(await cutAt('shellscript', 'if [ -f x ]; then\n  ‸\n', g, 1, '‸'), after(g, 'fi'));
  });
});

suite('makeStopper: incremental scanning', () => {
  test('chunk size does not change the cut, even when a chunk splits `//` or `"""`', async () => {
    const g = '\n  const s = "}"; // }\n  /* } */ return 1;\n}\nmore';
    const whole = await cutAt('typescript', 'function f() {|\n', g, g.length);
    for (const chunk of [1, 2, 3, 5, 8]) {
      assert.equal(await cutAt('typescript', 'function f() {|\n', g, chunk), whole, `chunk ${chunk}`);
    }
    const py = 'x = """\n)\n"""\n    return x\nfoo()\n';
    const pyWhole = await cutAt('python', 'def f():\n    |\n', py, py.length);
    assert.equal(pyWhole, after(py, 'return x'));
    for (const chunk of [1, 2, 4]) assert.equal(await cutAt('python', 'def f():\n    |\n', py, chunk), pyWhole);
  });

  test('each call costs the new text only, not the document or the text so far', async (t) => {
    const big = `${'const filler = [1, 2, 3];\n'.repeat(40_000)}function f() {\n  \n}\n`;
    const offset = big.length - 3;
    const doc = await openDocument('typescript', big);
    const stop = makeStopper(doc, offset, analyze(doc, offset));
    // unlike lines (identical ones, or near copies, would be cut by the repetition guard)
    const word = (i: number) => (Math.imul(i + 1, 2654435761) >>> 0).toString(36);
    const line = (i: number) => `const ${word(i)} = ${word(i + 7)}; // not the end )\n  `;
    let generated = '';
    // Per-call times early (the text ~15k characters) and late (~150k): work proportional to the
    // text so far would make the late calls about ten times slower. Medians, compared with each
    // other in the same run, so neither a slow machine nor a GC pause decides it.
    const early: number[] = [];
    const late: number[] = [];
    for (let i = 0; i < 5000; i++) {
      generated += line(i);
      generated.charCodeAt(0); // flatten the concatenation here, outside the timed call
      const t0 = performance.now();
      assert.equal(stop(generated), undefined);
      const ms = performance.now() - t0;
      if (i >= 500 && i < 1000) early.push(ms);
      if (i >= 4500) late.push(ms);
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    t.diagnostic(`median call ${median(early).toFixed(3)} ms at ~15k characters, ${median(late).toFixed(3)} ms at ~150k`);
    assert.ok(median(late) < 3 * median(early) + 0.02, `median call ${median(early).toFixed(3)} ms at ~15k characters, ${median(late).toFixed(3)} ms at ~150k`);
    assert.equal(stop(`${generated}}`), generated.length);
  });

  test('a rewritten text (not an extension of the last one) is scanned afresh', async () => {
    const { text, offset } = cursorFixture('foo(|)');
    const doc = await openDocument('typescript', text);
    const stop = makeStopper(doc, offset, analyze(doc, offset));
    assert.equal(stop('[1, 2'), undefined);
    assert.equal(stop('a)'), 1);
  });
});

suite('repetition guard', () => {
  function cutOf(text: string, chunk = 7, restated: readonly string[] = []): number | undefined {
    const r = new RepetitionStopper(restated);
    let cut: number | undefined;
    for (let i = chunk; cut === undefined && i < text.length + chunk; i += chunk) cut = r.check(text.slice(0, i));
    return cut;
  }

  test('cuts a line repeated verbatim before its copy', () => {
    const text = '  const a = p.x;\n  const b = a.z;\n  const b = a.z;\n  const b = a.z;\n';
    assert.equal(text.slice(0, cutOf(text)), '  const a = p.x;\n  const b = a.z;');
  });

  test('cuts a repeated pair of lines', () => {
    const text = 'x = f(a)\ny = g(x)\nx = f(a)\ny = g(x)\nz = 1\n';
    assert.equal(text.slice(0, cutOf(text)), 'x = f(a)\ny = g(x)');
  });

  test('cuts a short line the third time, keeping the first', () => {
    // `*,` and `base,` are too short for two copies to prove a loop; three do.
    const stars = '*,\n    *,\n    *,\n    *,\n';
    assert.equal(stars.slice(0, cutOf(stars)), '*,');
    const base = 'base,\n\t\tbase,\n\t\tbase,\n\t\tbase,\n';
    assert.equal(base.slice(0, cutOf(base)), 'base,');
    assert.equal(cutOf('x,\ny,\nx,\ny,\n'), undefined);
  });

  test('cuts a run of near copies at the fourth, keeping three', () => {
    // What Generate Code wrote in shapes.ts: one line, a counter changed each time.
    const lines = ['const c4 = Math.max(c, c2);', 'const c5 = Math.max(c, c2);', 'const c6 = Math.max(c, c2);', 'const c7 = Math.max(c, c7);', 'const c8 = Math.max(c, c8);'];
    const text = lines.map((l) => `  ${l}\n`).join('');
    assert.equal(text.slice(0, cutOf(text)), lines.slice(0, 3).map((l) => `  ${l}`).join('\n'));
    // Assignments of different fields are not near copies of each other.
    assert.equal(cutOf('self.name = name\nself.email = email\nself.phone = phone\nself.address = address\n'), undefined);
  });

  test('cuts a block of lines that comes back with small changes', () => {
    // Generate Code in a Go file: five lines, then the same five with one string grown.
    const block = (s: string) => `// parse and execute the template\ntemplateString, err := template.New("${s}")\nif err != nil {\n\tlog.Fatal(err)\n}\n`;
    const text = block('template:template') + block('template:template:template') + 'x := 1\n';
    assert.equal(text.slice(0, cutOf(text)), block('template:template').trimEnd());
    // Two different error checks in a row are code, not a loop.
    const checks = 'a, err := f()\nif err != nil {\n\treturn err\n}\nb, err := g(a)\nif err != nil {\n\treturn err\n}\n';
    assert.equal(cutOf(checks), undefined);
  });

  test('cuts before a line that restates the instruction', () => {
    // Generate Code in shapes.ts: the model wrote the instruction comment again, then more.
    const text = 'const a = a.x;\n  // distance between two points\n  const b = a.y;\n';
    for (const chunk of [1, 5, text.length]) assert.equal(text.slice(0, cutOf(text, chunk, ['// distance between two points'])), 'const a = a.x;');
    assert.equal(cutOf(text), undefined);
  });

  test('keeps repeated closers and ordinary code', () => {
    assert.equal(cutOf('      }\n    }\n  }\n}\n'), undefined);
    assert.equal(cutOf('    end\n  end\nend\n'), undefined);
    assert.equal(cutOf('a.push(1);\na.push(2);\na.push(3);\n'), undefined);
  });
});

suite('makeStopper: the cut does not depend on how the text arrives', () => {
  // AR checks the stopper after every token, PTP after calls of several; both must cut at the
  // same place. Here the closing } of the body ends the scope, and the newline after it
  // completes a repeated pair of lines, whose loop cut is earlier: a check that sees both at
  // once must still answer what a token-by-token check saw first.
  const fixture = "function f(r) {\n    let result = '';\n    |\n}\n";
  const gen = "if (r.a) {\n        result += r.a;\n    }\n    if (result.length > 0) {\n        result += ' ' + result;\n    }\n    result += ' ' + result;\n}\nfunction g() {\n";

  test('one character at a time, and all at once, cut at the body\'s end', async () => {
    const closing = gen.lastIndexOf('}');
    const fine = await cutAt('javascript', fixture, gen, 1);
    assert.ok(fine !== undefined && fine <= closing && gen.slice(fine, closing).trim() === '', `cut at ${fine}: ${JSON.stringify(gen.slice(0, fine))}`);
    for (const chunk of [2, 5, 9, gen.length]) assert.equal(await cutAt('javascript', fixture, gen, chunk), fine, `chunks of ${chunk}`);
  });
});

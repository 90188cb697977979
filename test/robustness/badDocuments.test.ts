// Documents the worker meets in the wild, through the real worker with the shipped model: each
// gets a sensible completion or none, within a bound, and the worker is healthy after all of them.
// Run: npm run build && node --import tsx --test test/robustness/badDocuments.test.ts
import { after, before, suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { DidChangeTextDocumentNotification, ResponseError, ErrorCodes as RpcErrorCodes } from 'vscode-languageserver-protocol/node';
import { StatusRequest } from '../../src/protocol/index';
import { DECODING, TEMPLATE, inline, openDoc, positionAt, since, startRobustWorker, textOf, withCursor, type RobustWorker } from './harness';

/** Every answer, the document's own processing included, comes within this. */
const BOUND_MS = 2000;

const FUNCTION = 'export function add(a: number, b: number): number {\n  return a + b;\n}\n\n';
const MINIFIED_UNIT = 'var a=1,b=[2,3];function c(d){return d.map(function(e){return e*a+b[0]})}';

/** A case: a document and where the cursor is (an offset, or a raw LSP position). */
interface Case {
  name: string;
  text: string;
  languageId?: string;
  uri?: string;
  at: number | { line: number; character: number };
  /** The worker must decline: binary text, a line too long to prompt with, a split character. */
  none?: true;
}

function repeatTo(unit: string, length: number): string {
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

const tenMegabytes = repeatTo(FUNCTION, 10 * 2 ** 20);
const minifiedLine = repeatTo(MINIFIED_UNIT, 50_000);
/** Every byte value as a character, NULs included: what a binary file opened as text gives. */
const binary = Array.from({ length: 4096 }, (_, i) => String.fromCharCode((i * 131 + 7) % 256)).join('');
const loneSurrogates = 'const s = "\uD800abc\uDC00";\nconst t = "\uFFFD\uFFFD";\nfunction f() {\n  return \uD83D';
const emoji = 'const greeting = "hello 😀 world 👩‍👩‍👧";\nconst wave = "👋';
const emojiLine = emoji.split('\n')[1]!;

const CASES: Case[] = [
  { name: 'an empty file', text: '', at: 0 },
  { name: 'a 10 MB file, cursor in the middle', text: tenMegabytes, at: tenMegabytes.indexOf('return', tenMegabytes.length >> 1) + 'return '.length },
  { name: 'a 10 MB file, cursor at the end', text: tenMegabytes, at: tenMegabytes.length },
  { name: 'a 50,000-character minified line, cursor in the middle', text: minifiedLine, languageId: 'javascript', at: 25_000, none: true },
  { name: 'a 50,000-character minified line, cursor at the end', text: minifiedLine, languageId: 'javascript', at: minifiedLine.length, none: true },
  { name: 'binary content with NUL bytes', text: binary, at: 2048, none: true },
  { name: 'NUL bytes in code', text: 'function f(a) {\n  return a\u0000\u0000 + 1;\n}\n', at: 'function f(a) {\n  return a'.length, none: true },
  { name: 'CRLF line endings', text: 'function f(a: number): number {\r\n  const b = a * 2;\r\n  \r\n}\r\n', at: 'function f(a: number): number {\r\n  const b = a * 2;\r\n  '.length },
  { name: 'lone surrogates and U+FFFD (invalid UTF-8 decoded)', text: loneSurrogates, at: loneSurrogates.length },
  { name: 'the cursor right after an emoji', text: emoji, at: emoji.length },
  { name: 'the cursor between the halves of a surrogate pair', text: emoji, at: { line: 1, character: emojiLine.length - 1 }, none: true },
  { name: 'the cursor inside a ZWJ emoji sequence', text: emoji, at: emoji.indexOf('👩') + 3 },
  { name: 'the cursor at offset 0 of a non-empty file', text: withCursor(TEMPLATE).text, at: 0 },
  { name: 'the cursor at the end of a file', text: withCursor(TEMPLATE).text, at: withCursor(TEMPLATE).text.length },
  { name: 'a position past the end of the document (clamped)', text: withCursor(TEMPLATE).text, at: { line: 999, character: 999 } },
  { name: 'languageId plaintext', text: 'Dear team,\n\nThe meeting is moved to ', languageId: 'plaintext', at: 34 },
  { name: 'languageId fortran (no grammar)', text: 'program hello\n  print *, "Hello"\n  ', languageId: 'fortran', at: 34 },
  { name: 'an empty languageId', text: 'x = 1\ny = ', languageId: '', at: 10 },
  {
    name: 'a notebook cell',
    text: 'import numpy as np\nxs = np.arange(10)\nprint(',
    languageId: 'python',
    uri: 'vscode-notebook-cell:/home/u/analysis.ipynb#W2sZmlsZQ%3D%3D',
    at: 44,
  },
  { name: 'an untitled document', text: 'function square(x: number) {\n  return ', uri: 'untitled:Untitled-1', at: 38 },
];

suite('bad documents through the real worker', () => {
  let w: RobustWorker;
  before(async () => {
    w = await startRobustWorker({ requestTimeoutMs: 2000 });
    const s = await w.settled();
    assert.equal(s.state, 'ready', s.error);
  });
  after(() => w.stop());

  for (const c of CASES) {
    test(`${c.name}: a completion or none within ${BOUND_MS} ms`, async () => {
      const started = performance.now();
      const uri = await openDoc(w, c.text, c.languageId ?? 'typescript', c.uri);
      const position = typeof c.at === 'number' ? positionAt(c.text, c.at) : c.at;
      const answer = await inline(w, uri, position, { decoding: DECODING });
      const ms = since(started);
      assert.ok(ms < BOUND_MS, `answered after ${ms.toFixed(0)} ms`);
      assert.ok(answer.items.length <= (c.none ? 0 : 1), `${JSON.stringify(answer.items.map(textOf))}`);
      for (const item of answer.items) {
        const text = textOf(item);
        assert.notEqual(text.trim(), '', 'an item is never blank');
        assert.deepEqual(item.range, { start: position, end: position });
        if (c.text.includes('\r\n')) assert.ok(!/(^|[^\r])\n/.test(text), `LF in a CRLF document: ${JSON.stringify(text)}`);
        assert.ok(!text.includes('\u0000'), 'no NUL in a completion');
      }
    });
  }

  test('typing into the 10 MB file answers within the bound', async () => {
    const uri = await openDoc(w, tenMegabytes);
    const end = positionAt(tenMegabytes, tenMegabytes.length);
    let version = 1;
    for (const ch of 'function sub(') {
      const started = performance.now();
      await w.connection.sendNotification(DidChangeTextDocumentNotification.type, {
        textDocument: { uri, version: ++version },
        contentChanges: [{ range: { start: end, end }, text: ch }],
      });
      end.character++;
      await inline(w, uri, end, { decoding: DECODING });
      assert.ok(since(started) < BOUND_MS, `keystroke ${version - 1} answered after ${since(started).toFixed(0)} ms`);
    }
  });

  test('a request for a document that was never opened is a coded error', async () => {
    await assert.rejects(inline(w, 'file:///never/opened.ts', { line: 0, character: 0 }, { decoding: DECODING }), (e: unknown) => {
      assert.ok(e instanceof ResponseError);
      assert.equal(e.code, RpcErrorCodes.InvalidParams);
      return true;
    });
  });

  test('after all of them the worker is healthy: ready, nothing on stderr, and it completes', async () => {
    assert.ok(w.alive());
    assert.equal(w.stderr(), '');
    const s = await w.connection.sendRequest(StatusRequest);
    assert.equal(s.state, 'ready');
    assert.equal(s.pending, 0);
    const { text, line, character } = withCursor(TEMPLATE);
    const answer = await inline(w, await openDoc(w, text), { line, character }, { decoding: DECODING });
    assert.equal(answer.items.length, 1);
  });
});

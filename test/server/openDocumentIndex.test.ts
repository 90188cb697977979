// The open documents' index (edits, closing, the size cap, the tokenizer changing, turning it
// off) and the chunked encoding both indexes use, with the shipped tokenizer.
// Run: node --import tsx --test test/server/openDocumentIndex.test.ts
import { suite, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_MAX_LENGTH } from '../../src/context/index';
import { CodeTokenizer } from '../../src/engine/tokenizer';
import { chunkEnds, encodeInSlices } from '../../src/server/encodeInSlices';
import { IdleGate } from '../../src/server/idleGate';
import type { Logger } from '../../src/server/logger';
import { OpenDocumentIndex } from '../../src/server/openDocumentIndex';

const REPO = path.join(__dirname, '..', '..');
const MODEL = path.join(REPO, 'models', 'ptp-code-10m');
const tokenizer = new CodeTokenizer(
  JSON.parse(fs.readFileSync(path.join(MODEL, 'tokenizer.json'), 'utf8')),
  JSON.parse(fs.readFileSync(path.join(MODEL, 'model.json'), 'utf8')).special_tokens,
);
const idle = new IdleGate(() => false);

function logTo(lines: string[]): Logger {
  const push = (line: string): void => void lines.push(line);
  return { error: push, warn: push, info: push, debug: push };
}

/** An encoder that counts its calls. */
function counting(): { encode(text: string): number[]; calls: number } {
  return {
    calls: 0,
    encode(text: string) {
      this.calls++;
      return tokenizer.encode(text);
    },
  };
}

suite('encodeInSlices', () => {
  test('chunks cut before a line break between code give the same tokens as the whole text (LF and CRLF)', async () => {
    const files = ['src/server', 'src/engine', 'training'].flatMap((d) =>
      fs.readdirSync(path.join(REPO, d)).filter((f) => /\.(ts|py)$/.test(f)).map((f) => path.join(REPO, d, f)),
    );
    assert.ok(files.length > 20);
    for (const file of files) {
      for (const eol of ['\n', '\r\n']) {
        const text = fs.readFileSync(file, 'utf8').replace(/\r?\n/g, eol);
        const ends = chunkEnds(text, 300);
        let start = 0;
        const pieces: number[] = [];
        for (const end of ends) {
          pieces.push(...tokenizer.encode(text.slice(start, end)));
          start = end;
        }
        assert.deepEqual(pieces, tokenizer.encode(text), `${file} (${JSON.stringify(eol)}) cut at ${ends.length - 1} places`);
      }
    }
  });

  test('cuts lie about `size` apart, and a line longer than that is not cut', () => {
    const text = Array.from({ length: 200 }, (_, i) => `line ${i} = ${i};`).join('\n');
    const ends = chunkEnds(text, 100);
    assert.equal(ends.at(-1), text.length);
    for (let i = 1; i < ends.length; i++) assert.ok(ends[i]! - ends[i - 1]! <= 100, `chunk ${i} is ${ends[i]! - ends[i - 1]!} long`);
    assert.deepEqual(chunkEnds('x'.repeat(1000), 100), [1000]);
    assert.deepEqual(chunkEnds('', 100), [0]);
  });

  test('gives the event loop a turn between chunks and stops when told', async () => {
    const text = 'const a = 1;\n'.repeat(3000);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 0);
    const slow = {
      encode(t: string): number[] {
        const until = performance.now() + 3;
        while (performance.now() < until);
        return tokenizer.encode(t);
      },
    };
    const ids = await encodeInSlices(text, slow, new IdleGate(() => false, 5), () => false);
    clearInterval(ticker);
    assert.deepEqual(ids, tokenizer.encode(text));
    assert.ok(ticks >= 2, `the loop ran ${ticks} timer(s) while ${chunkEnds(text, 4096).length} chunks were encoded`);
    let stopAfter = 2;
    assert.equal(await encodeInSlices(text, slow, idle, () => stopAfter-- <= 0), undefined);
  });
});

suite('OpenDocumentIndex', () => {
  const DELAY = 20;

  function setup(): { index: OpenDocumentIndex; texts: Map<string, string>; encoder: ReturnType<typeof counting>; lines: string[] } {
    const texts = new Map<string, string>();
    const encoder = counting();
    const lines: string[] = [];
    const index = new OpenDocumentIndex(idle, (uri) => texts.get(uri), logTo(lines), DELAY);
    index.configure({ enabled: true, encoder });
    return { index, texts, encoder, lines };
  }

  test('indexes an opened document after the delay, never while the edit is being handled', async () => {
    const { index, texts, encoder } = setup();
    texts.set('file:///a.ts', 'export function a() {\n  return 1;\n}\n');
    index.opened('file:///a.ts');
    assert.equal(encoder.calls, 0);
    assert.equal(index.index!.has('file:///a.ts'), false);
    await index.settled();
    assert.equal(index.index!.has('file:///a.ts'), true);
    assert.equal(index.status().tokens, tokenizer.encode(texts.get('file:///a.ts')!).length);
    assert.equal(index.status().documents, 1);
    assert.ok(index.status().bytes > 0);
    index.dispose();
  });

  test('picks up edits: a burst of changes is tokenized once, after the last', async () => {
    const { index, texts, encoder } = setup();
    texts.set('file:///a.ts', 'let x = 1;\n');
    index.opened('file:///a.ts');
    await index.settled();
    const calls = encoder.calls;
    for (let i = 0; i < 5; i++) {
      texts.set('file:///a.ts', `let x = 1;\n${'let y = 2;\n'.repeat(i + 1)}`);
      index.changed('file:///a.ts');
    }
    assert.equal(encoder.calls, calls);
    await index.settled();
    assert.equal(encoder.calls, calls + 1);
    assert.equal(index.status().tokens, tokenizer.encode(texts.get('file:///a.ts')!).length);
    index.dispose();
  });

  test('drops a closed document, also one closed while it waited', async () => {
    const { index, texts } = setup();
    texts.set('file:///a.ts', 'let a = 1;\n');
    texts.set('file:///b.ts', 'let b = 2;\n');
    index.opened('file:///a.ts');
    index.opened('file:///b.ts');
    await index.settled();
    assert.equal(index.status().documents, 2);
    index.closed('file:///a.ts');
    assert.equal(index.index!.has('file:///a.ts'), false);
    texts.set('file:///b.ts', 'let b = 3;\n');
    index.changed('file:///b.ts');
    index.closed('file:///b.ts');
    texts.delete('file:///b.ts');
    await index.settled();
    assert.equal(index.status().documents, 0);
    // A change to a document that is not open is ignored.
    index.changed('file:///b.ts');
    await index.settled();
    assert.equal(index.status().documents, 0);
    index.dispose();
  });

  test('a document over the size cap is left out, and the log says so once', async () => {
    const { index, texts, lines } = setup();
    texts.set('file:///big.ts', 'x'.repeat(DEFAULT_MAX_LENGTH + 1));
    index.opened('file:///big.ts');
    await index.settled();
    index.changed('file:///big.ts');
    await index.settled();
    assert.equal(index.index!.has('file:///big.ts'), false);
    assert.equal(lines.filter((l) => l.includes('file:///big.ts')).length, 1, lines.join('\n'));
    index.dispose();
  });

  test('turning it off drops the index; on again, or a new tokenizer, indexes every open document again', async () => {
    const { index, texts } = setup();
    texts.set('file:///a.ts', 'let a = 1;\n');
    index.opened('file:///a.ts');
    await index.settled();
    index.configure({ enabled: false, encoder: counting() });
    assert.equal(index.index, undefined);
    assert.deepEqual(index.status(), { documents: 0, tokens: 0, bytes: 0 });
    // Still told about documents while off, so that on again knows them.
    texts.set('file:///b.ts', 'let b = 2;\n');
    index.opened('file:///b.ts');
    const second = counting();
    index.configure({ enabled: true, encoder: second });
    await index.settled();
    assert.equal(index.status().documents, 2);
    assert.equal(second.calls, 2);
    const third = counting();
    index.configure({ enabled: true, encoder: third });
    await index.settled();
    assert.equal(third.calls, 2);
    // No model: no index.
    index.configure({ enabled: true, encoder: undefined });
    assert.equal(index.index, undefined);
    index.dispose();
  });
});

suite('IdleGate', () => {
  test('runs units back to back within a slice, yields after it, and waits while busy', async () => {
    let busy = false;
    const gate = new IdleGate(() => busy, 1000, 5);
    let timerRan = false;
    setTimeout(() => (timerRan = true), 0);
    await gate.turn(); // the first turn starts a slice (after one yield)
    timerRan = false;
    setTimeout(() => (timerRan = true), 0);
    for (let i = 0; i < 10; i++) await gate.turn();
    assert.equal(timerRan, false, 'a turn inside the slice yielded');
    busy = true;
    let passed = false;
    const waiting = gate.turn().then(() => (passed = true));
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(passed, false);
    busy = false;
    await waiting;
    assert.equal(passed, true);
  });
});

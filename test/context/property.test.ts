/**
 * Property test: thousands of random documents and cursors through prompt building,
 * scope detection, the stopper and trimming. Nothing throws, every answer is in range,
 * a completion that ends by repeating the suffix never keeps the repeat, and each case
 * takes bounded time.
 */
import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import type { ScopeInfo, SyntaxDocument } from '../../src/context';
import { analyze, buildPrompt, DocumentStore, GRAMMAR_LANGUAGE_IDS, makeStopper, SCOPES, trimCompletion } from '../../src/context';
import { markerOf, SCOPE_CASES } from './fixtures';
import { rng } from './helpers';

const CASES = 3000;
/** Generous: a case is a few small parses and scans (~1 ms); the machine is shared. */
const MAX_CASE_MS = 1000;

const LANGUAGES = [...GRAMMAR_LANGUAGE_IDS, 'yaml', 'plaintext'];
const CODE = Object.values(SCOPE_CASES).flatMap((cases) => cases.map(([f]) => f.replace(markerOf(f), '')));
const NOISE = ['(', ')', '[', ']', '{', '}', '"', "'", '`', '/*', '*/', '//', '#', '"""', '\\', '\n', '\r\n', ' ', '    ', '\t', ':', ';', ',', 'é', '😀', 'end', 'fi', 'x', '=', '<?php\n'];
/** Balanced, quote-free, single-line, ending in a non-word character (see the suffix property). */
const BALANCED = ['foo(1); ', 'x + 1 ', '[a, b] ', '{ k: v } ', 'bar() ', '- 2 ', ', 3 ', 'a.b(c[0]) '];

function pick<T>(next: () => number, xs: readonly T[]): T {
  return xs[Math.floor(next() * xs.length)]!;
}

function randomText(next: () => number, pieces: number): string {
  let s = '';
  for (let i = 0; i < pieces; i++) s += next() < 0.5 ? pick(next, CODE) : pick(next, NOISE);
  if (next() < 0.01) s += '\u0000';
  return s;
}

suite('property: random documents and cursors', () => {
  test(`${CASES} cases: no throw, answers in range, no repeated suffix, bounded time`, async () => {
    const next = rng(20240601);
    const store = new DocumentStore({ log: () => undefined });
    let slowest = 0;
    let suffixCases = 0;
    const scopes = new Set<string>();
    for (let i = 0; i < CASES; i++) {
      const languageId = pick(next, LANGUAGES);
      const text = randomText(next, 1 + Math.floor(next() * 12));
      const offset = Math.floor(next() * (text.length + 1));
      const withTree = next() < 0.5;
      const uri = `file:///p${i}`;
      const doc: SyntaxDocument | { languageId: string; text: string } = withTree ? await store.open(uri, languageId, text) : { languageId, text };
      const where = `case ${i} (${languageId}, ${withTree ? 'tree' : 'no tree'}, offset ${offset}): ${JSON.stringify(text)}`;
      const start = performance.now();

      const built = buildPrompt(text, offset, { prefixChars: 64 + Math.floor(next() * 512), suffixChars: Math.floor(next() * 256) });
      if (built.prompt) {
        assert.ok(built.prompt.prefix.length <= 576 && built.prompt.suffix.length <= 256, where);
        assert.ok(!built.prompt.prefix.includes('\r\n') && !built.prompt.suffix.includes('\r\n'), where);
      } else {
        assert.ok(['binary', 'bad-offset', 'line-too-long'].includes(built.reason), where);
      }

      const info: ScopeInfo = analyze(doc, offset);
      scopes.add(info.scope);
      assert.ok(SCOPES.includes(info.scope), where);
      assert.ok(info.maxTokens >= 1 && info.blockSize >= 1 && info.blockSize <= info.maxTokens && info.budget >= 0, where);

      const generated = randomText(next, 1 + Math.floor(next() * 8));
      const stop = makeStopper(doc, offset, info);
      let cut: number | undefined;
      for (let end = 0; end < generated.length && cut === undefined; ) {
        end = Math.min(generated.length, end + 1 + Math.floor(next() * 6));
        cut = stop(generated.slice(0, end));
        assert.ok(cut === undefined || (Number.isInteger(cut) && cut >= 0 && cut <= end), `${where} cut ${cut}`);
      }
      const completion = cut === undefined ? generated : generated.slice(0, cut);
      assert.equal(typeof trimCompletion(doc, offset, completion, info), 'string', where);

      // A balanced completion followed by the start of the suffix must lose that repeat.
      const suffix = text.slice(offset).replace(/\r\n/g, '\n');
      const repeat = suffix.slice(0, 1 + Math.floor(next() * 10));
      if (repeat.trim() !== '') {
        const kept = pick(next, BALANCED);
        const trimmed = trimCompletion(doc, offset, kept + repeat, info);
        assert.ok(trimmed.length <= kept.length, `${where}\n${JSON.stringify(kept + repeat)} -> ${JSON.stringify(trimmed)}`);
        suffixCases++;
      }

      slowest = Math.max(slowest, performance.now() - start);
      if (withTree) store.close(uri);
    }
    assert.ok(slowest < MAX_CASE_MS, `slowest case took ${slowest.toFixed(0)} ms`);
    assert.ok(suffixCases > CASES / 3, `${suffixCases} suffix cases`);
    assert.deepEqual(new Set(scopes), new Set(SCOPES));
    store.dispose();
  });
});

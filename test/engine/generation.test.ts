import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { Generation, type GenerationOptions } from '../../src/engine/generation';
import { IncrementalDetokenizer } from '../../src/engine/tokenizer';

/** Token t is the character String.fromCharCode(t); token 0 is end-of-text. */
function generation(options: Partial<GenerationOptions> = {}): Generation {
  const detok = new IncrementalDetokenizer((id) => new TextEncoder().encode(String.fromCharCode(id)));
  return new Generation(detok, { endOfText: 0, maxTokens: 100, contextLength: 1000, promptLength: 10, ...options });
}
const ids = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));
const info = { acceptedDrafts: 0, draft: 'none' as const, rows: 1, ms: 1 };

suite('generation', () => {
  test('stops at end-of-text and drops what follows it in the same call', () => {
    const g = generation();
    assert.equal(g.commitCall([...ids('ab'), 0, ...ids('c')], info), 2);
    assert.equal(g.stopReason, 'eot');
    assert.equal(g.text, 'ab');
  });

  test('never commits more than maxTokens', () => {
    const g = generation({ maxTokens: 3 });
    g.commitCall(ids('ab'), info);
    assert.equal(g.remaining, 1);
    assert.equal(g.commitCall(ids('cde'), info), 1);
    assert.equal(g.stopReason, 'maxTokens');
    assert.deepEqual(g.finalTokens, ids('abc'));
  });

  test('stops when the sequence fills the context', () => {
    const g = generation({ contextLength: 13, promptLength: 10 });
    g.commitCall(ids('abcd'), info);
    assert.equal(g.stopReason, 'context');
    assert.equal(g.text, 'abc');
  });

  test('cuts text and tokens where the stop rule says', () => {
    const g = generation({ stop: (text) => (text.indexOf('\n\n') >= 0 ? text.indexOf('\n\n') : undefined) });
    g.commitCall(ids('x = 1'), info);
    assert.equal(g.done, false);
    g.commitCall(ids('\n\ny'), info);
    assert.equal(g.stopReason, 'stop');
    assert.equal(g.text, 'x = 1');
    assert.deepEqual(g.finalTokens, ids('x = 1'));
  });

  test('traces every call with the tokens and text it committed', () => {
    const seen: string[] = [];
    const g = generation({ onCall: (t) => seen.push(t.committedText), onText: (t) => seen.push(`=${t}`) });
    g.commitCall(ids('ab'), { acceptedDrafts: 1, draft: 'ptp', rows: 9, ms: 2 });
    g.commitCall(ids('c'), info);
    assert.deepEqual(seen, ['ab', '=ab', 'c', '=abc']);
    assert.deepEqual(g.trace[0], { index: 0, committed: ids('ab'), committedText: 'ab', acceptedDrafts: 1, draft: 'ptp', rows: 9, ms: 2 });
  });
});

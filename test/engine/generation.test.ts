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
const info = { confidence: [], acceptedDrafts: 0, draft: 'none' as const, rows: 1, ms: 1 };
/** One call's info with these per-token probabilities. */
const sure = (...confidence: number[]) => ({ ...info, confidence });

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
    g.commitCall(ids('ab'), { confidence: [0.5, 0.25], acceptedDrafts: 1, draft: 'ptp', rows: 9, ms: 2 });
    g.commitCall(ids('c'), info);
    assert.deepEqual(seen, ['ab', '=ab', 'c', '=abc']);
    assert.deepEqual(g.trace[0], { index: 0, committed: ids('ab'), committedText: 'ab', confidence: [0.5, 0.25], acceptedDrafts: 1, draft: 'ptp', rows: 9, ms: 2 });
  });

  test('the confidence rule ends the text before the token where the running product falls below the threshold', () => {
    const g = generation({ minConfidence: 0.3 });
    // 0.9 * 0.8 = 0.72, * 0.5 = 0.36, * 0.5 = 0.18 < 0.3: the text ends before 'd'; 'e' is never reached.
    assert.equal(g.commitCall(ids('abcde'), sure(0.9, 0.8, 0.5, 0.5, 1)), 4);
    assert.equal(g.stopReason, 'unsure');
    assert.equal(g.text, 'abc');
    assert.deepEqual(g.finalTokens, ids('abc'));
    assert.deepEqual(g.finalConfidences, [0.9, 0.8, 0.5]);
    assert.equal(g.unsure?.token, 'd'.charCodeAt(0));
    assert.ok(Math.abs(g.unsure!.confidence - 0.18) < 0.01, String(g.unsure?.confidence));
    assert.ok(Math.abs(g.runningConfidence - 0.36) < 0.01);
  });

  test('the confidence rule runs across calls, and a product exactly at the threshold is still sure', () => {
    const g = generation({ minConfidence: 0.25 });
    g.commitCall(ids('ab'), sure(0.5, 0.5));
    assert.equal(g.done, false, 'a product of exactly 0.25 is not below 0.25');
    g.commitCall(ids('c'), sure(0.9));
    assert.equal(g.stopReason, 'unsure');
    assert.equal(g.text, 'ab');
  });

  test('the healed word and leading whitespace do not count; the first code token does', () => {
    // 'jo' is the healed word (hidden), '  ' the typed indentation: both unsure, neither counts.
    const g = generation({ minConfidence: 0.5, hiddenPrefix: 2 });
    g.commitCall(ids('jo  '), sure(0.1, 0.1, 0.1, 0.1));
    assert.equal(g.done, false);
    g.commitCall(ids('xy'), sure(0.9, 0.4));
    assert.equal(g.stopReason, 'unsure');
    assert.equal(g.text, '  x');
    const first = generation({ minConfidence: 0.5 });
    first.commitCall(ids(' x'), sure(1, 0.2));
    assert.equal(first.text, ' ', 'an unsure first code token leaves no code');
  });

  test('a stop rule that cuts earlier wins over the confidence rule', () => {
    const g = generation({ minConfidence: 0.5, stop: (text) => (text.includes(';') ? text.indexOf(';') + 1 : undefined) });
    g.commitCall(ids('a;bc'), sure(1, 1, 1, 0.1));
    assert.equal(g.stopReason, 'stop');
    assert.equal(g.text, 'a;');
    assert.equal(g.unsure, undefined);
  });

  test('without a threshold nothing is cut, and every token keeps its probability', () => {
    const g = generation();
    g.commitCall(ids('ab'), sure(0.01, 0.02));
    assert.equal(g.done, false);
    assert.deepEqual(g.finalConfidences, [0.01, 0.02]);
  });
});

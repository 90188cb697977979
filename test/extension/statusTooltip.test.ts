/** What the status bar tooltip tells a person about the last request (src/extension/statusTooltip.ts). */
import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import type { CompletionStats } from '../../src/protocol/index';
import { lastRequestMarkdown, newerStats } from '../../src/extension/statusTooltip';

const stats: CompletionStats = {
  requestId: '7',
  seed: 1,
  scope: 'line',
  blockSize: 4,
  calls: 3,
  tokens: 9,
  tokensPerCall: 3,
  msPrefill: 12.4,
  msDecode: 20.6,
  msTotal: 34,
  stopReason: 'confidence',
  promptTokens: 300,
  reusedTokens: 290,
};

suite('status bar tooltip', () => {
  test('a suggestion that was shown: its tokens, calls and timings, and no word of withholding', () => {
    const md = lastRequestMarkdown(stats, 41);
    assert.match(md, /^Last request: 9 tokens in 3 model calls \(\*\*3\.00 tokens per call\*\*, block size 4, line scope\); prefill 12 ms, decode 21 ms; 41 ms round trip$/);
    assert.doesNotMatch(md, /withheld/i);
  });

  test('a withheld suggestion: the tooltip says so first, names the reason and gives the worker\'s detail', () => {
    const detail = 'not sure enough of what comes next: "foo" at 12%, the suggestion at 12% (needs 35%)';
    const md = lastRequestMarkdown({ ...stats, tokens: 1, withheld: { reason: 'unsure', detail } }, undefined);
    const [first] = md.split('\n\n');
    assert.match(first!, /^\*\*Last suggestion withheld\*\*: the model was not sure enough \(/);
    // The detail is escaped for markdown, every word of it still there.
    assert.equal(first!.replace(/\\(.)/g, '$1').includes(detail), true, first);
    assert.match(first!, /`ptp\.completion\.confidence` sets it/);
    const short = lastRequestMarkdown({ ...stats, withheld: { reason: 'short', detail: 'sure only of "(", less than a word' } }, undefined);
    assert.match(short, /^\*\*Last suggestion withheld\*\*: what the model was sure of is less than a word/);
  });

  test('the tooltip follows the newest request: the inline answer\'s stats until ptp/status reports a newer one', () => {
    const a = { ...stats, requestId: '9' };
    const b = { ...stats, requestId: '10.2' };
    assert.equal(newerStats(a, b), b);
    assert.equal(newerStats(b, a), b);
    assert.equal(newerStats(undefined, a), a);
    assert.equal(newerStats(a, undefined), a);
  });
});

/**
 * The worker client's pure parts: reading the worker's inline items (src/extension/inlineItems.ts)
 * and the restart policy after crashes (src/extension/restartPolicy.ts).
 */
import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { completionsOf, lastStatsOf } from '../../src/extension/inlineItems';
import { MAX_RESTARTS, RESTART_WINDOW_MS, RestartPolicy } from '../../src/extension/restartPolicy';

suite('completionsOf', () => {
  const position = { line: 3, character: 6 };

  test('a fitted item keeps its text and says how many characters right of the cursor it replaces', () => {
    const stats = { requestId: '1', tokensPerCall: 2 };
    const [c] = completionsOf([{ insertText: '"hello")', range: { start: position, end: { line: 3, character: 7 } }, data: stats }], position, 'print()');
    assert.deepEqual(c, { text: '"hello")', coverLength: 1, stats });
  });

  test('an item without a range inserts at the cursor; data that is not stats is ignored', () => {
    assert.deepEqual(completionsOf([{ insertText: { value: 'x' }, data: 'no' }], position, ''), [{ text: 'x', coverLength: 0 }]);
  });

  test('an item whose range starts left of the cursor drops the text already typed', () => {
    const [c] = completionsOf([{ insertText: 'return x', range: { start: { line: 3, character: 2 }, end: position } }], position, '  retu');
    assert.deepEqual(c, { text: 'rn x', coverLength: 0 });
  });
});

suite('lastStatsOf', () => {
  test('an answer with no item still says what the last decode did, withheld included', () => {
    const last = { requestId: '4', tokensPerCall: 1, withheld: { reason: 'unsure', detail: 'x' } };
    assert.deepEqual(lastStatsOf({ items: [], ptp: { last } }), last);
    assert.equal(lastStatsOf({ items: [] }), undefined);
    assert.equal(lastStatsOf([]), undefined);
    assert.equal(lastStatsOf(null), undefined);
  });
});

suite('RestartPolicy', () => {
  test('backs off 0.5, 1, 2, 4 s, then gives up with what to do; old crashes age out of the window', () => {
    let now = 0;
    const policy = new RestartPolicy(() => now);
    const waits = Array.from({ length: MAX_RESTARTS }, () => policy.stopped());
    assert.deepEqual(waits, [500, 1000, 2000, 4000].map((restartInMs, i) => ({ restartInMs, count: i + 1 })));
    const last = policy.stopped();
    assert.ok('giveUp' in last);
    assert.match(last.giveUp, /stopped 5 times in 3 minutes and will not be restarted\. See "PTP: Show Log", then "PTP: Restart Worker"\./);
    now += RESTART_WINDOW_MS + 1;
    assert.deepEqual(policy.stopped(), { restartInMs: 500, count: 1 });
    policy.reset();
    assert.deepEqual(policy.stopped(), { restartInMs: 500, count: 1 });
  });
});

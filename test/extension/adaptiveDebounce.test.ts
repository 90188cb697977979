import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { AdaptiveDebounce } from '../../src/extension/adaptiveDebounce';

const midWord = { explicit: false, lastChar: 'a', atLineEnd: false, atDocumentEnd: false };

suite('AdaptiveDebounce', () => {
  test('an explicit trigger never waits', () => {
    assert.equal(new AdaptiveDebounce().delayMs({ ...midWord, explicit: true }, 'adaptive', 250), 0);
  });
  test('fixed mode waits the fixed time', () => {
    assert.equal(new AdaptiveDebounce().delayMs(midWord, 'fixed', 250), 250);
  });
  test('a fast typist gets a shorter wait than a slow one', () => {
    const fast = new AdaptiveDebounce();
    const slow = new AdaptiveDebounce();
    for (let i = 0; i < 20; i++) {
      fast.recordKeystroke(i * 80);
      slow.recordKeystroke(i * 350);
    }
    assert.ok(fast.delayMs(midWord, 'adaptive', 0) < slow.delayMs(midWord, 'adaptive', 0));
  });
  test('pauses longer than 400 ms do not count as typing speed', () => {
    const d = new AdaptiveDebounce();
    for (let i = 0; i < 20; i++) d.recordKeystroke(i * 5000);
    assert.equal(d.baseMs(), 200);
  });
  test('after punctuation at a line end it waits less than mid-word', () => {
    const d = new AdaptiveDebounce();
    assert.ok(d.delayMs({ explicit: false, lastChar: '.', atLineEnd: true, atDocumentEnd: false }, 'adaptive', 0) < d.delayMs(midWord, 'adaptive', 0));
  });
  test('a slow worker shortens the wait, within 50–1000 ms', () => {
    const d = new AdaptiveDebounce();
    const before = d.delayMs(midWord, 'adaptive', 0);
    for (let i = 0; i < 10; i++) d.recordLatency(300);
    const after = d.delayMs(midWord, 'adaptive', 0);
    assert.ok(after < before);
    assert.ok(after >= 50);
    for (let i = 0; i < 10; i++) d.recordLatency(5000);
    assert.equal(d.delayMs(midWord, 'adaptive', 0), 50);
  });
});

import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { normalizeSeed, splitMix64, uniform, UStream } from '../../src/engine/ustream';

suite('u stream', () => {
  test('SplitMix64 seeded with 0 gives the canonical first output', () => {
    assert.equal(splitMix64(0n), 0xe220a8397b1dcdafn);
  });

  test('u(0, 0) is the top 24 bits of that output over 2^24', () => {
    assert.equal(uniform(0, 0), 0xe220a8 / 2 ** 24);
  });

  test('u(seed, k) is SplitMix64 of seed * 2^32 + k', () => {
    const z = splitMix64((7n << 32n) + 11n);
    assert.equal(uniform(7, 11), Number(z >> 40n) / 2 ** 24);
  });

  test('every u is in [0, 1) and exactly representable in float32', () => {
    for (let k = 0; k < 2000; k++) {
      const u = uniform(123456789, k);
      assert.ok(u >= 0 && u < 1);
      assert.equal(Math.fround(u), u);
      assert.equal(Number.isInteger(u * 2 ** 24), true);
    }
  });

  test('u is a pure function of (seed, k), whatever the order of evaluation', () => {
    const a = new UStream(42);
    const forward = Array.from({ length: 50 }, (_, k) => a.at(k));
    const b = new UStream(42);
    const backward = Array.from({ length: 50 }, (_, k) => b.at(49 - k)).reverse();
    assert.deepEqual(forward, backward);
  });

  test('different seeds give different streams', () => {
    const a = Array.from({ length: 8 }, (_, k) => uniform(1, k));
    const b = Array.from({ length: 8 }, (_, k) => uniform(2, k));
    assert.notDeepEqual(a, b);
  });

  test('seeds are reduced modulo 2^32 and must be integers', () => {
    assert.equal(normalizeSeed(-1), 0xffffffff);
    assert.equal(uniform(-1, 3), uniform(0xffffffff, 3));
    assert.equal(uniform(2 ** 32 + 5, 3), uniform(5, 3));
    assert.throws(() => uniform(1.5, 0), /seed must be a safe integer/);
    assert.throws(() => uniform(1, -1), /output index/);
  });

  test('u is roughly uniform', () => {
    const bins = new Array(10).fill(0);
    for (let k = 0; k < 20000; k++) bins[Math.floor(uniform(9, k) * 10)]++;
    for (const count of bins) assert.ok(Math.abs(count - 2000) < 200, `bin count ${count}`);
  });
});

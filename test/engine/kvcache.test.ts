import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { KvCache } from '../../src/engine/kvcache';

const shape = { numLayers: 2, numHeads: 2, headDim: 3 };
/** New rows of one call for one layer: row r holds value base + r in every slot. */
function rows(count: number, base: number): Float32Array {
  return Float32Array.from({ length: count * 6 }, (_, i) => base + Math.floor(i / 6));
}
const layerRows = (count: number, base: number): Float32Array[] => [rows(count, base), rows(count, base + 1000)];

suite('KvCache', () => {
  test('appends the first n rows of a call and views them sequence-major', () => {
    const cache = new KvCache(shape, 2);
    cache.append(layerRows(3, 10), layerRows(3, 50), 2);
    assert.equal(cache.length, 2);
    const view = cache.view();
    assert.deepEqual([...view.keys[0]!], [...rows(2, 10)]);
    assert.deepEqual([...view.keys[1]!], [...rows(2, 1010)]);
    assert.deepEqual([...view.values[0]!], [...rows(2, 50)]);
  });

  test('appends chosen rows by index', () => {
    const cache = new KvCache(shape, 1);
    cache.append(layerRows(4, 0), layerRows(4, 0), [0, 2]);
    assert.deepEqual(Array.from(cache.view().keys[0]!.filter((_, i) => i % 6 === 0)), [0, 2]);
  });

  test('grows its capacity and keeps the rows it had', () => {
    const cache = new KvCache(shape, 1);
    for (let i = 0; i < 50; i++) cache.append(layerRows(1, i), layerRows(1, i), 1);
    assert.equal(cache.length, 50);
    assert.deepEqual(Array.from(cache.view().keys[0]!.filter((_, i) => i % 6 === 0)), Array.from({ length: 50 }, (_, i) => i));
  });

  test('view(P) is a zero-copy prefix of the buffer', () => {
    const cache = new KvCache(shape, 8);
    cache.append(layerRows(4, 0), layerRows(4, 0), 4);
    const a = cache.view(2).keys[0]!;
    const b = cache.view().keys[0]!;
    assert.equal(a.buffer, b.buffer);
    assert.equal(a.byteOffset, 0);
    assert.equal(a.length, 2 * 6);
  });

  test('crop keeps a prefix; the next append overwrites what was cut', () => {
    const cache = new KvCache(shape, 8);
    cache.append(layerRows(5, 0), layerRows(5, 0), 5);
    cache.crop(2);
    assert.equal(cache.length, 2);
    cache.append(layerRows(1, 99), layerRows(1, 99), 1);
    assert.deepEqual(Array.from(cache.view().keys[0]!.filter((_, i) => i % 6 === 0)), [0, 1, 99]);
  });

  test('rejects views, crops and appends beyond what it holds', () => {
    const cache = new KvCache(shape, 8);
    cache.append(layerRows(2, 0), layerRows(2, 0), 2);
    assert.throws(() => cache.view(3), /only 2 rows/);
    assert.throws(() => cache.crop(3), /only 2 rows/);
    assert.throws(() => cache.append(layerRows(2, 0), layerRows(2, 0), 3), /beyond/);
    assert.throws(() => cache.append([rows(1, 0)], [rows(1, 0)], 1), /expected 2 layers/);
  });
});

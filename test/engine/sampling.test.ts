import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { dist, draftOf, pick, sampleRow, type Dist, type SamplingParams } from '../../src/engine/sampling';
import { uniform } from '../../src/engine/ustream';

/** The contract's dist() written the obvious way: full sorts, float64. */
function referenceDist(row: number[], { temperature: T, topK, topP }: SamplingParams): Dist {
  const V = row.length;
  let k = T === 0 ? 1 : topK;
  if (k <= 0 || k >= V) k = V;
  const ranked = row.map((x, id) => ({ x, id })).sort((a, b) => b.x - a.x || a.id - b.id);
  let kept = ranked.slice(0, k);
  if (k === 1) return { ids: Int32Array.of(kept[0]!.id), cdf: Float64Array.of(1) };
  const max = kept[0]!.x;
  const w = kept.map((t) => Math.exp((t.x - max) / T));
  const total = w.reduce((a, b) => a + b, 0);
  let probs = kept.map((t, i) => ({ id: t.id, p: w[i]! / total }));
  if (topP < 1) {
    probs = [...probs].sort((a, b) => b.p - a.p || a.id - b.id);
    const out: typeof probs = [];
    let mass = 0;
    for (const t of probs) {
      if (out.length > 0 && !(mass < topP)) break;
      out.push(t);
      mass += t.p;
    }
    probs = out;
  }
  probs.sort((a, b) => a.id - b.id);
  const sum = probs.reduce((a, t) => a + t.p, 0);
  let acc = 0;
  const cdf = Float64Array.from(probs, (t) => (acc += t.p) / sum);
  cdf[cdf.length - 1] = 1;
  kept = [];
  return { ids: Int32Array.from(probs, (t) => t.id), cdf };
}

function randomRow(V: number, seed: number, scale = 3): Float32Array {
  return Float32Array.from({ length: V }, (_, i) => (uniform(seed, i) - 0.5) * 2 * scale);
}

suite('dist', () => {
  test('T = 0 keeps only the argmax, ties going to the lowest id', () => {
    const row = Float32Array.of(1, 5, 3, 5, 2);
    const d = dist(row, 0, 5, { temperature: 0, topK: 50, topP: 0.9 });
    assert.deepEqual([...d.ids], [1]);
    assert.deepEqual([...d.cdf], [1]);
  });

  test('top-k keeps the k largest logits with ties broken by lower id', () => {
    const row = Float32Array.of(1, 4, 4, 0, 4, 3);
    const d = dist(row, 0, 6, { temperature: 1, topK: 2, topP: 1 });
    assert.deepEqual([...d.ids], [1, 2]);
  });

  test('top-p keeps a token while the mass before it is < p, and at least one', () => {
    // probabilities 0.5, 0.3, 0.2 (ids 2, 0, 1)
    const row = Float32Array.from([0.3, 0.2, 0.5], Math.log);
    assert.deepEqual([...dist(row, 0, 3, { temperature: 1, topK: 0, topP: 0.5 }).ids], [2]);
    assert.deepEqual([...dist(row, 0, 3, { temperature: 1, topK: 0, topP: 0.50001 }).ids], [0, 2]);
    assert.deepEqual([...dist(row, 0, 3, { temperature: 1, topK: 0, topP: 0 }).ids], [2]);
    assert.deepEqual([...dist(row, 0, 3, { temperature: 1, topK: 0, topP: 0.9 }).ids], [0, 1, 2]);
  });

  test('the CDF runs in ascending id order, is renormalised, and ends at exactly 1', () => {
    const row = Float32Array.from([0.1, 0.6, 0.3], Math.log);
    const d = dist(row, 0, 3, { temperature: 1, topK: 0, topP: 1 });
    assert.deepEqual([...d.ids], [0, 1, 2]);
    assert.ok(Math.abs(d.cdf[0]! - 0.1) < 1e-6 && Math.abs(d.cdf[1]! - 0.7) < 1e-6); // logits are float32
    assert.equal(d.cdf[2], 1);
  });

  test('matches a full-sort reference on random rows (V = 8192) for many settings', () => {
    const settings: SamplingParams[] = [
      { temperature: 0.2, topK: 50, topP: 0.95 },
      { temperature: 0.8, topK: 50, topP: 0.95 },
      { temperature: 1, topK: 0, topP: 0.9 },
      { temperature: 0.7, topK: 8192, topP: 1 },
      { temperature: 1.3, topK: 3, topP: 0.5 },
      { temperature: 0.5, topK: -1, topP: 0.3 },
    ];
    settings.forEach((params, s) => {
      for (let r = 0; r < 3; r++) {
        const row = randomRow(8192, 100 * s + r, 4);
        const got = dist(row, 0, 8192, params);
        const want = referenceDist([...row], params);
        assert.deepEqual([...got.ids], [...want.ids], JSON.stringify(params));
        got.cdf.forEach((f, i) => assert.ok(Math.abs(f - want.cdf[i]!) < 1e-12));
      }
    });
  });

  test('reads a row at an offset inside a [rows, V] logits buffer', () => {
    const a = randomRow(64, 1);
    const b = randomRow(64, 2);
    const both = new Float32Array(128);
    both.set(a);
    both.set(b, 64);
    const params = { temperature: 0.8, topK: 10, topP: 0.9 };
    assert.deepEqual(dist(both, 64, 64, params), dist(b, 0, 64, params));
  });
});

suite('pick', () => {
  const d: Dist = { ids: Int32Array.of(3, 7, 9), cdf: Float64Array.of(0.25, 0.25, 1) };

  test('picks the first token whose right edge exceeds u', () => {
    assert.equal(pick(0, d), 3);
    assert.equal(pick(0.2499, d), 3);
    assert.equal(pick(0.25, d), 9);
    assert.equal(pick(0.999999, d), 9);
  });

  test('a zero-width bin can never be picked', () => {
    for (let k = 0; k < 1000; k++) assert.notEqual(pick(uniform(5, k), d), 7);
  });

  test('a token outside top-k can never be picked', () => {
    const row = randomRow(200, 77, 1);
    const keep = new Set(dist(row, 0, 200, { temperature: 1, topK: 5, topP: 1 }).ids);
    for (let k = 0; k < 2000; k++) {
      assert.ok(keep.has(sampleRow(row, 0, 200, { temperature: 1, topK: 5, topP: 1 }, uniform(3, k))));
    }
  });

  test('sampling frequencies follow the distribution', () => {
    const row = Float32Array.from([0.5, 0.25, 0.125, 0.125], Math.log);
    const counts = [0, 0, 0, 0];
    for (let k = 0; k < 20000; k++) counts[sampleRow(row, 0, 4, { temperature: 1, topK: 0, topP: 1 }, uniform(11, k))]!++;
    [0.5, 0.25, 0.125, 0.125].forEach((p, i) => assert.ok(Math.abs(counts[i]! / 20000 - p) < 0.015));
  });
});

suite('draftOf', () => {
  test('gives the argmax (lowest id on ties) and its softmax probability at T = 1', () => {
    const row = Float32Array.from([0.2, 0.4, 0.4], Math.log);
    const draft = draftOf(row, 0, 3);
    assert.equal(draft.token, 1);
    assert.ok(Math.abs(draft.prob - 0.4) < 0.4 * 0.005, String(draft.prob));
  });
});

suite('draft confidence', () => {
  test('is within 0.5% of the exact softmax maximum on wide and peaked rows', () => {
    for (const [seed, scale] of [[1, 1], [2, 4], [3, 10], [4, 30]] as const) {
      const row = randomRow(8192, seed, scale);
      row[77] = row[77]! + scale; // a clear winner
      const max = Math.max(...row);
      const exact = 1 / row.reduce((s, x) => s + Math.exp(x - max), 0);
      const { token, prob } = draftOf(row, 0, 8192);
      assert.equal(row[token], max);
      assert.ok(Math.abs(prob / exact - 1) < 0.005, `scale ${scale}: ${prob} vs ${exact}`);
    }
  });
});

// PyTorch vs onnxruntime parity: training/export.py stores inputs and PyTorch outputs for a
// cold prefill and for a mixed verify+aux call over that prefill's KV cache; onnxruntime must
// reproduce the logits and new keys/values within the stated tolerance (parity.json "atol").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

const ROOT = join(import.meta.dirname, '..');
const dirs = [join(ROOT, 'test/fixtures/tiny-model'),
  ...(existsSync(join(ROOT, 'models')) ? readdirSync(join(ROOT, 'models')).map((d) => join(ROOT, 'models', d)) : [])]
  .filter((d) => existsSync(join(d, 'parity.json')));

const f32 = (b64: string) => { const b = Buffer.from(b64, 'base64'); return new Float32Array(b.buffer, b.byteOffset, b.length / 4); };

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, 'output sizes differ');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

for (const dir of dirs) {
  test(`ONNX matches PyTorch within tolerance: ${dir.slice(ROOT.length + 1)}`, async () => {
    const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const { num_layers: L, head_dim: Dh } = manifest.architecture;
    const H = manifest.architecture.num_kv_heads ?? manifest.architecture.num_heads;
    const parity = JSON.parse(readFileSync(join(dir, 'parity.json'), 'utf8'));
    const session = await ort.InferenceSession.create(join(dir, 'model.onnx'), { intraOpNumThreads: 1 });
    const caches: Record<string, ort.Tensor[]> = {};
    for (const c of parity.cases) {
      const Tv = c.input_ids.length, Ta = c.aux.length, T = Tv + Ta, P = c.past_length;
      const feeds: Record<string, ort.Tensor> = {
        input_ids: new ort.Tensor('int64', BigInt64Array.from(c.input_ids.map(BigInt)), [1, Tv]),
        aux: new ort.Tensor('float32', Float32Array.from(c.aux), [1, Ta]),
        position_ids: new ort.Tensor('int64', BigInt64Array.from(c.position_ids.map(BigInt)), [1, T]),
        attention_mask: new ort.Tensor('float32', f32(c.attention_mask), [1, 1, T, P + T]),
      };
      for (let i = 0; i < L; i++) {
        for (const [j, kind] of ['key', 'value'].entries()) {
          feeds[`past_${kind}_${i}`] = P === 0 ? new ort.Tensor('float32', new Float32Array(0), [1, 0, H, Dh]) : caches[c.past_from][2 * i + j];
        }
      }
      const out = await session.run(feeds);
      const tol = parity.atol;
      const dl = maxDiff(out.logits.data as Float32Array, f32(c.logits));
      assert.ok(dl <= tol, `${c.name}: max |logit diff| ${dl} > ${tol}`);
      assert.ok(maxDiff(out.new_key_0.data as Float32Array, f32(c.new_key_0)) <= tol, `${c.name}: new_key_0 differs`);
      assert.ok(maxDiff(out[`new_value_${L - 1}`].data as Float32Array, f32(c.new_value_last)) <= tol, `${c.name}: last new_value differs`);
      assert.deepEqual(out.logits.dims, [1, T, manifest.architecture.vocab_size]);
      caches[c.name] = Array.from({ length: 2 * L }, (_, k) => out[`new_${k % 2 ? 'value' : 'key'}_${k >> 1}`]);
    }
  });
}

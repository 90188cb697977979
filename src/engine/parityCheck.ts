/**
 * Replays a model directory's parity.json (written by training/export.py and
 * training/convert.py: inputs and reference outputs of a cold prefill and of a mixed call over
 * its cache) through the engine's own runner, and reports the largest logit difference per case.
 * `ptp-complete convert` runs it on every directory it writes.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KvCache } from './kvcache';
import { kvHeads } from './manifest';
import { loadModel, type LoadOptions } from './model';

interface ParityCase {
  name: string;
  input_ids: number[];
  aux: number[];
  position_ids: number[];
  attention_mask: string;
  past_length: number;
  past_from?: string;
  logits: string;
  source?: string;
}

export interface ParityResult {
  name: string;
  /** Max |logit difference| against the stored reference. */
  maxAbsDiff: number;
  /** Where the reference logits came from (training/hf_reference.py for a converted prefill). */
  source: string;
}

const f32 = (b64: string): Float32Array => {
  const b = Buffer.from(b64, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};

export async function checkParity(modelDir: string, options: LoadOptions = {}): Promise<{ atol: number | null; cases: ParityResult[] }> {
  const parity = JSON.parse(await readFile(join(modelDir, 'parity.json'), 'utf8')) as { atol: number | null; cases: ParityCase[] };
  const model = await loadModel(modelDir, options);
  try {
    const { num_layers, head_dim } = model.manifest.architecture;
    const caches = new Map<string, KvCache>();
    const cases: ParityResult[] = [];
    for (const c of parity.cases) {
      const past = c.past_from !== undefined ? caches.get(c.past_from) : undefined;
      const cache = new KvCache({ numLayers: num_layers, numHeads: kvHeads(model.manifest), headDim: head_dim }, 16);
      if (past) cache.append(past.view().keys, past.view().values, past.length);
      const result = await model.forward.run({
        inputIds: BigInt64Array.from(c.input_ids.map(BigInt)),
        aux: Float32Array.from(c.aux),
        positionIds: BigInt64Array.from(c.position_ids.map(BigInt)),
        mask: f32(c.attention_mask),
        past: cache.view(),
      });
      const want = f32(c.logits);
      if (want.length !== result.logits.length) throw new Error(`parity case ${c.name}: ${result.logits.length} logits, the reference has ${want.length}`);
      let m = 0;
      for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(want[i]! - result.logits[i]!));
      cases.push({ name: c.name, maxAbsDiff: m, source: c.source ?? 'the exported PyTorch model' });
      const kept = new KvCache({ numLayers: num_layers, numHeads: kvHeads(model.manifest), headDim: head_dim }, 16);
      kept.append(result.newKeys, result.newValues, c.input_ids.length);
      caches.set(c.name, kept);
    }
    return { atol: parity.atol, cases };
  } finally {
    await model.dispose();
  }
}

/**
 * The models the engine tests run on: an in-process reference model (always), the tiny
 * random-weight fixture (test/fixtures/tiny-model) and every shipped model under models/,
 * when they exist.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Engine } from '../../../src/engine/index';
import type { Manifest } from '../../../src/engine/manifest';
import { CodeTokenizer } from '../../../src/engine/tokenizer';
import { initializers, scaleInitializer } from './onnxInitializers';
import { ReferenceModel } from './referenceModel';
import { SPECIAL_IDS, SYNTHETIC_VOCAB_SIZE, syntheticTokenizerJson } from './syntheticTokenizer';

export const REPO = resolve(__dirname, '../../..');
export const FIXTURE_DIR = join(REPO, 'test/fixtures/tiny-model');

export function referenceManifest(contextLength = 160): Manifest {
  return {
    name: 'reference',
    version: '0',
    license: 'MIT',
    architecture: { vocab_size: SYNTHETIC_VOCAB_SIZE, num_layers: 2, num_heads: 2, head_dim: 4 },
    context_length: contextLength,
    special_tokens: SPECIAL_IDS,
    sampling: { temperature: 0.2, top_k: 50, top_p: 0.95 },
    ptp: { window_length: 8, acceptance_histogram: [0.3, 0.2, 0.15, 0.1, 0.1, 0.05, 0.05, 0.03, 0.02] },
    onnx: { file: 'model.onnx', sha256: '0'.repeat(64), attention_mask: 'additive', kv_layout: 'batch,seq,heads,head_dim', outputs_new_rows_only: true },
  };
}

export function referenceEngine(contextLength?: number): { engine: Engine; model: ReferenceModel } {
  const manifest = referenceManifest(contextLength);
  const { vocab_size, num_layers, num_heads, head_dim } = manifest.architecture;
  const model = new ReferenceModel({ vocabSize: vocab_size, numLayers: num_layers, numHeads: num_heads, headDim: head_dim });
  const tokenizer = new CodeTokenizer(syntheticTokenizerJson(), SPECIAL_IDS);
  return { engine: Engine.fromParts({ manifest, modelDir: '(reference model)', tokenizer, forward: model }), model };
}

/** Model directories on disk to test: the fixture and models/*, those that exist. */
export function modelDirs(): string[] {
  const dirs = [FIXTURE_DIR];
  const models = join(REPO, 'models');
  if (existsSync(models)) {
    for (const entry of readdirSync(models, { withFileTypes: true })) if (entry.isDirectory()) dirs.push(join(models, entry.name));
  }
  return dirs.filter((d) => existsSync(join(d, 'model.json')));
}

/**
 * A copy of a model directory whose token embedding (the [vocab_size, hidden] initializer) is
 * multiplied by `factor`, with model.json's sha256 updated. The random-weight fixture scales its
 * (tied) embedding up so far that every seed samples the same tokens; scaled back down it
 * samples varied text at T = 0.8, which the fault-detection tests need. Removed at exit.
 */
export function temperedCopy(dir: string, factor: number): string {
  const out = mkdtempSync(join(tmpdir(), 'ptp-tempered-'));
  process.on('exit', () => rmSync(out, { recursive: true, force: true }));
  cpSync(dir, out, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
  const onnx = join(out, manifest.onnx.file);
  const model = readFileSync(onnx);
  const embedding = initializers(model).find((i) => i.dims[0] === manifest.architecture.vocab_size && i.dims.length === 2 && i.raw);
  if (!embedding) throw new Error(`${onnx}: no [vocab_size, hidden] float32 initializer to scale`);
  scaleInitializer(model, embedding.name, factor);
  writeFileSync(onnx, model);
  manifest.onnx.sha256 = createHash('sha256').update(model).digest('hex');
  writeFileSync(join(out, 'model.json'), JSON.stringify(manifest));
  return out;
}

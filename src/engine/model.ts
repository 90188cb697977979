/**
 * Loads a model directory (MODEL_CONTRACT.md) and checks it before anything runs: the
 * directory, model.json, tokenizer.json against the manifest, model.onnx's sha256 (streamed),
 * that ORT loads the graph, and a probe call (zero past rows, no aux rows) for the logits width
 * and KV row size. Every failure is a ModelLoadError naming the file.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Forward } from './forward';
import { KvCache } from './kvcache';
import { kvHeads, ManifestError, parseManifest, type Manifest } from './manifest';
import { layoutCall } from './mask';
import { ModelLoadError } from './modelLoadError';
import { OrtRunner, type CallTiming, type Device } from './runner';
import { CodeTokenizer } from './tokenizer';

export interface LoadOptions {
  threads?: number;
  device?: Device;
  log?: (line: string) => void;
  /** ORT's per-shape memory plans (RunnerOptions.memoryPattern); default off. */
  memoryPattern?: boolean;
}

export interface LoadedModel {
  manifest: Manifest;
  modelDir: string;
  tokenizer: CodeTokenizer;
  forward: Forward;
  timings: () => readonly CallTiming[];
  dispose: () => Promise<void>;
  /** Set when the requested device did not load (the CPU runs instead): the line to show. */
  deviceNote?: string;
}

const REEXPORT = 're-export the model directory with training/export.py or restore it from the repository';

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function readJson(path: string, what: string): Promise<unknown> {
  if (!(await isFile(path))) throw new ModelLoadError(path, `${what} is missing`, REEXPORT);
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new ModelLoadError(path, `is not valid JSON (${error instanceof Error ? error.message : String(error)})`, REEXPORT);
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function loadModel(modelDir: string, options: LoadOptions = {}): Promise<LoadedModel> {
  const dirStat = await stat(modelDir).catch(() => undefined);
  if (!dirStat?.isDirectory()) {
    throw new ModelLoadError(modelDir, dirStat ? 'is not a directory' : 'model directory does not exist', 'set ptp.model.path to a directory holding model.onnx, tokenizer.json and model.json');
  }

  const manifestPath = join(modelDir, 'model.json');
  if (!(await isFile(manifestPath)) && (await isFile(join(modelDir, 'config.json')))) {
    throw new ModelLoadError(
      modelDir,
      'is a Hugging Face checkpoint (config.json, no model.json), not a model directory',
      `convert it first: ptp-complete convert --hf ${modelDir} --out <dir>, then set ptp.model.path to <dir> (docs/BYO_MODEL.md)`,
    );
  }
  let manifest: Manifest;
  try {
    manifest = parseManifest(await readJson(manifestPath, 'the manifest'));
  } catch (error) {
    if (error instanceof ManifestError) throw new ModelLoadError(manifestPath, error.message, `fix the manifest or ${REEXPORT}`);
    throw error;
  }

  const tokenizerPath = join(modelDir, 'tokenizer.json');
  const tokenizerJson = await readJson(tokenizerPath, 'the tokenizer');
  let tokenizer: CodeTokenizer;
  try {
    tokenizer = new CodeTokenizer(tokenizerJson, manifest.special_tokens, manifest.special_token_text);
  } catch (error) {
    throw new ModelLoadError(tokenizerPath, error instanceof Error ? error.message : String(error), 'use the tokenizer.json exported with this model');
  }
  if (tokenizer.vocabSize !== manifest.architecture.vocab_size) {
    throw new ModelLoadError(
      tokenizerPath,
      `has ${tokenizer.vocabSize} tokens but model.json architecture.vocab_size is ${manifest.architecture.vocab_size}`,
      'the tokenizer and the model come from different exports; use the tokenizer.json exported with this model',
    );
  }

  const onnxPath = join(modelDir, manifest.onnx.file);
  const onnxStat = await stat(onnxPath).catch(() => undefined);
  if (!onnxStat?.isFile()) throw new ModelLoadError(onnxPath, 'model file is missing', REEXPORT);
  if (onnxStat.size === 0) throw new ModelLoadError(onnxPath, 'model file is empty', REEXPORT);
  const digest = await sha256File(onnxPath);
  if (digest !== manifest.onnx.sha256.toLowerCase()) {
    throw new ModelLoadError(
      onnxPath,
      `sha256 is ${digest.slice(0, 12)}... but model.json onnx.sha256 is ${manifest.onnx.sha256.slice(0, 12)}... (the file is truncated, corrupt or from another export)`,
      REEXPORT,
    );
  }

  const { num_layers, head_dim, vocab_size } = manifest.architecture;
  const shape = { numLayers: num_layers, numHeads: kvHeads(manifest), headDim: head_dim, vocabSize: vocab_size };
  let runner: OrtRunner;
  try {
    runner = await OrtRunner.create(onnxPath, shape, options);
  } catch (error) {
    throw new ModelLoadError(onnxPath, `onnxruntime cannot use it: ${error instanceof Error ? error.message : String(error)}`, REEXPORT);
  }
  try {
    await probe(runner, manifest);
  } catch (error) {
    await runner.dispose();
    throw new ModelLoadError(onnxPath, `a test call failed: ${error instanceof Error ? error.message : String(error)}`, `check that model.json matches this graph, or ${REEXPORT}`);
  }
  runner.timings.length = 0;
  return { manifest, modelDir, tokenizer, forward: runner, timings: () => runner.timings, dispose: () => runner.dispose(), ...(runner.deviceNote ? { deviceNote: runner.deviceNote } : {}) };
}

/**
 * One cold call (P = 0, Ta = 0) then one warm call with a draft row (P = 1, Ta = 1): checks the
 * logits width and the KV row size, and that ORT accepts the zero-size tensors the decoders send.
 */
async function probe(runner: OrtRunner, manifest: Manifest): Promise<void> {
  const { num_layers, head_dim } = manifest.architecture;
  const num_heads = kvHeads(manifest);
  const cache = new KvCache({ numLayers: num_layers, numHeads: num_heads, headDim: head_dim }, 4);
  const eot = manifest.special_tokens.endoftext;
  const calls = [
    { tokens: [eot], groups: [] as number[] },
    { tokens: [eot], groups: [1] },
  ];
  for (const { tokens, groups } of calls) {
    const layout = layoutCall({ pastLen: cache.length, tokens, contextRows: tokens.length, groups, firstOutputIndex: 0, u: () => 0.5 });
    const result = await runner.run({ ...layout, past: cache.view() });
    const rowSize = result.newKeys[0]!.length / layout.rows;
    if (rowSize !== num_heads * head_dim) {
      throw new Error(`new_key_0 has ${rowSize} values per row but model.json says (num_kv_heads or num_heads) * head_dim = ${num_heads * head_dim}`);
    }
    cache.append(result.newKeys, result.newValues, tokens.length);
  }
}

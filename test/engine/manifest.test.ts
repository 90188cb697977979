import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { hasAdapters, kvHeads, ManifestError, parseManifest } from '../../src/engine/manifest';
import { referenceManifest } from './helpers/models';

function without(path: string): unknown {
  const json = structuredClone(referenceManifest()) as unknown as Record<string, unknown>;
  const keys = path.split('.');
  let node = json;
  for (const k of keys.slice(0, -1)) node = node[k] as Record<string, unknown>;
  delete node[keys[keys.length - 1]!];
  return json;
}

suite('manifest', () => {
  test('accepts a complete manifest, including a described additive mask', () => {
    const m = structuredClone(referenceManifest());
    m.onnx.attention_mask = 'additive float32: 0 attend, -1e9 masked';
    assert.equal(parseManifest(m).context_length, 160);
  });

  for (const field of ['name', 'architecture.vocab_size', 'context_length', 'special_tokens.fim_middle', 'ptp.acceptance_histogram', 'onnx.sha256']) {
    test(`names a missing ${field}`, () => {
      assert.throws(() => parseManifest(without(field)), (e: unknown) => e instanceof ManifestError && e.field === field && /is missing/.test(e.message));
    });
  }

  test('names a field with the wrong type or value', () => {
    const m = structuredClone(referenceManifest()) as unknown as { onnx: { kv_layout: string }; architecture: { num_heads: number } };
    m.onnx.kv_layout = 'batch,heads,seq,head_dim';
    assert.throws(() => parseManifest(m), /field "onnx.kv_layout" must be "batch,seq,heads,head_dim"/);
    m.onnx.kv_layout = 'batch,seq,heads,head_dim';
    m.architecture.num_heads = 2.5;
    assert.throws(() => parseManifest(m), /field "architecture.num_heads" must be a positive integer/);
  });

  test('accepts a converted model: no FIM tokens, no file_sep, GQA, no adapters', () => {
    const m = structuredClone(referenceManifest()) as unknown as Record<string, Record<string, unknown>>;
    for (const k of ['fim_prefix', 'fim_middle', 'fim_suffix', 'file_sep']) delete m.special_tokens![k];
    m.architecture!.num_kv_heads = 1;
    m.ptp!.adapters = false;
    const parsed = parseManifest(m);
    assert.equal(kvHeads(parsed), 1);
    assert.equal(hasAdapters(parsed), false);
    assert.equal(hasAdapters(referenceManifest()), true, 'absent ptp.adapters means adapters present');
    assert.equal(kvHeads(referenceManifest()), 2, 'absent num_kv_heads means num_heads');
    m.architecture!.num_kv_heads = 3;
    assert.throws(() => parseManifest(m), /field "architecture.num_kv_heads" 3 does not divide num_heads 2/);
    m.architecture!.num_kv_heads = 1;
    m.ptp!.adapters = 'no';
    assert.throws(() => parseManifest(m), /field "ptp.adapters" must be true or false/);
  });

  test('rejects special token ids outside the vocabulary', () => {
    const m = structuredClone(referenceManifest());
    m.special_tokens.file_sep = 100000;
    assert.throws(() => parseManifest(m), /outside vocab_size/);
  });
});

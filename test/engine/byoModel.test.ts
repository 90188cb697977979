/**
 * Bring your own model (issue 20): tiny random checkpoints in the Hugging Face layout
 * (training/make_tiny_hf.py: config.json, model.safetensors, tokenizer.json) for each supported
 * family are converted with `ptp-complete convert` (training/convert.py), and then:
 *   - onnxruntime's logits match the independent reference forward (training/hf_reference.py)
 *     within 1e-3, through the engine's own runner;
 *   - the engine loads the directory (no PTP adapters: manifest ptp.adapters false), sends no
 *     aux rows, and PTP with context lookup commits exactly AR's tokens;
 *   - the worker's ModelHost loads it by path (what ptp.model.path sets);
 *   - a broken checkpoint fails with one line naming the file, and the shipped model still loads.
 * Needs Python with PyTorch (/usr/bin/python3 or $PTP_PYTHON); skipped with a note without it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { ConvertFailure, convertCheckpoint } from '../../src/cli/convert';
import { Engine, type DecodeOptions, type Prompt } from '../../src/engine/index';
import { ModelHost } from '../../src/server/modelHost';
import { REPO } from './helpers/models';

const PYTHON = process.env.PTP_PYTHON ?? '/usr/bin/python3';
const HAS_TORCH = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const FAMILIES = ['llama', 'qwen2', 'qwen2-untied', 'starcoder2'];
const WORK = mkdtempSync(join(tmpdir(), 'ptp-byo-'));
after(() => rmSync(WORK, { recursive: true, force: true }));

function makeCheckpoint(family: string, bad?: string): string {
  const dir = join(WORK, `hf-${family}${bad ? `-${bad}` : ''}`);
  const r = spawnSync(PYTHON, [join(REPO, 'training/make_tiny_hf.py'), '--family', family, '--out', dir, ...(bad ? ['--bad', bad] : [])], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return dir;
}

const quiet = { python: PYTHON, root: REPO };

const PROMPTS: Prompt[] = [
  // Repetitive code, so that context lookup finds drafts to verify.
  { prefix: 'x = 1\ny = 2\nx = 1\ny = 2\nx = 1\ny = 2\nx = 1\n' },
  { prefix: 'def f(a):\n    return a\n\n\ndef g(b):\n    return', suffix: '\n\nprint(f(1))\n' },
  { prefix: 'for (let i = 0; i < n; i++) {', suffix: '}' },
  // Ends inside a word, with a suffix: token healing before <fim_suffix> in the prefix-first layout.
  { prefix: 'const items = [1, 2, 3];\nfor (const item of ite', suffix: ') {\n}\n' },
];

suite('bring your own model: converted Hugging Face checkpoints', { skip: HAS_TORCH ? false : `${PYTHON} has no PyTorch` }, () => {
  const dirs = new Map<string, string>();
  const parity = new Map<string, number>();

  before(async () => {
    for (const family of FAMILIES) {
      const out = join(WORK, `model-${family}`);
      const r = await convertCheckpoint({ ...quiet, hf: makeCheckpoint(family), out, name: `tiny-${family}` });
      dirs.set(family, out);
      parity.set(family, Math.max(...r.parity.map((c) => c.maxAbsDiff)));
    }
  });

  for (const family of FAMILIES) {
    test(`${family}: onnxruntime logits match the reference forward within 1e-3`, async (t) => {
      const diff = parity.get(family)!;
      assert.ok(diff <= 1e-3, `max |logit diff| ${diff}`);
      const manifest = JSON.parse(readFileSync(join(dirs.get(family)!, 'model.json'), 'utf8'));
      assert.equal(manifest.ptp.adapters, false);
      assert.equal(manifest.architecture.num_kv_heads, 2);
      assert.ok(manifest.converted_from.reference_max_abs_diff.cold <= 1e-4);
      t.diagnostic(`${family}: onnxruntime vs reference max |logit diff| ${diff.toExponential(2)}`);
    });

    test(`${family}: PTP with context lookup commits exactly AR's tokens, with no aux rows`, async () => {
      const engine = await Engine.load(dirs.get(family)!, { threads: 1 });
      try {
        let contextAccepted = 0;
        for (const [p, prompt] of PROMPTS.entries()) {
          for (const temperature of [0, 0.8]) {
            for (const [seed, blockSize] of [[0, 1], [7, 8]] as const) {
              // M = 1 is what the block-size chooser picks for a model without adapters.
              const opts: DecodeOptions = { decoder: 'ar', seed, temperature, topK: 50, topP: 0.95, blockSize, maxTokens: 24, cacheKey: `p${p}` };
              const ar = await engine.complete(prompt, opts);
              const ptp = await engine.complete(prompt, { ...opts, decoder: 'ptp', lookup: true });
              assert.deepEqual(ptp.tokens, ar.tokens, `T=${temperature} seed=${seed} prompt ${p}`);
              assert.equal(ptp.text, ar.text);
              assert.ok(ptp.calls <= ar.calls);
              assert.equal(ptp.budget, 0);
              for (const call of ptp.trace) {
                assert.notEqual(call.draft, 'ptp', 'a model without adapters drafts from the context only');
                if (call.draft !== 'none') contextAccepted += call.acceptedDrafts;
              }
            }
          }
        }
        assert.ok(contextAccepted > 0, 'some context drafts were verified and accepted');
      } finally {
        await engine.dispose();
      }
    });
  }

  test('qwen2 and starcoder2 prompts are prefix-first (PSM), as those models were trained', async () => {
    for (const family of ['qwen2', 'starcoder2']) {
      const engine = await Engine.load(dirs.get(family)!, { threads: 1 });
      try {
        const s = engine.manifest.special_tokens;
        const ids = engine.promptIds({ prefix: 'a = 1\n', suffix: 'b = 2\n' }, { maxTokens: 8, heal: false });
        assert.equal(ids[0], s.fim_prefix);
        assert.equal(ids.at(-1), s.fim_middle);
        assert.ok(ids.indexOf(s.fim_suffix!) > 1);
      } finally {
        await engine.dispose();
      }
    }
  });

  test('llama (no FIM tokens in its tokenizer) completes left to right when given a suffix', async () => {
    const engine = await Engine.load(dirs.get('llama')!, { threads: 1 });
    try {
      const opts: DecodeOptions = { decoder: 'ar', seed: 1, temperature: 0, topK: 50, topP: 0.95, blockSize: 8, maxTokens: 8 };
      const withSuffix = await engine.complete({ prefix: 'def f(x):', suffix: '\n' }, opts);
      const without = await engine.complete({ prefix: 'def f(x):' }, opts);
      assert.deepEqual(withSuffix.tokens, without.tokens);
    } finally {
      await engine.dispose();
    }
  });

  test('the worker loads a converted directory by path (ptp.model.path), then the shipped model again', async () => {
    const log = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
    const host = new ModelHost(log as never);
    await host.configure({ path: dirs.get('qwen2')!, device: 'cpu', threads: 1 });
    assert.equal(host.state, 'ready', host.error);
    assert.equal(host.model!.info.name, 'tiny-qwen2 converted');
    await host.configure({ path: join(REPO, 'models/ptp-code-10m'), device: 'cpu', threads: 1 });
    assert.equal(host.state, 'ready', host.error);
    await host.dispose();
  });

  const BAD: [string, string, RegExp][] = [
    ['missing-weights', 'llama', /hf-llama-missing-weights: no \*\.safetensors weights; supported: Llama, Qwen2 and StarCoder2/],
    ['missing-tokenizer', 'qwen2', /tokenizer\.json: tokenizer\.json is missing; supported:/],
    ['missing-tensor', 'qwen2', /the weights lack model\.layers\.1\.mlp\.down_proj\.weight/],
    ['unsupported-arch', 'llama', /config\.json: model_type 'mamba' \(MambaForCausalLM\) is not supported; supported: Llama, Qwen2 and StarCoder2/],
    ['mismatched-tokenizer', 'starcoder2', /tokenizer\.json: has 8192 tokens but config\.json vocab_size is 8092: the tokenizer belongs to another model/],
  ];
  for (const [bad, family, pattern] of BAD) {
    test(`a bad checkpoint (${bad}) fails with one line naming the file`, async () => {
      const hf = makeCheckpoint(family, bad);
      const out = join(WORK, `out-${bad}`);
      await assert.rejects(convertCheckpoint({ ...quiet, hf, out }), (e: unknown) => {
        assert.ok(e instanceof ConvertFailure);
        assert.doesNotMatch(e.message, /\n/);
        assert.match(e.message, pattern);
        return true;
      });
    });
  }

  test('ptp.model.path at an unconverted checkpoint: one line saying to convert it; the shipped model still loads', async () => {
    const errors: string[] = [];
    const log = { info: () => undefined, warn: () => undefined, error: (l: string) => errors.push(l), debug: () => undefined };
    const host = new ModelHost(log as never);
    const hf = makeCheckpoint('qwen2');
    await host.configure({ path: hf, device: 'cpu', threads: 1 });
    assert.equal(host.state, 'error');
    assert.match(host.error!, /is a Hugging Face checkpoint \(config\.json, no model\.json\), not a model directory - convert it first: ptp-complete convert --hf /);
    assert.doesNotMatch(host.error!, /\n/);
    await host.configure({ path: join(REPO, 'models/ptp-code-10m'), device: 'cpu', threads: 1 });
    assert.equal(host.state, 'ready', host.error);
    await host.dispose();
  });

  test('a missing Python is one line saying what to install', async () => {
    await assert.rejects(convertCheckpoint({ ...quiet, python: '/nonexistent/python3', hf: WORK, out: join(WORK, 'x') }), /not found - convert needs Python 3 with PyTorch/);
  });
});

/**
 * Token healing: a prompt that ends inside a word is completed from inside that word.
 */
import assert from 'node:assert/strict';
import { after, before, suite, test } from 'node:test';
import { join } from 'node:path';
import { Engine, type DecodeOptions } from '../../src/engine/index';
import { layoutCall } from '../../src/engine/mask';
import { KvCache } from '../../src/engine/kvcache';
import { sampleRow } from '../../src/engine/sampling';
import { uniform } from '../../src/engine/ustream';
import { FIXTURE_DIR, REPO, referenceEngine } from './helpers/models';

const greedy: DecodeOptions = { decoder: 'ar', seed: 1, temperature: 0, topK: 50, topP: 0.95, blockSize: 1, maxTokens: 12 };

suite('token healing on the shipped model', () => {
  let engine: Engine;
  before(async () => {
    engine = await Engine.load(join(REPO, 'models/ptp-code-10m'));
  });
  after(() => engine.dispose());

  // A cursor inside an identifier, as on almost every keystroke. Without healing the prompt
  // ends on a token split the model rarely saw (`jo` `i`) and it starts a new word instead.
  const cases = [
    { prefix: "import { readFileSync } from 'node:fs';\n\nconst text = readFileS", healed: ' readFileS', next: 'ync(' },
    { prefix: 'import os\n\ndef main():\n    path = os.path.joi', healed: 'joi', next: 'n(' },
    { prefix: 'function add(a, b) {\n  retu', healed: ' retu', next: 'rn ' },
    { prefix: 'class Stack {\n  constructor() {\n    this.items = [];\n  }\n  push(item) {\n    this.items.pu', healed: 'pu', next: 'sh(' },
  ];

  for (const c of cases) {
    test(`…${JSON.stringify(c.prefix.slice(-10))} continues the word`, async () => {
      const healed = await engine.complete({ prefix: c.prefix, suffix: '\n' }, greedy);
      assert.equal(healed.healed, c.healed);
      assert.ok(healed.text.startsWith(c.next), `healed: ${JSON.stringify(healed.text)}`);
      // The re-typed word comes first in the output and is not part of the completion.
      assert.equal(engine.decode(healed.tokens), c.healed + healed.text);
      const plain = await engine.complete({ prefix: c.prefix, suffix: '\n' }, { ...greedy, heal: false });
      assert.equal(plain.healed, '');
      assert.ok(!plain.text.startsWith(c.next), `without healing: ${JSON.stringify(plain.text)}`);
    });
  }

  test('punctuation and line breaks are healed too; a non-ASCII last token is left alone', async () => {
    for (const prefix of ['const add = (a, b) =', 'foo(', 'x = 1\n', 'return a.b;']) {
      const r = await engine.complete({ prefix, suffix: '\n' }, greedy);
      assert.notEqual(r.healed, '', JSON.stringify(prefix));
      assert.ok(prefix.endsWith(r.healed), `${JSON.stringify(prefix)} healed ${JSON.stringify(r.healed)}`);
      assert.equal(engine.decode(r.tokens), r.healed + r.text);
    }
    const arrow = await engine.complete({ prefix: 'const add = (a, b) =', suffix: '\n' }, greedy);
    assert.ok(arrow.text.startsWith('>'), `after "=": ${JSON.stringify(arrow.text)}`);
    const accented = await engine.complete({ prefix: 'const s = "é', suffix: '\n' }, greedy);
    assert.equal(accented.healed, '');
  });

  test('healing does not eat the token budget', async () => {
    const r = await engine.complete({ prefix: 'function add(a, b) {\n  retu', suffix: '\n' }, { ...greedy, maxTokens: 3 });
    assert.equal(r.healed, ' retu');
    assert.ok(r.tokens.length > 3, `${r.tokens.length} tokens`);
    assert.notEqual(r.text, '');
  });
});

suite('token healing: the sampled tokens re-type the word', () => {
  test('AR with healing equals a brute-force recompute with the first tokens masked', async () => {
    const { engine, model } = referenceEngine();
    const prefix = 'def the(x):\n    return';
    const opts: DecodeOptions = { ...greedy, temperature: 0.8, seed: 5 };
    const result = await engine.complete({ prefix }, opts);
    assert.ok(result.healed !== '' && prefix.endsWith(result.healed), JSON.stringify(result.healed));
    // The reference: drop the prompt's trailing text that was healed, then sample each output
    // token among the tokens whose text agrees with what is left to re-type.
    const sequence = engine.encode(prefix.slice(0, prefix.length - result.healed.length));
    const V = engine.manifest.architecture.vocab_size;
    const texts = Array.from({ length: V }, (_, id) => engine.decode([id]));
    const special = new Set(Object.values(engine.manifest.special_tokens));
    const empty = new KvCache({ numLayers: 2, numHeads: 2, headDim: 4 }, 1);
    let rest = result.healed;
    for (let k = 0; k < result.tokens.length; k++) {
      const layout = layoutCall({ pastLen: 0, tokens: sequence, contextRows: sequence.length, groups: [], firstOutputIndex: k, u: () => 0 });
      const out = await model.run({ ...layout, past: empty.view() });
      const allowed =
        rest === '' ? undefined : Uint8Array.from(texts, (t, id) => (!special.has(id) && t !== '' && (t.startsWith(rest) || rest.startsWith(t)) ? 1 : 0));
      const token = sampleRow(out.logits, (sequence.length - 1) * V, V, opts, uniform(opts.seed, k), allowed);
      assert.equal(result.tokens[k], token, `token ${k}`);
      rest = texts[token]!.startsWith(rest) ? '' : rest.slice(texts[token]!.length);
      sequence.push(token);
    }
    assert.ok(result.tokens.length >= 5);
  });

  test('PTP commits exactly AR\'s tokens on a healed prompt (tiny fixture, several seeds and temperatures)', async () => {
    const engine = await Engine.load(FIXTURE_DIR);
    try {
      const prompt = { prefix: 'const items = [1, 2, 3];\nfor (const item of ite', suffix: ') {\n}\n' };
      for (const temperature of [0, 0.2, 0.8]) {
        for (const seed of [0, 3, 42]) {
          const opts: DecodeOptions = { ...greedy, temperature, seed, maxTokens: 24 };
          const ar = await engine.complete(prompt, opts);
          assert.notEqual(ar.healed, '');
          for (const blockSize of [4, 16]) {
            const ptp = await engine.complete(prompt, { ...opts, decoder: 'ptp', blockSize });
            assert.deepEqual(ptp.tokens, ar.tokens, `T=${temperature} seed=${seed} M=${blockSize}`);
            assert.equal(ptp.text, ar.text);
          }
        }
      }
    } finally {
      await engine.dispose();
    }
  });
});

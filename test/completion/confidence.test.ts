/**
 * Ghost text a person can trust (src/completion/confidence.ts): the level's threshold, the cut
 * back to a word, and what the pipeline shows on the shipped model where it is sure and where
 * it would write junk.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { CONFIDENCE_THRESHOLDS, completeAt, confidenceThreshold, type CompleteAtOptions, type CompletionOutcome } from '../../src/completion/index';
import { cutBack, holdsWord } from '../../src/completion/confidence';
import { DocumentStore } from '../../src/context/index';
import { Engine } from '../../src/engine/index';
import { SETTINGS } from '../../src/protocol/settings';

const MODEL_DIR = join(__dirname, '../../models/ptp-code-10m');

suite('confidence levels', () => {
  test('off cuts nothing; every level asks less of an explicit request than of an automatic one, and higher levels ask more', () => {
    assert.equal(confidenceThreshold('off', false), undefined);
    assert.equal(confidenceThreshold(undefined, true), undefined);
    const levels = ['low', 'medium', 'high'] as const;
    for (const level of levels) assert.ok(confidenceThreshold(level, true)! < confidenceThreshold(level, false)!, level);
    for (let i = 1; i < levels.length; i++) {
      assert.ok(CONFIDENCE_THRESHOLDS[levels[i]!].automatic > CONFIDENCE_THRESHOLDS[levels[i - 1]!].automatic);
    }
    assert.notEqual(SETTINGS['completion.confidence'].default, 'off', 'the gate is on by default');
  });
});

suite('cutting back to a word', () => {
  test('a word the unsure token would have continued goes whole', () => {
    assert.equal(cutBack('for item in self.ite', 'ms', 'word'), 'for item in self.');
    assert.equal(cutBack('return total', 'ity', 'word'), 'return ');
  });

  test('a word the unsure token does not continue stays, as does everything at a token boundary', () => {
    assert.equal(cutBack('return total', ' +', 'word'), 'return total');
    assert.equal(cutBack('foo(', 'bar', 'word'), 'foo(');
    assert.equal(cutBack('self.ite', 'ms', 'token'), 'self.ite');
    assert.equal(cutBack('self.ite', 'ms', 'syntax'), 'self.ite');
  });

  test('less than a word of code is not a word', () => {
    assert.equal(holdsWord('('), false);
    assert.equal(holdsWord(' ;'), false);
    assert.equal(holdsWord('x'), true);
    assert.equal(holdsWord('0'), true);
  });
});

suite('the gate on the shipped model', () => {
  let engine: Engine;
  const store = new DocumentStore({ log: () => undefined });
  before(async () => {
    engine = await Engine.load(MODEL_DIR, { threads: 1 });
  });
  after(async () => {
    await engine.dispose();
  });

  /** Completes where `|` is, as an inline request with the given gate. */
  async function complete(name: string, lang: string, marked: string, gate: Partial<CompleteAtOptions> = {}): Promise<CompletionOutcome> {
    const offset = marked.indexOf('|');
    const doc = await store.open(`test:///${name}`, lang, marked.replace('|', ''));
    try {
      const r = await completeAt({ engine }, doc, offset, {
        decoding: { decoder: 'ptp', seed: 1, temperature: 0, topK: 50, topP: 0.95, blockSize: 'auto' },
        mode: 'inline',
        requestId: name,
        cacheKey: name,
        ...gate,
      });
      assert.equal(r.kind, 'done');
      return r as CompletionOutcome;
    } finally {
      store.close(doc.uri);
    }
  }

  /** examples/inventory.py up to total_value's loop header, typed as far as `self.`. */
  const inventory = readFileSync(join(__dirname, '../../examples/inventory.py'), 'utf8');
  const INVENTORY = `${inventory.slice(0, inventory.indexOf('        for item in self.items:'))}        for item in self.|\n`;
  const STATS = `// Small statistics helpers.
export function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = |
}
`;

  test('where the model is sure, the suggestion is shown whole, and it is what the file needs', async () => {
    const r = await complete('sure', 'python', INVENTORY, { confidence: 'medium' });
    assert.equal(r.text, 'items:');
    assert.equal(r.stats.withheld, undefined);
    assert.ok(r.stats.confidence! > CONFIDENCE_THRESHOLDS.medium.automatic, String(r.stats.confidence));
  });

  test('where it would write junk, an automatic request shows nothing and says why; with the gate off the junk shows', async () => {
    const off = await complete('junk-off', 'typescript', STATS, { confidence: 'off' });
    assert.ok(off.text.length > 10, `with the gate off the model writes ${JSON.stringify(off.text)}`);
    const gated = await complete('junk', 'typescript', STATS, { confidence: 'medium' });
    assert.equal(gated.text, '');
    assert.equal(gated.stats.withheld?.reason, 'unsure');
    assert.match(gated.stats.withheld!.detail, /not sure enough .* at \d+%.*needs 45%/);
    assert.equal(gated.result.stopReason, 'unsure');
    assert.ok(gated.stats.calls < off.stats.calls, `the cut saves calls: ${gated.stats.calls} vs ${off.stats.calls}`);
  });

  test('an explicit request goes further than an automatic one at the same level', async () => {
    const automatic = await complete('explicit-a', 'typescript', STATS, { confidence: 'medium' });
    const explicit = await complete('explicit-e', 'typescript', STATS, { confidence: 'medium', explicit: true });
    assert.ok(explicit.result.tokens.length > automatic.result.tokens.length, `${explicit.result.tokens.length} vs ${automatic.result.tokens.length} tokens`);
  });

  test("Generate Code is never cut, and its trace still carries each token's confidence", async () => {
    const r = await complete('generate', 'typescript', STATS, { confidence: 'high', mode: 'generate' });
    assert.notEqual(r.result.stopReason, 'unsure');
    assert.equal(r.stats.withheld, undefined);
    const confidences = r.calls.flatMap((c) => c.confidence);
    assert.equal(confidences.length, r.calls.flatMap((c) => c.tokens).length);
    assert.ok(confidences.every((p) => p > 0 && p <= 1));
  });
});

/**
 * A second attempt after Enter bans the first attempt's first code token (firstLine.ts). The
 * token it writes instead is judged among all the tokens the person's text allows, the banned
 * one included: the model's confidence in the thrown-away line must not pass to the runner-up,
 * or a guess the model gave 2% would show as sure ghost text.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Engine, type DecodeOptions } from '../../src/engine/index';

const MODEL_DIR = join(__dirname, '../../models/ptp-code-10m');
let engine: Engine;
before(async () => {
  engine = await Engine.load(MODEL_DIR, { threads: 1 });
});
after(async () => {
  await engine.dispose();
});

test("a banned retry's first code token keeps the probability the model gave it, not a share of the banned one's", async () => {
  // After Enter below `total = 0.0`.
  const prompt = { prefix: 'class Inventory:\n    def total_value(self) -> float:\n        total = 0.0\n', suffix: '        for item in self.items:\n            total += item.price\n        return total\n' };
  const options: DecodeOptions = { decoder: 'ar', seed: 0, temperature: 0, topK: 50, topP: 0.95, blockSize: 1, maxTokens: 4, firstLine: true };
  const first = await engine.complete(prompt, options);
  const codeAt = engine.firstCodeToken(first.tokens, first.healed);
  assert.ok(codeAt >= 0, JSON.stringify(first.text));
  const banned = first.tokens[codeAt]!;
  for (const decoder of ['ar', 'ptp'] as const) {
    const second = await engine.complete(prompt, { ...options, decoder, blockSize: decoder === 'ar' ? 1 : 4, firstLineBan: [banned] });
    const at = engine.firstCodeToken(second.tokens, second.healed);
    const instead = second.tokens[at]!;
    assert.notEqual(instead, banned);
    assert.deepEqual(second.tokens.slice(0, at), first.tokens.slice(0, codeAt), 'the same text before the code');
    // The same token written without the ban (forced there): the probability the model gives it.
    const unbanned = await engine.complete(prompt, options, { forceToken: (k) => (k === at ? instead : undefined) });
    assert.equal(unbanned.tokens[at], instead);
    assert.ok(Math.abs(second.confidence[at]! - unbanned.confidence[at]!) < 1e-4, `${decoder}: ${second.confidence[at]} with the ban, ${unbanned.confidence[at]} without`);
    assert.ok(first.confidence[codeAt]! + second.confidence[at]! <= 1 + 1e-6);
  }
});

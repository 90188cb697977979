/**
 * The cache model through the pipeline (completeAt's `cacheModel`, src/engine/cacheModel.ts) on
 * the shipped model: a call another open file makes after the same code comes back as the
 * suggestion, where the model alone writes something else; the gate shows it; AR and PTP agree.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { completeAt, type CompleteAtOptions } from '../../src/completion/index';
import { DocumentStore } from '../../src/context/index';
import { type DraftReference, Engine, TokenIndex } from '../../src/engine/index';
import { INVOICE_TS, PRICING_TS } from './pricingFixture';

const MODEL_DIR = join(__dirname, '../../models/ptp-code-10m');

const RIGHT = 'return applyLoyaltyDiscount(taxed, order.customer);';

suite('the cache model (shipped model)', () => {
  let engine: Engine;
  const store = new DocumentStore({ log: () => undefined });
  before(async () => {
    engine = await Engine.load(MODEL_DIR, { threads: 1 });
  });
  after(async () => {
    store.dispose();
    await engine.dispose();
  });

  /** What an automatic request after Enter offers (the worker's references: this document, the other open file). */
  async function offered(text: string, extra: Partial<CompleteAtOptions>): Promise<string> {
    const offset = text.indexOf('|');
    const doc = await store.open('test:///invoice.ts', 'typescript', text.replace('|', ''));
    try {
      const index = new TokenIndex();
      index.set(doc.uri, engine.encode(doc.text));
      index.set('test:///pricing.ts', engine.encode(PRICING_TS));
      const references: DraftReference[] = [
        { source: 'document', index, only: doc.uri },
        { source: 'open', index, exclude: doc.uri },
      ];
      const r = await completeAt({ engine }, doc, offset, {
        decoding: { decoder: 'ptp', seed: 1, temperature: 0, topK: 50, topP: 0.95, blockSize: 'auto' },
        mode: 'inline',
        requestId: 'cache',
        cacheKey: doc.uri,
        references,
        ...extra,
      });
      assert.equal(r.kind, 'done');
      return r.kind === 'done' ? (r.item?.insertText ?? '') : '';
    } finally {
      store.close(doc.uri);
    }
  }

  test('the line another open file writes after the same code is suggested; without the cache model it is not', async () => {
    assert.equal(await offered(INVOICE_TS, { cacheModel: true }), RIGHT);
    assert.ok(!(await offered(INVOICE_TS, { cacheModel: false })).includes('applyLoyaltyDiscount'));
  });

  test('the confidence gate shows the copied call (a part of it, never something else); AR shows the same', async () => {
    const shown = await offered(INVOICE_TS, { cacheModel: true, confidence: 'medium' });
    assert.ok(shown.startsWith('return applyLoyaltyDiscount'), JSON.stringify(shown));
    assert.ok(RIGHT.startsWith(shown), JSON.stringify(shown));
    const ar = await offered(INVOICE_TS, { cacheModel: true, confidence: 'medium', decoding: { decoder: 'ar', seed: 1, temperature: 0, topK: 50, topP: 0.95, blockSize: 1 } });
    assert.equal(ar, shown);
    // Without it the model is unsure there and shows nothing.
    assert.equal(await offered(INVOICE_TS, { cacheModel: false, confidence: 'medium' }), '');
  });

  test('while typing the name, the rest of the call is suggested', async () => {
    const typed = INVOICE_TS.replace('  |', '  return apply|');
    const shown = await offered(typed, { cacheModel: true });
    assert.equal(shown, 'LoyaltyDiscount(taxed, order.customer);');
  });
});

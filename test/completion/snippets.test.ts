/**
 * Retrieved snippets through the pipeline (completeAt's `snippets`, src/engine/snippets.ts) on
 * the shipped tokenizer: the code of another open file that resembles the code before the
 * cursor reaches the prompt the engine runs; the document itself never does; off by default.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { completeAt, promptAt, type CompleteAtOptions } from '../../src/completion/index';
import { DocumentStore } from '../../src/context/index';
import { type DraftReference, Engine, TokenIndex } from '../../src/engine/index';
import { INVOICE_TS, PRICING_TS } from './pricingFixture';

const MODEL_DIR = join(__dirname, '../../models/ptp-code-10m');

suite('snippets in the prompt (shipped tokenizer)', () => {
  let engine: Engine;
  const store = new DocumentStore({ log: () => undefined });
  before(async () => {
    engine = await Engine.load(MODEL_DIR, { threads: 1 });
  });
  after(async () => {
    await engine.dispose();
  });

  const options = (references: DraftReference[], extra: Partial<CompleteAtOptions> = {}): CompleteAtOptions => ({
    decoding: { decoder: 'ptp', seed: 1, temperature: 0, topK: 50, topP: 0.95, blockSize: 'auto' },
    mode: 'inline',
    requestId: 'snippets',
    cacheKey: 'snippets',
    references,
    snippets: true,
    ...extra,
  });

  async function open(): Promise<{ doc: Awaited<ReturnType<DocumentStore['open']>>; offset: number; index: TokenIndex }> {
    const offset = INVOICE_TS.indexOf('|');
    const doc = await store.open('test:///invoice.ts', 'typescript', INVOICE_TS.replace('|', ''));
    const index = new TokenIndex();
    index.set('test:///invoice.ts', engine.encode(doc.text));
    index.set('test:///pricing.ts', engine.encode(PRICING_TS));
    return { doc, offset, index };
  }

  test('the identifier another open file uses after the same code reaches the prompt the engine runs', async () => {
    const { doc, offset, index } = await open();
    try {
      for (const layout of ['lines', 'file_sep', 'comment'] as const) {
        const p = promptAt({ engine }, doc, offset, options([{ source: 'open', index, exclude: doc.uri }], { snippetLayout: layout }));
        assert.ok(p?.snippet !== undefined, layout);
        assert.equal(p.snippet.id, 'test:///pricing.ts');
        assert.equal(p.snippet.source, 'open');
        assert.ok(p.snippet.text.includes('applyLoyaltyDiscount'), p.snippet.text);
        const ids = engine.promptIds(p.prompt, { maxTokens: p.maxTokens });
        const text = engine.decode(ids);
        assert.ok(text.includes('applyLoyaltyDiscount'), `${layout}: ${text}`);
        assert.ok(text.indexOf('applyLoyaltyDiscount') < text.indexOf('invoiceTotal'), 'ahead of the prefix');
        assert.equal(ids.includes(engine.manifest.special_tokens.file_sep!), layout === 'file_sep');
        if (layout === 'comment') assert.ok(text.includes('// Compare this snippet from pricing.ts:\n'), text);
      }
      const r = await completeAt({ engine }, doc, offset, options([{ source: 'open', index, exclude: doc.uri }]));
      assert.equal(r.kind, 'done');
      if (r.kind === 'done') assert.equal(r.snippet?.id, 'test:///pricing.ts');
    } finally {
      store.close(doc.uri);
    }
  });

  test('the document itself is never a source: not through its exclusion, not as the document reference', async () => {
    const { doc, offset } = await open();
    try {
      const self = new TokenIndex();
      self.set(doc.uri, engine.encode(doc.text));
      const refs: DraftReference[] = [
        { source: 'document', index: self, only: doc.uri },
        { source: 'open', index: self, exclude: doc.uri },
        { source: 'workspace', index: self, exclude: doc.uri },
      ];
      assert.equal(promptAt({ engine }, doc, offset, options(refs))?.snippet, undefined);
    } finally {
      store.close(doc.uri);
    }
  });

  test('off unless asked for: no snippet, the prompt as before', async () => {
    const { doc, offset, index } = await open();
    try {
      const refs: DraftReference[] = [{ source: 'open', index, exclude: doc.uri }];
      const off = promptAt({ engine }, doc, offset, { ...options(refs), snippets: undefined });
      assert.ok(off !== undefined);
      assert.equal(off.snippet, undefined);
      assert.equal(off.prompt.context, undefined);
    } finally {
      store.close(doc.uri);
    }
  });
});

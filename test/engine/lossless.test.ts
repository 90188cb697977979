/**
 * The central property: PTP commits exactly the tokens AR commits for the same seed and
 * settings (docs/ALGORITHM.md §3, "Verification"), on every model we can find: the in-process
 * reference model, the tiny random-weight fixture and each shipped model under models/.
 * Then the same comparison is shown to catch planted off-by-one bugs.
 */
import assert from 'node:assert/strict';
import { after, before, suite, test, type TestContext } from 'node:test';
import { basename } from 'node:path';
import { Engine, STEPS_PER_NAT, TokenIndex, confidenceSteps, stepsToProbability, type DecodeOptions, type DecodeResult, type DecoderHooks, type Prompt } from '../../src/engine/index';
import type { Forward } from '../../src/engine/forward';
import { KvCache } from '../../src/engine/kvcache';
import { layoutCall } from '../../src/engine/mask';
import { loadModel } from '../../src/engine/model';
import { uniform } from '../../src/engine/ustream';
import { RepetitionStopper } from '../../src/context/repetition';
import { FIXTURE_DIR, modelDirs, referenceEngine, temperedCopy } from './helpers/models';

const TEMPERATURES = [0, 0.2, 0.8];
// 8 with no budget: the engine's default budget (2M)
const BLOCK_SIZES: number[] = [1, 4, 16, 8];
const SEEDS = [0, 1, 2, 3, 17, 99, 1234, 65535, 4294967295];
const PROMPTS: Prompt[] = [
  { prefix: 'def fib(n):\n    if n < 2:\n        return n\n    return' },
  { prefix: 'import os\n\n\ndef main():\n    ', suffix: '\n\nif __name__ == "__main__":\n    main()\n' },
  { prefix: 'for (let i = 0; i < n; i++) {', suffix: '}' },
  { prefix: '' },
  // Ends inside a word: token healing masks the first outputs, in AR and PTP alike.
  { prefix: 'const items = [1, 2, 3];\nfor (const item of ite', suffix: ') {\n}\n' },
];

interface Case {
  temperature: number;
  blockSize: number;
  seed: number;
  prompt: Prompt;
}

/** 3 temperatures x 4 block sizes x 9 seeds = 108 cases, prompts rotating. */
const CASES: Case[] = TEMPERATURES.flatMap((temperature) =>
  SEEDS.flatMap((seed, s) => BLOCK_SIZES.map((blockSize) => ({ temperature, blockSize, seed, prompt: PROMPTS[s % PROMPTS.length]! }))),
);

/** A prefix-monotone stop rule: cut before the first "e" once the text has 6 characters. */
function stopAtE(text: string): number | undefined {
  const i = text.indexOf('e', 6);
  return i >= 0 ? i : undefined;
}

function options(c: Case, decoder: 'ar' | 'ptp', maxTokens: number): DecodeOptions {
  // One cacheKey for all cases: every request also exercises prefix reuse and cache cropping.
  // Every third seed also uses a stop rule, which PTP checks after multi-token calls.
  const stop = SEEDS.indexOf(c.seed) % 3 === 0 ? stopAtE : undefined;
  return { decoder, seed: c.seed, temperature: c.temperature, topK: 50, topP: 0.95, blockSize: c.blockSize, maxTokens, cacheKey: 'doc', stop };
}

const describe = (c: Case): string => `T=${c.temperature} M=${c.blockSize} seed=${c.seed} prompt=${JSON.stringify(c.prompt.prefix.slice(0, 12))}`;

/** A drafter that proposes the true AR token with probability 0.85, else the model's draft. */
function mostlyRight(ar: DecodeResult, eot: number, seed: number): DecoderHooks['draftToken'] {
  return (k, proposed) => {
    if (uniform(seed ^ 0x5eed, k) >= 0.85) return proposed;
    return k < ar.tokens.length ? ar.tokens[k]! : ar.stopReason === 'eot' && k === ar.tokens.length ? eot : proposed;
  };
}

interface Comparison {
  mismatches: string[];
  acceptedDrafts: number;
  ptpCalls: number;
  arCalls: number;
  stopReasons: Set<string>;
  /** Largest |ln p(AR) - ln p(PTP)| over the tokens both committed: the logits' noise. */
  maxConfidenceGap: number;
}

function confidenceGap(ar: DecodeResult, ptp: DecodeResult): number {
  let gap = 0;
  const n = Math.min(ar.confidence.length, ptp.confidence.length);
  for (let i = 0; i < n && ar.tokens[i] === ptp.tokens[i]; i++) gap = Math.max(gap, Math.abs(Math.log(ar.confidence[i]!) - Math.log(ptp.confidence[i]!)));
  return gap;
}

async function compare(
  engine: Engine,
  maxTokens: number,
  hooks: (c: Case, ar: DecodeResult) => DecoderHooks | undefined,
  ptpOptions: Partial<DecodeOptions> = {},
  /**
   * Options for both decoders, fresh per request (a stateful stop rule), by case: the same for
   * cases of one temperature and seed (AR runs once for them).
   */
  shared?: (c: Case) => Partial<DecodeOptions>,
  results?: { ar: DecodeResult; ptp: DecodeResult }[],
): Promise<Comparison> {
  const arCache = new Map<string, DecodeResult>();
  const out: Comparison = { mismatches: [], acceptedDrafts: 0, ptpCalls: 0, arCalls: 0, stopReasons: new Set(), maxConfidenceGap: 0 };
  for (const c of CASES) {
    const arKey = `${c.temperature}/${c.seed}`;
    let ar = arCache.get(arKey);
    if (!ar) {
      ar = await engine.complete(c.prompt, { ...options(c, 'ar', maxTokens), ...shared?.(c) });
      arCache.set(arKey, ar);
    }
    const ptp = await engine.complete(c.prompt, { ...options(c, 'ptp', maxTokens), ...shared?.(c), ...ptpOptions }, hooks(c, ar));
    results?.push({ ar, ptp });
    out.arCalls += ar.calls;
    out.ptpCalls += ptp.calls;
    out.acceptedDrafts += ptp.trace.reduce((s, t) => s + t.acceptedDrafts, 0);
    out.stopReasons.add(ar.stopReason);
    out.maxConfidenceGap = Math.max(out.maxConfidenceGap, confidenceGap(ar, ptp));
    const same = JSON.stringify(ptp.tokens) === JSON.stringify(ar.tokens) && ptp.stopReason === ar.stopReason && ptp.text === ar.text && ptp.confidence.length === ar.confidence.length;
    if (!same) out.mismatches.push(`${describe(c)}: AR ${JSON.stringify(ar.tokens)} (${ar.stopReason}) vs PTP ${JSON.stringify(ptp.tokens)} (${ptp.stopReason})`);
  }
  return out;
}

/**
 * Whether sampled AR output depends on u at all. A random-weight model can be so peaked that
 * every seed gives the same tokens; on such a model no decoding bug is observable.
 */
async function outputDependsOnU(engine: Engine, maxTokens: number): Promise<boolean> {
  for (const prompt of PROMPTS) {
    const outputs = new Set<string>();
    for (const seed of SEEDS.slice(0, 4)) {
      const r = await engine.complete(prompt, { ...options({ temperature: 0.8, blockSize: 1, seed, prompt }, 'ar', maxTokens), stop: undefined });
      outputs.add(JSON.stringify(r.tokens));
    }
    if (outputs.size > 1) return true;
  }
  return false;
}

/**
 * Largest logit change when the last rows of a prompt move one position: how much the model
 * cares about position ids at all. Random weights with small attention scores barely do.
 */
async function positionSensitivity(engine: Engine, forward: Forward): Promise<number> {
  const { num_layers, num_heads, head_dim, vocab_size: V } = engine.manifest.architecture;
  const ids = engine.encode(PROMPTS[0]!.prefix);
  const cache = new KvCache({ numLayers: num_layers, numHeads: num_heads, headDim: head_dim }, 1);
  const run = async (shift: number) =>
    (await forward.run({ ...layoutCall({ pastLen: 0, tokens: ids, contextRows: 4, groups: [], firstOutputIndex: 0, u: () => 0, specPositionOffset: shift }), past: cache.view() })).logits.slice();
  const [a, b] = [await run(0), await run(1)];
  let max = 0;
  for (let i = 4 * V; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/**
 * Asserts the planted fault was caught. Where the model cannot show it (output independent of
 * u, or logits that barely move with position), skips and says why and by how much.
 */
async function expectCaught(t: TestContext, subject: Opened, maxTokens: number, r: Comparison, fault: 'u' | 'position'): Promise<void> {
  if (r.mismatches.length > 0) return;
  const what = fault === 'u' ? 'a shifted u index' : 'shifted position ids';
  if (!(await outputDependsOnU(subject.engine, maxTokens))) {
    t.skip(`this model's output does not depend on u (every seed samples the same tokens), so ${what} cannot show`);
    return;
  }
  if (fault === 'position') {
    const sensitivity = await positionSensitivity(subject.engine, subject.forward);
    if (sensitivity < 0.01) {
      t.skip(`moving rows by one position changes this model's logits by at most ${sensitivity.toExponential(1)}, so ${what} cannot show`);
      return;
    }
  }
  assert.fail(`${what} went unnoticed`);
}

interface Opened {
  engine: Engine;
  forward: Forward;
}

interface Subject {
  name: string;
  maxTokens: number;
  open: () => Promise<Opened>;
}

async function openDir(dir: string): Promise<Opened> {
  const model = await loadModel(dir, { threads: 1 });
  return { engine: Engine.fromParts(model), forward: model.forward };
}

const SUBJECTS: Subject[] = [
  {
    name: 'the reference model',
    maxTokens: 32,
    open: async () => {
      const { engine, model } = referenceEngine();
      return { engine, forward: model };
    },
  },
  ...modelDirs().map((dir) => ({ name: basename(dir), maxTokens: 24, open: () => openDir(dir) })),
  ...modelDirs()
    .filter((dir) => dir === FIXTURE_DIR)
    .map((dir) => ({ name: `${basename(dir)} with its embedding scaled by 1/8`, maxTokens: 24, open: () => openDir(temperedCopy(dir, 1 / 8)) })),
];

for (const subject of SUBJECTS) {
  suite(`lossless on ${subject.name}`, () => {
    let opened: Opened;
    let engine: Engine;
    before(async () => {
      opened = await subject.open();
      engine = opened.engine;
    });
    after(async () => {
      await engine.dispose();
    });

    test(`PTP commits exactly the AR tokens in all ${CASES.length} cases (the model's own drafts)`, async (t) => {
      const r = await compare(engine, subject.maxTokens, () => undefined);
      assert.deepEqual(r.mismatches, []);
      t.diagnostic(`AR stop reasons seen: ${[...r.stopReasons].join(', ')}`);
      // Both report the probability the model gave each token, from rows of different shapes.
      assert.ok(r.maxConfidenceGap < 1e-3, `AR and PTP confidences differ by up to ${r.maxConfidenceGap} nats`);
      t.diagnostic(`largest |ln p(AR) - ln p(PTP)|: ${r.maxConfidenceGap.toExponential(2)} nats (a rounding step is ${(1 / STEPS_PER_NAT).toFixed(4)})`);
    });

    test(`the confidence rule cuts AR and PTP at the same token in all ${CASES.length} cases, thresholds at the tokens' own running confidence included`, async (t) => {
      // For each case, AR's uncut tokens give the running products; thresholds sit exactly at one
      // of them (the rounded and the raw product: the cases where logits' last bits could flip a
      // raw comparison), and at fixed levels in between.
      const eot = engine.manifest.special_tokens.endoftext;
      const mismatches: string[] = [];
      const reasons = new Set<string>();
      for (const [i, c] of CASES.entries()) {
        const plain = await engine.complete(c.prompt, { ...options(c, 'ar', subject.maxTokens), stop: undefined });
        const running: number[] = [];
        let steps = 0;
        let product = 1;
        for (const p of plain.confidence) running.push(stepsToProbability((steps += confidenceSteps(p))), (product *= p));
        const thresholds = [[0.3, 0.6, 0.9][i % 3]!, running[(2 * i) % Math.max(1, running.length)] ?? 0.5];
        for (const minConfidence of thresholds) {
          const shared = { ...options(c, 'ar', subject.maxTokens), minConfidence };
          const ar = await engine.complete(c.prompt, shared);
          const ptp = await engine.complete(c.prompt, { ...shared, decoder: 'ptp' }, { draftToken: mostlyRight(plain, eot, c.seed) });
          reasons.add(ar.stopReason);
          if (JSON.stringify(ar.tokens) !== JSON.stringify(ptp.tokens) || ar.stopReason !== ptp.stopReason || ar.text !== ptp.text) {
            mismatches.push(`${describe(c)} minConfidence=${minConfidence}: AR ${JSON.stringify(ar.text)} (${ar.stopReason}) vs PTP ${JSON.stringify(ptp.text)} (${ptp.stopReason})`);
          }
        }
      }
      assert.deepEqual(mismatches, []);
      assert.ok(reasons.has('unsure'), `the rule never cut (stop reasons: ${[...reasons].join(', ')}): the test would not exercise it`);
      t.diagnostic(`stop reasons: ${[...reasons].join(', ')}`);
    });

    test(`PTP commits exactly the AR tokens in all ${CASES.length} cases without context lookup (PTP groups draft every call)`, async () => {
      const r = await compare(engine, subject.maxTokens, () => undefined, { lookup: false });
      assert.deepEqual(r.mismatches, []);
    });

    test(`PTP commits exactly the AR tokens in all ${CASES.length} cases with a drafter that is mostly right`, async () => {
      const eot = engine.manifest.special_tokens.endoftext;
      const r = await compare(engine, subject.maxTokens, (c, ar) => ({ draftToken: mostlyRight(ar, eot, c.seed) }));
      assert.deepEqual(r.mismatches, []);
      assert.ok(r.acceptedDrafts > CASES.length, `only ${r.acceptedDrafts} drafts accepted: the test would not exercise acceptance`);
      assert.ok(r.ptpCalls < r.arCalls * 0.75, `PTP ${r.ptpCalls} calls vs AR ${r.arCalls}`);
    });

    test(`PTP commits exactly the AR tokens in all ${CASES.length} cases under the first-line rule, a banned first token and the loop guard`, async () => {
      // What the editor asks after Enter (engine/firstLine.ts), plus context/repetition.ts's loop
      // cut as the stop rule: masks and cuts that depend on the tokens before them.
      const eot = engine.manifest.special_tokens.endoftext;
      const ban = engine.encode(' return').slice(0, 1);
      const shared = (): Partial<DecodeOptions> => {
        const loops = new RepetitionStopper();
        return { firstLine: true, firstLineBan: ban, stop: (text) => loops.check(text) };
      };
      const results: { ar: DecodeResult; ptp: DecodeResult }[] = [];
      const r = await compare(engine, subject.maxTokens, (c, ar) => ({ draftToken: mostlyRight(ar, eot, c.seed) }), {}, shared, results);
      assert.deepEqual(r.mismatches, []);
      for (const { ar } of results) {
        // The rule holds: code before any line break, and no end-of-text before the first line ends.
        const first = ar.text.search(/[^ \t\r\n]/);
        assert.ok(first >= 0 || ar.stopReason === 'maxTokens', `no code: ${JSON.stringify(ar.text)} (${ar.stopReason})`);
        if (first >= 0) assert.ok(!/[\r\n]/.test(ar.text.slice(0, first)), `a line break before the code: ${JSON.stringify(ar.text)}`);
        if (ar.stopReason === 'eot') assert.match(ar.text, /[^ \t\r\n][^]*\n/, `end-of-text inside the first line: ${JSON.stringify(ar.text)}`);
      }
    });

    test(`PTP commits exactly the AR tokens in all ${CASES.length} cases drafting from reference indexes (other documents)`, async () => {
      // Each case's AR sequence, every 7th token altered, as an 'open' document; unrelated text
      // as the 'workspace': reference drafts are mostly right, sometimes wrong, sometimes none.
      const open = new TokenIndex();
      const workspace = new TokenIndex();
      workspace.set('unrelated', engine.encode('export function unrelated(a, b) {\n  return a + b;\n}\n'.repeat(4)));
      for (const c of CASES) {
        const ar = await engine.complete(c.prompt, options(c, 'ar', subject.maxTokens));
        const seq = [...engine.promptIds(c.prompt, { maxTokens: subject.maxTokens }), ...ar.tokens];
        open.set(describe(c), seq.map((t, i) => (i % 7 === 6 ? (t + 1) % engine.manifest.architecture.vocab_size : t)));
      }
      const references = [
        { source: 'open' as const, index: open },
        { source: 'workspace' as const, index: workspace },
      ];
      const results: { ar: DecodeResult; ptp: DecodeResult }[] = [];
      const r = await compare(engine, subject.maxTokens, () => undefined, { references, typedAhead: '    ' }, undefined, results);
      assert.deepEqual(r.mismatches, []);
      const fromOpen = results.flatMap(({ ptp }) => ptp.trace.filter((t) => t.draft === 'open'));
      assert.ok(fromOpen.length > CASES.length, `only ${fromOpen.length} calls verified an 'open' draft: the test would not exercise references`);
      assert.ok(fromOpen.reduce((s, t) => s + t.acceptedDrafts, 0) > CASES.length, 'reference drafts were never accepted');
    });

    test(`PTP commits exactly the AR tokens in all ${CASES.length} cases with the cache model mixed in (the text changes, both decoders alike)`, async (t) => {
      // Each case's plain AR text, every 5th token altered, as an open document: the cache's
      // continuations are mostly the model's own choice, sometimes not, and then they move it.
      const open = new TokenIndex();
      const plain: string[] = [];
      for (const c of CASES) {
        const ar = await engine.complete(c.prompt, options(c, 'ar', subject.maxTokens));
        plain.push(ar.text);
        const seq = [...engine.promptIds(c.prompt, { maxTokens: subject.maxTokens }), ...ar.tokens];
        open.set(describe(c), seq.map((t, i) => (i % 5 === 4 ? (t + 1) % engine.manifest.architecture.vocab_size : t)));
      }
      // The shipped weights on even seeds, a heavy table on odd ones (so that the mixture moves a random model).
      const heavy = { own: [0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8], other: [0, 0, 0, 0.6, 0.7, 0.8, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9] };
      const eot = engine.manifest.special_tokens.endoftext;
      const results: { ar: DecodeResult; ptp: DecodeResult }[] = [];
      const cacheOptions = (c: Case): Partial<DecodeOptions> => ({ references: [{ source: 'open', index: open }], cacheModel: SEEDS.indexOf(c.seed) % 2 === 0 ? true : heavy });
      const r = await compare(engine, subject.maxTokens, (c, ar) => ({ draftToken: mostlyRight(ar, eot, c.seed) }), {}, cacheOptions, results);
      assert.deepEqual(r.mismatches, []);
      const changed = results.filter(({ ar }, i) => ar.text !== plain[i]).length;
      assert.ok(changed >= 5, `the cache model changed only ${changed} of ${CASES.length} texts: the test would not exercise the mixture`);
      t.diagnostic(`the cache model changed ${changed} of ${CASES.length} texts`);
    });

    test('the comparison catches a planted off-by-one in the verify u index', async (t) => {
      const eot = engine.manifest.special_tokens.endoftext;
      const r = await compare(engine, subject.maxTokens, (c, ar) => ({ draftToken: mostlyRight(ar, eot, c.seed), verifyUOffset: 1 }));
      await expectCaught(t, opened, subject.maxTokens, r, 'u');
    });

    test('the comparison catches a planted off-by-one in the speculation position ids', async (t) => {
      const eot = engine.manifest.special_tokens.endoftext;
      const r = await compare(engine, subject.maxTokens, (c, ar) => ({ draftToken: mostlyRight(ar, eot, c.seed), specPositionOffset: 1 }));
      await expectCaught(t, opened, subject.maxTokens, r, 'position');
    });
  });
}

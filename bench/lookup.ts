/**
 * Context lookup drafts (src/engine/lookup.ts): how often they are right, and what the
 * speculation cut-off costs and buys.
 *
 *   npm run bench:lookup                 (= node --import tsx bench/lookup.ts; about 8 min)
 *
 * Every completion is the worker's completeAt (src/completion) with the prompt keeping the
 * whitespace before the cursor and no first-line rule (its what-if options; what this bench was
 * calibrated on), the scope's stop rules and cap (at most 128 tokens); the engine options it
 * varies (no token healing, the cut-off) are set on the engine call (bench/lib/engineSpy.ts).
 *
 * 1. Calibration: AR completions (T 0.2, top-k 50, top-p 0.95, the scope's stop rules and cap)
 *    of every 2nd eval case (bench/data/eval-line.jsonl and eval-multiline.jsonl, validation
 *    packages). At every output position, contextDraft() over the prompt ids and the output so
 *    far proposes up to 8 tokens; the table counts, by the number of context tokens matched
 *    behind each proposed token (the first match length plus its position in the draft),
 *    how often it equals AR's token given the ones before it did. lookup.ts's
 *    CONFIDENCE_BY_MATCH is this table.
 * 2. Cut-off: every 3rd eval case, PTP (M=2 B=4, the policy's usual choice) with lookup off and
 *    with lookup at minSurvival 0.1 / 0.2 / 0.3, each run between two AR runs of the same case;
 *    decode time against the AR neighbours, tokens per call, rows per call. All must equal AR's
 *    tokens.
 */
import type { SyntaxDocument } from '../src/context';
import type { CompletionDecoding } from '../src/completion/index';
import { contextDraft, Engine, MIN_SURVIVAL, type DecodeOptions, type DecodeResult } from '../src/engine';
import { type FimCase, newStore, openCase, readCases } from './lib/cases';
import { EngineSpy } from './lib/engineSpy';
import { loadPolicy } from './lib/latencyCurve';
import { type InlineRequest, capAt, inlineRun } from './lib/pipeline';
import { MODEL_DIR, runInfo, runInfoMarkdown, sampleLoad } from './lib/machine';
import { exitOnError, log, table, writeResults } from './lib/report';
import { fmt, median, sum } from './lib/stats';

const SAMPLING = { temperature: 0.2, topK: 50, topP: 0.95 };
const MAX_MATCH_ROW = 6;
const DRAFT = 8;

interface Case {
  c: FimCase;
  n: number;
  doc: SyntaxDocument;
}

(async () => {
  const engine = await Engine.load(MODEL_DIR);
  const info = runInfo(engine.manifest.onnx.sha256);
  const policy = loadPolicy(engine);
  const spy = new EngineSpy(engine);
  log(`lookup: ${info.command}; load ${info.load[0]!.uptime}`);
  const store = newStore();
  const all = [...readCases('eval-line.jsonl'), ...readCases('eval-multiline.jsonl')];
  const cases: Case[] = [];
  for (const [n, c] of all.entries()) {
    cases.push({ c, n, doc: await openCase(store, c) });
  }
  const request = (k: Case, decoding: Partial<CompletionDecoding>): InlineRequest => ({
    decoding: { decoder: 'ptp', seed: 1000 + k.n, ...SAMPLING, blockSize: 2, ...decoding },
    budget: 4,
    holdTypedWhitespace: false,
    firstLine: false,
    maxTokens: capAt(128),
    cacheKey: k.c.id,
  });
  /** One completion, with `engine` options set on its engine call; the call as the engine saw it. */
  const complete = async (k: Case, decoding: Partial<CompletionDecoding>, engineOptions: Partial<DecodeOptions> = {}) => {
    spy.decoder = (prompt, options) => engine.complete(prompt, { ...options, ...engineOptions });
    spy.take();
    await inlineRun(spy.engine, policy, k.doc, k.c.offset, request(k, decoding));
    spy.decoder = undefined;
    return spy.take()[0]!;
  };

  // 1. Calibration, on the engine's own prompt ids (Engine.promptIds), without token healing
  // (which changes only the prompt's last word).
  // [accepted, proposed] per matched length.
  const hits = Array.from({ length: MAX_MATCH_ROW + 1 }, () => ({ first: [0, 0] as [number, number], later: [0, 0] as [number, number] }));
  let positions = 0;
  let proposed = 0;
  for (const k of cases.filter((_, i) => i % 2 === 0)) {
    const ar = await complete(k, { decoder: 'ar', blockSize: 1 }, { heal: false });
    const ids = engine.promptIds(ar.prompt, { maxTokens: ar.options.maxTokens, heal: false });
    const out = ar.result.tokens;
    for (let i = 0; i + 1 < out.length; i++) {
      positions++;
      const d = contextDraft([...ids, ...out.slice(0, i + 1)], DRAFT);
      if (d.tokens.length === 0) continue;
      proposed++;
      for (let j = 0; j < d.tokens.length && i + 1 + j < out.length; j++) {
        const row = hits[Math.min(d.matched + j, MAX_MATCH_ROW)]![j === 0 ? 'first' : 'later'];
        row[1]++;
        if (d.tokens[j] !== out[i + 1 + j]) break;
        row[0]++;
      }
    }
  }
  log(`calibration: ${positions} positions, ${proposed} with a draft`);

  // 2. Cut-off A/B, interleaved with AR.
  const variants: { name: string; lookup: boolean; extra: Partial<DecodeOptions> }[] = [
    { name: 'PTP drafts only', lookup: false, extra: {} },
    ...[0.1, 0.2, 0.3].map((s) => ({ name: `lookup, cut-off ${s}`, lookup: true, extra: { minSurvival: s } })),
  ];
  const rows = new Map(variants.map((v) => [v.name, { ratio: [] as number[], tokens: 0, calls: 0, rows: 0, ms: 0, arMs: 0, same: true }]));
  const REPS = 2;
  for (let rep = 0; rep < REPS; rep++) {
    for (const k of cases.filter((_, i) => i % 3 === 0)) {
      const ar = async (): Promise<DecodeResult> => (await complete(k, { decoder: 'ar', blockSize: 1 })).result;
      let before = await ar();
      for (const v of variants) {
        const r = (await complete(k, { lookup: v.lookup }, v.extra)).result;
        const after = await ar();
        const s = rows.get(v.name)!;
        const arMs = (before.msDecode + after.msDecode) / 2;
        if (r.msDecode > 0 && arMs > 0) s.ratio.push(arMs / r.msDecode);
        s.tokens += r.tokens.length;
        s.calls += r.calls;
        s.rows += sum(r.trace.map((t) => t.rows));
        s.ms += r.msDecode;
        s.arMs += arMs;
        s.same &&= r.tokens.join(',') === after.tokens.join(',');
        before = after;
      }
    }
    log(`cut-off rep ${rep + 1}/${REPS}; load ${sampleLoad().loadavg.join(' ')}`);
  }
  info.load.push(sampleLoad());

  const calibration = hits.map((h, m) => ({ matched: m, first: h.first, later: h.later })).slice(1);
  const rate = ([a, n]: [number, number]) => (n > 0 ? `${fmt(a / n, 2)} (${n})` : '—');
  const abRows = [...rows.entries()].map(([name, s]) => [name, fmt(s.tokens / s.calls, 2), fmt(s.rows / s.calls, 1), fmt(s.arMs / s.ms, 2), fmt(median(s.ratio), 2), s.same ? 'yes' : '**NO**']);
  const md = [
    '# Context lookup drafts: calibration and the speculation cut-off',
    '',
    ...runInfoMarkdown(info),
    `- cases: bench/data/eval-line.jsonl and eval-multiline.jsonl (validation packages); calibration on every 2nd (${positions} output positions, ${proposed} with a lookup draft), cut-off on every 3rd, ${REPS} repetitions; T ${SAMPLING.temperature}, top-k ${SAMPLING.topK}, top-p ${SAMPLING.topP}, the scope's stop rules and cap (at most 128 tokens)`,
    `- the engine's cut-off (MIN_SURVIVAL in src/engine/ptp.ts) is ${MIN_SURVIVAL}`,
    '',
    '## Calibration: P(lookup token = AR token | the draft\'s earlier tokens were)',
    '',
    'By the context tokens matched behind the proposed token: the first token of a draft has the match length behind it, the j-th (after j accepted) that plus j. src/engine/lookup.ts CONFIDENCE_BY_MATCH uses one table for both.',
    '',
    ...table(['matched tokens behind it', 'first token of a draft (n)', 'later tokens (n)'], calibration.map((r) => [r.matched === MAX_MATCH_ROW ? `${r.matched}+` : String(r.matched), rate(r.first), rate(r.later)])),
    '',
    '## Speculation cut-off (PTP M=2 B=4)',
    '',
    'tok/call and rows/call over all calls; speedup = AR decode time (mean of the two AR runs around it) / this decode time: summed over cases, and the median per case. same = every completion equals AR\'s tokens.',
    '',
    ...table(['drafts', 'tok/call', 'rows/call', 'speedup (sums)', 'speedup (median per case)', 'same tokens as AR'], abRows),
  ];
  writeResults('lookup', { run: info, calibration, cutoff: Object.fromEntries(rows) }, md);
  store.dispose();
  await engine.dispose();
})().catch(exitOnError());

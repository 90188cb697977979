/**
 * How often each lookup source's draft is right, by match length: the calibration of
 * src/engine/lookup.ts CONFIDENCE_BY_MATCH, which PTP reads to pick among drafts (the one
 * expected to keep the most tokens) and to cut a draft's tail.
 *
 *   npm run bench:lookup-sources        (= node --import tsx bench/lookup-sources.ts; ~1 min)
 *
 * Cases: the FIM speed cases (bench/data/fim-speed.jsonl, after Enter, whole files, validation
 * packages) with their files as the open files and the workspace (bench/lib/references.ts), and
 * the eval's line and multi-line cases (no workspace: prompt sources only). For each, one AR
 * completion through the worker's completeAt (T 0.2, top-k 50, top-p 0.95: the typed
 * indentation held back, the first-line rule where the line is blank, the scope's stop rules
 * and cap; the model's last decode when it retried). At every output position, lookupDrafts()
 * over the ids of the prompt the model saw (bench/lib/engineSpy.ts) and the output so far
 * proposes one draft per source; a proposed token counts, by the tokens
 * matched behind it (the draft's match length plus its position in the draft), as right when it
 * equals AR's token given the draft's earlier tokens were.
 *
 * Then, on the FIM speed cases, a lookup-only decode simulated over each AR output: every call
 * verifies one draft and commits its accepted tokens plus one; tokens per call when the draft
 * is the one expected to keep the most (what ptp.ts picks), when it is the one that would
 * keep the most (an oracle: the most a tree of every candidate could commit), when the
 * references are searched exhaustively instead of through TokenIndex's hash chain (the longest
 * match anywhere, which a suffix array would find: bench/lib/exhaustiveIndex.ts), and from the
 * sequence alone. The gap between the first two is what verifying several candidates per call
 * could win; between the first and the third, what a suffix array could.
 */
import type { SyntaxDocument } from '../src/context';
import { bestDraft, CONFIDENCE_BY_MATCH, type DraftReference, Engine, LOOKUP_BLOCK, type LookupDraft, lookupDrafts, type LookupSource, suffixSpan } from '../src/engine';
import { type FimCase, newStore, openCase, readCases } from './lib/cases';
import { EngineSpy } from './lib/engineSpy';
import { loadPolicy } from './lib/latencyCurve';
import { MODEL_DIR, runInfo, runInfoMarkdown, sampleLoad } from './lib/machine';
import { inlineRun } from './lib/pipeline';
import { ExhaustiveIndex } from './lib/exhaustiveIndex';
import { CaseReferences, REFERENCE_SOURCES } from './lib/references';
import { exitOnError, log, table, writeResults } from './lib/report';
import { fmt } from './lib/stats';

const SAMPLING = { temperature: 0.2, topK: 50, topP: 0.95 };
const SOURCES: readonly LookupSource[] = ['suffix', 'context', ...REFERENCE_SOURCES];
/** Rows of the table: tokens matched behind a proposed token, the last row for that many or more. */
const TOP = 14;

/** [accepted, proposed] per source and matched length. */
type Counts = Record<LookupSource, [number, number][]>;

/**
 * Simulated lookup-only decodes, one per way of finding and choosing the draft, over the same
 * tokens: where the references' matches come from (the engine's TokenIndex, an exhaustive scan
 * as a suffix array would find them, or none) and how the draft is chosen among candidates.
 */
const PICKS = [
  { name: 'picked by expected kept tokens (shipped)', refs: 'index', pick: 'expected' },
  { name: 'oracle: the candidate that keeps the most', refs: 'index', pick: 'oracle' },
  { name: 'references searched exhaustively (the longest match anywhere, as a suffix array finds it), picked as shipped', refs: 'exhaustive', pick: 'expected' },
  { name: 'the sequence only (no references)', refs: 'none', pick: 'expected' },
] as const;
interface Picks {
  tokens: number;
  calls: number[];
}
type CaseRefs = Record<(typeof PICKS)[number]['refs'], DraftReference[]>;

(async () => {
  const engine = await Engine.load(MODEL_DIR);
  const info = runInfo(engine.manifest.onnx.sha256);
  const policy = loadPolicy(engine);
  const spy = new EngineSpy(engine);
  log(`lookup-sources: ${info.command}; load ${info.load[0]!.uptime}`);
  const fim = readCases('fim-speed.jsonl');
  const evalCases = [...readCases('eval-line.jsonl'), ...readCases('eval-multiline.jsonl')].filter((_, i) => i % 2 === 0);
  const references = new CaseReferences(engine, fim);
  const exhaustive = new CaseReferences(engine, fim, (options) => new ExhaustiveIndex(options));
  const counts = Object.fromEntries(SOURCES.map((s) => [s, Array.from({ length: TOP + 1 }, () => [0, 0] as [number, number])])) as Counts;
  const store = newStore();
  let positions = 0;
  const picks: Picks = { tokens: 0, calls: PICKS.map(() => 0) };
  for (const [n, c] of [...fim, ...evalCases].entries()) {
    const doc = await openCase(store, c);
    const refs = fim.includes(c) ? { index: references.for(c, REFERENCE_SOURCES), exhaustive: exhaustive.for(c, REFERENCE_SOURCES), none: [] } : undefined;
    positions += await calibrate(spy, policy, doc, c, n, refs, counts, picks);
    store.close(doc.uri);
  }
  info.load.push(sampleLoad());
  const rate = ([a, p]: [number, number]): string => (p > 0 ? `${fmt(a / p, 2)} (${p})` : '—');
  const rows = counts.context.map((_, m) => [m === TOP ? `${m}+` : String(m), ...SOURCES.map((s) => rate(counts[s][m]!))]).slice(1);
  const md = [
    '# Lookup drafts by source: calibration',
    '',
    ...runInfoMarkdown(info),
    `- cases: ${fim.length} FIM speed cases (bench/data/fim-speed.jsonl, with open files and workspace) and ${evalCases.length} eval line and multi-line cases (every 2nd; prompt sources only); ${positions} output positions of AR completions, T ${SAMPLING.temperature}, top-k ${SAMPLING.topK}, top-p ${SAMPLING.topP}`,
    '',
    "P(proposed token = AR's token | the draft's earlier tokens were), by the tokens matched behind it (n proposed). suffix: a match in the prompt's FIM suffix; context: elsewhere in the prompt or the output; document: the document beyond the prompt; open: the open files; workspace: the rest of the package. References match at least 3 tokens.",
    '',
    ...table(['matched', ...SOURCES], rows),
    '',
    '## Picking among candidates',
    '',
    `A lookup-only decode simulated over the AR outputs of the ${fim.length} FIM speed cases (${picks.tokens} tokens): each call verifies one draft and commits its accepted tokens plus one. No PTP drafts and no cut of a draft's tail, so the rates are not the engine's; what matters is the gap between the rows.`,
    '',
    ...table(
      ['draft verified per call', 'calls', 'tok/call'],
      PICKS.map(({ name }, k) => [name, picks.calls[k]!, fmt(picks.tokens / Math.max(1, picks.calls[k]!), 2)]),
    ),
    '',
    '## In use (src/engine/lookup.ts CONFIDENCE_BY_MATCH)',
    '',
    ...table(['source', 'by matched 0, 1, 2, …'], SOURCES.map((s) => [s, CONFIDENCE_BY_MATCH[s].join(', ')])),
  ];
  writeResults('lookup-sources', { run: info, counts, picks: { tokens: picks.tokens, calls: Object.fromEntries(PICKS.map(({ name }, k) => [name, picks.calls[k]])) } }, md);
  store.dispose();
  await engine.dispose();
})().catch(exitOnError());

/**
 * One AR completion at the case's cursor; adds its positions' draft outcomes to `counts` and,
 * for a case with references, its simulated lookup-only decodes to `picks`.
 */
async function calibrate(spy: EngineSpy, policy: ReturnType<typeof loadPolicy>, doc: SyntaxDocument, c: FimCase, n: number, caseRefs: CaseRefs | undefined, counts: Counts, picks: Picks): Promise<number> {
  const engine = spy.target;
  spy.take();
  await inlineRun(spy.engine, policy, doc, c.offset, { decoding: { decoder: 'ar', seed: 1000 + n, ...SAMPLING, blockSize: 1 }, cacheKey: c.id });
  // The model's last decode (after Enter the pipeline may have tried again): its prompt ids, as the engine built them, and its tokens.
  const last = spy.take().at(-1)!;
  const ids = engine.promptIds(last.prompt, { maxTokens: last.options.maxTokens, heal: last.options.heal });
  const span = suffixSpan(ids, engine.manifest.special_tokens);
  const refs = caseRefs?.index ?? [];
  const out = last.result.tokens;
  for (let i = 0; i + 1 < out.length; i++) {
    const sequence = [...ids, ...out.slice(0, i + 1)];
    for (const d of lookupDrafts(sequence, LOOKUP_BLOCK - 1, span, refs)) {
      for (let j = 0; j < d.tokens.length && i + 1 + j < out.length; j++) {
        const cell = counts[d.source][Math.min(d.matched + j, TOP)]!;
        cell[1]++;
        if (d.tokens[j] !== out[i + 1 + j]) break;
        cell[0]++;
      }
    }
  }
  if (caseRefs !== undefined) simulatePicks(out, ids, span, caseRefs, picks);
  return Math.max(0, out.length - 1);
}

/** Leading tokens of `d` equal to `out` from `at`. */
function kept(d: LookupDraft, out: readonly number[], at: number): number {
  let j = 0;
  while (j < d.tokens.length && at + j < out.length && d.tokens[j] === out[at + j]) j++;
  return j;
}

/** Lookup-only decodes of `out` (after the first token, which the prompt call commits), one per PICKS entry. */
function simulatePicks(out: readonly number[], ids: readonly number[], span: readonly [number, number] | undefined, caseRefs: CaseRefs, picks: Picks): void {
  picks.tokens += Math.max(0, out.length - 1);
  PICKS.forEach(({ refs, pick }, k) => {
    for (let at = 1; at < out.length; ) {
      const drafts = lookupDrafts([...ids, ...out.slice(0, at)], LOOKUP_BLOCK - 1, span, caseRefs[refs]);
      const chosen = pick === 'expected' ? bestDraft(drafts) : undefined;
      const keeps = pick === 'oracle' ? Math.max(0, ...drafts.map((d) => kept(d, out, at))) : chosen === undefined ? 0 : kept(chosen, out, at);
      at += Math.min(keeps, out.length - at - 1) + 1;
      picks.calls[k]!++;
    }
  });
}

/**
 * How often each lookup source's draft is right, by match length: the calibration of
 * src/engine/lookup.ts CONFIDENCE_BY_MATCH, which PTP reads to pick among drafts (the one
 * expected to keep the most tokens) and to cut a draft's tail.
 *
 *   npm run bench:lookup-sources        (= node --import tsx bench/lookup-sources.ts; ~3 min)
 *
 * Cases: the FIM speed cases (bench/data/fim-speed.jsonl, after Enter, whole files, validation
 * packages) with their files as the open files and the workspace (bench/lib/references.ts), and
 * the eval's line and multi-line cases (no workspace: prompt sources only). For each, one AR
 * completion (T 0.2, top-k 50, top-p 0.95, the first-line rule where the line is blank, the
 * scope's stop rules and cap). At every output position, lookupDrafts() over the prompt ids
 * and the output so far proposes one draft per source; a proposed token counts, by the tokens
 * matched behind it (the draft's match length plus its position in the draft), as right when it
 * equals AR's token given the draft's earlier tokens were.
 */
import { analyze, buildPrompt, type SyntaxDocument } from '../src/context';
import { CONFIDENCE_BY_MATCH, Engine, LOOKUP_BLOCK, lookupDrafts, type LookupSource, suffixSpan } from '../src/engine';
import { type FimCase, newStore, openCase, readCases } from './lib/cases';
import { loadPolicy } from './lib/latencyCurve';
import { MODEL_DIR, runInfo, runInfoMarkdown, sampleLoad } from './lib/machine';
import { completeAt } from './lib/pipeline';
import { CaseReferences, REFERENCE_SOURCES } from './lib/references';
import { exitOnError, log, table, writeResults } from './lib/report';
import { fmt } from './lib/stats';

const SAMPLING = { temperature: 0.2, topK: 50, topP: 0.95 };
const SOURCES: readonly LookupSource[] = ['suffix', 'context', ...REFERENCE_SOURCES];
/** Rows of the table: tokens matched behind a proposed token, the last row for that many or more. */
const TOP = 14;

/** [accepted, proposed] per source and matched length. */
type Counts = Record<LookupSource, [number, number][]>;

(async () => {
  const engine = await Engine.load(MODEL_DIR);
  const info = runInfo(engine.manifest.onnx.sha256);
  const policy = loadPolicy(engine);
  log(`lookup-sources: ${info.command}; load ${info.load[0]!.uptime}`);
  const fim = readCases('fim-speed.jsonl');
  const evalCases = [...readCases('eval-line.jsonl'), ...readCases('eval-multiline.jsonl')].filter((_, i) => i % 2 === 0);
  const references = new CaseReferences(engine, fim);
  const counts = Object.fromEntries(SOURCES.map((s) => [s, Array.from({ length: TOP + 1 }, () => [0, 0] as [number, number])])) as Counts;
  const store = newStore();
  let positions = 0;
  for (const [n, c] of [...fim, ...evalCases].entries()) {
    const doc = await openCase(store, c);
    positions += await calibrate(engine, policy, doc, c, n, fim.includes(c) ? references : undefined, counts);
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
    '## In use (src/engine/lookup.ts CONFIDENCE_BY_MATCH)',
    '',
    ...table(['source', 'by matched 0, 1, 2, …'], SOURCES.map((s) => [s, CONFIDENCE_BY_MATCH[s].join(', ')])),
  ];
  writeResults('lookup-sources', { run: info, counts }, md);
  store.dispose();
  await engine.dispose();
})().catch(exitOnError());

/** One AR completion at the case's cursor; adds its positions' draft outcomes to `counts`. */
async function calibrate(engine: Engine, policy: ReturnType<typeof loadPolicy>, doc: SyntaxDocument, c: FimCase, n: number, references: CaseReferences | undefined, counts: Counts): Promise<number> {
  const prompt = buildPrompt(doc.text, c.offset).prompt!;
  const lineStart = doc.text.lastIndexOf('\n', c.offset - 1) + 1;
  const firstLine = doc.text.slice(lineStart, c.offset).trim() === '' && /^\r?\n|^$/.test(doc.text.slice(c.offset));
  const run = await completeAt(engine, doc, c.offset, { decoding: { decoder: 'ar', seed: 1000 + n, ...SAMPLING }, policy, firstLine, cacheKey: c.id });
  const info = analyze(doc, c.offset, { latency: policy.curve, acceptance: policy.histogram });
  const ids = engine.promptIds({ prefix: prompt.prefix, suffix: prompt.suffix }, { maxTokens: info.maxTokens });
  const span = suffixSpan(ids, engine.manifest.special_tokens);
  const refs = references?.for(c, REFERENCE_SOURCES) ?? [];
  const out = run.result.tokens;
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
  return Math.max(0, out.length - 1);
}

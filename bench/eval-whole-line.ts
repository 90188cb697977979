/**
 * The moment after Enter: whole-line completion on validation packages (never a package in
 * training/corpus/heldout.txt), through the engine on the shipped ONNX model.
 *
 *   npm run eval:whole-line                 (= node --import tsx bench/eval-whole-line.ts)
 *   npm run eval:whole-line -- --limit 20   (the first 20 cases of each language)
 *
 * Cases: bench/data/eval-whole-line.jsonl (bench/data/makeCases.ts): one line's code removed
 * from a file, its indentation and line break kept, the cursor after the indentation, the whole
 * file as the document. The first line of each completion is scored against the removed code.
 *
 * Columns, all greedy (temperature 0) unless marked:
 *   model      the model's own decode: the prompt without the typed indentation, no token
 *              healing, no first-line rule, no stop rules, up to end-of-text or 48 tokens;
 *              its first line after the re-typed indentation. Its empty share is the share
 *              where the model itself says the line is empty.
 *   model+rule the same with the engine's first-line rule (src/engine/firstLine.ts).
 *   shown      what the extension shows: the worker's completeAt (healing, the typed
 *              indentation held back, the first-line rule, the scope's stop rules, trimming),
 *              then the extension's fitCompletion for an automatic request (what VS Code gets);
 *              `shown, no rule` is the same with the rule off (what it was before the rule).
 *   PTP        completeAt with the PTP decoder at T=0 and T=0.2 (fixed seed per case), against
 *              AR at the same settings: the tokens must be equal; tokens per call and the
 *              decode-time ratio are reported.
 * EM = exact match of the first line (after trimming), ES = edit similarity, empty = the first
 * line is blank (the whole completion empty, or its code starts on a later line), loop = a code
 * line occurs three times in the completion (bench/lib/loops.ts).
 */
import { performance } from 'node:perf_hooks';
import type { SyntaxDocument } from '../src/context';
import { buildPrompt } from '../src/context';
import { Engine } from '../src/engine';
import { type FimCase, newStore, openCase, readCases } from './lib/cases';
import { loadPolicy, type Policy } from './lib/latencyCurve';
import { repeatedLine } from './lib/loops';
import { MODEL_DIR, runInfo, runInfoMarkdown, sampleLoad } from './lib/machine';
import { editSimilarity } from './lib/match';
import { shownRun } from './lib/pipeline';
import { args, exitOnError, log, table, writeResults } from './lib/report';
import { fmt, mean, pct, sum } from './lib/stats';

const opt = args();
const LIMIT = opt.has('limit') ? Number(opt.get('limit')) : Infinity;
const CAP = 48;
const LANGS = ['python', 'javascript', 'typescript', 'go'] as const;
const PTP_TEMPERATURES = [0, 0.2];

interface Scored {
  /** The completion (its first line is what is scored). */
  text: string;
  first: string;
  em: boolean;
  es: number;
  empty: boolean;
  loop: boolean;
}

interface PtpRun {
  T: number;
  /** PTP's tokens equal AR's at the same seed and temperature. */
  same: boolean;
  ptp: { tokens: number; calls: number; ms: number };
  ar: { tokens: number; calls: number; ms: number };
}

interface CaseResult {
  id: string;
  lang: string;
  target: string;
  model: Scored;
  modelRule: Scored;
  shown: Scored;
  shownNoRule: Scored;
  stopReason: string;
  ptp: PtpRun[];
}

function score(text: string, target: string): Scored {
  const first = text.split('\n', 1)[0]!.trim();
  return { text, first, em: first === target.trim(), es: editSimilarity(first, target.trim()), empty: first === '', loop: repeatedLine(text) !== undefined };
}

/** The model's own decode after the typed indentation: no healing, no stop rule; `firstLine` adds the engine's rule. */
async function modelRun(engine: Engine, doc: SyntaxDocument, c: FimCase, firstLine: boolean): Promise<string> {
  const prompt = buildPrompt(doc.text, c.offset).prompt!;
  const typed = /[ \t]+$/.exec(prompt.prefix)?.[0] ?? '';
  const r = await engine.complete(
    { prefix: prompt.prefix.slice(0, prompt.prefix.length - typed.length), suffix: prompt.suffix },
    { decoder: 'ar', seed: 0, temperature: 0, topK: 50, topP: 0.95, blockSize: 1, maxTokens: CAP, heal: false, firstLine, cacheKey: c.id },
  );
  // The model re-types the indentation first (or some of it); the completion is what follows.
  return r.text.replace(/^[ \t]*/, '');
}

async function ptpRun(engine: Engine, policy: Policy, doc: SyntaxDocument, c: FimCase, n: number, T: number): Promise<PtpRun> {
  const run = async (decoder: 'ar' | 'ptp') => {
    const r = await shownRun(engine, policy, doc, c.offset, { seed: 1000 + n, cacheKey: c.id, requestId: `${decoder}-${n}`, decoding: { decoder, temperature: T, blockSize: 'auto' } });
    return { tokens: r.result.tokens, calls: r.stats.calls, ms: r.stats.msDecode };
  };
  const ar = await run('ar');
  const ptp = await run('ptp');
  return { T, same: ar.tokens.join(',') === ptp.tokens.join(','), ptp: { ...ptp, tokens: ptp.tokens.length }, ar: { ...ar, tokens: ar.tokens.length } };
}

(async () => {
  const engine = await Engine.load(MODEL_DIR);
  const info = runInfo(engine.manifest.onnx.sha256);
  const policy = loadPolicy(engine);
  log(`eval-whole-line: ${info.command}; load ${info.load[0]!.uptime}`);
  const all = readCases('eval-whole-line.jsonl');
  const cases = LANGS.flatMap((l) => all.filter((c) => c.lang === l).slice(0, LIMIT));
  const store = newStore();
  const results: CaseResult[] = [];
  const started = performance.now();
  for (const [n, c] of cases.entries()) {
    const doc = await openCase(store, c);
    const ptp: PtpRun[] = [];
    for (const T of PTP_TEMPERATURES) ptp.push(await ptpRun(engine, policy, doc, c, n, T));
    const shown = await shownRun(engine, policy, doc, c.offset, { seed: n, cacheKey: c.id, requestId: `shown-${n}` });
    const shownNoRule = await shownRun(engine, policy, doc, c.offset, { seed: n, cacheKey: c.id, requestId: `norule-${n}`, firstLine: false });
    results.push({
      id: c.id,
      lang: c.lang,
      target: c.target,
      model: score(await modelRun(engine, doc, c, false), c.target),
      modelRule: score(await modelRun(engine, doc, c, true), c.target),
      // What VS Code gets: the pipeline's item, fitted to the cursor's line.
      shown: score(shown.item?.insertText ?? '', c.target),
      shownNoRule: score(shownNoRule.item?.insertText ?? '', c.target),
      stopReason: shown.stats.stopReason,
      ptp,
    });
    store.close(doc.uri);
    if ((n + 1) % 50 === 0) log(`${n + 1}/${cases.length} cases, ${((performance.now() - started) / 1000).toFixed(0)} s; load ${sampleLoad().loadavg.join(' ')}`);
  }
  info.load.push(sampleLoad());

  const groups = [...LANGS.map((l) => [l, results.filter((r) => r.lang === l)] as const), ['all', results] as const];
  const columns = ['model', 'modelRule', 'shownNoRule', 'shown'] as const;
  const names: Record<(typeof columns)[number], string> = { model: 'model', modelRule: 'model+rule', shownNoRule: 'shown, no rule', shown: 'shown' };
  const rate = (rs: readonly CaseResult[], f: (r: CaseResult) => boolean): string => pct(mean(rs.map((r) => (f(r) ? 1 : 0))), 1);
  const quality = groups.flatMap(([l, rs]) =>
    columns.map((col) => [l, names[col], rs.length, rate(rs, (r) => r[col].em), fmt(mean(rs.map((r) => r[col].es)), 3), rate(rs, (r) => r[col].empty), rate(rs, (r) => r[col].loop)]),
  );
  // Whose empty answer is it: the shown completion is empty where the model's own decode is too.
  const emptyShown = results.filter((r) => r.shown.empty);
  const emptyOwn = emptyShown.filter((r) => r.model.empty);
  const ptpRows = PTP_TEMPERATURES.flatMap((T) =>
    groups.map(([l, rs]) => {
      const runs = rs.map((r) => r.ptp.find((p) => p.T === T)!);
      const calls = (k: 'ptp' | 'ar') => sum(runs.map((p) => p[k].calls));
      const tokens = sum(runs.map((p) => p.ptp.tokens));
      const loopFree = rs.filter((r) => !r.shown.loop).map((r) => r.ptp.find((p) => p.T === T)!);
      return [
        String(T),
        l,
        rs.length,
        `${runs.filter((p) => p.same).length}/${runs.length}`,
        fmt(tokens / Math.max(1, calls('ptp')), 2),
        fmt(sum(loopFree.map((p) => p.ptp.tokens)) / Math.max(1, sum(loopFree.map((p) => p.ptp.calls))), 2),
        fmt(sum(runs.map((p) => p.ar.ms)) / Math.max(1, sum(runs.map((p) => p.ptp.ms))), 2),
        fmt(mean(runs.map((p) => p.ptp.tokens)), 1),
      ];
    }),
  );
  const stops = new Map<string, number>();
  for (const r of results) stops.set(r.stopReason, (stops.get(r.stopReason) ?? 0) + 1);
  const differ = results.filter((r) => r.ptp.some((p) => !p.same)).map((r) => r.id);

  const md = [
    '# Evaluation: whole-line completion after Enter',
    '',
    ...runInfoMarkdown(info),
    `- cases: bench/data/eval-whole-line.jsonl (${results.length}: ${groups.slice(0, -1).map(([l, rs]) => `${rs.length} ${l}`).join(', ')}); validation packages only, none from training/corpus/heldout.txt; the document is the whole file with one line's code removed, the cursor after its indentation`,
    `- losslessness: ${differ.length === 0 ? `PTP's tokens equal AR's on all ${results.length} cases at T=${PTP_TEMPERATURES.join(' and T=')}` : `**${differ.length} cases differ**: ${differ.slice(0, 8).join(', ')}`}`,
    `- shown completions that are empty: ${emptyShown.length} of ${results.length}; of those, ${emptyOwn.length} are empty in the model's own decode too (the model's answer, not the pipeline's)`,
    `- the shown completion's stop reasons: ${[...stops].map(([k, v]) => `${k} ${v}`).join(', ')}`,
    '',
    '## First line after Enter (temperature 0)',
    '',
    'model = the model\'s own greedy decode (no healing, no first-line rule, no stop rules, 48 tokens); model+rule = with the engine\'s first-line rule; shown = what the extension shows (the worker\'s completeAt); shown, no rule = the same with the rule off. EM = exact match of the first line, ES = its edit similarity, empty = the first line is blank, loop = a code line three times in the completion.',
    '',
    ...table(['language', 'column', 'cases', 'EM', 'ES', 'empty', 'loop'], quality),
    '',
    '## PTP against AR on the same cases (shown pipeline, block size auto)',
    '',
    'same = PTP\'s tokens equal AR\'s; tok/call = committed tokens per PTP model call; without loops = the same over completions that are not loops; speed-up = AR decode time / PTP decode time in this run (the calls after the first, which holds the prompt; the two runs share the cached prompt).',
    '',
    ...table(['T', 'language', 'cases', 'same', 'tok/call', 'tok/call without loops', 'speed-up vs AR', 'tokens (mean)'], ptpRows),
  ];
  writeResults('eval-whole-line', { run: info, settings: { cap: CAP, temperatures: PTP_TEMPERATURES }, differ, results }, md);
  store.dispose();
  await engine.dispose();
})().catch(exitOnError());

/**
 * The model knows the user's code: completion quality with no knowledge sources, the cache
 * model (src/engine/cacheModel.ts), retrieved snippets in the prompt (src/engine/snippets.ts),
 * and both, on validation cases with their package as the workspace.
 *
 *   npm run eval:knowledge                               (~40 min on 2 cores)
 *   node --import tsx bench/eval-knowledge.ts --limit 60 --configs none,cache
 *
 * Moments and what counts as right: bench/lib/moments.ts. Each case's references are what the
 * worker would hold (bench/lib/references.ts: the document, the 4 nearest files of its package
 * open, the rest of the package as the workspace, the case's own file in neither); cases whose
 * package has no workspace in bench/data/fim-workspaces.jsonl get none, and are reported apart
 * ("no loss on cases without a workspace"). "none" still drafts from the references (speed
 * only): what shipped before.
 *
 * Per case and configuration, through the worker's pipeline (completeAt, inline, PTP, block size
 * auto, temperature 0 as automatic requests decode):
 *   ungated  the confidence gate off: first-line exact match (EM) and edit similarity (ES) of
 *            what the editor would insert against the removed text's first line;
 *   gated    the shipped gate (ptp.completion.confidence medium, automatic): shown, right of
 *            shown, right and wrong characters, tokens per call, wall time per request.
 * With the cache model on, AR runs the gated request too: the tokens and text must be the same.
 */
import { CONFIDENCE_THRESHOLDS, completeAt, type CompleteAtOptions, type CompletionOutcome } from '../src/completion';
import type { SyntaxDocument } from '../src/context';
import { Engine } from '../src/engine';
import { type FimCase, newStore, openCase } from './lib/cases';
import { loadPolicy } from './lib/latencyCurve';
import { MODEL_DIR, runInfo, runInfoMarkdown, sampleLoad } from './lib/machine';
import { editSimilarity } from './lib/match';
import { isRight, type Moment, moments } from './lib/moments';
import { CaseReferences } from './lib/references';
import { args, exitOnError, log, table, writeResults } from './lib/report';
import { fmt, mean, pct, percentiles, sum } from './lib/stats';
import { readWorkspaces } from './lib/workspaces';

const opt = args();
const LIMIT = opt.has('limit') ? Number(opt.get('limit')) : Infinity;
const TAU = CONFIDENCE_THRESHOLDS.medium.automatic;

interface Config {
  name: string;
  cacheModel: boolean;
  snippets: boolean;
  /** A gate threshold instead of the shipped one (`--taus`): gated requests only. */
  threshold?: number;
}

const CONFIGS: Config[] = [
  { name: 'none', cacheModel: false, snippets: false },
  { name: 'cache', cacheModel: true, snippets: false },
  { name: 'snippets', cacheModel: false, snippets: true },
  { name: 'both', cacheModel: true, snippets: true },
];
/** `--taus 0.5,0.6`: each configuration's gated requests again at these thresholds (a sweep). */
const TAUS = opt.has('taus') ? opt.get('taus')!.split(',').map(Number) : [];
const chosen = (opt.has('configs') ? CONFIGS.filter((c) => opt.get('configs')!.split(',').includes(c.name)) : CONFIGS).flatMap((c) => [c, ...TAUS.map((threshold) => ({ ...c, name: `${c.name}, τ ${threshold}`, threshold }))]);

interface Scored {
  id: string;
  workspace: boolean;
  /** The removed text's first line (8 characters or more) is in another file of the workspace, verbatim. */
  elsewhere: boolean;
  em: boolean;
  es: number;
  shown: string;
  right: boolean;
  tokens: number;
  calls: number;
  ms: number;
}

interface Row {
  moment: Moment['key'];
  config: string;
  subset: 'all' | 'with workspace' | 'without workspace' | 'target line elsewhere' | 'target line nowhere else';
  cases: number;
  em: number;
  es: number;
  shown: number;
  right: number;
  rightChars: number;
  wrongChars: number;
  tokensPerCall: number;
  msP50: number;
  msP95: number;
}

const firstLine = (text: string): string => text.replace(/^\s*\n/, '').split('\n')[0]!.trim();

async function main(): Promise<void> {
  const engine = await Engine.load(MODEL_DIR);
  const info = runInfo(engine.manifest.onnx.sha256);
  const policy = loadPolicy(engine);
  const store = newStore();
  const all = moments(LIMIT);
  const workspaces = readWorkspaces();
  /** Whether `line` (8 characters or more) is in a file of c's workspace other than c's own. */
  const elsewhere = (c: FimCase, line: string): boolean => line.length >= 8 && (workspaces.get(c.pkg) ?? []).some((f) => f.path !== c.path && f.text.includes(line));
  const references = new CaseReferences(
    engine,
    all.flatMap((m) => m.cases).filter((c) => workspaces.has(c.pkg)),
  );
  log(`eval-knowledge: ${all.map((m) => `${m.key} ${m.cases.length}`).join(', ')}; ${references.stats.files} workspace files; configs ${chosen.map((c) => c.name).join(', ')}`);
  const rows: Row[] = [];
  /** What each request showed, for reading the misses. */
  const perCase: { moment: Moment['key']; config: string; id: string; shown: string; right: boolean; em: boolean }[] = [];
  const mismatches: string[] = [];
  let checked = 0;
  const snippetMs: number[] = [];

  const request = async (doc: SyntaxDocument, c: FimCase, seed: number, config: Config, gated: boolean, decoder: 'ptp' | 'ar'): Promise<CompletionOutcome> => {
    const refs = workspaces.has(c.pkg) ? references.for(c, ['document', 'open', 'workspace']) : [];
    const options: CompleteAtOptions = {
      decoding: { decoder, seed, temperature: 0, topK: 50, topP: 0.95, blockSize: 'auto' },
      mode: 'inline',
      cacheKey: c.id,
      requestId: c.id,
      references: refs,
      cacheModel: config.cacheModel,
      snippets: config.snippets,
      ...(gated ? { confidence: 'medium' as const, ...(config.threshold !== undefined ? { confidenceThreshold: config.threshold } : {}) } : {}),
    };
    const r = await completeAt({ engine, latency: policy.curve }, doc, c.offset, options);
    if (r.kind !== 'done') throw new Error(`${c.id}: the pipeline gave ${r.kind}`);
    return r;
  };

  for (const moment of all) {
    const byConfig = new Map<string, Scored[]>(chosen.map((c) => [c.name, []]));
    for (const [i, c] of moment.cases.entries()) {
      const doc = await openCase(store, c);
      const target = firstLine(c.target);
      for (const config of chosen) {
        const open = config.threshold === undefined ? await request(doc, c, i, config, false, 'ptp') : undefined;
        const guess = firstLine(open?.item?.insertText ?? '');
        const r = await request(doc, c, i, config, true, 'ptp');
        if (r.snippet !== undefined) snippetMs.push(r.snippet.ms);
        const shown = r.item?.insertText ?? '';
        byConfig.get(config.name)!.push({ id: c.id, workspace: workspaces.has(c.pkg), elsewhere: elsewhere(c, target), em: open !== undefined && guess === target && target !== '', es: open === undefined ? Number.NaN : editSimilarity(guess, target), shown, right: isRight(c, shown), tokens: r.stats.tokens, calls: r.stats.calls, ms: r.stats.msTotal });
        if (config.cacheModel && config.threshold === undefined) {
          const ar = await request(doc, c, i, config, true, 'ar');
          checked++;
          if (ar.text !== r.text || JSON.stringify(ar.result.tokens) !== JSON.stringify(r.result.tokens)) mismatches.push(`${c.id} ${config.name}: AR ${JSON.stringify(ar.text)} vs PTP ${JSON.stringify(r.text)}`);
        }
      }
      store.close(doc.uri);
      if ((i + 1) % 25 === 0) log(`${moment.key}: ${i + 1}/${moment.cases.length}`);
    }
    for (const config of chosen) {
      const scored = byConfig.get(config.name)!;
      for (const s of scored) perCase.push({ moment: moment.key, config: config.name, id: s.id, shown: s.shown, right: s.right, em: s.em });
      rows.push(score(moment.key, config.name, 'all', scored));
      rows.push(score(moment.key, config.name, 'with workspace', scored.filter((s) => s.workspace)));
      rows.push(score(moment.key, config.name, 'without workspace', scored.filter((s) => !s.workspace)));
      rows.push(score(moment.key, config.name, 'target line elsewhere', scored.filter((s) => s.workspace && s.elsewhere)));
      rows.push(score(moment.key, config.name, 'target line nowhere else', scored.filter((s) => s.workspace && !s.elsewhere)));
    }
  }
  store.dispose();
  await engine.dispose();
  info.load.push(sampleLoad());

  const md: string[] = [
    '# The model knows the user\'s code: cache model and retrieved snippets (validation cases, their package as the workspace)',
    '',
    ...runInfoMarkdown(info),
    `- cases: ${all.map((m) => `${m.name} ${m.cases.length} (${m.cases.filter((c) => workspaces.has(c.pkg)).length} with a workspace)`).join(', ')}; workspaces: ${references.stats.files} files, ${references.stats.tokens} tokens`,
    '- subsets: with / without a workspace; of those with one, whether the removed text\'s first line (8 characters or more) is somewhere in another file of the package, verbatim (a copy the cache can find) or not',
    '- configurations: none = references for lookup drafts only (what shipped before); cache = the cache model (CACHE_WEIGHTS, fitted on other validation cases: bench/results/cache-calibration.md); snippets = the best-matching window of an open or workspace file ahead of the prefix; both',
    `- ungated: the gate off; EM / ES = first-line exact match / edit similarity of what the editor inserts against the removed text's first line. Gated: τ ${TAU} (medium, automatic); right = the file continues with the suggestion; chars = whole suggestions' characters`,
    `- losslessness with the cache model (gated requests, AR against PTP): the same tokens and text on ${checked - mismatches.length} of ${checked}`,
    ...(snippetMs.length > 0 ? [`- snippet retrieval per request (encode, search, decode): p50 ${fmt(percentiles(snippetMs).p50, 2)} ms, p95 ${fmt(percentiles(snippetMs).p95, 2)} ms`] : []),
    '',
  ];
  for (const moment of all) {
    md.push(`## ${moment.name}`, '');
    md.push(
      ...table(
        ['config', 'cases', 'EM', 'ES', 'shown', 'right, of shown', 'right chars', 'wrong chars', 'tok/call', 'ms p50', 'ms p95'],
        rows
          .filter((r) => r.moment === moment.key && r.cases > 0)
          .sort((a, b) => (a.subset === b.subset ? 0 : a.subset === 'all' ? -1 : b.subset === 'all' ? 1 : a.subset.localeCompare(b.subset)))
          .map((r) => [
            r.subset === 'all' ? r.config : `${r.config}, ${r.subset}`,
            r.cases,
            Number.isNaN(r.es) ? '' : pct(r.em / r.cases, 1),
            Number.isNaN(r.es) ? '' : fmt(r.es, 3),
            pct(r.shown / r.cases),
            pct(r.right / Math.max(1, r.shown)),
            r.rightChars,
            r.wrongChars,
            fmt(r.tokensPerCall, 2),
            fmt(r.msP50, 1),
            fmt(r.msP95, 1),
          ]),
      ),
      '',
    );
  }
  if (mismatches.length > 0) md.push('## AR/PTP mismatches', '', ...mismatches.map((m) => `- ${m}`), '');
  writeResults(opt.get('out') ?? 'eval-knowledge', { info, rows, mismatches, checked, perCase }, md);
  log(md.join('\n'));
  if (mismatches.length > 0) process.exitCode = 1;
}

function score(moment: Moment['key'], config: string, subset: Row['subset'], scored: readonly Scored[]): Row {
  const visible = scored.filter((s) => s.shown.trim() !== '');
  const chars = (s: Scored): number => s.shown.replace(/\s+$/, '').length;
  const ms = percentiles(scored.map((s) => s.ms));
  return {
    moment,
    config,
    subset,
    cases: scored.length,
    em: scored.filter((s) => s.em).length,
    es: mean(scored.map((s) => s.es)),
    shown: visible.length,
    right: visible.filter((s) => s.right).length,
    rightChars: sum(visible.filter((s) => s.right).map(chars)),
    wrongChars: sum(visible.filter((s) => !s.right).map(chars)),
    tokensPerCall: sum(scored.map((s) => s.tokens)) / Math.max(1, sum(scored.map((s) => s.calls))),
    msP50: ms.p50,
    msP95: ms.p95,
  };
}

main().catch(exitOnError());

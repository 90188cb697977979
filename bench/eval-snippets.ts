/**
 * Retrieved snippets in the prompt (issue 29 part 2): does the best-matching window of another
 * open file or workspace file, placed ahead of the prefix (src/engine/snippets.ts, completeAt's
 * `snippets` option), help a model never trained on that layout, and what does it cost?
 *
 *   node --import tsx bench/eval-snippets.ts --limit 60
 *   node --import tsx bench/eval-snippets.ts --limit 60 --layouts lines,comment --query tail
 *
 * Cases: bench/data/eval-whole-line.jsonl (after Enter), eval-line.jsonl (typing mid-line, the
 * cursor moved back to a word boundary as in eval-confidence), eval-multiline.jsonl; only those
 * whose package has a workspace in bench/data/fim-workspaces.jsonl, spread evenly over each file
 * (`--limit` per set). References as the worker holds them (bench/lib/references.ts): the case's
 * document, the files a person would have open beside it, the rest of its package; the case's
 * own file is never a source.
 *
 * Every case runs through completeAt (inline, PTP, block size auto, T 0) per layout: greedy with
 * no confidence gate (first-line exact match and edit similarity against the removed text's
 * first line; multi-line also the whole text's edit similarity) and gated at the shipped level
 * (shown / right of shown / right and wrong characters, as bench/eval-confidence.ts counts them).
 */
import { type SyntaxDocument, isWordChar } from '../src/context';
import { CONFIDENCE_THRESHOLDS, completeAt, promptAt, type CompleteAtOptions, type CompletionOutcome } from '../src/completion';
import { Engine, type SnippetLayout } from '../src/engine';
import { SETTINGS } from '../src/protocol/settings';
import { type FimCase, newStore, openCase, readCases } from './lib/cases';
import { loadPolicy } from './lib/latencyCurve';
import { MODEL_DIR, runInfo, runInfoMarkdown, sampleLoad } from './lib/machine';
import { editSimilarity } from './lib/match';
import { CaseReferences, REFERENCE_SOURCES } from './lib/references';
import { args, exitOnError, log, table, writeResults } from './lib/report';
import { fmt, mean, pct, percentiles, quantile, sum } from './lib/stats';
import { readWorkspaces } from './lib/workspaces';

const opt = args();
const LIMIT = opt.has('limit') ? Number(opt.get('limit')) : Infinity;
const LAYOUTS = (opt.get('layouts') ?? 'lines,file_sep,comment').split(',') as SnippetLayout[];
const QUERY = (opt.get('query') ?? 'lines') as 'lines' | 'tail';
const SETS = (opt.get('sets') ?? 'enter,typing,multi').split(',');
const LEVEL = SETTINGS['completion.confidence'].default as 'low' | 'medium' | 'high';
const GATE = CONFIDENCE_THRESHOLDS[LEVEL].automatic;

interface Moment {
  key: string;
  name: string;
  cases: FimCase[];
}

/** eval-line's cursor sits anywhere in a line; typing moments start after a word boundary (as eval-confidence). */
function atWordBoundary(c: FimCase): FimCase {
  let offset = c.offset;
  if (!isWordChar(c.target[0])) return c;
  while (offset > 0 && isWordChar(c.text[offset - 1])) offset--;
  if (offset === c.offset) return c;
  return { ...c, offset, target: c.text.slice(offset, c.offset) + c.target, text: c.text.slice(0, offset) + c.text.slice(c.offset) };
}

/** `limit` cases spread evenly over `cases` (the files are grouped by language and package). */
function spread(cases: FimCase[], limit: number): FimCase[] {
  if (cases.length <= limit) return cases;
  return Array.from({ length: limit }, (_, i) => cases[Math.floor((i * cases.length) / limit)]!);
}

const workspaces = readWorkspaces();
const withWorkspace = (cases: FimCase[]): FimCase[] => cases.filter((c) => workspaces.has(c.pkg));
const MOMENTS: Moment[] = [
  { key: 'enter', name: 'after Enter (whole line)', cases: spread(withWorkspace(readCases('eval-whole-line.jsonl')), LIMIT) },
  { key: 'typing', name: 'typing, mid-line', cases: spread(withWorkspace(readCases('eval-line.jsonl')), LIMIT).map(atWordBoundary) },
  { key: 'multi', name: 'multi-line (block body, 2-4 lines)', cases: spread(withWorkspace(readCases('eval-multiline.jsonl')), LIMIT) },
].filter((m) => SETS.includes(m.key));

type Config = { name: string; layout?: SnippetLayout };
const CONFIGS: Config[] = [{ name: 'no snippet' }, ...LAYOUTS.map((layout) => ({ name: `snippet, ${layout}`, layout }))];

interface Sample {
  id: string;
  em: boolean;
  es: number;
  esAll: number;
  ms: number;
  snippet: boolean;
  snippetMs: number;
  /** The target's first line (8+ characters) is in the snippet. */
  targetInSnippet: boolean;
  promptTokens: number;
  gated: { shown: string; right: boolean };
}

const firstLine = (text: string): string => text.replace(/\r\n?/g, '\n').split('\n')[0]!.trim();

/** Right: the file continues with the suggestion (trailing whitespace ignored), as eval-confidence. */
function isRight(c: FimCase, shown: string): boolean {
  const s = shown.replace(/\s+$/, '').replace(/\r\n/g, '\n');
  const continuation = (c.target + c.text.slice(c.offset)).replace(/\r\n/g, '\n');
  return s !== '' && continuation.startsWith(s);
}

async function main(): Promise<void> {
  const engine = await Engine.load(MODEL_DIR);
  const info = runInfo(engine.manifest.onnx.sha256);
  const policy = loadPolicy(engine);
  const store = newStore();
  const references = new CaseReferences(engine, MOMENTS.flatMap((m) => m.cases));
  log(`indexed ${references.stats.files} workspace files (${references.stats.tokens} tokens) in ${fmt(references.stats.buildMs / 1000, 1)} s`);

  const env = { engine, latency: policy.curve };
  const options = (c: FimCase, config: Config, threshold: number | undefined): CompleteAtOptions => ({
    decoding: { decoder: 'ptp', seed: 1, temperature: 0, topK: 50, topP: 0.95, blockSize: 'auto' },
    mode: 'inline',
    // A fresh cache per case and config: every prompt is prefilled whole, as at a new place.
    cacheKey: `${c.id}:${config.name}:${threshold ?? ''}`,
    requestId: c.id,
    references: references.for(c, REFERENCE_SOURCES),
    ...(config.layout !== undefined ? { snippets: true, snippetLayout: config.layout, snippetQuery: QUERY } : {}),
    ...(threshold !== undefined ? { confidenceThreshold: threshold } : {}),
  });
  const run = (doc: SyntaxDocument, c: FimCase, config: Config, threshold: number | undefined): Promise<CompletionOutcome> =>
    completeAt(env, doc, c.offset, options(c, config, threshold)).then((r) => {
      if (r.kind !== 'done') throw new Error(`${c.id}: the pipeline gave ${r.kind}`);
      return r;
    });
  /** Whether the prompt the engine runs holds the snippet (it leaves it out where the prefix would keep too little). */
  const carried = (doc: SyntaxDocument, c: FimCase, config: Config): boolean => {
    const p = promptAt(env, doc, c.offset, options(c, config, undefined));
    if (p?.snippet === undefined) return false;
    return engine.decode(engine.promptIds(p.prompt, { maxTokens: p.maxTokens })).includes(p.snippet.text);
  };

  const samples = new Map<string, Sample[]>();
  for (const moment of MOMENTS) {
    for (const [i, c] of moment.cases.entries()) {
      const doc = await openCase(store, c);
      const target = firstLine(c.target);
      for (const config of CONFIGS) {
        const free = await run(doc, c, config, undefined);
        const gated = await run(doc, c, config, GATE);
        const shown = gated.item?.insertText ?? '';
        const key = `${moment.key}/${config.name}`;
        samples.set(key, [
          ...(samples.get(key) ?? []),
          {
            id: c.id,
            em: firstLine(free.text) === target,
            es: editSimilarity(firstLine(free.text), target),
            esAll: editSimilarity(free.text, c.target),
            ms: free.stats.msTotal,
            snippet: free.snippet !== undefined && carried(doc, c, config),
            snippetMs: free.snippet?.ms ?? 0,
            targetInSnippet: free.snippet !== undefined && carried(doc, c, config) && target.length >= 8 && free.snippet.text.includes(target),
            promptTokens: free.stats.promptTokens,
            gated: { shown, right: isRight(c, shown) },
          },
        ]);
      }
      store.close(doc.uri);
      if ((i + 1) % 10 === 0) log(`${moment.key}: ${i + 1}/${moment.cases.length}`);
    }
  }
  await engine.dispose();
  info.load.push(sampleLoad());

  const md: string[] = [
    '# Retrieved snippets in the prompt',
    '',
    ...runInfoMarkdown(info),
    `- cases: ${MOMENTS.map((m) => `${m.name} ${m.cases.length}`).join(', ')}; validation packages with a workspace (bench/data/fim-workspaces.jsonl), spread evenly over each case file`,
    `- references as the worker holds them (bench/lib/references.ts): open files = the 4 nearest files of the package, workspace = the package without the case's file; ${references.stats.files} files, ${references.stats.tokens} tokens`,
    `- completeAt inline, PTP, block size auto, T 0; snippet query: ${QUERY === 'lines' ? 'the whole lines before the cursor’s line' : 'the text up to the cursor'} (last 48 tokens)`,
    `- EM / ES: first line of the ungated completion against the removed text's first line (trimmed); ES all: the whole completion against the whole removed text`,
    `- gated: confidence "${LEVEL}" (τ ${GATE}, automatic); shown / right of shown / right and wrong characters of what the editor inserts, as bench/eval-confidence.ts`,
    `- snippet: share of requests whose prompt carried a snippet (retrieved, Jaccard ≥ 0.3; the prompt drops it when the prefix would keep < 128 tokens); in snippet: share of those whose snippet holds the target's first line (8+ characters)`,
    '',
  ];
  for (const moment of MOMENTS) {
    md.push(`## ${moment.name} (${moment.cases.length} cases)`, '');
    const rows = CONFIGS.map((config) => {
      const s = samples.get(`${moment.key}/${config.name}`) ?? [];
      const visible = s.filter((x) => x.gated.shown.trim() !== '');
      const chars = (x: Sample): number => x.gated.shown.replace(/\s+$/, '').length;
      const withSnippet = s.filter((x) => x.snippet);
      const ms = percentiles(s.map((x) => x.ms));
      return [
        config.name,
        pct(mean(s.map((x) => (x.em ? 1 : 0))), 1),
        fmt(mean(s.map((x) => x.es)), 3),
        ...(moment.key === 'multi' ? [fmt(mean(s.map((x) => x.esAll)), 3)] : []),
        pct(visible.length / Math.max(1, s.length)),
        pct(visible.filter((x) => x.gated.right).length / Math.max(1, visible.length)),
        sum(visible.filter((x) => x.gated.right).map(chars)),
        sum(visible.filter((x) => !x.gated.right).map(chars)),
        fmt(ms.p50, 0),
        fmt(mean(s.map((x) => x.promptTokens)), 0),
        config.layout === undefined ? '' : pct(withSnippet.length / Math.max(1, s.length)),
        config.layout === undefined ? '' : pct(withSnippet.filter((x) => x.targetInSnippet).length / Math.max(1, withSnippet.length)),
        config.layout === undefined || withSnippet.length === 0 ? '' : `${fmt(quantile(withSnippet.map((x) => x.snippetMs), 0.5), 2)} / ${fmt(quantile(withSnippet.map((x) => x.snippetMs), 0.95), 2)}`,
      ];
    });
    md.push(
      ...table(
        ['config', 'EM', 'ES', ...(moment.key === 'multi' ? ['ES all'] : []), 'gated shown', 'right, of shown', 'right chars', 'wrong chars', 'ms p50', 'prompt tokens', 'snippet', 'in snippet', 'retrieval ms p50 / p95'],
        rows,
      ),
      '',
    );
  }
  const json = Object.fromEntries(samples);
  writeResults(opt.get('out') ?? 'eval-snippets', { info, samples: json }, md);
}

main().catch(exitOnError());

/**
 * Retrieved snippets in the prompt (issue 29 part 2): does the best-matching window of another
 * open file or workspace file, placed ahead of the prefix (src/engine/snippets.ts, completeAt's
 * `snippets` option), help a model never trained on that layout, and what does it cost?
 *
 *   node --import tsx bench/eval-snippets.ts --limit 60
 *   node --import tsx bench/eval-snippets.ts --limit 60 --layouts lines,comment --query tail
 *   node --import tsx bench/eval-snippets.ts --layouts lines --cache-model   (the cache model on throughout)
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
import type { SyntaxDocument } from '../src/context';
import { CONFIDENCE_THRESHOLDS, completeAt, promptAt, type CompleteAtOptions, type CompletionOutcome } from '../src/completion';
import { Engine, type SnippetLayout } from '../src/engine';
import { SETTINGS } from '../src/protocol/settings';
import { type FimCase, newStore, openCase } from './lib/cases';
import { loadPolicy } from './lib/latencyCurve';
import { type Moment, isRight, moments } from './lib/moments';
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
/** Whole-line cases typed on (one keystroke, then the next line) for the cache-reuse measurement. */
const TYPING = opt.has('typing') ? Number(opt.get('typing')) : 30;
/** Snippet score thresholds simulated from the runs (below one, the prompt and so the text are the baseline's). */
const SWEEP = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
const SETS = (opt.get('sets') ?? 'enter,typing,multi').split(',');
/** --cache-model: every config (the baseline too) with the cache model mixed in (ptp.context.cacheModel). */
const CACHE_MODEL = opt.has('cache-model');
const LEVEL = SETTINGS['completion.confidence'].default as 'low' | 'medium' | 'high';
const GATE = CONFIDENCE_THRESHOLDS[LEVEL].automatic;

/** `limit` cases spread evenly over `cases` (the files are grouped by language and package). */
function spread(cases: FimCase[], limit: number): FimCase[] {
  if (cases.length <= limit) return cases;
  return Array.from({ length: limit }, (_, i) => cases[Math.floor((i * cases.length) / limit)]!);
}

const workspaces = readWorkspaces();
const withWorkspace = (cases: FimCase[]): FimCase[] => cases.filter((c) => workspaces.has(c.pkg));
const MOMENTS: Moment[] = moments()
  .filter((m) => SETS.includes(m.key))
  .map((m) => ({ ...m, cases: spread(withWorkspace(m.cases), LIMIT) }));

type Config = { name: string; layout?: SnippetLayout };
const CONFIGS: Config[] = [{ name: 'no snippet' }, ...LAYOUTS.map((layout) => ({ name: `snippet, ${layout}`, layout }))];

interface Sample {
  id: string;
  em: boolean;
  es: number;
  esAll: number;
  ms: number;
  /** The prompt the engine ran carried a snippet. */
  snippet: boolean;
  /** Jaccard score of the retrieved snippet (0: none retrieved). */
  score: number;
  snippetMs: number;
  /** The target's first line (8+ characters) is in the snippet. */
  targetInSnippet: boolean;
  promptTokens: number;
  gated: { shown: string; right: boolean };
}

const firstLine = (text: string): string => text.replace(/\r\n?/g, '\n').split('\n')[0]!.trim();

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
    ...(CACHE_MODEL ? { cacheModel: true } : {}),
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
            score: free.snippet?.score ?? 0,
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
  // Keystrokes: the cached prompt with and without a snippet.
  const typing: { config: string; step: string; ms: number; reused: number; prompt: number }[] = [];
  const typed = MOMENTS.find((m) => m.key === 'enter')?.cases.slice(0, TYPING) ?? [];
  const typingConfigs: { name: string; snippets?: { query: 'lines' | 'tail' } }[] = [{ name: 'no snippet' }, { name: 'snippet, query lines', snippets: { query: 'lines' } }, { name: 'snippet, query tail', snippets: { query: 'tail' } }];
  for (const c of typed) {
    const lineStart = c.text.lastIndexOf('\n', c.offset - 1) + 1;
    const indent = c.text.slice(lineStart, c.offset);
    const word = c.target.slice(0, 3);
    const steps = [
      { step: 'at the line', text: c.text, offset: c.offset },
      { step: '+3 characters', text: c.text.slice(0, c.offset) + word + c.text.slice(c.offset), offset: c.offset + word.length },
      { step: 'next line', text: `${c.text.slice(0, c.offset)}${c.target}\n${indent}${c.text.slice(c.offset)}`, offset: c.offset + c.target.length + 1 + indent.length },
    ];
    for (const tc of typingConfigs) {
      for (const [k, s] of steps.entries()) {
        const doc = await store.open(`bench:///typing/${c.id}/${k}`, c.lang, s.text);
        const r = await completeAt(env, doc, s.offset, {
          ...options(c, { name: `typing ${tc.name}` }, undefined),
          ...(tc.snippets !== undefined ? { snippets: true, snippetLayout: LAYOUTS[0], snippetQuery: tc.snippets.query } : {}),
        });
        store.close(doc.uri);
        if (r.kind === 'done') typing.push({ config: tc.name, step: s.step, ms: r.stats.msTotal, reused: r.stats.reusedTokens, prompt: r.stats.promptTokens });
      }
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
    `- completeAt inline, PTP, block size auto, T 0, cache model ${CACHE_MODEL ? 'on (every row, the baseline too)' : 'off'}; snippet query: ${QUERY === 'lines' ? 'the whole lines before the cursor’s line' : 'the text up to the cursor'} (last 48 tokens)`,
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
  md.push(
    '## Paired: where a snippet changed the outcome',
    '',
    'Per case against the same case without a snippet: first lines that became exact / stopped being exact, gated suggestions that became right (shown and right) / stopped being right, and wrong gated suggestions shown, without → with.',
    '',
    ...table(
      ['layout', ...MOMENTS.flatMap((m) => [`${m.key} EM won / lost`, `${m.key} right won / lost`, `${m.key} wrong shown`])],
      LAYOUTS.map((layout) => [
        layout,
        ...MOMENTS.flatMap((moment) => {
          const base = new Map((samples.get(`${moment.key}/no snippet`) ?? []).map((x) => [x.id, x]));
          const s = samples.get(`${moment.key}/snippet, ${layout}`) ?? [];
          const right = (x: Sample): boolean => x.gated.right && x.gated.shown.trim() !== '';
          const wrong = (x: Sample): boolean => !x.gated.right && x.gated.shown.trim() !== '';
          const count = (f: (x: Sample, b: Sample) => boolean): number => s.filter((x) => f(x, base.get(x.id)!)).length;
          return [
            `${count((x, b) => x.em && !b.em)} / ${count((x, b) => !x.em && b.em)}`,
            `${count((x, b) => right(x) && !right(b))} / ${count((x, b) => !right(x) && right(b))}`,
            `${count((_, b) => wrong(b))} → ${count((x) => wrong(x))}`,
          ];
        }),
      ]),
    ),
    '',
  );
  md.push(
    '## Snippet score threshold (simulated)',
    '',
    'A request whose snippet scores below τ gets no snippet: its prompt, and so its text, are the baseline’s. Each row mixes the two runs accordingly (exact at T 0). Gated = right chars / wrong chars at the shipped confidence level.',
    '',
  );
  for (const layout of LAYOUTS) {
    const rows: (string | number)[][] = [];
    for (const tau of SWEEP) {
      const cells: (string | number)[] = [`${layout}, τ ${tau}`];
      for (const moment of MOMENTS) {
        const base = new Map((samples.get(`${moment.key}/no snippet`) ?? []).map((x) => [x.id, x]));
        const mixed = (samples.get(`${moment.key}/snippet, ${layout}`) ?? []).map((x) => (x.snippet && x.score >= tau ? x : base.get(x.id)!));
        const visible = mixed.filter((x) => x.gated.shown.trim() !== '');
        const chars = (x: Sample): number => x.gated.shown.replace(/\s+$/, '').length;
        cells.push(
          `${pct(mean(mixed.map((x) => (x.em ? 1 : 0))), 1)} / ${fmt(mean(mixed.map((x) => x.es)), 3)}`,
          `${sum(visible.filter((x) => x.gated.right).map(chars))} / ${sum(visible.filter((x) => !x.gated.right).map(chars))}`,
          pct(mixed.filter((x) => x.snippet && x.score >= tau).length / Math.max(1, mixed.length)),
        );
      }
      rows.push(cells);
    }
    const base = MOMENTS.flatMap((moment) => {
      const s = samples.get(`${moment.key}/no snippet`) ?? [];
      const visible = s.filter((x) => x.gated.shown.trim() !== '');
      const chars = (x: Sample): number => x.gated.shown.replace(/\s+$/, '').length;
      return [`${pct(mean(s.map((x) => (x.em ? 1 : 0))), 1)} / ${fmt(mean(s.map((x) => x.es)), 3)}`, `${sum(visible.filter((x) => x.gated.right).map(chars))} / ${sum(visible.filter((x) => !x.gated.right).map(chars))}`, ''];
    });
    md.push(...table(['layout, τ', ...MOMENTS.flatMap((m) => [`${m.key} EM / ES`, `${m.key} gated right / wrong`, `${m.key} snippet`])], [['no snippet', ...base], ...rows]), '');
  }
  if (typing.length > 0) {
    md.push(
      '## Typing: what the snippet costs the cached prompt',
      '',
      `The first ${typed.length} whole-line cases, each typed on with one cache (completeAt's cacheKey, as the worker keys it by document): a request at the empty line, one after the target's first 3 characters are typed, one at the next line after the target line and Enter. Layout ${LAYOUTS[0]}. Reused = prompt tokens whose keys and values came from the cache.`,
      '',
    );
    const steps = [...new Set(typing.map((t) => t.step))];
    md.push(
      ...table(
        ['config', ...steps.flatMap((s) => [`${s}: ms p50`, `${s}: reused / prompt`])],
        typingConfigs.map((tc) => [
          tc.name,
          ...steps.flatMap((s) => {
            const t = typing.filter((x) => x.config === tc.name && x.step === s);
            return [fmt(quantile(t.map((x) => x.ms), 0.5), 0), `${fmt(mean(t.map((x) => x.reused)), 0)} / ${fmt(mean(t.map((x) => x.prompt)), 0)}`];
          }),
        ]),
      ),
      '',
    );
  }
  const json = Object.fromEntries(samples);
  writeResults(opt.get('out') ?? 'eval-snippets', { info, samples: json, typing }, md);
}

main().catch(exitOnError());

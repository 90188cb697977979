/**
 * Quality and PTP acceptance on fill-in-the-middle cases from the validation packages (never a
 * package in training/corpus/heldout.txt), through the engine on the shipped ONNX model, against a
 * 4-gram baseline built from the same training corpus.
 *
 *   npm run eval                       (this file, then bench/eval-whole-line.ts)
 *   node --import tsx bench/eval.ts --limit 20    (the first 20 cases of each file, ~1 min)
 *   node --import tsx bench/eval.ts --no-ngram    (without the baseline: needs only the committed files)
 * (`npm run eval -- OPTIONS` hands the options to eval-whole-line, which runs last.)
 *
 * Cases (bench/data, written by bench/data/makeCases.ts):
 *   eval-line.jsonl       next line: cursor at a random point in a line, target = the rest of
 *                         that line, suffix = the rest of the file after that line
 *   eval-multiline.jsonl  `lines`: 2-4 whole lines removed; `block`: an emptied block body
 *
 * 1. Quality at temperature 0 (greedy; AR decoding, which PTP reproduces token for token):
 *    - "raw": the model alone (Engine.complete on buildPrompt's prompt, no stop rules, no
 *      trimming): next line until a line break or end-of-text (cap 48 tokens), multi-line until
 *      end-of-text (cap 128 tokens, and the scope's cap); trailing whitespace trimmed;
 *    - "pipeline": the worker's `completeAt` (src/completion) with the eval's what-ifs
 *      (completeAt's options): the same cap, the prompt keeping the whitespace before the
 *      cursor (holdTypedWhitespace off), no first-line rule, and for next line the line break
 *      as a stop too (stopAtLineBreak): the context's stop rules and trimming on the raw decode;
 *    - "shown": what the extension shows, the worker's `completeAt` as it runs (the typed
 *      whitespace held back from the prompt, the scope's token cap and stop rules, trimming);
 *      for next line its first line is scored.
 *    Exact match and edit similarity after whitespace normalisation (bench/lib/match.ts).
 *    The 4-gram baseline continues the prefix (it cannot read the suffix) greedily: "raw" up to
 *    the first line break (next line); "pipeline" in the model's place in the same completeAt
 *    (bench/lib/ngram.ts decoder), with the same options as the model's "pipeline".
 * 2. PTP accepted tokens per call at temperatures 0, 0.2 and 0.8 (top-k 50, top-p 0.95), block
 *    size 8 and budget 16 (the engine's `auto` defaults; completeAt's `budget` knob), the
 *    "pipeline" column's options otherwise, a fixed seed per case, on every 2nd case (--ptp-every); plus quality at each temperature. Twice: with
 *    PTP's own drafts only (the drafter's acceptance) and with context lookup drafts as well
 *    (the engine's default).
 *
 * The model runs need only the committed files; the baseline needs data/tokens/train (the local
 * corpus, not in git) and caches its tables in data/ngram/.
 */
import { performance } from 'node:perf_hooks';
import type { SyntaxDocument } from '../src/context';
import { buildPrompt } from '../src/context';
import { type DecodeResult, Engine } from '../src/engine';
import { AcceptanceTracker, survival } from './lib/acceptance';
import { type FimCase, newStore, openCase, readCases } from './lib/cases';
import { EngineSpy } from './lib/engineSpy';
import { loadPolicy } from './lib/latencyCurve';
import { MODEL_DIR, runInfo, runInfoMarkdown, sampleLoad } from './lib/machine';
import { editSimilarity, exactMatch, exactMatchIgnoringWhitespace } from './lib/match';
import { NGramModel } from './lib/ngram';
import { GREEDY, type InlineRequest, capAt, inlineRun, shownCompletion } from './lib/pipeline';
import { args, log, table, writeResults } from './lib/report';
import { fmt, mean, pct, sum } from './lib/stats';

const opt = args();
const LIMIT = opt.has('limit') ? Number(opt.get('limit')) : Infinity;
const WITH_NGRAM = !opt.has('no-ngram');
/** The harness-side healing what-if for the model (the worker's own holdback is in "shown"). */
const HEAL = opt.has('heal');
/** The temperature runs use every n-th case (they measure acceptance, which needs fewer cases than quality). */
const PTP_EVERY = Number(opt.get('ptp-every') ?? 2);
const LINE_CAP = 48;
const MULTI_CAP = 128;
const TEMPERATURES = [0, 0.2, 0.8];
const PTP = { blockSize: 8, budget: 16 };
/** PTP's own drafts only, and with context lookup drafts too (the engine's default). */
const MODES = [
  { key: 'ptp', name: 'PTP drafts only', lookup: false },
  { key: 'lookup', name: 'PTP + context lookup', lookup: true },
] as const;
type Mode = (typeof MODES)[number]['key'];
const runKey = (mode: Mode, T: number): string => `${mode}/${T}`;

interface Scored {
  text: string;
  em: boolean;
  es: number;
  /** Exact match up to whitespace (diagnostic). */
  emWs: boolean;
}

interface CaseResult {
  id: string;
  lang: string;
  kind: string;
  scope: string;
  target: string;
  model: { raw: Scored; pipeline: Scored; shown: Scored; healedRaw?: Scored; healedPipeline?: Scored };
  /** The prompt's prefix ends with a space (the case the healing what-if changes). */
  trailingSpace: boolean;
  ngram?: { raw?: Scored; pipeline: Scored; healedRaw?: Scored; healedPipeline?: Scored };
  /** Per runKey(mode, temperature): PTP with the context's stop rules. Every PTP_EVERY-th case only. */
  ptp: Record<string, { tokens: number; calls: number; acceptedDrafts: number; score: Scored }>;
  /** PTP at T=0 committed a prefix of AR's tokens (or AR of PTP's); true when PTP did not run. */
  losslessOk: boolean;
}

const score = (text: string, target: string): Scored => ({ text, em: exactMatch(text, target), es: editSimilarity(text, target), emWs: exactMatchIgnoringWhitespace(text, target) });

/** Cuts at the first line break (the next-line evaluation's raw rule). */
const firstLineBreak = (text: string): number | undefined => {
  const i = text.indexOf('\n');
  return i < 0 ? undefined : i;
};

/** The scores compare LF text, as the model writes it (completeAt gives the document's line endings). */
const lf = (text: string): string => text.replace(/\r\n/g, '\n');

/**
 * The model alone, greedy, on buildPrompt's prompt: no stop rules, no trimming; up to the first
 * line break (`line`) or end-of-text, or `maxTokens`. `heal` (what-if): a prefix ending in a
 * space is sent without it and the space is taken off the front of the completion.
 */
async function rawDecode(engine: Engine, doc: SyntaxDocument, offset: number, o: { seed: number; maxTokens: number; line: boolean; cacheKey: string; heal?: boolean }): Promise<{ text: string; result: DecodeResult }> {
  const prompt = buildPrompt(doc.text, offset).prompt!;
  const heal = o.heal === true && prompt.prefix.endsWith(' ');
  const unheal = (t: string): string => (heal && t.startsWith(' ') ? t.slice(1) : t);
  const stop = (t: string): number | undefined => {
    const cut = firstLineBreak(unheal(t));
    return cut === undefined ? undefined : cut + (t.length - unheal(t).length);
  };
  const result = await engine.complete(
    { prefix: heal ? prompt.prefix.slice(0, -1) : prompt.prefix, suffix: prompt.suffix },
    { decoder: 'ar', seed: o.seed, temperature: 0, topK: 50, topP: 0.95, blockSize: 1, maxTokens: o.maxTokens, ...(o.line ? { stop } : {}), cacheKey: o.cacheKey },
  );
  return { text: unheal(result.text), result };
}

(async () => {
  const engine = await Engine.load(MODEL_DIR);
  const info = runInfo(engine.manifest.onnx.sha256);
  const policy = loadPolicy(engine);
  const spy = new EngineSpy(engine);
  log(`eval: ${info.command}; load ${info.load[0]!.uptime}`);
  const ngram = WITH_NGRAM ? NGramModel.load(log) : undefined;
  const lineCases = readCases('eval-line.jsonl').slice(0, LIMIT);
  const multiCases = readCases('eval-multiline.jsonl').slice(0, LIMIT);
  const store = newStore();
  const results: CaseResult[] = [];
  const trackers = new Map(MODES.flatMap((m) => TEMPERATURES.map((t) => [runKey(m.key, t), { line: new AcceptanceTracker(), multi: new AcceptanceTracker() }])));
  const started = performance.now();

  const all: FimCase[] = [...lineCases, ...multiCases];
  for (const [n, c] of all.entries()) {
    const isLine = c.kind === 'line';
    const doc = await openCase(store, c);
    const key = c.id;
    const cap = isLine ? LINE_CAP : MULTI_CAP;
    // The "pipeline" column's request: completeAt with the eval's what-ifs (see the header).
    const asRaw: InlineRequest = { decoding: { ...GREEDY, seed: n }, holdTypedWhitespace: false, firstLine: false, stopAtLineBreak: isLine, maxTokens: capAt(cap), cacheKey: key, requestId: `eval-pipeline-${n}` };

    // 1. Quality, greedy. The raw decode stops at the line break (next line) or end-of-text.
    const piped = await inlineRun(engine, policy, doc, c.offset, asRaw);
    const ar = await rawDecode(engine, doc, c.offset, { seed: n, maxTokens: piped.info.maxTokens, line: isLine, cacheKey: key });
    const rawText = ar.text.replace(/[ \t]+$/, '');
    const shown = await shownCompletion(engine, policy, doc, c.offset, { seed: n, cacheKey: key, requestId: `eval-${n}` });
    const shownText = isLine ? shown.split('\n', 1)[0]! : shown;
    const model: CaseResult['model'] = {
      raw: score(rawText, c.target),
      pipeline: score(lf(piped.text), c.target),
      shown: score(shownText, c.target),
    };
    const trailingSpace = buildPrompt(doc.text, c.offset).prompt?.prefix.endsWith(' ') ?? false;
    // What-if: the prefix's trailing space moved into the completion; in the pipeline, the worker's own holdback of the typed whitespace.
    const healedRequest: InlineRequest = { ...asRaw, holdTypedWhitespace: true, requestId: `eval-heal-${n}` };
    if (HEAL) {
      const healed = trailingSpace ? await rawDecode(engine, doc, c.offset, { seed: n, maxTokens: piped.info.maxTokens, line: isLine, cacheKey: key, heal: true }) : ar;
      model.healedRaw = score(healed.text.replace(/[ \t]+$/, ''), c.target);
      model.healedPipeline = trailingSpace ? score(lf((await inlineRun(engine, policy, doc, c.offset, healedRequest)).text), c.target) : model.pipeline;
    }

    let ngramResult: CaseResult['ngram'];
    if (ngram !== undefined) {
      const built = buildPrompt(doc.text, c.offset);
      if (built.prompt === null) throw new Error(`${c.id}: no prompt`);
      const decode = (ids: number[]): string => engine.decode(ids);
      // Greedy continuation of the prefix (the model's prefix budget is ~330 tokens; the
      // 4-gram reads the last 3). `heal` moves a trailing space into the continuation, as above.
      const continuation = (stop: (t: string) => number | undefined, cap: number, heal: boolean): string => {
        const h = heal && built.prompt!.prefix.endsWith(' ');
        const unheal = (t: string): string => (h && t.startsWith(' ') ? t.slice(1) : t);
        const history = engine.encode(built.prompt!.prefix.slice(-2000, h ? -1 : undefined));
        return unheal(ngram.complete(history, decode, cap, (t) => stop(unheal(t)) === undefined ? undefined : t.length - unheal(t).length + stop(unheal(t))!));
      };
      // The 4-gram in the model's place in the same pipeline request (next line: its cap is
      // LINE_CAP whatever the scope's, as its raw decode's).
      spy.decoder = ngram.decoder(engine);
      const ngramPiped = async (request: InlineRequest): Promise<Scored> => score(lf((await inlineRun(spy.engine, policy, doc, c.offset, isLine ? { ...request, maxTokens: LINE_CAP } : request)).text), c.target);
      const pipeline = await ngramPiped(asRaw);
      const healedPipeline = HEAL && !isLine ? (trailingSpace ? await ngramPiped(healedRequest) : pipeline) : undefined;
      spy.decoder = undefined;
      if (isLine) {
        const text = continuation(firstLineBreak, LINE_CAP, false);
        const healed = HEAL ? continuation(firstLineBreak, LINE_CAP, true) : undefined;
        ngramResult = {
          raw: score(text.replace(/[ \t]+$/, ''), c.target),
          pipeline,
          healedRaw: healed === undefined ? undefined : score(healed.replace(/[ \t]+$/, ''), c.target),
        };
      } else {
        ngramResult = { pipeline, healedPipeline };
      }
    }

    // 2. PTP per temperature, with the context's stop rules (as the extension runs it).
    const ptp: CaseResult['ptp'] = {};
    let losslessOk = true;
    for (const [mode, T] of n % PTP_EVERY === 0 ? MODES.flatMap((m) => TEMPERATURES.map((t) => [m, t] as const)) : []) {
      const tracker = trackers.get(runKey(mode.key, T))![isLine ? 'line' : 'multi'];
      spy.watch = { begin: (o) => tracker.begin(o.maxTokens), onCall: tracker.onCall, hooks: tracker.hooks };
      const piped = await inlineRun(spy.engine, policy, doc, c.offset, {
        ...asRaw,
        decoding: { decoder: 'ptp', seed: 1000 + n, temperature: T, topK: 50, topP: 0.95, blockSize: PTP.blockSize, lookup: mode.lookup },
        budget: PTP.budget,
        stopAtLineBreak: false,
        requestId: `eval-${runKey(mode.key, T)}-${n}`,
      });
      spy.watch = undefined;
      const run = piped.result;
      ptp[runKey(mode.key, T)] = { tokens: run.tokens.length, calls: run.calls, acceptedDrafts: sum(run.trace.map((t) => t.acceptedDrafts)), score: score(lf(piped.text), c.target) };
      if (T === 0) {
        const a = ar.result.tokens.join(',');
        const b = run.tokens.join(',');
        losslessOk &&= a.startsWith(b) || b.startsWith(a);
      }
    }
    results.push({ id: c.id, lang: c.lang, kind: c.kind, scope: c.scope, target: c.target, model, trailingSpace, ngram: ngramResult, ptp, losslessOk });
    store.close(doc.uri);
    if ((n + 1) % 50 === 0) log(`${n + 1}/${all.length} cases, ${((performance.now() - started) / 1000).toFixed(0)} s; load ${sampleLoad().loadavg.join(' ')}`);
  }
  info.load.push(sampleLoad());

  const langs = (rs: CaseResult[]) => [
    ...['python', 'javascript', 'typescript'].map((l) => [l, rs.filter((r) => r.lang === l)] as const),
    ['JS+TS', rs.filter((r) => r.lang === 'javascript' || r.lang === 'typescript')] as const,
    ['all', rs] as const,
  ];
  const em = (xs: (Scored | undefined)[]): string => pct(mean(xs.filter((x): x is Scored => x !== undefined).map((x) => (x.em ? 1 : 0))), 1);
  const es = (xs: (Scored | undefined)[]): string => fmt(mean(xs.filter((x): x is Scored => x !== undefined).map((x) => x.es)), 3);
  const emWs = (xs: (Scored | undefined)[]): string => pct(mean(xs.filter((x): x is Scored => x !== undefined).map((x) => (x.emWs ? 1 : 0))), 1);

  const line = results.filter((r) => r.kind === 'line');
  const multi = results.filter((r) => r.kind !== 'line');
  const lineTable = langs(line).map(([l, rs]) => [
    l,
    rs.length,
    em(rs.map((r) => r.model.raw)),
    es(rs.map((r) => r.model.raw)),
    emWs(rs.map((r) => r.model.raw)),
    em(rs.map((r) => r.model.healedRaw)),
    es(rs.map((r) => r.model.healedRaw)),
    em(rs.map((r) => r.model.pipeline)),
    es(rs.map((r) => r.model.pipeline)),
    em(rs.map((r) => r.model.shown)),
    es(rs.map((r) => r.model.shown)),
    em(rs.map((r) => r.ngram?.raw)),
    es(rs.map((r) => r.ngram?.raw)),
    em(rs.map((r) => r.ngram?.pipeline)),
    es(rs.map((r) => r.ngram?.pipeline)),
    em(rs.map((r) => r.ngram?.healedRaw)),
    es(rs.map((r) => r.ngram?.healedRaw)),
  ]);
  const multiRows = (['block', 'lines', 'all'] as const).flatMap((kind) =>
    langs(multi.filter((r) => kind === 'all' || r.kind === kind)).map(([l, rs]) => [
      kind,
      l,
      rs.length,
      em(rs.map((r) => r.model.raw)),
      es(rs.map((r) => r.model.raw)),
      em(rs.map((r) => r.model.pipeline)),
      es(rs.map((r) => r.model.pipeline)),
      emWs(rs.map((r) => r.model.pipeline)),
      em(rs.map((r) => r.model.shown)),
      es(rs.map((r) => r.model.shown)),
      em(rs.map((r) => r.model.healedPipeline)),
      es(rs.map((r) => r.model.healedPipeline)),
      em(rs.map((r) => r.ngram?.pipeline)),
      es(rs.map((r) => r.ngram?.pipeline)),
      em(rs.map((r) => r.ngram?.healedPipeline)),
      es(rs.map((r) => r.ngram?.healedPipeline)),
    ]),
  );
  const withPtp = (rs: readonly CaseResult[]): CaseResult[] => rs.filter((r) => r.ptp[runKey('ptp', 0)] !== undefined);
  const tpc = (rs: CaseResult[], key: string) => {
    const xs = rs.map((r) => r.ptp[key]!);
    const tokens = sum(xs.map((x) => x.tokens));
    const calls = sum(xs.map((x) => x.calls));
    return { tokensPerCall: tokens / calls, afterFirst: (tokens - xs.filter((x) => x.tokens > 0).length) / Math.max(1, calls - xs.length), accepted: sum(xs.map((x) => x.acceptedDrafts)) / calls, tokens: mean(xs.map((x) => x.tokens)) };
  };
  const ptpRows = MODES.flatMap((mode) =>
    TEMPERATURES.flatMap((T) =>
      (['line', 'multi-line'] as const).flatMap((set) =>
        langs(withPtp(set === 'line' ? line : multi)).map(([l, rs]) => {
          const key = runKey(mode.key, T);
          const s = tpc(rs, key);
          return [mode.name, String(T), set, l, rs.length, fmt(s.tokens, 1), fmt(s.tokensPerCall, 2), fmt(s.afterFirst, 2), fmt(s.accepted, 2), em(rs.map((r) => r.ptp[key]!.score)), es(rs.map((r) => r.ptp[key]!.score))];
        }),
      ),
    ),
  );
  const survivalRows = MODES.flatMap((mode) =>
    TEMPERATURES.flatMap((T) =>
      (['line', 'multi'] as const).map((set) => {
        const s = survival(trackers.get(runKey(mode.key, T))![set].calls, 4);
        return [mode.name, String(T), set === 'line' ? 'line' : 'multi-line', ...s.map((x) => `${fmt(x.p, 3)} (${x.n})`)];
      }),
    ),
  );
  const lossless = results.filter((r) => !r.losslessOk).map((r) => r.id);

  const md = [
    '# Evaluation: fill-in-the-middle on validation packages',
    '',
    ...runInfoMarkdown(info),
    `- cases: bench/data/eval-line.jsonl (${line.length}), bench/data/eval-multiline.jsonl (${multi.length}: ${multi.filter((r) => r.kind === 'block').length} block bodies, ${multi.filter((r) => r.kind === 'lines').length} runs of 2-4 lines); validation packages only, none from training/corpus/heldout.txt`,
    `- baseline: ${ngram === undefined ? 'not run (--no-ngram)' : `${ngram.info.order}-gram, greedy with backoff to the longest seen context, over data/tokens/train (${(ngram.info.trainingTokens / 1e6).toFixed(1)}M tokens, the model's training split; ${ngram.info.contexts.map((c, i) => `${c} contexts of ${i + 1}`).join(', ')}); it reads the prefix only (no suffix)`}`,
    `- losslessness (PTP at T=0 vs AR, same case): ${lossless.length === 0 ? `PTP's tokens agree with AR's on all ${withPtp(results).length} cases run with PTP` : `**${lossless.length} cases differ**: ${lossless.slice(0, 8).join(', ')}`}`,
    '- EM = exact match, ES = edit similarity (1 - Levenshtein / longer length), after trailing-whitespace normalisation; "ignoring whitespace" also drops leading whitespace and collapses runs (a diagnostic)',
    `- heal (what-if, harness side, ${HEAL ? 'run' : 'not run'}): for prompts whose prefix ends with a space (${pct(mean(results.map((r) => (r.trailingSpace ? 1 : 0))))} of cases), the same greedy decode with that space removed from the prompt and from the front of the completion. The tokenizer attaches a space to the word after it (\`"        return"\` is \`"       "\` + \`" return"\`), so a prefix that ends in whitespace ends in a token the model rarely saw there, and it answers with an extra space. In the +heal+pipeline columns the heal is the worker's own: completeAt holding back the whitespace before the cursor (its default)`,
    '',
    '## Next line (temperature 0)',
    '',
    'raw = the model alone, cut at the first line break; pipeline = the worker\'s completeAt with the prompt keeping the whitespace before the cursor, no first-line rule, the line break as a stop too: the context\'s stop rules and trimming on the raw decode; shown = what the extension shows (the worker\'s completeAt as it runs: typed whitespace held back from the prompt, the scope\'s cap and stop rules, trimming), its first line. The heal columns are empty unless run with --heal; model+heal = the raw decode with the prefix\'s trailing space moved into the completion.',
    '',
    ...table(['language', 'cases', 'model EM', 'model ES', 'model EM ignoring whitespace', 'model+heal EM', 'model+heal ES', 'model+pipeline EM', 'model+pipeline ES', 'shown EM', 'shown ES', '4-gram EM', '4-gram ES', '4-gram+pipeline EM', '4-gram+pipeline ES', '4-gram+heal EM', '4-gram+heal ES'], lineTable),
    '',
    '## Multi-line (temperature 0)',
    '',
    `raw = the model alone up to end-of-text (cap ${MULTI_CAP} tokens); pipeline = the worker's completeAt with the prompt keeping the whitespace before the cursor and no first-line rule (the context's stop rules and trimming); shown = what the extension shows (the worker's completeAt as it runs). The 4-gram has no end-of-text, so it is shown through the pipeline only. +heal+pipeline (--heal): the same with the worker's holdback of the typed whitespace, on the prompts whose prefix ends with a space.`,
    '',
    ...table(['cases', 'language', 'n', 'model raw EM', 'model raw ES', 'model+pipeline EM', 'model+pipeline ES', 'model+pipeline EM ignoring whitespace', 'shown EM', 'shown ES', 'model+heal+pipeline EM', 'model+heal+pipeline ES', '4-gram+pipeline EM', '4-gram+pipeline ES', '4-gram+heal+pipeline EM', '4-gram+heal+pipeline ES'], multiRows),
    '',
    `## PTP accepted tokens per call by temperature (M=${PTP.blockSize}, B=${PTP.budget}, context stop rules; every ${PTP_EVERY === 1 ? '' : `${PTP_EVERY}nd `}case)`,
    '',
    'PTP drafts only = the gated-LoRA drafter\'s own drafts (lookup off): what the model\'s PTP training buys. PTP + context lookup = the engine\'s default: each call verifies whichever of PTP\'s draft and the context\'s continuation (src/engine/lookup.ts) is expected to keep more tokens. tok/call = committed tokens / model calls; after first = excluding each request\'s first call (which has no PTP draft to verify, only a lookup one); drafts/call = accepted speculations per call. EM/ES: quality at that temperature (pipeline); the two modes commit the same tokens.',
    '',
    ...table(['drafts', 'T', 'cases', 'language', 'n', 'tokens (mean)', 'tok/call', 'tok/call after first', 'drafts/call', 'EM', 'ES'], ptpRows),
    '',
    'Measured S(j) = P(j-th speculation accepted | at least j verified), (calls):',
    '',
    ...table(['drafts', 'T', 'cases', 'S(1)', 'S(2)', 'S(3)', 'S(4)'], survivalRows),
  ];
  writeResults('eval', { run: info, settings: { lineCap: LINE_CAP, multiCap: MULTI_CAP, temperatures: TEMPERATURES, ptp: PTP, modes: MODES, ngram: ngram?.info }, lossless, results }, md);
  store.dispose();
  await engine.dispose();
})().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

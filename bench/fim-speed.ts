/**
 * Decoding speed where editor users type: fill-in-the-middle after Enter, whole lines and
 * emptied block bodies, with the rest of the file, the open files and the workspace as draft
 * sources. AR against PTP on the same model, in one run, side by side.
 *
 *   npm run bench:fim                   (= node --import tsx bench/fim-speed.ts; ~4 min)
 *   npm run bench:fim -- --limit 10     (the first 10 cases of each kind)
 *
 * Cases: bench/data/fim-speed.jsonl (80 whole-line, 40 block; Python, JS, TS, Go; validation
 * packages; whole files) and their packages' files (bench/data/fim-workspaces.jsonl), indexed as
 * the worker indexes them (bench/lib/references.ts). Every completion is the worker's own
 * completeAt (inline mode: the shipped policy's block size and budget, the first-line rule, the
 * scope's stop rules and cap, trimming), T 0.2 / top-k 50 / top-p 0.95 (the shipped sampling), a
 * fixed seed per case. Each case first runs once with AR to fill the KV cache (as typing does),
 * then every configuration runs once, in rotated order, between two AR runs: its wall-clock
 * ratio is taken against those neighbours, so load that drifts over seconds cancels.
 *
 * Configurations: PTP's own drafts only; with lookup in the prompt and output (the suffix
 * included; what shipped before references); then with each reference source added alone
 * (the document beyond the prompt's window, the open files, the workspace); then all combined.
 * Every PTP completion must equal AR's tokens. A completion whose lines repeat
 * (bench/lib/loops.ts) is a loop: lookup drafts ride on repetition, so the loop share is
 * reported beside the rate, and the rate without them.
 */
import { Engine, type ReferenceSource } from '../src/engine';
import type { CompletionOutcome } from '../src/completion/index';
import { type FimCase, newStore, openCase, readCases } from './lib/cases';
import { loadPolicy } from './lib/latencyCurve';
import { repeatedLine } from './lib/loops';
import { MODEL_DIR, runInfo, runInfoMarkdown, sampleLoad } from './lib/machine';
import { shownRun } from './lib/pipeline';
import { CaseReferences } from './lib/references';
import { args, exitOnError, log, mib, table, writeResults } from './lib/report';
import { fmt, median, pct, quantile, sum } from './lib/stats';

const opt = args();
const LIMIT = opt.has('limit') ? Number(opt.get('limit')) : Infinity;
const SAMPLING = { temperature: 0.2, topK: 50, topP: 0.95 };

interface Config {
  name: string;
  lookup: boolean;
  sources: readonly ReferenceSource[];
}

const CONFIGS: Config[] = [
  { name: 'PTP drafts only', lookup: false, sources: [] },
  { name: 'lookup in the prompt (suffix, prefix, output)', lookup: true, sources: [] },
  { name: '+ the document beyond the prompt', lookup: true, sources: ['document'] },
  { name: '+ the open files', lookup: true, sources: ['open'] },
  { name: '+ the workspace', lookup: true, sources: ['workspace'] },
  { name: 'combined (shipped)', lookup: true, sources: ['document', 'open', 'workspace'] },
];

interface Run {
  case: string;
  kind: string;
  lang: string;
  config: string;
  tokens: number;
  calls: number;
  rows: number;
  msDecode: number;
  msTotal: number;
  /** Mean of the two AR neighbours. */
  arDecode: number;
  arTotal: number;
  same: boolean;
  loop: boolean;
  /** Calls and accepted drafts by where the verified draft came from. */
  bySource: Record<string, { calls: number; accepted: number }>;
}

(async () => {
  const engine = await Engine.load(MODEL_DIR);
  const info = runInfo(engine.manifest.onnx.sha256);
  const policy = loadPolicy(engine);
  log(`fim-speed: ${info.command}; load ${info.load[0]!.uptime}`);
  const all = readCases('fim-speed.jsonl');
  const cases = ['whole-line', 'block'].flatMap((kind) => all.filter((c) => c.kind === kind).slice(0, LIMIT));
  const references = new CaseReferences(engine, cases);
  log(`indexed ${references.stats.files} workspace files (${references.stats.tokens} tokens, ${mib(references.stats.bytes)} MiB) in ${fmt(references.stats.buildMs / 1000, 1)} s`);
  const store = newStore();
  const runs: Run[] = [];

  for (const [n, c] of cases.entries()) {
    const doc = await openCase(store, c);
    const run = (config: Config | undefined): Promise<CompletionOutcome> =>
      shownRun(engine, policy, doc, c.offset, {
        seed: 1000 + n,
        cacheKey: c.id,
        requestId: `${c.id}/${config?.name ?? 'ar'}`,
        decoding: config === undefined ? { decoder: 'ar', blockSize: 1, ...SAMPLING } : { decoder: 'ptp', blockSize: 'auto', lookup: config.lookup, ...SAMPLING },
        references: config === undefined ? undefined : references.for(c, config.sources),
      });
    await run(undefined); // fills the cache
    let before = await run(undefined);
    const order = CONFIGS.map((_, i) => CONFIGS[(i + n) % CONFIGS.length]!);
    for (const config of order) {
      const r = await run(config);
      const after = await run(undefined);
      runs.push(measure(c, config, r, before, after));
      before = after;
    }
    store.close(doc.uri);
    if (n % 10 === 9) log(`${n + 1}/${cases.length}; load ${sampleLoad().loadavg.join(' ')}`);
  }
  info.load.push(sampleLoad());
  report(info, cases, runs, references.stats);
  store.dispose();
  await engine.dispose();
})().catch(exitOnError());

function measure(c: FimCase, config: Config, r: CompletionOutcome, before: CompletionOutcome, after: CompletionOutcome): Run {
  const bySource: Run['bySource'] = {};
  for (const t of r.result.trace) {
    const s = (bySource[t.draft] ??= { calls: 0, accepted: 0 });
    s.calls++;
    s.accepted += t.acceptedDrafts;
  }
  return {
    case: c.id,
    kind: c.kind,
    lang: c.lang,
    config: config.name,
    tokens: r.result.tokens.length,
    calls: r.result.calls,
    rows: sum(r.result.trace.map((t) => t.rows)),
    msDecode: r.result.msDecode,
    msTotal: r.stats.msTotal,
    arDecode: (before.result.msDecode + after.result.msDecode) / 2,
    arTotal: (before.stats.msTotal + after.stats.msTotal) / 2,
    same: r.result.tokens.join(',') === after.result.tokens.join(',') && r.text === after.text,
    loop: repeatedLine(r.rawText) !== undefined,
    bySource,
  };
}

/** One table row: rates, loop share and the wall-clock ratios against the AR neighbours. */
function summarize(runs: readonly Run[]): (string | number)[] {
  const clean = runs.filter((r) => !r.loop);
  const rate = (rs: readonly Run[]): string => fmt(sum(rs.map((r) => r.tokens)) / Math.max(1, sum(rs.map((r) => r.calls))), 2);
  const ratios = runs.filter((r) => r.msDecode > 0).map((r) => r.arDecode / r.msDecode);
  return [
    rate(runs),
    rate(clean),
    pct(runs.filter((r) => r.loop).length / Math.max(1, runs.length), 1),
    fmt(sum(runs.map((r) => r.rows)) / Math.max(1, sum(runs.map((r) => r.calls))), 1),
    fmt(sum(runs.map((r) => r.arDecode)) / sum(runs.map((r) => r.msDecode)), 2),
    `${fmt(median(ratios), 2)} [${fmt(quantile(ratios, 0.25), 2)}–${fmt(quantile(ratios, 0.75), 2)}]`,
    fmt(sum(runs.map((r) => r.arTotal)) / sum(runs.map((r) => r.msTotal)), 2),
    runs.every((r) => r.same) ? 'yes' : `**NO** (${runs.filter((r) => !r.same).length})`,
  ];
}

const HEADER = ['config', 'tok/call', 'tok/call, loops excluded', 'loop share', 'rows/call', 'decode speedup vs AR (sums)', 'per case, median [IQR]', 'request speedup vs AR (sums)', 'same tokens as AR'];

function report(info: ReturnType<typeof runInfo>, cases: readonly FimCase[], runs: readonly Run[], index: CaseReferences['stats']): void {
  const of = (config: string, kind?: string) => runs.filter((r) => r.config === config && (kind === undefined || r.kind === kind));
  const combined = CONFIGS[CONFIGS.length - 1]!.name;
  const sources = [...new Set(runs.filter((r) => r.config === combined).flatMap((r) => Object.keys(r.bySource)))].sort();
  const sourceRows = sources.map((s) => {
    const calls = sum(of(combined).map((r) => r.bySource[s]?.calls ?? 0));
    const accepted = sum(of(combined).map((r) => r.bySource[s]?.accepted ?? 0));
    return [s, calls, pct(calls / Math.max(1, sum(of(combined).map((r) => r.calls))), 1), fmt(accepted / Math.max(1, calls), 2)];
  });
  const langs = [...new Set(cases.map((c) => c.lang))];
  const md = [
    '# Decoding speed after Enter, FIM with the file, open files and workspace: AR vs PTP (ptp-code-10m, CPU)',
    '',
    ...runInfoMarkdown(info),
    `- cases: bench/data/fim-speed.jsonl, ${cases.filter((c) => c.kind === 'whole-line').length} whole-line and ${cases.filter((c) => c.kind === 'block').length} block (${langs.join(', ')}; validation packages, whole files); the worker's completeAt in inline mode (policy block size, first-line rule, scope stops, trimming), T ${SAMPLING.temperature}, top-k ${SAMPLING.topK}, top-p ${SAMPLING.topP}, seed 1000 + case; each configuration between two AR runs of the same case, the KV cache warm`,
    `- workspace indexes: ${index.files} files of ${new Set(cases.map((c) => c.pkg)).size} packages, ${index.tokens} tokens, ${mib(index.bytes)} MiB, tokenized and indexed in ${fmt(index.buildMs / 1000, 1)} s; open files: the 4 nearest files of the package (bench/lib/workspaces.ts openFilesFor); the case's own file is in neither`,
    '',
    'tok/call: tokens committed per model call, all calls (a retry after Enter counts its last attempt only). loop share: completions with a code line three times. Speedups: AR time (mean of the two neighbouring AR runs) / this time, summed over cases, and the median per case; decode = the calls after the first, request = the whole completeAt. >1 = faster than AR.',
    '',
    '## All cases',
    '',
    ...table(HEADER, CONFIGS.map((c) => [c.name, ...summarize(of(c.name))])),
    '',
    ...['whole-line', 'block'].flatMap((kind) => [`## ${kind}`, '', ...table(HEADER, CONFIGS.map((c) => [c.name, ...summarize(of(c.name, kind))])), '']),
    '## Combined, by language',
    '',
    ...table(['language', ...HEADER.slice(1)], langs.map((l) => [l, ...summarize(of(combined).filter((r) => r.lang === l))])),
    '',
    '## Combined: where the verified drafts came from',
    '',
    'Per call, the source of the speculation it verified (none = no draft; the first call of a request, or no source had one) and the drafts accepted per such call.',
    '',
    ...table(['source', 'calls', 'share of calls', 'accepted drafts per call'], sourceRows),
  ];
  writeResults('fim-speed', { run: info, index, runs }, md);
}

/**
 * Decoding speed: AR versus PTP on the same model, in one run, side by side.
 *
 *   npm run bench                      (= node --import tsx bench/speed.ts)
 *   npm run bench -- --reps 1 --prompts 4 --curve-reps 3     (a quick look, ~1 min)
 *   npm run bench -- --threads 2 --out speed-threads2            (onnxruntime threads; results under another name)
 *
 * 1. The latency-versus-rows curve: one model call with 1..128 rows at past lengths
 *    0/128/256/319 (rows = 1 token row + draft rows, as a PTP call has; and, for comparison,
 *    token rows only, as a prefill has). Medians of --curve-reps interleaved repetitions.
 *    Written to bench/results/latency-curve.json (the table in speed.md).
 *    The block-size policy reads another curve: the one the worker measures when it loads the
 *    model (src/completion measureLatencyCurve, a past of 256 tokens), measured here right after
 *    loading and written to bench/results/policy-curve.json (bench/lib/latencyCurve.ts).
 * 2. 64-token completions at temperature 0.2 (top-k 50, top-p 0.95, a fixed seed per prompt) for
 *    the prompts in bench/data/speed-prompts.jsonl (the text before the cursor, left to right), for AR; for PTP's own
 *    drafts only (lookup off) at block sizes 1/2/4/8/16 with budgets M/2M (and 4M at 16); for
 *    PTP with context lookup drafts (the engine's default) at four M/B and with B = 0 (lookup
 *    alone); and `auto` (the context policy's M and B for the prompt's scope, from the policy
 *    curve just measured, with lookup). The prompt is in the KV cache before each completion
 *    (as while typing), so "request" time is one small first call plus the decode. Every
 *    configuration runs once per prompt per repetition, in rotated order, between two AR runs
 *    of the same prompt; its wall-clock ratio to AR is taken against those neighbours, so load
 *    from other work on the machine (which drifts over seconds) cancels out.
 *
 * PTP is lossless, so every configuration must produce AR's tokens; the run checks it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { analyze, buildPrompt } from '../src/context';
import type { LatencyPoint } from '../src/context';
import { Engine, OUTPUT_RESERVE } from '../src/engine';
import type { DecodeOptions, DecodeResult } from '../src/engine';
import { AcceptanceTracker, histogramTail, survival } from './lib/acceptance';
import { type FimCase, newStore, openCase, readCases } from './lib/cases';
import { CURVE_FILE, type LatencyCurveFile, measurePolicyCurve, writePolicyCurve } from './lib/latencyCurve';
import { MODEL_DIR, runInfo, runInfoMarkdown, sampleLoad } from './lib/machine';
import { args, exitOnError, log, table, writeResults } from './lib/report';
import { Rng } from './lib/rng';
import { fmt, mean, median, pct, quantile, round, sum } from './lib/stats';

const opt = args();
const REPS = Number(opt.get('reps') ?? 3);
const PROMPTS = Number(opt.get('prompts') ?? 8);
const CURVE_REPS = Number(opt.get('curve-reps') ?? 9);
/** onnxruntime intra-op threads (default: the engine's, half the cores). */
const THREADS = opt.has('threads') ? Number(opt.get('threads')) : undefined;
/** Results name under bench/results; only the default run writes the latency curves. */
const OUT = opt.get('out') ?? 'speed';
const MAX_TOKENS = 64;
const SAMPLING = { temperature: 0.2, topK: 50, topP: 0.95 };

const ROWS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128];
const TOKEN_ROWS = [1, 2, 4, 8, 16, 32, 64, 128];
const CONTEXT = 512;
/** The longest prompt the engine keeps whole (it clips prompts to the context less its output reserve). */
const MAX_PROMPT = CONTEXT - OUTPUT_RESERVE;
/** Past lengths of the curve; the last is a full prompt's (its last token is the first call's row). */
const PASTS = [0, 128, 256, MAX_PROMPT - 1];

interface CurveSample {
  kind: 'draft' | 'token';
  past: number;
  rows: number;
  ms: number;
  /** A 1-row call at the same past length, run just before this one. */
  refMs: number;
}

/** One model call's time: run a request and cancel it after its first call. */
async function firstCall(engine: Engine, prefix: string, opts: Omit<DecodeOptions, 'seed' | 'temperature' | 'topK' | 'topP'>, key: string): Promise<DecodeResult> {
  const ac = new AbortController();
  return engine.complete({ prefix }, { ...opts, seed: 1, temperature: 0, topK: 0, topP: 1, cacheKey: key, signal: ac.signal, onCall: () => ac.abort() });
}

/**
 * A call with `rows` rows at past length P. Draft rows: the prompt's last token plus one
 * draft group of rows-1 (the first PTP call's shape; a group needs at least 2 rows, so 2 rows
 * are measured as token rows). Token rows: a prompt whose last `rows` tokens are not cached.
 */
async function measureCurve(engine: Engine, ids: number[], reps: number): Promise<CurveSample[]> {
  const prefixOf = (n: number): string => (n <= 1 ? '' : engine.decode(ids.slice(0, n)));
  const points: { kind: 'draft' | 'token'; past: number; rows: number }[] = [];
  for (const past of PASTS) {
    for (const rows of ROWS) if (rows !== 2 && past + rows <= CONTEXT) points.push({ kind: 'draft', past, rows });
    // A token-rows prompt has past + 1 + rows tokens and must fit the engine's prompt budget
    // untruncated, or the cache would not cover its start.
    for (const rows of TOKEN_ROWS) if (past + 1 + rows <= MAX_PROMPT) points.push({ kind: 'token', past, rows });
  }
  const samples: CurveSample[] = [];
  const rng = new Rng(7);
  const oneRow = { decoder: 'ar' as const, blockSize: 1, maxTokens: 1 };
  for (let rep = 0; rep < reps; rep++) {
    // Past lengths in turn (the engine keeps 4 cached prompts, so one past at a time stays
    // cached); row counts in a fresh random order each time. Every point is preceded by a
    // 1-row call at the same past (which also restores the cache to the base prompt), so each
    // sample carries its own reference against load that drifts over seconds.
    for (const past of PASTS) {
      const key = `curve-${past}`;
      const base = prefixOf(past + 1);
      await firstCall(engine, base, oneRow, key);
      for (const p of rng.shuffle(points.filter((x) => x.past === past))) {
        const ref = await firstCall(engine, base, oneRow, key);
        if (ref.reusedTokens !== ref.promptTokens - 1) throw new Error(`curve: the prompt was not cached (${ref.reusedTokens} of ${ref.promptTokens} tokens)`);
        const r =
          p.kind === 'token'
            ? await firstCall(engine, prefixOf(past + 1 + p.rows), oneRow, key)
            : p.rows === 1
              ? await firstCall(engine, base, oneRow, key)
              : // Lookup off: a lookup draft in the first call would change its rows.
                await firstCall(engine, base, { decoder: 'ptp', blockSize: p.rows - 1, budget: p.rows - 1, maxTokens: p.rows - 1, lookup: false }, key);
        const t = r.trace[0]!;
        if (p.kind === 'draft' && r.reusedTokens !== r.promptTokens - 1) throw new Error(`curve: the prompt was not cached (${r.reusedTokens} of ${r.promptTokens} tokens)`);
        if (p.kind === 'draft' && t.rows !== p.rows) throw new Error(`curve: a ${p.rows}-row call ran ${t.rows} rows`);
        samples.push({ kind: p.kind, past: r.reusedTokens, rows: t.rows, ms: t.ms, refMs: ref.trace[0]!.ms });
      }
    }
  }
  return samples;
}

/**
 * ms per (nominal past, rows), past bucketed to the nearest PASTS entry: the median ratio of a
 * point to its adjacent 1-row reference call, times the median of all 1-row reference calls at
 * that past. A burst of load on the shared machine inflates a sample and its reference alike,
 * so it drops out of the ratio; the plain medians are kept as `raw` for comparison.
 */
function curveOf(samples: CurveSample[], kind: 'draft' | 'token'): { curve: Record<string, LatencyPoint[]>; raw: Record<string, LatencyPoint[]> } {
  const curve: Record<string, LatencyPoint[]> = {};
  const raw: Record<string, LatencyPoint[]> = {};
  for (const past of PASTS) {
    const atPast = samples.filter((s) => Math.abs(s.past - past) <= 4);
    const oneRow = median(atPast.map((s) => s.refMs));
    const near = atPast.filter((s) => s.kind === kind);
    const rows = [...new Set(near.map((s) => s.rows))].sort((a, b) => a - b);
    curve[String(past)] = rows.map((r) => ({ rows: r, ms: round(oneRow * median(near.filter((s) => s.rows === r).map((s) => s.ms / s.refMs)), 3) }));
    raw[String(past)] = rows.map((r) => ({ rows: r, ms: round(median(near.filter((s) => s.rows === r).map((s) => s.ms)), 3) }));
  }
  return { curve, raw };
}

interface Config {
  name: string;
  decoder: 'ar' | 'ptp';
  /** undefined: the policy's choice for the prompt. */
  blockSize?: number;
  budget?: number;
  /** Context lookup drafts as well as PTP's (the engine's default); false: PTP drafts only. */
  lookup: boolean;
}

const CONFIGS: Config[] = [
  { name: 'AR', decoder: 'ar', lookup: false },
  { name: 'PTP M=1', decoder: 'ptp', blockSize: 1, budget: 0, lookup: false },
  // PTP's own drafts only. For M=2 a budget above 2M is capped (at most M rows per hypothesis, 2 hypotheses).
  ...[2, 4, 8, 16].flatMap((M) => (M === 2 ? [1, 2] : M === 16 ? [1, 4] : [1, 2]).map((k) => ({ name: `PTP M=${M} B=${k * M}`, decoder: 'ptp' as const, blockSize: M, budget: k * M, lookup: false }))),
  // With context lookup (the default): the speculation is the better of PTP's and the context's draft.
  ...[[2, 4], [4, 4], [8, 8], [16, 16]].map(([M, B]) => ({ name: `PTP+lookup M=${M} B=${B}`, decoder: 'ptp' as const, blockSize: M, budget: B, lookup: true })),
  { name: 'lookup only (B=0)', decoder: 'ptp', blockSize: 16, budget: 0, lookup: true },
  { name: 'PTP auto (policy)', decoder: 'ptp', lookup: true },
];

interface Run {
  config: string;
  prompt: string;
  rep: number;
  /** Position in the run's sequence (AR runs bracket every other configuration). */
  seq: number;
  blockSize: number;
  budget: number;
  tokens: number[];
  calls: number;
  acceptedDrafts: number;
  msPrefill: number;
  msDecode: number;
  ortFirst: number;
  ortDecode: number;
  rowsDecode: number;
}

/** For each run, the mean request and decode time of the AR runs right before and after it. */
function arBracket(run: Run, all: Run[]): { request: number; decode: number } | undefined {
  const ar = all.filter((r) => r.config === 'AR' && r.prompt === run.prompt && r.rep === run.rep && Math.abs(r.seq - run.seq) === 1);
  if (ar.length === 0) return undefined;
  return { request: mean(ar.map((r) => r.msPrefill + r.msDecode)), decode: mean(ar.map((r) => r.msDecode)) };
}

function summarize(runs: Run[], arRuns: Run[], all: Run[]) {
  const ratios = runs.map((r) => ({ r, ar: arBracket(r, all) })).filter((x) => x.ar !== undefined && x.r.config !== 'AR');
  const bracketDecode = ratios.map(({ r, ar }) => ar!.decode / r.msDecode);
  const bracketRequest = ratios.map(({ r, ar }) => ar!.request / (r.msPrefill + r.msDecode));
  const reps = [...new Set(runs.map((r) => r.rep))];
  const perRep = reps.map((rep) => {
    const rs = runs.filter((r) => r.rep === rep);
    const ar = arRuns.filter((r) => r.rep === rep);
    const decodeTokens = sum(rs.map((r) => r.tokens.length - 1));
    return {
      msPerTokenDecode: sum(rs.map((r) => r.msDecode)) / decodeTokens,
      msPerTokenRequest: sum(rs.map((r) => r.msPrefill + r.msDecode)) / sum(rs.map((r) => r.tokens.length)),
      // Per token, since AR runs more often than the others (it brackets each of them).
      speedupDecode: sum(ar.map((r) => r.msDecode)) / sum(ar.map((r) => r.tokens.length - 1)) / (sum(rs.map((r) => r.msDecode)) / decodeTokens),
      speedupRequest:
        sum(ar.map((r) => r.msPrefill + r.msDecode)) / sum(ar.map((r) => r.tokens.length)) / (sum(rs.map((r) => r.msPrefill + r.msDecode)) / sum(rs.map((r) => r.tokens.length))),
      msPerCallDecode: sum(rs.map((r) => r.msDecode)) / sum(rs.map((r) => r.calls - 1)),
      ortMsPerCall: sum(rs.map((r) => r.ortDecode)) / sum(rs.map((r) => r.calls - 1)),
      engineMsPerCall: sum(rs.map((r) => r.msDecode - r.ortDecode)) / sum(rs.map((r) => r.calls - 1)),
      engineShare: sum(rs.map((r) => r.msDecode - r.ortDecode)) / sum(rs.map((r) => r.msDecode)),
    };
  });
  const med = (f: (x: (typeof perRep)[number]) => number): number => median(perRep.map(f));
  const spread = (f: (x: (typeof perRep)[number]) => number): [number, number] => [Math.min(...perRep.map(f)), Math.max(...perRep.map(f))];
  const decodeCalls = sum(runs.map((r) => r.calls - 1));
  return {
    runs: runs.length,
    tokensPerCall: sum(runs.map((r) => r.tokens.length)) / sum(runs.map((r) => r.calls)),
    tokensPerCallDecode: sum(runs.map((r) => r.tokens.length - 1)) / decodeCalls,
    acceptedDraftsPerCall: sum(runs.map((r) => r.acceptedDrafts)) / sum(runs.map((r) => r.calls)),
    rowsPerCallDecode: sum(runs.map((r) => r.rowsDecode)) / decodeCalls,
    meanTokens: sum(runs.map((r) => r.tokens.length)) / runs.length,
    blockSizes: [...new Set(runs.map((r) => `${r.blockSize}/${r.budget}`))].sort(),
    /** Median over (prompt, repetition) of AR time (mean of the two neighbouring AR runs) / this time. */
    speedupBracketDecode: bracketDecode.length === 0 ? 1 : median(bracketDecode),
    speedupBracketDecodeIqr: bracketDecode.length === 0 ? [1, 1] : [quantile(bracketDecode, 0.25), quantile(bracketDecode, 0.75)],
    speedupBracketRequest: bracketRequest.length === 0 ? 1 : median(bracketRequest),
    msPerTokenDecode: med((x) => x.msPerTokenDecode),
    msPerTokenDecodeRange: spread((x) => x.msPerTokenDecode),
    msPerTokenRequest: med((x) => x.msPerTokenRequest),
    speedupDecode: med((x) => x.speedupDecode),
    speedupDecodeRange: spread((x) => x.speedupDecode),
    speedupRequest: med((x) => x.speedupRequest),
    msPerCallDecode: med((x) => x.msPerCallDecode),
    ortMsPerCall: med((x) => x.ortMsPerCall),
    engineMsPerCall: med((x) => x.engineMsPerCall),
    engineShare: med((x) => x.engineShare),
  };
}

(async () => {
  const engine = await Engine.load(MODEL_DIR, THREADS === undefined ? {} : { threads: THREADS });
  const info = runInfo(engine.manifest.onnx.sha256, THREADS);
  log(`speed: ${info.command}; load ${info.load[0]!.uptime}`);
  // The policy's curve, as the worker measures it right after loading the model.
  const policyFile = await measurePolicyCurve(engine, info);
  // Every k-th prompt, so a smaller set still spans the languages.
  const pool = readCases('speed-prompts.jsonl');
  const cases: FimCase[] = Array.from({ length: Math.min(PROMPTS, pool.length) }, (_, i) => pool[Math.floor((i * pool.length) / Math.min(PROMPTS, pool.length))]!);
  const store = newStore();
  const docs = await Promise.all(cases.map((c) => openCase(store, c)));
  const prompts = cases.map((c, i) => {
    const built = buildPrompt(docs[i]!.text, c.offset);
    if (built.prompt === null) throw new Error(`${c.id}: no prompt (${built.reason})`);
    // Left to right (no suffix): with the FIM suffix 3 of the 16 prompts end (end-of-text) well
    // before 64 tokens; without it every completion runs to the cap. Shapes and past lengths
    // are the same as a FIM request's (the prompt is clipped to the same ~450 tokens).
    return { prefix: built.prompt.prefix };
  });

  // Warm-up: the first calls of a session pay for ORT's allocations.
  for (let i = 0; i < 3; i++) await engine.complete(prompts[0]!, { decoder: 'ptp', seed: i, ...SAMPLING, blockSize: 8, maxTokens: 32, cacheKey: 'warm' });

  // 1. Latency curve. Base text: the speed documents back to back (several thousand tokens).
  const curveStart = performance.now();
  const baseIds = engine.encode(cases.map((c) => c.text).join('\n'));
  const samples = await measureCurve(engine, baseIds, CURVE_REPS);
  const { curve: byPast, raw: rawByPast } = curveOf(samples, 'draft');
  const { curve: tokenRowsByPast } = curveOf(samples, 'token');
  info.load.push(sampleLoad());
  log(`curve: ${samples.length} calls in ${((performance.now() - curveStart) / 1000).toFixed(0)} s`);
  const policy = { curve: policyFile.curve, histogram: engine.manifest.ptp.acceptance_histogram };
  const choices = docs.map((d, i) => analyze(d, cases[i]!.offset, { latency: policy.curve, acceptance: policy.histogram }));

  // 2. AR versus PTP.
  const runs: Run[] = [];
  const trackers = new Map(CONFIGS.map((c) => [c.name, new AcceptanceTracker()]));
  const speedStart = performance.now();
  let seq = 0;
  const runOne = async (cfg: Config, p: number, rep: number): Promise<void> => {
    const key = cases[p]!.id;
    const M = cfg.blockSize ?? choices[p]!.blockSize;
    const B = cfg.budget ?? choices[p]!.budget;
    const tracker = trackers.get(cfg.name)!;
    tracker.begin(MAX_TOKENS);
    const r = await engine.complete(
      prompts[p]!,
      { decoder: cfg.decoder, seed: 1000 + p, ...SAMPLING, blockSize: M, budget: B, lookup: cfg.lookup, maxTokens: MAX_TOKENS, cacheKey: key, onCall: tracker.onCall },
      tracker.hooks,
    );
    runs.push({
      config: cfg.name,
      prompt: key,
      rep,
      seq: seq++,
      blockSize: cfg.decoder === 'ar' ? 1 : M,
      budget: cfg.decoder === 'ar' ? 0 : B,
      tokens: r.tokens,
      calls: r.calls,
      acceptedDrafts: sum(r.trace.map((t) => t.acceptedDrafts)),
      msPrefill: r.msPrefill,
      msDecode: r.msDecode,
      ortFirst: r.trace[0]?.ms ?? 0,
      ortDecode: sum(r.trace.slice(1).map((t) => t.ms)),
      rowsDecode: sum(r.trace.slice(1).map((t) => t.rows)),
    });
  };
  // Per prompt and repetition: AR, c1, AR, c2, AR, ..., cN, AR, with the other configurations
  // in rotated order. Each configuration is compared with the mean of the AR runs just before
  // and just after it, so load that drifts over seconds (other builds and tests on the
  // machine) cancels out of the ratio.
  const others = CONFIGS.filter((c) => c.decoder !== 'ar');
  for (let rep = 0; rep < REPS; rep++) {
    for (let p = 0; p < prompts.length; p++) {
      await engine.complete(prompts[p]!, { decoder: 'ar', seed: 0, ...SAMPLING, blockSize: 1, maxTokens: 1, cacheKey: cases[p]!.id });
      await runOne(CONFIGS[0]!, p, rep);
      for (let k = 0; k < others.length; k++) {
        await runOne(others[(k + rep + p) % others.length]!, p, rep);
        await runOne(CONFIGS[0]!, p, rep);
      }
    }
    log(`rep ${rep + 1}/${REPS} done, ${((performance.now() - speedStart) / 1000).toFixed(0)} s; load ${sampleLoad().loadavg.join(' ')}`);
  }
  info.load.push(sampleLoad());

  // Losslessness: every configuration's tokens equal AR's for the same prompt.
  const arTokens = new Map(runs.filter((r) => r.config === 'AR' && r.rep === 0).map((r) => [r.prompt, r.tokens.join(',')]));
  const mismatches = runs.filter((r) => r.tokens.join(',') !== arTokens.get(r.prompt)).map((r) => `${r.config} on ${r.prompt} (rep ${r.rep})`);

  const arRuns = runs.filter((r) => r.config === 'AR');
  const summary = CONFIGS.map((c) => ({ config: c.name, ...summarize(runs.filter((r) => r.config === c.name), arRuns, runs) }));
  const policyChoices = cases.map((c, i) => ({
    prompt: c.id,
    scope: choices[i]!.scope,
    blockSize: choices[i]!.blockSize,
    budget: choices[i]!.budget,
    predictedTokensPerCall: choices[i]!.blockChoice.tokensPerCall,
    predictedMsPerCall: choices[i]!.blockChoice.msPerCall,
  }));
  const autoRuns = runs.filter((r) => r.config === 'PTP auto (policy)');

  // Measured acceptance of the j-th speculation against the manifest histogram's two readings.
  const J = 8;
  // model.json's histogram (what the policy reads) and, when present, the one training
  // measured on its validation windows (`train_histogram`, not part of the Manifest type).
  const manifestJson = JSON.parse(readFileSync(`${MODEL_DIR}/model.json`, 'utf8')) as { ptp: { train_histogram?: number[] } };
  const train = manifestJson.ptp.train_histogram;
  const trainTail = train === undefined ? undefined : histogramTail(train, J + 1);
  const acceptance = {
    manifest: histogramTail(engine.manifest.ptp.acceptance_histogram, J),
    train: trainTail?.slice(0, J),
    trainFirstRowExcluded: trainTail?.slice(1, J + 1).map((x) => x / trainTail[0]!),
    measured: Object.fromEntries(['PTP M=16 B=64', 'PTP M=8 B=16', 'PTP M=4 B=8', 'PTP+lookup M=16 B=16'].map((name) => [name, survival(trackers.get(name)!.calls, J)])),
  };

  const curveFile: LatencyCurveFile = {
    model: engine.manifest.name,
    modelSha256: engine.manifest.onnx.sha256,
    byPast,
    tokenRowsByPast,
    rawMediansByPast: rawByPast,
    run: info,
  };
  if (OUT === 'speed') {
    writeFileSync(CURVE_FILE, `${JSON.stringify(curveFile, null, 1)}\n`);
    log(`wrote ${CURVE_FILE}`);
    writePolicyCurve(policyFile);
  }

  const curveRows = ROWS.map((rows) => [
    String(rows),
    ...PASTS.map((p) => fmt(byPast[String(p)]!.find((x) => x.rows === rows)?.ms, 2)),
    ...[256].map((p) => fmt(tokenRowsByPast[String(p)]!.find((x) => x.rows === rows)?.ms, 2)),
  ]);
  const ar = summary[0]!;
  const md = [
    '# Decoding speed: AR vs PTP (ptp-code-10m, CPU)',
    '',
    ...runInfoMarkdown(info),
    `- prompts: bench/data/speed-prompts.jsonl (${prompts.length} prompts from validation files, the text before the cursor as a left-to-right prompt, ${[...new Set(cases.map((c) => c.lang))].join(', ')}); ${MAX_TOKENS}-token cap, temperature ${SAMPLING.temperature}, top-k ${SAMPLING.topK}, top-p ${SAMPLING.topP}, seed 1000+prompt index; prompt cached before each completion; ${REPS} repetitions, configurations interleaved with AR`,
    `- losslessness: ${mismatches.length === 0 ? `all ${runs.length} completions equal AR's tokens` : `**${mismatches.length} completions differ from AR**: ${mismatches.slice(0, 5).join('; ')}`}`,
    '',
    '## AR vs PTP',
    '',
    'tok/call: tokens committed per model call (all calls; a call that commits only end-of-text counts as a call with no token); decode: calls after the first. ms/tok: wall time per token (median over repetitions, [min–max] across them). speedup vs neighbouring AR: every configuration runs between two AR runs of the same prompt; AR time (their mean) / this time, median over prompts × repetitions [interquartile range]; >1 = faster than AR. This is the wall-clock ratio to read: it is robust to load that drifts over seconds. speedup per-rep sums: AR\'s summed time / this summed time per repetition, median [min–max]. engine: wall time outside onnxruntime calls (layout, sampling, cache, detokenizing, ORT tensor wrapping and GC), per decode call and as a share of decode time. `PTP M=1` runs the AR decoder again: its distance from 1.00 is the noise floor.',
    '',
    ...table(
      ['config', 'M/B used', 'tok/call', 'tok/call (decode)', 'rows/call', 'ms/tok decode', 'ms/tok request', 'speedup vs neighbouring AR, decode [IQR]', 'speedup vs neighbouring AR, request', 'speedup vs AR, per-rep sums', 'ms/call', 'ORT ms/call', 'engine ms/call', 'engine share'],
      summary.map((s) => [
        s.config,
        s.blockSizes.length > 3 ? `${s.blockSizes.length} choices` : s.blockSizes.join(', '),
        fmt(s.tokensPerCall, 2),
        fmt(s.tokensPerCallDecode, 2),
        fmt(s.rowsPerCallDecode, 1),
        `${fmt(s.msPerTokenDecode, 2)} [${fmt(s.msPerTokenDecodeRange[0], 2)}–${fmt(s.msPerTokenDecodeRange[1], 2)}]`,
        fmt(s.msPerTokenRequest, 2),
        `${fmt(s.speedupBracketDecode, 2)} [${fmt(s.speedupBracketDecodeIqr[0], 2)}–${fmt(s.speedupBracketDecodeIqr[1], 2)}]`,
        fmt(s.speedupBracketRequest, 2),
        `${fmt(s.speedupDecode, 2)} [${fmt(s.speedupDecodeRange[0], 2)}–${fmt(s.speedupDecodeRange[1], 2)}]`,
        fmt(s.msPerCallDecode, 2),
        fmt(s.ortMsPerCall, 2),
        fmt(s.engineMsPerCall, 2),
        pct(s.engineShare),
      ]),
    ),
    '',
    `AR: ${fmt(ar.msPerTokenDecode, 2)} ms/token decode; mean completion ${fmt(ar.meanTokens, 1)} tokens (end-of-text can end one before ${MAX_TOKENS}).`,
    '',
    `Policy choices (auto) per prompt, from the policy curve (${policyFile.function}, as the worker measures it: ${policyFile.curve.map((p) => `${p.rows} rows ${fmt(p.ms, 2)} ms`).join(', ')}) and model.json's acceptance histogram: ${[...new Set(policyChoices.map((c) => `${c.scope} M=${c.blockSize} B=${c.budget} (predicted ${fmt(c.predictedTokensPerCall, 2)} tok/call at ${fmt(c.predictedMsPerCall, 2)} ms/call)`))].join('; ')}. Measured for auto: ${fmt(sum(autoRuns.map((r) => r.tokens.length)) / sum(autoRuns.map((r) => r.calls)), 2)} tok/call. Engine \`blockSize: 'auto'\` without the policy is M=8, B=16.`,
    '',
    '## Acceptance: measured vs model.json',
    '',
    'S(j): share of calls that verified at least j speculations in which the j-th was accepted (n = such calls), against P(C ≥ j) from model.json\'s `acceptance_histogram` (what the policy and the budget allocator read) and from `train_histogram` (training\'s validation windows), the latter also read as training counted it: C includes the window\'s first aux row, which at inference only re-predicts the teacher\'s token, so P(C ≥ j+1) / P(C ≥ 1).',
    '',
    ...table(
      ['j', ...Object.keys(acceptance.measured).map((k) => `${k}: S(j) (n)`), 'model.json acceptance_histogram', 'train_histogram', 'train_histogram, first row excluded'],
      Array.from({ length: J }, (_, i) => [
        String(i + 1),
        ...Object.values(acceptance.measured).map((m) => `${fmt(m[i]!.p, 3)} (${m[i]!.n})`),
        fmt(acceptance.manifest[i], 3),
        fmt(acceptance.train?.[i], 3),
        fmt(acceptance.trainFirstRowExcluded?.[i], 3),
      ]),
    ),
    '',
    '## Latency vs rows per call (ms per onnxruntime call; ' + CURVE_REPS + ' repetitions)',
    '',
    `Each point is the median of its ratio to a 1-row call made just before it (same past length), times the median 1-row time at that past, so bursts of load from other work on the machine cancel; plain medians are in the JSON (\`rawMediansByPast\`). Draft rows: 1 token row + rows-1 aux rows (a PTP call's shape); columns are the past length P. The policy does not read these: it reads the curve the worker measures (above; bench/results/policy-curve.json). The engine clips prompts to ${MAX_PROMPT} tokens (the context less its output reserve), so no request starts with a longer past. Last column: token rows only (prefill) at P=256.`,
    '',
    ...table(['rows', ...PASTS.map((p) => `P=${p}`), 'token rows, P=256'], curveRows),
  ];
  writeResults(OUT, { run: info, settings: { reps: REPS, prompts: prompts.length, maxTokens: MAX_TOKENS, ...SAMPLING }, summary, policyChoices, mismatches, acceptance, policyCurve: policyFile, curve: curveFile, runs: runs.map((r) => ({ ...r, tokens: r.tokens.length })) }, md);
  store.dispose();
  await engine.dispose();
})().catch(exitOnError());


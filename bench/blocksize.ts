/**
 * Block size per scope: `auto` (the context policy's M and B) against every fixed block size
 * M = 1..32, on bench/data/blocksize.jsonl: the first 12 of its 20 cases per scope (expression,
 * line, statement, block; classified by context analyze()); --per-scope 20 uses all (~2x time).
 *
 *   npm run bench:blocksize            (= node --import tsx bench/blocksize.ts)
 *   npm run bench:blocksize -- --per-scope 4 --sizes 1,2,4,8        (a quick look)
 *
 * Each completion runs through the worker's pipeline (src/completion completeAt: prompt,
 * analyze, stop rules, trim) at temperature 0.2 with a fixed seed per case, capped at 64 tokens.
 * For a fixed M the policy still picks the budget B, as with the `ptp.decoding.blockSize`
 * setting. The prompt is in the KV cache before each completion (warmAt, as where the cursor
 * rests). ms = the whole request; engine ms = its Engine.complete calls (bench/lib/engineSpy.ts). Every configuration runs once per case,
 * in rotated order. PTP is lossless, so every configuration must give the same text; the
 * run checks it. "Accepted" = the trimmed completion equals the removed text (the case's
 * target, whitespace-normalised); since the text does not depend on M, neither does the
 * accept rate, and latency per accepted completion = total latency / accepted completions.
 */
import { performance } from 'node:perf_hooks';
import { Engine } from '../src/engine';
import { SCOPES, type Scope } from '../src/context';
import { newStore, openCase, readCases } from './lib/cases';
import { EngineSpy } from './lib/engineSpy';
import { loadPolicy } from './lib/latencyCurve';
import { MODEL_DIR, runInfo, runInfoMarkdown, sampleLoad } from './lib/machine';
import { exactMatch } from './lib/match';
import { capAt, inlineRun, warmInline } from './lib/pipeline';
import { args, exitOnError, log, table, writeResults } from './lib/report';
import { fmt, mean, median, pct, sum } from './lib/stats';

const opt = args();
const PER_SCOPE = Number(opt.get('per-scope') ?? 12);
const SIZES = (opt.get('sizes') ?? Array.from({ length: 32 }, (_, i) => i + 1).join(',')).split(',').map(Number);
const CAP = 64;
const SAMPLING = { temperature: 0.2, topK: 50, topP: 0.95 };

interface Run {
  caseId: string;
  scope: Scope;
  config: string;
  blockSize: number;
  budget: number;
  ms: number;
  engineMs: number;
  tokens: number;
  calls: number;
  text: string;
  accepted: boolean;
}

(async () => {
  const engine = await Engine.load(MODEL_DIR);
  const info = runInfo(engine.manifest.onnx.sha256);
  const policy = loadPolicy(engine);
  const spy = new EngineSpy(engine);
  const request = (seed: number, cfg: 'auto' | number, cacheKey: string) => ({ decoding: { decoder: 'ptp' as const, seed, ...SAMPLING, blockSize: cfg }, maxTokens: capAt(CAP), cacheKey });
  log(`blocksize: ${info.command}; policy curve ${policy.source}; load ${info.load[0]!.uptime}`);
  const cases = SCOPES.flatMap((scope) => readCases('blocksize.jsonl').filter((c) => c.scope === scope).slice(0, PER_SCOPE));
  const store = newStore();
  const configs: ('auto' | number)[] = ['auto', ...SIZES];
  const runs: Run[] = [];
  const scopeChanges: string[] = [];
  // Warm-up: ORT grows its buffers on the first call of each new size; do that outside the timing.
  {
    const c = cases[0]!;
    const doc = await store.open(`warm:///${c.id}`, c.lang, c.text);
    for (const cfg of configs) await inlineRun(engine, policy, doc, c.offset, request(1, cfg, 'warm'));
    store.close(doc.uri);
  }
  const started = performance.now();

  for (const [n, c] of cases.entries()) {
    const doc = await openCase(store, c);
    const key = c.id;
    // Fill the cache with the prompt.
    await warmInline(engine, policy, doc, c.offset, request(0, 'auto', key));
    for (let k = 0; k < configs.length; k++) {
      const cfg = configs[(k + n) % configs.length]!;
      spy.take();
      const t0 = performance.now();
      const run = await inlineRun(spy.engine, policy, doc, c.offset, request(500 + n, cfg, key));
      const ms = performance.now() - t0;
      const calls = spy.take();
      if (run.info.scope !== c.scope && k === 0) scopeChanges.push(`${c.id}: ${c.scope} -> ${run.info.scope}`);
      runs.push({
        caseId: c.id,
        scope: c.scope,
        config: String(cfg),
        blockSize: run.result.blockSize,
        budget: run.result.budget,
        ms,
        engineMs: calls.reduce((a, x) => a + x.ms, 0),
        tokens: calls.reduce((a, x) => a + x.result.tokens.length, 0),
        calls: calls.reduce((a, x) => a + x.result.calls, 0),
        text: run.text,
        accepted: exactMatch(run.text, c.target),
      });
    }
    store.close(doc.uri);
    if ((n + 1) % 10 === 0) log(`${n + 1}/${cases.length} cases, ${((performance.now() - started) / 1000).toFixed(0)} s; load ${sampleLoad().loadavg.join(' ')}`);
  }
  info.load.push(sampleLoad());

  // Losslessness: every configuration gives the same text for a case.
  const reference = new Map(runs.filter((r) => r.config === '1').map((r) => [r.caseId, r.text]));
  const mismatches = runs.filter((r) => reference.has(r.caseId) && r.text !== reference.get(r.caseId)).map((r) => `${r.caseId} M=${r.config}`);

  const summarize = (rs: Run[], base: Run[]) => {
    const accepted = rs.filter((r) => r.accepted).length;
    return {
      n: rs.length,
      blockSizes: [...new Set(rs.map((r) => `${r.blockSize}/${r.budget}`))],
      tokensPerCall: sum(rs.map((r) => r.tokens)) / Math.max(1, sum(rs.map((r) => r.calls))),
      meanTokens: mean(rs.map((r) => r.tokens)),
      p50: median(rs.map((r) => r.ms)),
      mean: mean(rs.map((r) => r.ms)),
      acceptRate: accepted / rs.length,
      msPerAccepted: accepted === 0 ? NaN : sum(rs.map((r) => r.ms)) / accepted,
      // Relative to M=1 on the same cases: sum of M=1 time / sum of this time.
      speedupVsM1: sum(base.map((r) => r.ms)) / sum(rs.map((r) => r.ms)),
    };
  };
  const groups = [...SCOPES.filter((s) => cases.some((c) => c.scope === s)), 'overall'] as const;
  const result: Record<string, Record<string, ReturnType<typeof summarize>>> = {};
  for (const g of groups) {
    const inGroup = (r: Run): boolean => g === 'overall' || r.scope === g;
    const base = runs.filter((r) => inGroup(r) && r.config === '1');
    result[g] = Object.fromEntries(configs.map((cfg) => [String(cfg), summarize(runs.filter((r) => inGroup(r) && r.config === String(cfg)), base)]));
  }
  const best = (g: string): string => {
    const entries = Object.entries(result[g]!).filter(([k]) => k !== 'auto');
    const [k, s] = entries.reduce((a, b) => (b[1].mean < a[1].mean ? b : a));
    return `M=${k} (${fmt(s.mean)} ms mean)`;
  };

  const md = [
    '# Block size: auto vs fixed M = 1..32, per scope',
    '',
    ...runInfoMarkdown(info),
    `- cases: bench/data/blocksize.jsonl, ${cases.length} (${groups.filter((g) => g !== 'overall').map((g) => `${g} ${cases.filter((c) => c.scope === g).length}`).join(', ')}); languages ${[...new Set(cases.map((c) => c.lang))].join(', ')}`,
    `- pipeline: the worker's completeAt (src/completion: buildPrompt, analyze, stop rules, Engine.complete with PTP, trimming; after Enter a retry when trimming leaves nothing, its calls and tokens counted); temperature ${SAMPLING.temperature}, top-k ${SAMPLING.topK}, top-p ${SAMPLING.topP}, seed per case; cap ${CAP} tokens; prompt cached before each completion`,
    `- policy inputs: latency curve from ${policy.source}; model.json acceptance histogram. For a fixed M the policy picks B.`,
    `- losslessness: ${mismatches.length === 0 ? `all ${runs.length} completions identical across block sizes` : `**${mismatches.length} differ**: ${mismatches.slice(0, 5).join('; ')}`}`,
    scopeChanges.length > 0 ? `- scope at run time differs from the case file for: ${scopeChanges.join('; ')}` : '- every case classified as in the case file',
    '',
    'ms: request latency (p50, mean). tok/call: tokens per model call. vs M=1: total time at M=1 / total time here (>1 = faster than M=1, i.e. than AR). accept: share of completions equal to the removed text; ms/accepted = total time / accepted completions.',
    '',
  ];
  for (const g of groups) {
    const r = result[g]!;
    const any = r['auto']!;
    md.push(
      `## ${g}`,
      '',
      `accept rate ${pct(any.acceptRate)} (${Math.round(any.acceptRate * any.n)} of ${any.n}); mean completion ${fmt(any.meanTokens, 1)} tokens; fastest fixed: ${best(g)}; auto chose ${any.blockSizes.join(', ')}`,
      '',
      ...table(
        ['M', 'B used', 'tok/call', 'p50 ms', 'mean ms', 'vs M=1', 'ms/accepted'],
        configs.map((cfg) => {
          const s = r[String(cfg)]!;
          return [
            String(cfg),
            s.blockSizes.length > 2 ? `${s.blockSizes.length} choices` : s.blockSizes.map((b) => b.split('/')[1]).join(', '),
            fmt(s.tokensPerCall, 2),
            fmt(s.p50),
            fmt(s.mean),
            fmt(s.speedupVsM1, 2),
            fmt(s.msPerAccepted, 0),
          ];
        }),
      ),
      '',
    );
  }
  writeResults('blocksize', { run: info, policySource: policy.source, settings: { perScope: PER_SCOPE, sizes: SIZES, cap: CAP, ...SAMPLING }, mismatches, scopeChanges, result, runs: runs.map(({ text: _t, ...r }) => r) }, md);
  store.dispose();
  await engine.dispose();
})().catch(exitOnError());

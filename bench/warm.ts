/**
 * The first completion where the cursor comes to rest, with and without `ptp/warm`, through
 * the worker's own pipeline (src/completion/completeAt.ts: warmAt, then completeAt), in-process.
 *
 *   npm run bench:warm                 (= node --import tsx bench/warm.ts)
 *   npm run bench:warm -- --line 20    (fewer cases)
 *
 * For every n-th case of bench/data/eval-line.jsonl, side by side in one run:
 *   cold    the first request at the cursor, nothing of its prompt cached
 *   warmed  warmAt at the cursor first (what the worker does ~250 ms after the cursor rests),
 *           then the same request; the warm-up's own time is reported apart, since it runs
 *           while the person is not waiting for anything
 * Both use the worker's default decoding (PTP, the policy's block size), seed 1, T 0.2.
 */
import { performance } from 'node:perf_hooks';
import { Engine } from '../src/engine';
import { completeAt, warmAt, type CompleteAtOptions, type CompletionEnv } from '../src/completion/index';
import { newStore, openCase, readCases } from './lib/cases';
import { loadPolicy } from './lib/latencyCurve';
import { MODEL_DIR, runInfo, runInfoMarkdown, sampleLoad } from './lib/machine';
import { args, exitOnError, log, table, writeResults } from './lib/report';
import { fmt, median, quantile } from './lib/stats';

const opt = args();
const N_LINE = Number(opt.get('line') ?? 40);

interface Sample {
  caseId: string;
  coldMs: number;
  warmedMs: number;
  warmUpMs: number;
  coldReused: number;
  warmedReused: number;
  promptTokens: number;
  same: boolean;
}

(async () => {
  const engine = await Engine.load(MODEL_DIR);
  const info = runInfo(engine.manifest.onnx.sha256);
  const policy = loadPolicy(engine);
  const env: CompletionEnv = { engine, latency: policy.curve };
  log(`warm: ${info.command}; load ${info.load[0]!.uptime}`);
  const all = readCases('eval-line.jsonl');
  const step = Math.max(1, Math.floor(all.length / N_LINE));
  const cases = all.filter((_, i) => i % step === 0).slice(0, N_LINE);
  const store = newStore();
  const samples: Sample[] = [];
  for (const [n, c] of cases.entries()) {
    const doc = await openCase(store, c);
    const options = (key: string): CompleteAtOptions => ({
      decoding: { decoder: 'ptp', blockSize: 'auto', seed: 1, temperature: 0.2, topK: 50, topP: 0.95 },
      mode: 'inline',
      cacheKey: key,
      requestId: `${c.id}`,
    });
    // Distinct cache keys per case and variant: nothing of one run is in the other's cache.
    const t0 = performance.now();
    const cold = await completeAt(env, doc, c.offset, options(`cold-${n}`));
    const t1 = performance.now();
    await warmAt(env, doc, c.offset, options(`warm-${n}`));
    const t2 = performance.now();
    const warmed = await completeAt(env, doc, c.offset, options(`warm-${n}`));
    const t3 = performance.now();
    if (cold.kind !== 'done' || warmed.kind !== 'done') throw new Error(`${c.id}: no completion (${cold.kind}, ${warmed.kind})`);
    samples.push({
      caseId: c.id,
      coldMs: t1 - t0,
      warmUpMs: t2 - t1,
      warmedMs: t3 - t2,
      coldReused: cold.result.reusedTokens,
      warmedReused: warmed.result.reusedTokens,
      promptTokens: warmed.result.promptTokens,
      same: cold.result.tokens.join(',') === warmed.result.tokens.join(','),
    });
    store.close(doc.uri);
  }
  info.load.push(sampleLoad());
  const row = (name: string, xs: number[]) => [name, fmt(median(xs), 1), fmt(quantile(xs, 0.95), 1)];
  const differ = samples.filter((s) => !s.same).map((s) => s.caseId);
  const md = [
    '# The first completion where the cursor rests, with and without ptp/warm',
    '',
    ...runInfoMarkdown(info),
    `- cases: ${samples.length} line cases (every ${step}th of bench/data/eval-line.jsonl), worker pipeline (src/completion/completeAt.ts), PTP with the policy's block size, seed 1, T 0.2`,
    `- the warmed and the cold completion are the same tokens: ${differ.length === 0 ? 'in every case' : `**not in ${differ.join(', ')}**`}`,
    `- cached prompt tokens (median): cold ${median(samples.map((s) => s.coldReused))}, warmed ${median(samples.map((s) => s.warmedReused))} of ${median(samples.map((s) => s.promptTokens))}`,
    '',
    ...table(['request', 'p50 ms', 'p95 ms'], [
      row('cold first request (nothing cached)', samples.map((s) => s.coldMs)),
      row('first request after ptp/warm', samples.map((s) => s.warmedMs)),
      row('the warm-up itself (while the cursor rests)', samples.map((s) => s.warmUpMs)),
    ]),
  ];
  writeResults('warm', { run: info, samples }, md);
  store.dispose();
  await engine.dispose();
})().catch(exitOnError());

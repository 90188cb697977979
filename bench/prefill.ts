/**
 * The cold first request (nothing of its prompt cached) with the prompt filled in chunks of
 * different sizes: what the engine's PREFILL_CHUNK trades (time here; memory in the soak).
 *
 *   npm run bench:prefill               (= node --import tsx bench/prefill.ts)
 *   npm run bench:prefill -- --cases 20 (fewer cases)
 *
 * For the longest prompts of bench/data/eval-line.jsonl, side by side in one run (the order of
 * the variants rotates from case to case, so that drift in the machine's load spreads evenly):
 *   one call   the whole uncached prompt in the first decoding call (the engine before chunks)
 *   N rows     the prompt filled N rows per call, the last N rows in the first decoding call
 * Each request: PTP, block size 8, seed 1, T 0.2, 16 tokens. A chunk changes only how the
 * prompt's keys and values are computed (the same numbers up to float rounding), so the
 * completions should be the same tokens; the table says where they are not.
 */
import { Engine, PREFILL_CHUNK } from '../src/engine';
import { readCases } from './lib/cases';
import { MODEL_DIR, runInfo, runInfoMarkdown, sampleLoad } from './lib/machine';
import { args, exitOnError, log, table, writeResults } from './lib/report';
import { fmt, median, quantile } from './lib/stats';

const opt = args();
const N_CASES = Number(opt.get('cases') ?? 60);
const ONE_CALL = Number.MAX_SAFE_INTEGER;
const VARIANTS = [ONE_CALL, 256, 128, 64, 32];
/** The engine's default is the variant with PREFILL_CHUNK rows, or one call when no prompt is longer. */
const label = (chunk: number, longest: number) =>
  (chunk === ONE_CALL ? 'one call' : `${chunk} rows`) + (chunk === PREFILL_CHUNK || (chunk === ONE_CALL && PREFILL_CHUNK >= longest) ? ' (default)' : '');

interface Sample {
  caseId: string;
  chunk: number;
  promptTokens: number;
  msFirst: number;
  msTotal: number;
  tokens: number[];
}

(async () => {
  const engine = await Engine.load(MODEL_DIR);
  const info = runInfo(engine.manifest.onnx.sha256);
  log(`prefill: ${info.command}; load ${info.load[0]!.uptime}`);
  const prompts = readCases('eval-line.jsonl')
    .map((c) => ({ id: c.id, prompt: { prefix: c.text.slice(0, c.offset), suffix: c.text.slice(c.offset) } }))
    .map((c) => ({ ...c, length: engine.promptIds(c.prompt, { maxTokens: 16 }).length }))
    .sort((a, b) => b.length - a.length || a.id.localeCompare(b.id))
    .slice(0, N_CASES);
  const samples: Sample[] = [];
  const decode = { decoder: 'ptp' as const, blockSize: 8, seed: 1, temperature: 0.2, topK: 50, topP: 0.95, maxTokens: 16 };
  // One untimed request first: ORT's first calls at a new size allocate.
  await engine.complete(prompts[0]!.prompt, { ...decode, cacheKey: 'warm-up' });
  for (const [n, c] of prompts.entries()) {
    for (let v = 0; v < VARIANTS.length; v++) {
      const chunk = VARIANTS[(n + v) % VARIANTS.length]!;
      const r = await engine.complete(c.prompt, { ...decode, prefillChunk: chunk, cacheKey: `${chunk}-${n}` });
      samples.push({ caseId: c.id, chunk, promptTokens: r.promptTokens, msFirst: r.msPrefill, msTotal: r.msPrefill + r.msDecode, tokens: r.tokens });
    }
    if ((n + 1) % 10 === 0) log(`  ${n + 1} of ${prompts.length} prompts`);
  }
  info.load.push(sampleLoad());

  const reference = new Map(samples.filter((s) => s.chunk === ONE_CALL).map((s) => [s.caseId, s]));
  const lengths = [...reference.values()].map((s) => s.promptTokens);
  const rows = VARIANTS.map((chunk) => {
    const mine = samples.filter((s) => s.chunk === chunk);
    const ratio = mine.map((s) => s.msFirst / reference.get(s.caseId)!.msFirst);
    const same = mine.filter((s) => s.tokens.join(',') === reference.get(s.caseId)!.tokens.join(',')).length;
    const xs = mine.map((s) => s.msFirst);
    return [label(chunk, Math.max(...lengths)), fmt(median(xs), 1), fmt(quantile(xs, 0.95), 1), fmt(median(mine.map((s) => s.msTotal)), 1), fmt(median(ratio), 3), `${same} of ${mine.length}`];
  });
  const md = [
    '# The cold first request with the prompt filled in chunks',
    '',
    ...runInfoMarkdown(info),
    `- prompts: the ${prompts.length} longest of bench/data/eval-line.jsonl, ${Math.min(...lengths)}-${Math.max(...lengths)} tokens (median ${median(lengths)}), nothing cached; PTP, block size 8, seed 1, T 0.2, 16 tokens`,
    '- first = from the request to the end of its first decoding call (every chunk before it included), the time to the first tokens; ratio = per prompt, against one call',
    '',
    ...table(['prompt filled', 'first p50 ms', 'first p95 ms', 'whole request p50 ms', 'first vs one call (median ratio)', 'same tokens as one call'], rows),
  ];
  writeResults('prefill-chunks', { run: info, samples }, md);
  await engine.dispose();
})().catch(exitOnError());

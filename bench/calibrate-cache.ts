/**
 * Calibrates the cache model's weights (src/engine/cacheModel.ts CACHE_WEIGHTS): how far to
 * trust the continuations of the longest match over the model, by the match's length.
 *
 *   npm run bench:calibrate-cache                       (~3 min on 2 cores)
 *   node --import tsx bench/calibrate-cache.ts --limit 20
 *
 * Cases: the FIM speed cases (bench/data/fim-speed.jsonl: whole files of validation packages,
 * one line or a block body removed), with their package as the workspace (bench/lib/references.ts:
 * the 4 nearest files open, the rest of the package indexed, the case's own file in neither).
 * These are not the cases bench/eval-knowledge.ts scores the weights on.
 *
 * Each case's removed text is teacher-forced through the shipped model (AR, DecoderHooks.forceToken,
 * the prompt completeAt builds, no token healing), which gives p, the model's probability of each
 * removed token; the cache model over the same prompt, output so far and references gives, per
 * group (own text / other files), the longest match's length L and c, the cache's probability of
 * that token. Per group and L, λ maximises the mean log-likelihood of ln((1 - λ) p + λ c); the
 * table is then smoothed: sparse lengths borrow the next shorter one's λ, and λ never falls as L grows.
 */
import { promptAt } from '../src/completion';
import { CACHE_MAX_MATCH, CacheModel, type CacheGroup, type CacheWeights, Engine } from '../src/engine';
import { readCases } from './lib/cases';
import { MODEL_DIR, runInfo, runInfoMarkdown, sampleLoad } from './lib/machine';
import { CaseReferences } from './lib/references';
import { readWorkspaces } from './lib/workspaces';
import { args, exitOnError, log, table, writeResults } from './lib/report';
import { fmt, sum } from './lib/stats';

const opt = args();
const LIMIT = opt.has('limit') ? Number(opt.get('limit')) : Infinity;
/** Most removed tokens forced per case. */
const MAX_FORCED = 128;
/** Fewer points than this at a length: it takes the next shorter length's λ. */
const MIN_POINTS = 30;
/** Match lengths fitted together (one λ each): longer matches are rarer. */
const BUCKETS: readonly (readonly [number, number])[] = [[1, 1], [2, 2], [3, 3], [4, 4], [5, 6], [7, 9], [10, 12], [13, 16], [17, 24], [25, 32]];
const GRID = Array.from({ length: 96 }, (_, i) => i / 100);
const GROUPS: readonly CacheGroup[] = ['own', 'other'];

const ONES = Array.from({ length: CACHE_MAX_MATCH + 1 }, (_, i) => (i === 0 ? 0 : 1e-9));
const ZEROS = Array.from({ length: CACHE_MAX_MATCH + 1 }, () => 0);

interface Point {
  p: number;
  c: number;
}

(async () => {
  const engine = await Engine.load(MODEL_DIR);
  const info = runInfo(engine.manifest.onnx.sha256);
  const cases = ['fim-speed.jsonl', 'blocksize.jsonl', 'speed-prompts.jsonl'].flatMap((f) => readCases(f).slice(0, LIMIT));
  const workspaces = readWorkspaces();
  const references = new CaseReferences(engine, cases.filter((c) => workspaces.has(c.pkg)));
  log(`calibrate-cache: ${cases.length} cases, ${references.stats.files} workspace files`);
  // Per group, per match length: (p, c) of every forced token the group matched.
  const points: Record<CacheGroup, Point[][]> = { own: [], other: [] };
  let forced = 0;
  let base = 0;
  for (const [n, c] of cases.entries()) {
    // The prompt completeAt sends (the whitespace typed before the cursor held back, the model re-types it).
    const planned = promptAt({ engine }, { languageId: c.lang, text: c.text }, c.offset, { decoding: { decoder: 'ar', seed: 0, temperature: 0, topK: 0, topP: 1, blockSize: 1 }, mode: 'inline', requestId: c.id });
    if (planned === undefined) continue;
    const prompt = planned.prompt;
    const typed = /[ \t]+$/.exec(c.text.slice(0, c.offset))?.[0] ?? '';
    const target = engine.encode(typed + c.target).slice(0, MAX_FORCED);
    if (target.length === 0) continue;
    const refs = workspaces.has(c.pkg) ? references.for(c, ['open', 'workspace']) : [];
    const options = { decoder: 'ar', seed: 0, temperature: 1, topK: 0, topP: 1, blockSize: 1, maxTokens: target.length, heal: false, lookup: false } as const;
    const result = await engine.complete(prompt, options, { forceToken: (k) => target[k] });
    const ids = engine.promptIds(prompt, options);
    // One cache model per group: the other group's weights are 0, so `next` reports this one's match.
    const models = GROUPS.map((group) => {
      const only: CacheWeights = { own: group === 'own' ? ONES : ZEROS, other: group === 'other' ? ONES : ZEROS };
      return [group, new CacheModel(ids, engine.manifest.special_tokens, refs, only)] as const;
    });
    for (const [k, token] of result.tokens.entries()) {
      const p = result.confidence[k]!;
      base += Math.log(p);
      forced++;
      for (const [group, model] of models) {
        const mix = model.next(target.slice(0, k));
        if (mix === undefined) continue;
        const at = mix.ids.indexOf(token);
        ((points[group][mix.matched] ??= [])).push({ p, c: at < 0 ? 0 : mix.probs[at]! });
      }
    }
    if (n % 20 === 19) log(`${n + 1}/${cases.length}: ${forced} tokens`);
  }

  const fitted: Record<CacheGroup, number[]> = { own: [0], other: [0] };
  const rows: (string | number)[][] = [];
  for (const group of GROUPS) {
    let previous = 0;
    for (const [from, to] of BUCKETS) {
      const pts = Array.from({ length: to - from + 1 }, (_, i) => points[group][from + i] ?? []).flat();
      const best = pts.length === 0 ? 0 : bestLambda(pts);
      const lambda = Math.max(previous, pts.length >= MIN_POINTS ? best : previous);
      for (let L = from; L <= to; L++) fitted[group].push(lambda);
      previous = lambda;
      if (pts.length > 0) {
        const right = pts.filter((q) => q.c >= 0.5).length;
        const modelRight = pts.filter((q) => q.p >= 0.5).length;
        rows.push([group, from === to ? `${from}` : `${from}-${to}`, pts.length, `${fmt((100 * modelRight) / pts.length, 0)}%`, `${fmt((100 * right) / pts.length, 0)}%`, fmt(best, 2), fmt(lambda, 2), fmt(gain(pts, lambda), 3)]);
      }
    }
  }
  info.load.push(sampleLoad());
  const md = [
    '# Cache model calibration (src/engine/cacheModel.ts CACHE_WEIGHTS)',
    '',
    ...runInfoMarkdown(info),
    `- cases: ${cases.length} of the speed and block-size cases (bench/data/fim-speed.jsonl, blocksize.jsonl, speed-prompts.jsonl; validation packages, not the cases eval-knowledge scores), their package as the workspace where it has one (4 nearest files open); ${forced} removed tokens teacher-forced (at most ${MAX_FORCED} per case)`,
    `- model alone: mean ln p of a removed token ${fmt(base / forced, 3)}`,
    `- fit: per group and range of longest-match lengths L, the λ in [0, 0.95] maximising mean ln((1 - λ) p + λ c); a range with fewer than ${MIN_POINTS} points takes the shorter one's λ, and λ never falls as L grows`,
    '- "p ≥ 0.5" / "c ≥ 0.5": the share of points where the model / the cache gave the right token at least half its mass; "gain": mean ln-likelihood gain per point at the fitted λ',
    '',
    ...table(['group', 'L', 'points', 'p ≥ 0.5', 'c ≥ 0.5', 'best λ', 'fitted λ', 'gain'], rows),
    '',
    '```ts',
    `own: [${fitted.own.map((x) => fmt(x, 2)).join(', ')}],`,
    `other: [${fitted.other.map((x) => fmt(x, 2)).join(', ')}],`,
    '```',
  ];
  writeResults('cache-calibration', { info, forced, base, fitted, points: Object.fromEntries(GROUPS.map((g) => [g, points[g].map((p) => p?.length ?? 0)])) }, md);
  log(md.join('\n'));
  await engine.dispose();
})().catch(exitOnError());

function loglik(pts: readonly Point[], lambda: number): number {
  return sum(pts.map((q) => Math.log((1 - lambda) * q.p + lambda * q.c)));
}

function bestLambda(pts: readonly Point[]): number {
  let best = 0;
  let bestValue = loglik(pts, 0);
  for (const lambda of GRID) {
    const v = loglik(pts, lambda);
    if (v > bestValue) {
      best = lambda;
      bestValue = v;
    }
  }
  return best;
}

function gain(pts: readonly Point[], lambda: number): number {
  return (loglik(pts, lambda) - loglik(pts, 0)) / pts.length;
}

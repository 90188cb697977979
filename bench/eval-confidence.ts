/**
 * Ghost text a person can trust: of the suggestions shown, how many are right, how often one is
 * shown, and right against wrong characters, with no confidence gate and over a sweep of
 * thresholds; on validation cases only (bench/data, never a package in
 * training/corpus/heldout.txt), through the worker's own pipeline (src/completion completeAt,
 * inline mode, its item fitted to the line: what the editor inserts) on the shipped model.
 *
 *   npm run eval:confidence                          (~30 min on 2 cores)
 *   node --import tsx bench/eval-confidence.ts --limit 40
 *
 * Moments and what counts as right: bench/lib/moments.ts. Right and wrong characters count whole
 * suggestions' characters (trailing whitespace not counted).
 *
 * The gate alone: no references and no cache model (bench/eval-knowledge.ts measures the gate
 * with them, as the editor runs by default).
 *
 * Decoding is PTP with block size `auto` and a fixed seed per case, as the editor runs it. At
 * the shipped thresholds it also runs AR: the tokens, the cut and the shown text must be the same.
 */
import type { SyntaxDocument } from '../src/context';
import { CONFIDENCE_THRESHOLDS, completeAt, type CompletionOutcome, type CutBoundary } from '../src/completion';
import { SETTINGS } from '../src/protocol/settings';
import { Engine } from '../src/engine';
import { type FimCase, newStore, openCase } from './lib/cases';
import { type Moment, isRight, moments } from './lib/moments';
import { loadPolicy } from './lib/latencyCurve';
import { MODEL_DIR, runInfo, runInfoMarkdown, sampleLoad } from './lib/machine';
import { args, log, table, writeResults } from './lib/report';
import { fmt, mean, pct, percentiles, sum } from './lib/stats';

const opt = args();
const LIMIT = opt.has('limit') ? Number(opt.get('limit')) : Infinity;
const SWEEP = [0.1, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6];
const SWEEP_T02 = [0.2, 0.3, 0.4, 0.5];
const DEFAULT_LEVEL = SETTINGS['completion.confidence'].default;
const DEFAULT = CONFIDENCE_THRESHOLDS[DEFAULT_LEVEL as Exclude<typeof DEFAULT_LEVEL, 'off'>];

const MOMENTS: Moment[] = moments(LIMIT);

interface Config {
  name: string;
  temperature: number;
  /** undefined: no gate. */
  threshold?: number;
  boundary?: CutBoundary;
  explicit?: boolean;
}

interface Shown {
  id: string;
  text: string;
  right: boolean;
  withheld?: string;
  tokens: number;
  calls: number;
  ms: number;
}

interface Row {
  moment: string;
  config: Config;
  cases: number;
  shown: number;
  right: number;
  rightChars: number;
  wrongChars: number;
  tokensPerCall: number;
  callsPerRequest: number;
  msP50: number;
  msP95: number;
  withheld: Record<string, number>;
}

async function run(engine: Engine, policy: ReturnType<typeof loadPolicy>, doc: SyntaxDocument, c: FimCase, seed: number, config: Config, decoder: 'ptp' | 'ar'): Promise<CompletionOutcome> {
  const r = await completeAt({ engine, latency: policy.curve }, doc, c.offset, {
    decoding: { decoder, seed, temperature: config.temperature, topK: 50, topP: 0.95, blockSize: 'auto' },
    mode: 'inline',
    cacheKey: c.id,
    requestId: c.id,
    explicit: config.explicit === true,
    ...(config.threshold !== undefined ? { confidenceThreshold: config.threshold } : {}),
    ...(config.boundary !== undefined ? { confidenceBoundary: config.boundary } : {}),
  });
  if (r.kind !== 'done') throw new Error(`${c.id}: the pipeline gave ${r.kind}`);
  return r;
}

function score(moment: Moment, config: Config, shown: Shown[]): Row {
  const visible = shown.filter((s) => s.text.trim() !== '');
  const chars = (s: Shown): number => s.text.replace(/\s+$/, '').length;
  const withheld: Record<string, number> = {};
  for (const s of shown) if (s.withheld !== undefined) withheld[s.withheld] = (withheld[s.withheld] ?? 0) + 1;
  const ms = percentiles(shown.map((s) => s.ms));
  return {
    moment: moment.key,
    config,
    cases: shown.length,
    shown: visible.length,
    right: visible.filter((s) => s.right).length,
    rightChars: sum(visible.filter((s) => s.right).map(chars)),
    wrongChars: sum(visible.filter((s) => !s.right).map(chars)),
    tokensPerCall: sum(shown.map((s) => s.tokens)) / Math.max(1, sum(shown.map((s) => s.calls))),
    callsPerRequest: mean(shown.map((s) => s.calls)),
    msP50: ms.p50,
    msP95: ms.p95,
    withheld,
  };
}

async function main(): Promise<void> {
  const engine = await Engine.load(MODEL_DIR);
  const info = runInfo(engine.manifest.onnx.sha256);
  const policy = loadPolicy(engine);
  const store = newStore();
  // T 0: no gate, the sweep, the explicit threshold, and the other two boundaries at the
  // default; T 0.2 (the inline default before): no gate and the middle of the sweep.
  const configs: Config[] = [
    { name: 'T 0, no gate', temperature: 0 },
    ...SWEEP.map((threshold) => ({ name: `T 0, τ ${threshold}`, temperature: 0, threshold })),
    { name: `T 0, explicit τ ${DEFAULT.explicit}`, temperature: 0, threshold: DEFAULT.explicit, explicit: true },
    ...(['token', 'syntax'] as const).map((boundary) => ({ name: `T 0, τ ${DEFAULT.automatic}, ${boundary} boundary`, temperature: 0, threshold: DEFAULT.automatic, boundary })),
    { name: 'T 0.2, no gate', temperature: 0.2 },
    ...SWEEP_T02.map((threshold) => ({ name: `T 0.2, τ ${threshold}`, temperature: 0.2, threshold })),
  ];
  const rows: Row[] = [];
  const mismatches: string[] = [];
  let checked = 0;
  for (const moment of MOMENTS) {
    const byConfig = new Map<Config, Shown[]>(configs.map((c) => [c, []]));
    for (const [i, c] of moment.cases.entries()) {
      const doc = await openCase(store, c);
      for (const config of configs) {
        const r = await run(engine, policy, doc, c, i, config, 'ptp');
        const s = r.stats;
        // What the editor inserts: the pipeline's item, fitted to the cursor's line.
        const shown = r.item?.insertText ?? '';
        byConfig.get(config)!.push({ id: c.id, text: shown, right: isRight(c, shown), withheld: s.withheld?.reason, tokens: s.tokens, calls: s.calls, ms: s.msTotal });
        // Where the gate cuts at the shipped thresholds, AR must give the same tokens, cut and text.
        if ((config.threshold === DEFAULT.automatic || config.threshold === DEFAULT.explicit) && config.boundary === undefined) {
          const ar = await run(engine, policy, doc, c, i, config, 'ar');
          checked++;
          const same = ar.text === r.text && ar.item?.insertText === r.item?.insertText && JSON.stringify(ar.result.tokens) === JSON.stringify(r.result.tokens) && ar.result.stopReason === r.result.stopReason && ar.stats.withheld?.reason === s.withheld?.reason;
          if (!same) mismatches.push(`${c.id} ${config.name}: AR ${JSON.stringify(ar.text)} (${ar.result.stopReason}) vs PTP ${JSON.stringify(r.text)} (${r.result.stopReason})`);
        }
      }
      store.close(doc.uri);
      if ((i + 1) % 25 === 0) log(`${moment.key}: ${i + 1}/${moment.cases.length}`);
    }
    for (const config of configs) rows.push(score(moment, config, byConfig.get(config)!));
  }
  await engine.dispose();
  info.load.push(sampleLoad());

  const md: string[] = [
    '# Confidence gate: what people see, by moment and threshold',
    '',
    ...runInfoMarkdown(info),
    `- cases: ${MOMENTS.map((m) => `${m.name} ${m.cases.length}`).join(', ')}; validation packages only`,
    `- the gate: the completion ends before the token at which the running product of the tokens' probabilities falls below τ, cut back to a word (not inside one), duplicated suffix text dropped; less than a word of code is withheld. The "syntax boundary" row trims it as an uncut completion is trimmed (brackets closed, no new parse errors); "token boundary" does not cut back to a word`,
    `- shipped default (ptp.completion.confidence "${DEFAULT_LEVEL}"): τ ${DEFAULT.automatic} for automatic requests (**bold** rows), ${DEFAULT.explicit} for explicit ones`,
    `- losslessness at the shipped thresholds (automatic and explicit, every case): AR and PTP gave the same tokens, cut and text on ${checked - mismatches.length} of ${checked} requests`,
    '- right = the file continues with the suggestion (trailing whitespace ignored); chars = whole suggestions\' characters',
    '',
  ];
  for (const moment of MOMENTS) {
    md.push(`## ${moment.name} (${moment.cases.length} cases)`, '');
    const header = ['config', 'shown', 'right, of shown', 'right chars', 'wrong chars', 'withheld (unsure / short)', 'tok/call', 'calls/request', 'ms p50', 'ms p95'];
    md.push(
      ...table(
        header,
        rows
          .filter((r) => r.moment === moment.key)
          .map((r) => {
            const mark = r.config.threshold === DEFAULT.automatic && r.config.boundary === undefined && !r.config.explicit && r.config.temperature === 0 ? (x: string) => `**${x}**` : (x: string) => x;
            return [mark(r.config.name), pct(r.shown / r.cases), pct(r.right / Math.max(1, r.shown)), r.rightChars, r.wrongChars, `${r.withheld.unsure ?? 0} / ${r.withheld.short ?? 0}`, fmt(r.tokensPerCall, 2), fmt(r.callsPerRequest, 1), fmt(r.msP50, 1), fmt(r.msP95, 1)];
          }),
      ),
      '',
    );
  }
  if (mismatches.length > 0) md.push('## AR and PTP disagreed', '', ...mismatches.map((m) => `- ${m}`), '');
  writeResults(opt.get('out') ?? 'eval-confidence', { rows, mismatches, checked }, md);
  if (mismatches.length > 0) {
    process.stderr.write(`${mismatches.length} AR/PTP mismatches\n`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

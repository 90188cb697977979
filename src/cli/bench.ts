/**
 * `ptp-complete bench`: AR against PTP on a few built-in prompts, same seed and settings, the
 * same number of tokens (no stop rules, so both decode exactly --max-tokens tokens unless the
 * model ends the text). Reports tokens per call, decode milliseconds per token (the first call
 * carries the prompt and is left out), the AR/PTP speed ratio, and whether the texts are equal
 * (they must be: PTP is lossless).
 *
 * M and B for 'auto' come from the block-size policy for a 'block' scope with the latency
 * curve measured on this machine.
 */
import { chooseBlockSize } from '../context/index';
import type { DecodeResult } from '../engine/index';
import type { CommandLine } from './args';
import type { CliSession } from './session';

/** Short FIM and left-to-right prompts in the languages the model was trained on. */
const PROMPTS: ReadonlyArray<{ name: string; prefix: string; suffix?: string }> = [
  { name: 'python function', prefix: 'import os\n\n\ndef list_python_files(root):\n    """Return the paths of all .py files under root."""\n' },
  { name: 'typescript class', prefix: 'export class LruCache<K, V> {\n  private readonly map = new Map<K, V>();\n\n  constructor(private readonly capacity: number) {}\n\n  get(key: K): V | undefined {\n' },
  {
    name: 'javascript fim',
    prefix: 'function debounce(fn, ms) {\n  let timer;\n  return function (...args) {\n',
    suffix: '  };\n}\n\nmodule.exports = { debounce };\n',
  },
  { name: 'go loop', prefix: 'package main\n\nimport "fmt"\n\nfunc main() {\n\tnumbers := []int{3, 1, 4, 1, 5, 9, 2, 6}\n\tsum := 0\n' },
];

const BENCH_MAX_TOKENS = 64;

interface Row {
  prompt: string;
  tokens: number;
  identical: boolean;
  ar: Side;
  ptp: Side;
  /** AR ms/token divided by PTP ms/token: above 1, PTP is faster. */
  speedup: number;
}

interface Side {
  calls: number;
  tokensPerCall: number;
  msPrefill: number;
  msDecode: number;
  msPerToken: number;
}

export async function runBench(session: CliSession, cl: CommandLine): Promise<number> {
  const { engine } = session;
  const decoding = { ...session.decoding(), decoder: 'ptp' as const };
  const env = await session.env(decoding);
  const hist = engine.manifest.ptp.acceptance_histogram;
  const choice = chooseBlockSize('block', env.latency, hist, typeof cl.decoding.blockSize === 'number' ? { blockSize: cl.decoding.blockSize } : undefined);
  const maxTokens = cl.maxTokens ?? BENCH_MAX_TOKENS;
  const run = (p: (typeof PROMPTS)[number], decoder: 'ar' | 'ptp'): Promise<DecodeResult> =>
    engine.complete(
      { prefix: p.prefix, ...(p.suffix !== undefined ? { suffix: p.suffix } : {}) },
      {
        decoder,
        seed: decoding.seed,
        temperature: decoding.temperature,
        topK: decoding.topK,
        topP: decoding.topP,
        blockSize: decoder === 'ar' ? 1 : choice.blockSize,
        budget: decoder === 'ar' ? 0 : choice.budget,
        lookup: decoding.lookup,
        maxTokens,
        // A key per decoder: neither run reuses the other's prompt cache.
        cacheKey: `bench-${decoder}`,
      },
    );

  // Warm-up: first calls pay for JIT and onnxruntime's allocations.
  await run(PROMPTS[0]!, 'ar');
  await run(PROMPTS[0]!, 'ptp');

  const rows: Row[] = [];
  for (const p of PROMPTS) {
    const ar = await run(p, 'ar');
    const ptp = await run(p, 'ptp');
    const a = side(ar);
    const b = side(ptp);
    rows.push({ prompt: p.name, tokens: ar.tokens.length, identical: ar.text === ptp.text, ar: a, ptp: b, speedup: round(a.msPerToken / b.msPerToken, 2) });
  }
  const total = (pick: (r: Row) => Side): Side => {
    const calls = rows.reduce((s, r) => s + pick(r).calls, 0);
    const tokens = rows.reduce((s, r) => s + r.tokens, 0);
    const msDecode = rows.reduce((s, r) => s + pick(r).msDecode, 0);
    const msPrefill = rows.reduce((s, r) => s + pick(r).msPrefill, 0);
    return { calls, tokensPerCall: round(tokens / calls, 2), msPrefill: round(msPrefill, 1), msDecode: round(msDecode, 1), msPerToken: round(msDecode / Math.max(1, tokens - rows.length), 2) };
  };
  const summary = { ar: total((r) => r.ar), ptp: total((r) => r.ptp), identical: rows.every((r) => r.identical), speedup: 0 };
  summary.speedup = round(summary.ar.msPerToken / summary.ptp.msPerToken, 2);
  const setup = { model: engine.manifest.name, seed: decoding.seed, temperature: decoding.temperature, topK: decoding.topK, topP: decoding.topP, blockSize: choice.blockSize, budget: choice.budget, maxTokens, latency: env.latency };

  if (cl.json) {
    process.stdout.write(`${JSON.stringify({ setup, prompts: rows, summary })}\n`);
  } else {
    const out: string[] = [
      `model ${setup.model}, seed ${setup.seed}, T=${setup.temperature} top-k ${setup.topK} top-p ${setup.topP}, PTP M=${setup.blockSize} B=${setup.budget}${decoding.lookup === false ? ' (no context lookup)' : ' + context lookup'}, ${maxTokens} tokens per prompt`,
      pad(['prompt', 'tokens', 'AR calls', 'AR ms/tok', 'PTP calls', 'PTP tok/call', 'PTP ms/tok', 'AR/PTP', 'same text']),
      ...rows.map((r) => pad([r.prompt, r.tokens, r.ar.calls, r.ar.msPerToken, r.ptp.calls, r.ptp.tokensPerCall, r.ptp.msPerToken, r.speedup, r.identical ? 'yes' : 'NO'])),
      pad(['all', rows.reduce((s, r) => s + r.tokens, 0), summary.ar.calls, summary.ar.msPerToken, summary.ptp.calls, summary.ptp.tokensPerCall, summary.ptp.msPerToken, summary.speedup, summary.identical ? 'yes' : 'NO']),
      'ms/tok: decode time after the first call (which carries the prompt) per later token.',
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  }
  // PTP that differs from AR is a bug in the engine, not a slow result.
  return summary.identical ? 0 : 1;
}

function side(r: DecodeResult): Side {
  return {
    calls: r.calls,
    tokensPerCall: round(r.tokensPerCall, 2),
    msPrefill: round(r.msPrefill, 1),
    msDecode: round(r.msDecode, 1),
    msPerToken: round(r.msDecode / Math.max(1, r.tokens.length - 1), 2),
  };
}

function pad(cells: ReadonlyArray<string | number>): string {
  return cells.map((c, i) => (i === 0 ? String(c).padEnd(18) : String(c).padStart(i === 8 ? 10 : 12))).join('');
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

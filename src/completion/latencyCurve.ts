/**
 * `measureLatencyCurve`: milliseconds per model call against rows per call, for the block-size
 * policy (src/context chooseBlockSize). Measured once per loaded model, because it depends on
 * the model, the machine, the thread count and the device; cached by model sha256 + device +
 * threads for the life of the process (a reload of the same model does not measure again).
 *
 * How: one cold request prefills a base text of BASE_TOKENS tokens under a private cache key;
 * then each probe appends a fresh chunk of r tokens to that base, so the engine reuses the
 * base's keys/values and the probe's single call runs ~r new rows over a past of ~BASE_TOKENS
 * (the P a completion sees mid-file):
 *
 *   probe r:  [ base (cached, P) ][ chunk_i, r rows ] -> 1 call, rows = r (+-1 at the seam)
 *
 * Each size runs REPEATS times with different chunks; the curve keeps the median per row count.
 * About 20 calls, a few hundred ms on one CPU thread for a 10M-parameter model.
 */
import type { LatencyPoint } from '../context/index';
import type { Engine } from '../engine/index';

const BASE_TOKENS = 256;
/** Up to M + B = 24 + 96 rows are considered by chooseBlockSize; measure a little past that. */
const SIZES = [1, 4, 8, 16, 32, 64, 128];
const REPEATS = 3;
const CACHE_KEY = '\u0000latency-sweep';

const cache = new Map<string, readonly LatencyPoint[]>();

export interface SweepOptions {
  device: string;
  threads: number;
  signal?: AbortSignal;
}

export async function measureLatencyCurve(engine: Engine, options: SweepOptions): Promise<readonly LatencyPoint[]> {
  const key = `${engine.manifest.onnx.sha256}|${options.device}|${options.threads}`;
  const known = cache.get(key);
  if (known !== undefined) return known;

  const base = engine.decode(engine.encode(codeLines('base', 64)).slice(0, BASE_TOKENS));
  const greedy = { decoder: 'ar', seed: 0, temperature: 0, topK: 1, topP: 1, blockSize: 1, maxTokens: 1, cacheKey: CACHE_KEY } as const;
  await engine.complete({ prefix: base }, { ...greedy, signal: options.signal });
  const samples = new Map<number, number[]>();
  let chunk = 0;
  for (const size of SIZES) {
    for (let rep = 0; rep < REPEATS; rep++) {
      if (options.signal?.aborted) throw new Error('latency sweep cancelled');
      const ids = engine.encode(codeLines(`c${chunk++}`, 24)).slice(0, size);
      await engine.complete(
        { prefix: base + engine.decode(ids) },
        { ...greedy, signal: options.signal, onCall: (c) => samples.set(c.rows, [...(samples.get(c.rows) ?? []), c.ms]) },
      );
    }
  }
  const curve = monotone(
    [...samples.entries()]
      // A row count hit once (at a tokenizer seam) is one noisy sample: keep the repeated ones.
      .filter(([, ms]) => ms.length >= 2)
      .sort(([a], [b]) => a - b)
      .map(([rows, ms]) => ({ rows, ms: Math.max(0.01, median(ms)) })),
  );
  if (curve.length === 0) throw new Error('latency sweep: no repeated measurements');
  cache.set(key, curve);
  return curve;
}

/**
 * More rows never cost less; a point above a later one is noise (another process, a GC), so
 * each point is lowered to the smallest time at or after it.
 */
function monotone(points: LatencyPoint[]): LatencyPoint[] {
  const out = points.map((p) => ({ ...p }));
  for (let i = out.length - 2; i >= 0; i--) out[i]!.ms = Math.min(out[i]!.ms, out[i + 1]!.ms);
  return out;
}

/** Ordinary-looking code whose tokens differ per `tag`, so probes share nothing past the base. */
function codeLines(tag: string, n: number): string {
  return Array.from({ length: n }, (_, i) => `const ${tag}_${i} = compute_${tag}(${i}, "item ${i}", options.${tag});\n`).join('');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

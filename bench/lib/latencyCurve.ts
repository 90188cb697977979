/**
 * The block-size policy's inputs for the benches, got the way the worker gets them: the latency
 * curve from src/completion's `measureLatencyCurve` (the function src/server/modelHost.ts calls
 * when a model loads: one call per probe over a cached past of 256 tokens) on an engine loaded
 * as the worker loads it (CPU, the engine's default threads), and model.json's acceptance
 * histogram. So a bench's `auto` block size is the one a user's worker picks.
 *
 * The curve is recorded in bench/results/policy-curve.json (`npm run bench`, or alone:
 * `node --import tsx bench/policy-curve.ts`), so every bench of a run reads the same one:
 *   {
 *     "function": "measureLatencyCurve (src/completion/latencyCurve.ts)",
 *     "options": { "device": "cpu", "threads": 1 },      // its SweepOptions, as the worker passes them
 *     "curve": [{ "rows": 1, "ms": 2.9 }, ...],
 *     "model": "...", "modelSha256": "...", "run": { ...machine, command, load... }
 *   }
 *
 * bench/results/latency-curve.json (bench/speed.ts) is another thing: ms per model call by rows
 * at several past lengths, load-corrected, for speed.md's table; the policy does not read it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LatencyPoint } from '../../src/context';
import { DEFAULT_LATENCY_CURVE } from '../../src/context';
import { measureLatencyCurve, type SweepOptions } from '../../src/completion/index';
import type { Engine } from '../../src/engine';
import { defaultOrtThreads, type RunInfo } from './machine';
import { RESULTS_DIR } from './report';

/** bench/speed.ts's per-past-length curves (not the policy's input). */
export const CURVE_FILE = join(RESULTS_DIR, 'latency-curve.json');
/** The policy's curve, measured by measureLatencyCurve as the worker measures it. */
export const POLICY_CURVE_FILE = join(RESULTS_DIR, 'policy-curve.json');
const MEASURED_BY = 'measureLatencyCurve (src/completion/latencyCurve.ts)';

/** Where the policy's inputs come from: the measured latency curve and the model's acceptance histogram. */
export interface Policy {
  curve: readonly LatencyPoint[];
  histogram: readonly number[];
}

export interface LatencyCurveFile {
  model: string;
  modelSha256: string;
  byPast: Record<string, LatencyPoint[]>;
  tokenRowsByPast: Record<string, LatencyPoint[]>;
  /** Plain medians of the draft-row samples, without the adjacent-reference correction. */
  rawMediansByPast?: Record<string, LatencyPoint[]>;
  run: RunInfo;
}

export interface PolicyCurveFile {
  function: string;
  options: SweepOptions;
  curve: LatencyPoint[];
  model: string;
  modelSha256: string;
  run: RunInfo;
}

/**
 * The worker's curve for `engine`: measureLatencyCurve with the SweepOptions modelHost passes
 * for a model loaded on the CPU with the default threads (the benches load it that way).
 */
export async function measurePolicyCurve(engine: Engine, run: RunInfo): Promise<PolicyCurveFile> {
  const options: SweepOptions = { device: 'cpu', threads: run.ortThreads };
  const curve = await measureLatencyCurve(engine, options);
  return { function: MEASURED_BY, options, curve: [...curve], model: engine.manifest.name, modelSha256: engine.manifest.onnx.sha256, run };
}

export function writePolicyCurve(file: PolicyCurveFile): void {
  writeFileSync(POLICY_CURVE_FILE, `${JSON.stringify(file, null, 1)}\n`);
  process.stderr.write(`wrote ${POLICY_CURVE_FILE}\n`);
}

/** The recorded policy curve if one exists for this model and thread count, else the context layer's default. */
export function loadCurve(modelSha256: string): { curve: readonly LatencyPoint[]; source: string } {
  if (existsSync(POLICY_CURVE_FILE)) {
    const file = JSON.parse(readFileSync(POLICY_CURVE_FILE, 'utf8')) as PolicyCurveFile;
    const threads = defaultOrtThreads();
    if (file.modelSha256 !== modelSha256) process.stderr.write(`note: ${POLICY_CURVE_FILE} was measured for another model; using the default curve\n`);
    else if (file.options.threads !== threads) process.stderr.write(`note: ${POLICY_CURVE_FILE} was measured with ${file.options.threads} thread(s), the engine runs ${threads}; using the default curve\n`);
    else if (file.curve.length > 0) return { curve: file.curve, source: `bench/results/policy-curve.json (${file.function}, ${file.options.threads} thread(s), ${file.run.date})` };
  } else {
    process.stderr.write(`note: no ${POLICY_CURVE_FILE} (node --import tsx bench/policy-curve.ts writes it); using the default curve\n`);
  }
  return { curve: DEFAULT_LATENCY_CURVE, source: 'DEFAULT_LATENCY_CURVE (src/context/blockSize.ts)' };
}

export function loadPolicy(engine: Engine): Policy & { source: string } {
  const { curve, source } = loadCurve(engine.manifest.onnx.sha256);
  return { curve, histogram: engine.manifest.ptp.acceptance_histogram, source };
}

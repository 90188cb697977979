/**
 * The measured latency-versus-rows curve (bench/results/latency-curve.json, written by
 * bench/speed.ts) and the block-size policy's inputs built from it.
 *
 * File format (read by the worker, or anything that wants `LatencyPoint[]`):
 *   {
 *     "curve": [{ "rows": 1, "ms": 2.9 }, ...],          // the policy's curve: past length POLICY_PAST
 *     "pastForCurve": 448,
 *     "byPast": { "0": [...], "128": [...], ... },        // draft rows (1 token row + rows-1 aux rows)
 *     "tokenRowsByPast": { "0": [...], ... },             // prompt rows only (prefill)
 *     "model": "...", "modelSha256": "...", "run": { ...machine, command, load... }
 *   }
 * `ms` is the time of one onnxruntime call (session.run), the quantity Engine.latencyCurve()
 * also reports, as a load-corrected median (see bench/speed.ts curveOf); engine work around
 * the call is measured separately (bench/results/speed.md).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LatencyPoint } from '../../src/context';
import { DEFAULT_LATENCY_CURVE } from '../../src/context';
import type { Engine } from '../../src/engine';
import type { RunInfo } from './machine';
import type { Policy } from './pipeline';
import { RESULTS_DIR } from './report';

export const CURVE_FILE = join(RESULTS_DIR, 'latency-curve.json');

/**
 * Most requests run with a full prompt: the engine clips prefix + suffix to the context less
 * its output reserve (512 - 192 = 320 tokens), and the first call has all but the last of them
 * cached, so the policy's curve is the one measured at this past length.
 */
export const POLICY_PAST = 319;

export interface LatencyCurveFile {
  model: string;
  modelSha256: string;
  pastForCurve: number;
  curve: LatencyPoint[];
  byPast: Record<string, LatencyPoint[]>;
  tokenRowsByPast: Record<string, LatencyPoint[]>;
  /** Plain medians of the draft-row samples, without the adjacent-reference correction. */
  rawMediansByPast?: Record<string, LatencyPoint[]>;
  run: RunInfo;
}

/** The measured curve if one exists for this model, else the context layer's default. */
export function loadCurve(modelSha256: string): { curve: readonly LatencyPoint[]; source: string } {
  if (existsSync(CURVE_FILE)) {
    const file = JSON.parse(readFileSync(CURVE_FILE, 'utf8')) as LatencyCurveFile;
    if (file.modelSha256 === modelSha256 && file.curve.length > 0) return { curve: file.curve, source: `bench/results/latency-curve.json (${file.run.date})` };
    process.stderr.write(`note: ${CURVE_FILE} was measured for another model; using the default curve\n`);
  }
  return { curve: DEFAULT_LATENCY_CURVE, source: 'DEFAULT_LATENCY_CURVE (src/context/blockSize.ts)' };
}

export function loadPolicy(engine: Engine): Policy & { source: string } {
  const { curve, source } = loadCurve(engine.manifest.onnx.sha256);
  return { curve, histogram: engine.manifest.ptp.acceptance_histogram, source };
}

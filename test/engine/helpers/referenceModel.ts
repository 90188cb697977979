/**
 * A small transformer in plain TypeScript that honours the model contract exactly: token rows
 * and aux rows (u embedded as 24 binary-expansion bits), absolute position features, additive
 * mask over [past | new rows], per-layer keys/values of the new rows only. Keys and values are
 * rounded to float32 before use, so a cached run and a full recompute are bit-identical; any
 * decoder mistake in masks, positions, u indices or cache bookkeeping changes its outputs.
 */
import type { Forward, ForwardRequest, ForwardResult } from '../../../src/engine/forward';
import { uniform } from '../../../src/engine/ustream';

export interface ReferenceShape {
  vocabSize: number;
  numLayers: number;
  numHeads: number;
  headDim: number;
}

class Params {
  private k = 0;
  constructor(private readonly seed: number) {}
  matrix(rows: number, cols: number, scale: number): Float64Array {
    return Float64Array.from({ length: rows * cols }, () => (uniform(this.seed, this.k++) * 2 - 1) * scale);
  }
}

function matVec(W: Float64Array, x: Float64Array, rows: number): Float64Array {
  const cols = x.length;
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += W[r * cols + c]! * x[c]!;
    y[r] = s;
  }
  return y;
}

export class ReferenceModel implements Forward {
  readonly calls: { rows: number; past: number }[] = [];
  private readonly d: number;
  private readonly embed: Float64Array;
  private readonly uEmbed: Float64Array;
  private readonly layers: { q: Float64Array; k: Float64Array; v: Float64Array; o: Float64Array }[];
  private readonly out: Float64Array;

  constructor(
    readonly shape: ReferenceShape,
    seed = 1234,
    /** Logit scale: larger is peakier. */
    private readonly sharpness = 6,
  ) {
    const { vocabSize: V, numLayers: L, numHeads: H, headDim: Dh } = shape;
    this.d = H * Dh;
    const p = new Params(seed);
    this.embed = p.matrix(V, this.d, 1);
    this.uEmbed = p.matrix(this.d, 24, 0.5);
    this.layers = Array.from({ length: L }, () => ({ q: p.matrix(this.d, this.d, 0.6), k: p.matrix(this.d, this.d, 0.6), v: p.matrix(this.d, this.d, 0.6), o: p.matrix(this.d, this.d, 0.4) }));
    this.out = p.matrix(V, this.d, 1);
  }

  private input(request: ForwardRequest, row: number): Float64Array {
    const Tv = request.inputIds.length;
    let x: Float64Array;
    if (row < Tv) {
      const t = Number(request.inputIds[row]!);
      x = this.embed.slice(t * this.d, (t + 1) * this.d);
    } else {
      const u = request.aux[row - Tv]!;
      const bits = Float64Array.from({ length: 24 }, (_, i) => Math.floor(u * 2 ** (i + 1)) % 2);
      x = matVec(this.uEmbed, bits, this.d);
    }
    const pos = Number(request.positionIds[row]!);
    for (let i = 0; i < this.d; i++) x[i]! += Math.sin(pos / 10 ** (i / this.d)) * 0.5;
    return x;
  }

  async run(request: ForwardRequest): Promise<ForwardResult> {
    const { vocabSize: V, numLayers: L, numHeads: H, headDim: Dh } = this.shape;
    const Q = request.positionIds.length;
    const P = request.past.length;
    const cols = P + Q;
    this.calls.push({ rows: Q, past: P });
    let xs = Array.from({ length: Q }, (_, r) => this.input(request, r));
    const newKeys: Float32Array[] = [];
    const newValues: Float32Array[] = [];
    for (let l = 0; l < L; l++) {
      const W = this.layers[l]!;
      const keys = new Float32Array(Q * this.d);
      const values = new Float32Array(Q * this.d);
      xs.forEach((x, r) => {
        keys.set(matVec(W.k, x, this.d), r * this.d);
        values.set(matVec(W.v, x, this.d), r * this.d);
      });
      const pastK = request.past.keys[l]!;
      const pastV = request.past.values[l]!;
      const keyAt = (j: number, i: number): number => (j < P ? pastK[j * this.d + i]! : keys[(j - P) * this.d + i]!);
      const valueAt = (j: number, i: number): number => (j < P ? pastV[j * this.d + i]! : values[(j - P) * this.d + i]!);
      xs = xs.map((x, r) => {
        const q = matVec(W.q, x, this.d);
        const attended = new Float64Array(this.d);
        for (let h = 0; h < H; h++) {
          const scores = new Float64Array(cols);
          let max = -Infinity;
          for (let j = 0; j < cols; j++) {
            let s = 0;
            for (let i = h * Dh; i < (h + 1) * Dh; i++) s += q[i]! * keyAt(j, i);
            scores[j] = s / Math.sqrt(Dh) + request.mask[r * cols + j]!;
            max = Math.max(max, scores[j]!);
          }
          let sum = 0;
          for (let j = 0; j < cols; j++) sum += scores[j] = Math.exp(scores[j]! - max);
          for (let j = 0; j < cols; j++) {
            const w = scores[j]! / sum;
            if (w === 0) continue;
            for (let i = h * Dh; i < (h + 1) * Dh; i++) attended[i]! += w * valueAt(j, i);
          }
        }
        const y = matVec(W.o, attended, this.d);
        return x.map((xi, i) => xi + y[i]!);
      });
      newKeys.push(keys);
      newValues.push(values);
    }
    const logits = new Float32Array(Q * V);
    xs.forEach((x, r) => {
      const norm = Math.sqrt(x.reduce((s, xi) => s + xi * xi, 0) / this.d) + 1e-6;
      logits.set(matVec(this.out, x.map((xi) => xi / norm), V).map((z) => z * this.sharpness / Math.sqrt(this.d)), r * V);
    });
    return { logits, newKeys, newValues, ms: 0 };
  }
}

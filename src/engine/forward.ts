/**
 * One model call, as the decoders see it. `runner.ts` implements it with onnxruntime-node;
 * tests can implement it with a reference model. Shapes follow MODEL_CONTRACT.md (batch 1).
 */
import type { KvView } from './kvcache';

export interface ForwardRequest {
  /** Token rows, [Tv]. */
  inputIds: BigInt64Array;
  /** Auxiliary variables u of the draft rows, [Ta]. */
  aux: Float32Array;
  /** RoPE positions, token rows first, then aux rows: [Tv + Ta]. */
  positionIds: BigInt64Array;
  /** Additive mask, row-major [Tv + Ta, P + Tv + Ta]: 0 = may attend, -1e9 = masked. */
  mask: Float32Array;
  /** The cached past rows; P = past.length. */
  past: KvView;
}

export interface ForwardResult {
  /** Raw logits, row-major [Tv + Ta, V]. Valid until the next run(): runners may reuse the buffer. */
  logits: Float32Array;
  /** Per layer, keys / values of the new rows only, [Tv + Ta, heads, headDim]. Valid until the next run(), as the logits. */
  newKeys: Float32Array[];
  newValues: Float32Array[];
  /** Wall time of the model call itself. */
  ms: number;
}

export interface Forward {
  run(request: ForwardRequest): Promise<ForwardResult>;
}

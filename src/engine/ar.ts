/**
 * Autoregressive decoding: one committed token per call, the reference PTP must reproduce.
 * Each call runs the uncached tail of the sequence (the whole uncached prompt on the first
 * call, then the last token) with Ta = 0, and picks output k with u(seed, k).
 */
import { commit, runLayout, sampleOutput, type DecodeState } from './decoder';
import { layoutCall } from './mask';

export async function decodeAr(state: DecodeState): Promise<void> {
  const { cache, generation, sequence, vocabSize: V } = state;
  while (!generation.done) {
    if (state.signal?.aborted) {
      generation.cancel();
      break;
    }
    const tokens = sequence.slice(cache.length);
    const k = generation.count;
    const layout = layoutCall({ pastLen: cache.length, tokens, contextRows: tokens.length, groups: [], firstOutputIndex: k, u: (i) => state.u.at(i) });
    const result = await runLayout(state, layout);
    const row = (tokens.length - 1) * V;
    const { token, probability } = sampleOutput(state, result.logits, row, state.u.at(k), [], 0, state.hooks?.forceToken?.(k));
    commit(state, result, tokens.length, [token], { confidence: [probability], acceptedDrafts: 0, draft: 'none', rows: layout.rows });
  }
}

/**
 * What both decoders share: the state of one request and the step that runs a call and keeps
 * the cache and the token sequence in step with what the Generation accepted.
 */
import { type CacheModel, mixRow } from './cacheModel';
import type { Forward, ForwardResult } from './forward';
import type { DraftSource, Generation } from './generation';
import type { FirstLineRule } from './firstLine';
import type { TokenHealing } from './healing';
import type { KvCache } from './kvcache';
import type { DraftReference } from './lookup';
import type { CallLayout } from './mask';
import { type SamplingParams, sampleRow, tokenProbability } from './sampling';
import type { UStream } from './ustream';

/** Test-only hooks. Production callers never set them. */
export interface DecoderHooks {
  /** Replaces a drafted speculation (output index, proposed token) - simulates another drafter. */
  draftToken?: (outputIndex: number, proposed: number) => number;
  /** Planted bug: verify row j >= 1 reads u at output index + this offset. */
  verifyUOffset?: number;
  /** Planted bug: added to the position ids of the speculation rows. */
  specPositionOffset?: number;
  /**
   * AR only: commit this token at output index k instead of sampling one (teacher forcing: the
   * trace's confidences are then the probabilities the model gives a known text). Calibration only.
   */
  forceToken?: (outputIndex: number) => number | undefined;
}

export interface DecodeState {
  forward: Forward;
  cache: KvCache;
  vocabSize: number;
  /** Prompt then committed tokens; the cache holds a prefix of it (at least one token short). */
  sequence: number[];
  sampling: SamplingParams;
  u: UStream;
  generation: Generation;
  /** The prompt's last token or word, re-typed first (see healing.ts). */
  healing?: TokenHealing;
  /** Token indexes lookup drafts also come from (lookup.ts). */
  references?: readonly DraftReference[];
  /** The tokens the output most likely starts with (the whitespace typed at the cursor), drafted on the first call. */
  typedDraft?: readonly number[];
  /** The sequence's index range [start, end) of the FIM suffix, so lookup can say a draft came from it. */
  suffixSpan?: readonly [number, number];
  /** The completion's first line must hold code (see firstLine.ts). */
  firstLine?: FirstLineRule;
  /** Mixed into every output row's distribution before sampling (cacheModel.ts). */
  cacheModel?: CacheModel;
  signal?: AbortSignal;
  hooks?: DecoderHooks;
}

export async function runLayout(state: DecodeState, layout: CallLayout): Promise<ForwardResult> {
  return state.forward.run({
    inputIds: layout.inputIds,
    aux: layout.aux,
    positionIds: layout.positionIds,
    mask: layout.mask,
    past: state.cache.view(),
  });
}

/**
 * After a call: cache the first `cachedRows` new rows (token rows the sequence keeps), hand the
 * committed tokens to the Generation, and append the ones it kept to the sequence. Rows of
 * tokens it dropped (after end-of-text, beyond a limit) are cropped again so that the cache
 * always holds a prefix of `sequence`.
 */
export function commit(
  state: DecodeState,
  result: ForwardResult,
  cachedRows: number,
  committed: readonly number[],
  info: { confidence: readonly number[]; acceptedDrafts: number; draft: DraftSource; rows: number },
): void {
  state.cache.append(result.newKeys, result.newValues, cachedRows);
  const kept = state.generation.commitCall(committed, { ...info, ms: result.ms });
  state.sequence.push(...committed.slice(0, kept));
  if (state.cache.length > state.sequence.length) state.cache.crop(state.sequence.length);
}

/**
 * The allowed-token mask for the output after the committed tokens and the first `extraCount`
 * of `extra` (the speculations verified so far): token healing's, narrowed by the first-line
 * rule; undefined: no constraint. Both decoders sample every output index through it.
 */
export function outputMask(state: DecodeState, extra: readonly number[] = [], extraCount = 0, withBan = true): Uint8Array | undefined {
  const output = state.generation.tokens;
  const healing = state.healing?.maskAfter(output, extra, extraCount);
  return state.firstLine === undefined ? healing : state.firstLine.maskAfter(output, extra, extraCount, healing, withBan);
}

/**
 * The token output index k + `extraCount` gets from the logits row at `offset` (after the
 * committed tokens and the first `extraCount` speculations of `extra`) with auxiliary variable
 * `u`, and its probability (tokenProbability): through the masks and, with a cache model, from
 * the mixture. `forced` (DecoderHooks.forceToken) is taken instead of sampling, with its
 * probability. Both decoders sample every output token here, so they sample the same way.
 */
export function sampleOutput(state: DecodeState, logits: Float32Array, offset: number, u: number, extra: readonly number[] = [], extraCount = 0, forced?: number): { token: number; probability: number } {
  const V = state.vocabSize;
  const mask = outputMask(state, extra, extraCount);
  const mix = state.cacheModel?.next(state.generation.tokens, extra, extraCount);
  const row = mix === undefined ? logits : mixRow(logits, offset, V, mix);
  const at = mix === undefined ? offset : 0;
  const token = forced ?? sampleRow(row, at, V, state.sampling, u, mask);
  // Judged among the tokens the person's text allows, banned ones included (FirstLineRule.maskAfter).
  const judged = state.firstLine?.bans === true ? outputMask(state, extra, extraCount, false) : mask;
  // A mixed row is already normalised: without a mask its probability is read off directly.
  const probability = mix !== undefined && judged === undefined ? Math.exp(row[token]!) : tokenProbability(row, at, V, token, judged);
  return { token, probability };
}

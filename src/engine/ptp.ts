/**
 * PTP decoding with Partial Quadratic Decoding (docs/ALGORITHM.md §3, variable-shape variant).
 *
 * Each call runs token rows [uncached context ..., c, s_1..s_n] plus one draft group per
 * hypothesis d = 0..n ("exactly d speculations are correct"). The teacher rows pick
 * T[j] = Pick(u[k+j], dist(row of c + j)); the longest prefix with s_{j+1} == T[j] is accepted
 * (m tokens), T[m] is the correction/bonus token, so a call commits m + 1 tokens that are
 * exactly what AR would have sampled with the same u. Group m's argmax drafts (after its first
 * row, which predicted T[m]) become the next call's speculations. The first call has n = 0 and
 * a single group.
 *
 * With `lookup`, the sequence and the references offer more drafts (lookup.ts: what followed
 * an earlier occurrence of the sequence's ending there). After each call (and before the first)
 * the speculation is whichever draft is expected to keep the most tokens; verification is the
 * same, so the output is too. A lookup draft may be longer than M (up to LOOKUP_BLOCK - 1 tokens).
 */
import { commit, runLayout, sampleOutput, type DecodeState } from './decoder';
import type { DraftSource } from './generation';
import { bestDraft, expectedAccepted, LOOKUP_BLOCK, lookupDrafts } from './lookup';
import { layoutCall } from './mask';
import { branchProbabilities, proposals, rewardCurve } from './proposals';
import { draftOf } from './sampling';

export interface PtpSettings {
  /** M: most draft rows per group, so at most M tokens committed per call from PTP drafts. */
  blockSize: number;
  /** B: total draft rows per call. */
  budget: number;
  /** The manifest's acceptance histogram (proposals() reward curve). */
  histogram: readonly number[];
  /**
   * Also draft from the context (lookup.ts): after each call the speculation is whichever of
   * the PTP group's draft and the context's continuation is expected to keep more tokens.
   */
  lookup?: boolean;
  /**
   * false: the model has no PTP adapters (manifest ptp.adapters false): no draft groups, no aux
   * rows; only context drafts are verified. Default true.
   */
  drafter?: boolean;
  /** See truncate(); default MIN_SURVIVAL. */
  minSurvival?: number;
}

/** See truncate(). */
export const MIN_SURVIVAL = 0.2;

export async function decodePtp(state: DecodeState, settings: PtpSettings): Promise<void> {
  const { cache, generation, sequence, vocabSize: V, hooks } = state;
  const M = settings.blockSize;
  const H = rewardCurve(settings.histogram, M);
  // The speculation to verify next, its confidences, and whether it came from the context.
  const minSurvival = settings.minSurvival ?? MIN_SURVIVAL;
  let spec: Draft = (settings.lookup && (typedDraft(state) ?? lookupDraft(state, M, generation.count))) || NO_DRAFT;
  spec = truncate(spec, minSurvival);

  while (!generation.done) {
    if (state.signal?.aborted) {
      generation.cancel();
      break;
    }
    const k = generation.count;
    const context = sequence.slice(cache.length);
    // A call commits at most n + 1 tokens; never speculate past the token or context limit.
    const n = Math.min(spec.tokens.length, generation.remaining - 1);
    const tokens = spec.tokens.slice(0, n);
    // A context draft will most likely be followed by more of the same context: PTP groups
    // there cost rows and rarely beat the next lookup, so they draft only where lookup did not.
    const groups = spec.source !== 'ptp' || settings.drafter === false
      ? []
      : proposals(branchProbabilities(spec.conf.slice(0, n)), H, settings.budget, M).map((size, d) => {
          const capped = Math.min(size, generation.remaining - d);
          // A one-row group only re-predicts T[d], which the teacher rows give anyway.
          return capped >= 2 ? capped : 0;
        });
    const layout = layoutCall({
      pastLen: cache.length,
      tokens: [...context, ...tokens],
      contextRows: context.length,
      groups: groups.some((g) => g > 0) ? groups : [],
      firstOutputIndex: k,
      u: (i) => state.u.at(i),
      specPositionOffset: hooks?.specPositionOffset,
    });
    const result = await runLayout(state, layout);

    // Verify: teacher row of c + j predicts output k + j with u[k + j].
    const rowOfC = context.length - 1;
    let m = 0;
    let next = -1;
    // Each committed token's probability, from the verify row that picked it: AR's distribution.
    const confidence: number[] = [];
    for (let j = 0; j <= n; j++) {
      const uIndex = k + j + (j >= 1 ? (hooks?.verifyUOffset ?? 0) : 0);
      const { token: teacher, probability } = sampleOutput(state, result.logits, (rowOfC + j) * V, state.u.at(uIndex), tokens, j);
      confidence.push(probability);
      if (j < n && tokens[j] === teacher) {
        m++;
      } else {
        next = teacher;
        break;
      }
    }
    const committed = [...tokens.slice(0, m), next];

    // Next speculation: group m's drafts after its first row.
    const size = layout.groupStart.length > 0 ? groups[m]! : 0;
    const drafted: Draft = { tokens: [], conf: [], source: 'ptp' };
    const nextIndex = k + m + 1;
    for (let j = 1; j < size; j++) {
      const draft = draftOf(result.logits, (layout.inputIds.length + layout.groupStart[m]! + j) * V, V);
      drafted.tokens.push(hooks?.draftToken ? hooks.draftToken(nextIndex + j - 1, draft.token) : draft.token);
      drafted.conf.push(draft.prob);
    }

    commit(state, result, context.length + m, committed, { confidence, acceptedDrafts: m, draft: n === 0 ? 'none' : spec.source, rows: layout.rows });
    spec = drafted;
    if (settings.lookup && !generation.done) {
      const looked = lookupDraft(state, M, nextIndex);
      if (looked !== undefined && expectedAccepted(looked.conf) > expectedAccepted(drafted.conf)) spec = looked;
    }
    spec = truncate(spec, minSurvival);
  }
}

interface Draft {
  tokens: number[];
  conf: number[];
  source: Exclude<DraftSource, 'none'>;
}

const NO_DRAFT: Draft = { tokens: [], conf: [], source: 'ptp' };

/**
 * P(a token of the typed whitespace is what the model writes), given the ones before it were:
 * the model may split or change the indentation, which the verification then catches.
 */
const TYPED_CONFIDENCE = 0.9;

/** The first call's draft of the whitespace typed at the cursor (DecodeState.typedDraft), if any. */
function typedDraft(state: DecodeState): Draft | undefined {
  const typed = state.typedDraft;
  if (typed === undefined || typed.length === 0 || state.generation.count > 0) return undefined;
  const draftToken = state.hooks?.draftToken;
  return { tokens: typed.map((t, j) => (draftToken ? draftToken(j, t) : t)), conf: typed.map(() => TYPED_CONFIDENCE), source: 'typed' };
}

/**
 * The lookup draft (lookup.ts) expected to keep the most tokens, for output index `firstIndex`
 * on; undefined when no source has one.
 */
function lookupDraft(state: DecodeState, M: number, firstIndex: number): Draft | undefined {
  const looked = bestDraft(lookupDrafts(state.sequence, Math.max(M, LOOKUP_BLOCK) - 1, state.suffixSpan, state.references));
  if (looked === undefined) return undefined;
  const draftToken = state.hooks?.draftToken;
  const tokens = draftToken ? looked.tokens.map((t, j) => draftToken(firstIndex + j, t)) : looked.tokens;
  return { tokens, conf: looked.conf, source: looked.source };
}

/**
 * Drops the speculation's tail once the chance that every token up to it is accepted falls
 * below MIN_SURVIVAL. A verified row costs about 0.4 ms on a 2-core CPU against 11-13 ms for
 * the call (bench/results/speed.md), so a token kept with probability p pays for its row above
 * about p = 0.1. Measured on the eval's cases (`npm run bench:lookup`): cut-offs 0.1 / 0.2 / 0.3
 * ran at 1.80x / 1.86x / 1.83x AR, 0.2 with 28% fewer rows than 0.1.
 */
function truncate(draft: Draft, minSurvival: number): Draft {
  let p = 1;
  let keep = 0;
  while (keep < draft.conf.length && (p *= draft.conf[keep]!) >= minSurvival) keep++;
  if (keep === draft.tokens.length) return draft;
  return keep === 0 ? NO_DRAFT : { tokens: draft.tokens.slice(0, keep), conf: draft.conf.slice(0, keep), source: draft.source };
}

/**
 * PTP decoding with Partial Quadratic Decoding (PTP.md §4.2, variable-shape variant).
 *
 * Each call runs token rows [uncached context ..., c, s_1..s_n] plus one draft group per
 * hypothesis d = 0..n ("exactly d speculations are correct"). The teacher rows pick
 * T[j] = Pick(u[k+j], dist(row of c + j)); the longest prefix with s_{j+1} == T[j] is accepted
 * (m tokens), T[m] is the correction/bonus token, so a call commits m + 1 tokens that are
 * exactly what AR would have sampled with the same u. Group m's argmax drafts (after its first
 * row, which predicted T[m]) become the next call's speculations. The first call has n = 0 and
 * a single group.
 */
import { commit, healingMask, runLayout, type DecodeState } from './decoder';
import { layoutCall } from './mask';
import { branchProbabilities, proposals, rewardCurve } from './proposals';
import { draftOf, sampleRow } from './sampling';

export interface PtpSettings {
  /** M: most draft rows per group, so at most M tokens committed per call. */
  blockSize: number;
  /** B: total draft rows per call. */
  budget: number;
  /** The manifest's acceptance histogram (proposals() reward curve). */
  histogram: readonly number[];
}

export async function decodePtp(state: DecodeState, settings: PtpSettings): Promise<void> {
  const { cache, generation, sequence, vocabSize: V, hooks } = state;
  const M = settings.blockSize;
  const H = rewardCurve(settings.histogram, M);
  let spec: number[] = [];
  let conf: number[] = [];

  while (!generation.done) {
    if (state.signal?.aborted) {
      generation.cancel();
      break;
    }
    const k = generation.count;
    const context = sequence.slice(cache.length);
    // A call commits at most n + 1 tokens; never speculate past the token or context limit.
    const n = Math.min(spec.length, generation.remaining - 1);
    spec = spec.slice(0, n);
    conf = conf.slice(0, n);
    const groups = proposals(branchProbabilities(conf), H, settings.budget, M).map((size, d) => {
      const capped = Math.min(size, generation.remaining - d);
      // A one-row group only re-predicts T[d], which the teacher rows give anyway.
      return capped >= 2 ? capped : 0;
    });
    const layout = layoutCall({
      pastLen: cache.length,
      tokens: [...context, ...spec],
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
    for (let j = 0; j <= n; j++) {
      const uIndex = k + j + (j >= 1 ? (hooks?.verifyUOffset ?? 0) : 0);
      const teacher = sampleRow(result.logits, (rowOfC + j) * V, V, state.sampling, state.u.at(uIndex), healingMask(state, spec, j));
      if (j < n && spec[j] === teacher) {
        m++;
      } else {
        next = teacher;
        break;
      }
    }
    const committed = [...spec.slice(0, m), next];

    // Next speculation: group m's drafts after its first row.
    const size = layout.groupStart.length > 0 ? groups[m]! : 0;
    const nextSpec: number[] = [];
    const nextConf: number[] = [];
    const nextIndex = k + m + 1;
    for (let j = 1; j < size; j++) {
      const draft = draftOf(result.logits, (layout.inputIds.length + layout.groupStart[m]! + j) * V, V);
      nextSpec.push(hooks?.draftToken ? hooks.draftToken(nextIndex + j - 1, draft.token) : draft.token);
      nextConf.push(draft.prob);
    }
    spec = nextSpec;
    conf = nextConf;

    commit(state, result, context.length + m, committed, { acceptedDrafts: m, rows: layout.rows });
  }
}

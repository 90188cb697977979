/**
 * How many speculations each PTP call verified and how many it accepted, so the measured
 * acceptance can be compared with model.json's `acceptance_histogram` (which the block-size
 * policy and the budget allocator rely on).
 *
 * CallTrace reports the accepted count (acceptedDrafts) but not how many speculations the call
 * verified. The decoder's `draftToken` hook sees every speculation as it is drafted; passed as
 * the identity it changes nothing, and counting its calls between two onCall events gives the
 * number of speculations the next call verifies:
 *
 *   call i:   drafts for call i+1 (draftToken x n_{i+1}) ... commit -> onCall(trace_i)
 *   call i+1: verifies n_{i+1} speculations, accepts trace_{i+1}.acceptedDrafts of them
 */
import type { CallTrace, DecoderHooks } from '../../src/engine';

export interface Verified {
  /** Speculations this call verified (drafted, less those beyond the request's token cap). */
  speculated: number;
  accepted: number;
}

export class AcceptanceTracker {
  readonly calls: Verified[] = [];
  private drafted = 0;
  private pending = 0;
  private committed = 0;
  private maxTokens = Infinity;

  readonly hooks: DecoderHooks = {
    draftToken: (_index, proposed) => {
      this.drafted++;
      return proposed;
    },
  };

  /** Call at the start of each request, with its token cap. */
  begin(maxTokens: number): void {
    this.drafted = 0;
    this.pending = 0;
    this.committed = 0;
    this.maxTokens = maxTokens;
  }

  /** Pass as (or from) DecodeOptions.onCall. */
  onCall = (t: CallTrace): void => {
    // The decoder never speculates past the cap: a call commits at most remaining tokens.
    const verified = Math.min(this.pending, this.maxTokens - this.committed - 1);
    this.calls.push({ speculated: Math.max(0, verified), accepted: t.acceptedDrafts });
    this.committed += t.committed.length;
    this.pending = this.drafted;
    this.drafted = 0;
  };
}

/**
 * S(j) = P(the j-th speculation is accepted | at least j were verified), j = 1..maxJ:
 * the measured counterpart of P(C >= j) in the policy's model.
 */
export function survival(calls: readonly Verified[], maxJ: number): { j: number; n: number; p: number }[] {
  const out: { j: number; n: number; p: number }[] = [];
  for (let j = 1; j <= maxJ; j++) {
    const eligible = calls.filter((c) => c.speculated >= j);
    const ok = eligible.filter((c) => c.accepted >= j).length;
    out.push({ j, n: eligible.length, p: eligible.length === 0 ? NaN : ok / eligible.length });
  }
  return out;
}

/** P(C >= j) from an acceptance histogram (index c = exactly c leading correct). */
export function histogramTail(hist: readonly number[], maxJ: number): number[] {
  const total = hist.reduce((s, x) => s + x, 0);
  return Array.from({ length: maxJ }, (_, i) => hist.slice(i + 1).reduce((s, x) => s + x, 0) / total);
}

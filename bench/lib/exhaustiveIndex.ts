/**
 * `ExhaustiveIndex`: a TokenIndex whose match() scans every token of every document for the
 * longest match of the sequence's ending (up to MAX_REFERENCE_MATCH; the latest on ties), where
 * TokenIndex follows a hash chain over GRAM-token windows and looks at its 48 latest entries.
 * It finds what a suffix array would: bench:lookup-sources compares the two, which is how the
 * engine's index was chosen. For benchmarks only (a query costs the whole index).
 */
import { GRAM, type IndexMatch, MAX_REFERENCE_MATCH, type MatchFilter, TokenIndex } from '../../src/engine';

export class ExhaustiveIndex extends TokenIndex {
  private readonly docs = new Map<string, ArrayLike<number>>();

  override set(id: string, tokens: ArrayLike<number>): boolean {
    this.docs.delete(id);
    const ok = super.set(id, tokens);
    if (ok) this.docs.set(id, tokens);
    return ok;
  }

  override delete(id: string): boolean {
    this.docs.delete(id);
    return super.delete(id);
  }

  override clear(): void {
    this.docs.clear();
    super.clear();
  }

  override match(sequence: readonly number[], maxTokens: number, filter: MatchFilter = {}): IndexMatch | undefined {
    const N = sequence.length;
    if (N < GRAM || maxTokens <= 0) return undefined;
    let best: { id: string; doc: ArrayLike<number>; end: number; matched: number } | undefined;
    for (const [id, doc] of this.docs) {
      if ((filter.only !== undefined && id !== filter.only) || id === filter.exclude) continue;
      // A match ending at p, with at least one token after it.
      for (let p = GRAM - 1; p + 1 < doc.length; p++) {
        let n = 0;
        while (n < MAX_REFERENCE_MATCH && n < N && p - n >= 0 && doc[p - n] === sequence[N - 1 - n]) n++;
        if (n >= GRAM && n >= (best?.matched ?? 0)) best = { id, doc, end: p, matched: n };
      }
    }
    if (best === undefined) return undefined;
    const tokens: number[] = [];
    for (let q = best.end + 1; q < best.doc.length && tokens.length < maxTokens; q++) tokens.push(best.doc[q]!);
    return { tokens, matched: best.matched, id: best.id };
  }
}

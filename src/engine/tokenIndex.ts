/**
 * `TokenIndex`: the token sequences of other documents (the open files, the workspace), searchable
 * for the longest earlier occurrence of a sequence's ending, so that what followed it there can be
 * verified as a draft (lookup.ts does the same within the sequence being decoded). Verification is
 * exact, so an index changes how many tokens a call commits, never which.
 *
 * Layout: one append-only arena of tokens, documents one after another, each followed by a
 * separator value no token has. A hash chain over every GRAM-token window (as in LZ77
 * compressors) links each position to the previous one whose window hashes alike:
 *
 *   arena:  | doc a ... | SEP | doc b ... | SEP | ...
 *   head[hash(window ending at p)] = the latest such p;  next[p] = the one before it
 *
 * Replacing or deleting a document overwrites its tokens with SEP in place: no window there can
 * match again, and its chain links only cost a skip. Once a quarter of the arena is dead, the
 * next `set` that needs room compacts it (one pass, proportional to the live tokens). Memory: 6
 * bytes per arena slot (2 for a token while the vocabulary fits 16 bits, 4 otherwise, plus 4 for
 * the chain), at most about maxTokens + documents slots, and a fixed head table.
 */

/** Tokens in the window a chain is keyed on: a shorter match says too little about what follows. */
export const GRAM = 3;
/** Longest match considered; past it a longer one says no more. */
export const MAX_REFERENCE_MATCH = 12;
/** Candidates examined per query, latest first (a common window has a long chain). */
const MAX_CHAIN = 48;
/** Chain positions outside the filter's documents passed over per query, at most. */
const MAX_SKIPPED = 4096;
/** Default capacity: live tokens (about 25 MB of text, 8M * 6 bytes = 48 MB of arrays). */
export const INDEX_MAX_TOKENS = 8_000_000;
const SEP16 = 0xffff;
const SEP32 = 0xffffffff;

export interface TokenIndexOptions {
  /** Most live tokens the index holds; `set` refuses a document that would exceed it. */
  maxTokens?: number;
}

export interface MatchFilter {
  /** Draft from this document only. */
  only?: string;
  /** Never from this document. */
  exclude?: string;
}

export interface IndexMatch {
  /** Tokens that followed the match, at most `maxTokens`, never past the end of its document. */
  tokens: number[];
  /** How many tokens of the query's ending matched (GRAM..MAX_REFERENCE_MATCH). */
  matched: number;
  /** The document it came from. */
  id: string;
}

interface Span {
  start: number;
  end: number;
}

export class TokenIndex {
  readonly maxTokens: number;
  private arena: Uint16Array | Uint32Array = new Uint16Array(1024);
  private sep = SEP16;
  private next = new Int32Array(1024);
  private readonly head: Int32Array;
  private readonly mask: number;
  private used = 0;
  private live = 0;
  private readonly spans = new Map<string, Span>();
  /** Arena start and id of every non-empty document added since the last compaction, in arena order (deleted ones too: their tokens are SEP, so they never match). */
  private starts: number[] = [];
  private startIds: string[] = [];

  constructor(options: TokenIndexOptions = {}) {
    this.maxTokens = options.maxTokens ?? INDEX_MAX_TOKENS;
    if (!Number.isInteger(this.maxTokens) || this.maxTokens < 1) throw new RangeError(`TokenIndex: maxTokens must be a positive integer, got ${options.maxTokens}`);
    // About one head slot per 4 live tokens, between 2^12 and 2^21 (8 MB).
    const bits = Math.min(21, Math.max(12, Math.ceil(Math.log2(this.maxTokens / 4))));
    this.head = new Int32Array(1 << bits).fill(-1);
    this.mask = (1 << bits) - 1;
  }

  get documents(): number {
    return this.spans.size;
  }

  /** Live tokens (documents' tokens, not counting replaced or deleted ones not yet compacted). */
  get tokens(): number {
    return this.live;
  }

  /** Bytes held by the arrays. */
  get bytes(): number {
    return this.arena.byteLength + this.next.byteLength + this.head.byteLength;
  }

  has(id: string): boolean {
    return this.spans.has(id);
  }

  /** Adds or replaces document `id`. Returns false, indexing nothing (an old version is deleted), if it would exceed maxTokens. */
  set(id: string, tokens: ArrayLike<number>): boolean {
    this.delete(id);
    if (this.live + tokens.length > this.maxTokens) return false;
    if (tokens.length === 0) {
      this.spans.set(id, { start: this.used, end: this.used });
      return true;
    }
    this.reserve(tokens.length + 1);
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (!Number.isInteger(t) || t < 0 || t >= SEP32) throw new RangeError(`TokenIndex.set(${id}): token ${t} at ${i} is not a token id`);
      if (t >= SEP16 && this.sep === SEP16) this.widen();
    }
    const start = this.used;
    this.arena.set(tokens, start);
    this.arena[start + tokens.length] = this.sep;
    this.used += tokens.length + 1;
    this.live += tokens.length;
    this.spans.set(id, { start, end: start + tokens.length });
    this.starts.push(start);
    this.startIds.push(id);
    this.link(start, start + tokens.length);
    return true;
  }

  delete(id: string): boolean {
    const span = this.spans.get(id);
    if (span === undefined) return false;
    this.arena.fill(this.sep, span.start, span.end);
    this.live -= span.end - span.start;
    this.spans.delete(id);
    return true;
  }

  clear(): void {
    this.spans.clear();
    this.starts = [];
    this.startIds = [];
    this.used = 0;
    this.live = 0;
    this.arena = new Uint16Array(1024);
    this.sep = SEP16;
    this.next = new Int32Array(1024);
    this.head.fill(-1);
  }

  /**
   * The position whose preceding tokens match the end of `sequence` longest (at least GRAM, at
   * most MAX_REFERENCE_MATCH; the latest added on ties), and up to `maxTokens` tokens that
   * followed it in its document. `filter.only` / `filter.exclude`: draft from that document
   * alone / from every other one. Cost: at most MAX_CHAIN candidates of MAX_REFERENCE_MATCH
   * comparisons each (positions outside `only` are skipped, up to MAX_SKIPPED of them).
   */
  match(sequence: readonly number[], maxTokens: number, filter: MatchFilter = {}): IndexMatch | undefined {
    if (maxTokens <= 0) return undefined;
    let bestLen = 0;
    let bestEnd = -1;
    this.walk(sequence, filter, (p, n) => {
      if (n > bestLen) {
        bestLen = n;
        bestEnd = p;
      }
      return n === MAX_REFERENCE_MATCH;
    });
    if (bestLen === 0) return undefined;
    const a = this.arena;
    const tokens: number[] = [];
    for (let q = bestEnd + 1; a[q] !== this.sep && tokens.length < maxTokens; q++) tokens.push(a[q]!);
    return { tokens, matched: bestLen, id: this.documentAt(bestEnd) };
  }

  /**
   * Every candidate position the chain of `sequence`'s ending offers (as `match`, at most
   * MAX_CHAIN of them, latest first) whose preceding tokens match that ending by at least GRAM
   * tokens: how many matched (up to `maxMatch`) and the token that followed. The cache model
   * (cacheModel.ts) counts these continuations.
   */
  continuations(sequence: readonly number[], filter: MatchFilter = {}, maxMatch = MAX_REFERENCE_MATCH): { matched: number; next: number }[] {
    const out: { matched: number; next: number }[] = [];
    this.walk(
      sequence,
      filter,
      (p, matched) => {
        out.push({ matched, next: this.arena[p + 1]! });
        return false;
      },
      maxMatch,
    );
    return out;
  }

  /**
   * Visits the chain of `sequence`'s ending: each candidate position p (the last token of an
   * occurrence, something following it in its document) whose preceding tokens match at least
   * GRAM tokens, with that match length (at most `maxMatch`); `visit` returns true to stop.
   * `filter` as for `match`.
   */
  private walk(sequence: readonly number[], filter: MatchFilter, visit: (p: number, matched: number) => boolean, maxMatch = MAX_REFERENCE_MATCH): void {
    const N = sequence.length;
    if (N < GRAM || this.live === 0) return;
    const spans = this.filterSpans(filter);
    if (spans === undefined || (spans.only !== undefined && spans.only.end - spans.only.start <= GRAM)) return;
    const a = this.arena;
    let seen = 0;
    let skipped = 0;
    for (let p = this.head[hash(sequence, N - 1) & this.mask]!; p >= 0 && seen < MAX_CHAIN; p = this.next[p]!) {
      if (filteredOut(p, spans)) {
        if (++skipped > MAX_SKIPPED) break;
        continue;
      }
      seen++;
      if (a[p + 1] === this.sep) continue; // nothing follows it in its document
      let n = 0;
      while (n < maxMatch && n < N && p - n >= 0 && a[p - n] === sequence[N - 1 - n]) n++;
      if (n >= GRAM && visit(p, n)) return;
    }
  }

  /** The spans of the filter's documents; undefined when `only` names no document here. */
  private filterSpans(filter: MatchFilter): FilterSpans | undefined {
    const only = filter.only === undefined ? undefined : this.spans.get(filter.only);
    if (filter.only !== undefined && only === undefined) return undefined;
    return { only, skip: filter.exclude === undefined ? undefined : this.spans.get(filter.exclude) };
  }

  /** Chains every window ending in [start + GRAM - 1, end). */
  private link(start: number, end: number): void {
    const a = this.arena;
    for (let p = start + GRAM - 1; p < end; p++) {
      const h = hash(a, p) & this.mask;
      this.next[p] = this.head[h]!;
      this.head[h] = p;
    }
  }

  /** The document whose tokens hold arena `position` (a matched one: live). Binary search over `starts`. */
  private documentAt(position: number): string {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= position) lo = mid;
      else hi = mid - 1;
    }
    return this.startIds[lo]!;
  }

  /**
   * Room for `extra` more arena slots: compact first once a quarter of the arena is dead, then
   * grow by doubling, but never past what maxTokens live tokens need (plus the new document).
   */
  private reserve(extra: number): void {
    if (this.used + extra <= this.arena.length) return;
    const dead = this.used - this.live - this.spans.size;
    if (dead > 0 && dead >= this.used / 4) this.compact(extra);
    if (this.used + extra <= this.arena.length) return;
    this.resize(this.capacity(this.used + extra, 2 * this.arena.length, extra));
  }

  /**
   * Arena slots for `needed`: grown toward `doubled`, but never past what maxTokens live tokens,
   * their separators and a new document of `extra` slots need.
   */
  private capacity(needed: number, doubled: number, extra: number): number {
    return Math.max(needed, Math.min(doubled, this.maxTokens + this.spans.size + 1 + extra));
  }

  private newArena(capacity: number): Uint16Array | Uint32Array {
    return this.sep === SEP16 ? new Uint16Array(capacity) : new Uint32Array(capacity);
  }

  private resize(capacity: number): void {
    const arena = this.newArena(capacity);
    arena.set(this.arena.subarray(0, this.used));
    const next = new Int32Array(capacity);
    next.set(this.next.subarray(0, this.used));
    this.arena = arena;
    this.next = next;
  }

  /** Rewrites the arena with the live documents only, in the order they were added, and re-links it; room for `extra` more. */
  private compact(extra: number): void {
    const order = [...this.spans.entries()].filter(([, span]) => span.end > span.start).sort((x, y) => x[1].start - y[1].start);
    const old = this.arena;
    const needed = this.live + order.length + extra;
    const capacity = Math.max(1024, this.capacity(needed, 2 * needed, extra));
    const arena = this.newArena(capacity);
    this.starts = [];
    this.startIds = [];
    let at = 0;
    for (const [id, span] of order) {
      arena.set(old.subarray(span.start, span.end), at);
      const moved = { start: at, end: at + span.end - span.start };
      this.starts.push(at);
      this.startIds.push(id);
      at = moved.end;
      arena[at++] = this.sep;
      this.spans.set(id, moved);
    }
    for (const [id, span] of this.spans) if (span.end === span.start) this.spans.set(id, { start: at, end: at });
    this.arena = arena;
    this.next = new Int32Array(capacity);
    this.used = at;
    this.head.fill(-1);
    for (const span of this.spans.values()) this.link(span.start, span.end);
  }

  /** A token id past 16 bits: move to 32-bit storage (and separator). */
  private widen(): void {
    const arena = new Uint32Array(this.arena.length);
    for (let i = 0; i < this.used; i++) arena[i] = this.arena[i] === SEP16 ? SEP32 : this.arena[i]!;
    this.arena = arena;
    this.sep = SEP32;
  }

  /**
   * Snippet retrieval (snippets.ts): for each GRAM-token window of `query` (ending at index i,
   * i >= GRAM - 1), the latest `perWindow` arena positions p where the same GRAM tokens end
   * (verified, not only hashed alike), outside `filter.exclude` (inside `filter.only`), each
   * reported as `visit(i, p)`. Cost: at most query.length * (perWindow + MAX_SKIPPED /
   * query.length) chain steps; a common window's long chain is cut at perWindow.
   */
  occurrences(query: readonly number[], perWindow: number, filter: MatchFilter, visit: (i: number, position: number) => void): void {
    if (query.length < GRAM || perWindow <= 0 || this.live === 0) return;
    const spans = this.filterSpans(filter);
    if (spans === undefined) return;
    const a = this.arena;
    const skipBudget = Math.max(perWindow, Math.floor(MAX_SKIPPED / query.length));
    for (let i = GRAM - 1; i < query.length; i++) {
      let found = 0;
      let skipped = 0;
      for (let p = this.head[hash(query, i) & this.mask]!; p >= 0 && found < perWindow; p = this.next[p]!) {
        if (filteredOut(p, spans)) {
          if (++skipped > skipBudget) break;
          continue;
        }
        let same = true;
        for (let k = 0; k < GRAM && same; k++) same = a[p - k] === query[i - k];
        if (!same) continue;
        found++;
        visit(i, p);
      }
    }
  }

  /**
   * The tokens of arena `position`'s document from `position + from` to `position + to`
   * (exclusive; `from` may be negative), clipped to that document: its id and the first token's
   * index in the document. Undefined for a position that holds no live token, or an empty window.
   */
  around(position: number, from: number, to: number): { tokens: number[]; id: string; offset: number } | undefined {
    if (!Number.isInteger(position) || position < 0 || position >= this.used || this.arena[position] === this.sep) return undefined;
    const id = this.documentAt(position);
    const span = this.spans.get(id);
    if (span === undefined || position < span.start || position >= span.end) return undefined;
    const start = Math.max(span.start, position + from);
    const end = Math.min(span.end, position + to);
    if (end <= start) return undefined;
    return { tokens: Array.from(this.arena.subarray(start, end)), id, offset: start - span.start };
  }
}

/** A MatchFilter as arena spans: draft only inside `only`, never inside `skip`. */
interface FilterSpans {
  only: Span | undefined;
  skip: Span | undefined;
}

/** Whether arena position `p` lies outside what the filter allows. */
function filteredOut(p: number, { only, skip }: FilterSpans): boolean {
  return (only !== undefined && (p < only.start || p >= only.end)) || (skip !== undefined && p >= skip.start && p < skip.end);
}

/** Hash of the GRAM tokens ending at index `end` of `tokens`. */
function hash(tokens: ArrayLike<number>, end: number): number {
  let h = 0x811c9dc5;
  for (let i = end - GRAM + 1; i <= end; i++) h = Math.imul(h ^ tokens[i]!, 0x01000193);
  return (h ^ (h >>> 15)) >>> 0;
}

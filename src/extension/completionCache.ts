/**
 * Completions already computed, reused while the person types through them.
 *
 * A completion was computed for a cursor with some text before it (the prefix) and after it
 * (the suffix). When the cursor has since moved right by `typed` characters that are exactly
 * the start of the completion, the rest of that completion is still the answer:
 *
 *   computed at:   prefix ........|          suffix     completion = "count += 1"
 *   now:           prefix ........count +|   suffix     typed = "count +", rest = "= 1"
 *
 * (llama.vscode's cache walk-back, Continue's generator reuse.) `typedSince` is the test for
 * both this cache and the request still in flight. Keys hold only the text near the cursor
 * (`PREFIX_TAIL` / `SUFFIX_HEAD` characters), which is what the prompt is mostly made of.
 */

/** Where a completion was asked for. */
export interface CompletionSite {
  readonly uri: string;
  /** Document offset of the cursor. */
  readonly offset: number;
  /** The last characters before the cursor (up to PREFIX_TAIL). */
  readonly prefixTail: string;
  /** The first characters after the cursor (up to SUFFIX_HEAD). */
  readonly suffixHead: string;
  /** Everything else the answer depends on (decoding settings, model); compared as a string. */
  readonly settingsKey: string;
}

export const PREFIX_TAIL = 1024;
export const SUFFIX_HEAD = 256;
/** Type-through reuse ends after this many characters; a new request is cheap by then. */
export const MAX_TYPED = 256;

/**
 * The characters typed between `then` and `now` if `now` is `then` plus typing at the cursor
 * (same document, same suffix, same settings, prefix grown at its end); otherwise undefined.
 */
export function typedSince(then: CompletionSite, now: CompletionSite): string | undefined {
  if (then.uri !== now.uri || then.settingsKey !== now.settingsKey || then.suffixHead !== now.suffixHead) return undefined;
  const n = now.offset - then.offset;
  if (n < 0 || n > MAX_TYPED || n > now.prefixTail.length) return undefined;
  const typed = now.prefixTail.slice(now.prefixTail.length - n);
  const before = now.prefixTail.slice(0, now.prefixTail.length - n);
  // Both are tails of the same text if nothing else changed: compare where they overlap.
  const overlap = Math.min(before.length, then.prefixTail.length);
  if (before.slice(before.length - overlap) !== then.prefixTail.slice(then.prefixTail.length - overlap)) return undefined;
  return typed;
}

/**
 * What is left of each completion after `typed`: the ones that start with it, shortened;
 * completions the typing diverged from, or fully typed, are dropped.
 */
export function remainingAfter<T extends { readonly text: string }>(items: readonly T[], typed: string): T[] {
  return items.filter((i) => i.text.length > typed.length && i.text.startsWith(typed)).map((i) => ({ ...i, text: i.text.slice(typed.length) }));
}

interface Entry<T> {
  readonly site: CompletionSite;
  readonly items: readonly T[];
}

/** Least-recently-used store of completions by site. */
export class CompletionCache<T extends { readonly text: string }> {
  private readonly entries: Entry<T>[] = [];

  constructor(private readonly capacity = 100) {}

  get size(): number {
    return this.entries.length;
  }

  put(site: CompletionSite, items: readonly T[]): void {
    if (items.length === 0) return;
    const same = this.entries.findIndex((e) => sameSite(e.site, site));
    if (same >= 0) this.entries.splice(same, 1);
    this.entries.push({ site, items });
    if (this.entries.length > this.capacity) this.entries.shift();
  }

  /** The newest entry that `site` types through, with its completions shortened; undefined if none. */
  get(site: CompletionSite): { items: T[]; typed: string } | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const entry = this.entries[i]!;
      const typed = typedSince(entry.site, site);
      if (typed === undefined) continue;
      const items = remainingAfter(entry.items, typed);
      if (items.length === 0) continue;
      // Most recently used goes last.
      this.entries.splice(i, 1);
      this.entries.push(entry);
      return { items, typed };
    }
    return undefined;
  }

  /** Forget everything about one document (closed, or edited away from the cached sites). */
  deleteDocument(uri: string): void {
    for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i]!.site.uri === uri) this.entries.splice(i, 1);
  }

  clear(): void {
    this.entries.length = 0;
  }
}

function sameSite(a: CompletionSite, b: CompletionSite): boolean {
  return a.uri === b.uri && a.offset === b.offset && a.prefixTail === b.prefixTail && a.suffixHead === b.suffixHead && a.settingsKey === b.settingsKey;
}

/**
 * Retrieved snippets (issue 29): the window of another open file or of a workspace file that
 * best matches the code before the cursor, for the prompt to carry ahead of the prefix
 * (prompt.ts `Prompt.context`). RepoCoder's retrieval, made cheap enough for every keystroke:
 *
 *   query      the last SNIPPET_QUERY tokens before the cursor (the caller picks them)
 *   candidates every earlier occurrence of the query's 3-token windows in the references'
 *              token indexes (their hash chains, at most PER_WINDOW per window, latest first),
 *              each voting for where the query's end would fall in that document; the
 *              CANDIDATES most voted places are scored
 *   score      Jaccard similarity of the token-id sets of the query and of the document's
 *              tokens aligned with it (RepoCoder's sparse retriever)
 *   snippet    the best place scoring at least MIN_JACCARD: SNIPPET_BEFORE tokens up to it and
 *              SNIPPET_AFTER after it (what followed the matching code there, the part that may
 *              say what comes next here)
 *
 * Only the 'open' and 'workspace' references are searched, with their filters (never the
 * document being completed: its `exclude`); a reference with `only` (the 'document' source) is
 * the current document and is skipped. The indexes hold tokens only; the caller decodes them.
 * Nothing here reads files or leaves the process.
 */
import type { DraftReference, ReferenceSource } from './lookup';
import { GRAM } from './tokenIndex';

/** Tokens of the text before the cursor the retrieval matches. */
export const SNIPPET_QUERY = 48;
/** Tokens of the snippet up to the matched place (the code alike). */
export const SNIPPET_BEFORE = 24;
/** Tokens of the snippet after it (what followed there). */
export const SNIPPET_AFTER = 64;
/** Least Jaccard similarity for a snippet: below it the match is mostly common tokens. */
export const MIN_JACCARD = 0.3;
/** Occurrences per query window followed, latest first. */
const PER_WINDOW = 8;
/** Voted places scored. */
const CANDIDATES = 8;
/** Places within this many tokens of each other count as one. */
const BUCKET_BITS = 4;

export interface Snippet {
  tokens: number[];
  /** The document it came from (an index id: a URI for 'open', a path for 'workspace'). */
  id: string;
  source: ReferenceSource;
  /** Index of its first token in that document (0: the document's start). */
  offset: number;
  /** Whether it runs to the document's end. */
  toEnd: boolean;
  /** Jaccard similarity of the query and the aligned tokens. */
  score: number;
}

export interface SnippetOptions {
  before?: number;
  after?: number;
  minScore?: number;
}

interface Candidate {
  ref: DraftReference;
  /** An occurrence's arena position and how far the query's end lies past it. */
  position: number;
  shift: number;
  votes: number;
}

/** Whether retrieval searches `ref`: another document's index, never the document being completed. */
export function snippetSource(ref: DraftReference): boolean {
  return ref.source !== 'document' && ref.only === undefined;
}

/** The best-matching window for `query` in the references' other documents, or undefined. */
export function retrieveSnippet(query: readonly number[], references: readonly DraftReference[], options: SnippetOptions = {}): Snippet | undefined {
  const q = query.slice(-SNIPPET_QUERY);
  if (q.length < GRAM * 2) return undefined;
  const before = options.before ?? SNIPPET_BEFORE;
  const after = options.after ?? SNIPPET_AFTER;
  const minScore = options.minScore ?? MIN_JACCARD;
  const places = new Map<string, Candidate>();
  references.forEach((ref, r) => {
    if (!snippetSource(ref)) return;
    ref.index.occurrences(q, PER_WINDOW, { ...(ref.exclude !== undefined ? { exclude: ref.exclude } : {}) }, (i, position) => {
      const shift = q.length - 1 - i;
      const key = `${r}:${(position + shift) >> BUCKET_BITS}`;
      const seen = places.get(key);
      if (seen === undefined) places.set(key, { ref, position, shift, votes: 1 });
      else seen.votes++;
    });
  });
  const ranked = [...places.values()].sort((a, b) => b.votes - a.votes).slice(0, CANDIDATES);
  const wanted = new Set(q);
  let best: { c: Candidate; score: number } | undefined;
  for (const c of ranked) {
    const aligned = c.ref.index.around(c.position, c.shift - q.length + 1, c.shift + 1);
    if (aligned === undefined) continue;
    const score = jaccard(wanted, aligned.tokens);
    if (best === undefined || score > best.score) best = { c, score };
  }
  if (best === undefined || best.score < minScore) return undefined;
  const { c } = best;
  const window = c.ref.index.around(c.position, c.shift - before + 1, c.shift + 1 + after);
  if (window === undefined) return undefined;
  const end = c.ref.index.around(c.position, c.shift + 1 + after, c.shift + 2 + after);
  return { tokens: window.tokens, id: window.id, source: c.ref.source, offset: window.offset, toEnd: end === undefined, score: best.score };
}

/** |A ∩ B| / |A ∪ B| of `a` and the set of `tokens`. */
export function jaccard(a: ReadonlySet<number>, tokens: readonly number[]): number {
  const b = new Set(tokens);
  let common = 0;
  for (const t of b) if (a.has(t)) common++;
  const union = a.size + b.size - common;
  return union === 0 ? 0 : common / union;
}

/**
 * How a snippet is written ahead of the prefix (the model was never trained on any of them):
 *   'lines'    its whole lines, as if they came earlier in the same file
 *   'file_sep' its whole lines, then the tokenizer's <|file_sep|> (the prompt adds the token)
 *   'comment'  Copilot's neighbouring-tab layout: "// Compare this snippet from a/b.ts:" and
 *              its lines, each commented out
 */
export type SnippetLayout = 'lines' | 'file_sep' | 'comment';

/** Line comment start by VS Code languageId ('//' otherwise). */
const LINE_COMMENT: Record<string, string> = {
  python: '#',
  ruby: '#',
  shellscript: '#',
  perl: '#',
  r: '#',
  yaml: '#',
  toml: '#',
  makefile: '#',
  dockerfile: '#',
  powershell: '#',
  elixir: '#',
  julia: '#',
  lua: '--',
  sql: '--',
  haskell: '--',
};

/**
 * The snippet's text as the prompt carries it, ending with a line break; undefined when no whole
 * line is left. `text` is the decoded snippet: a partial first line is dropped unless it starts
 * its document (`fromStart`), a partial last line unless it ends it (`toEnd`). `name`: the
 * file's name as the comment layout shows it.
 */
export function formatSnippet(text: string, layout: SnippetLayout, o: { fromStart: boolean; toEnd: boolean; name: string; languageId: string }): string | undefined {
  let body = text.replace(/\r\n?/g, '\n');
  if (!o.fromStart) {
    const nl = body.indexOf('\n');
    body = nl < 0 ? '' : body.slice(nl + 1);
  }
  if (!o.toEnd) body = body.slice(0, body.lastIndexOf('\n') + 1);
  else if (body !== '' && !body.endsWith('\n')) body += '\n';
  if (body.trim() === '') return undefined;
  if (layout !== 'comment') return body;
  const c = LINE_COMMENT[o.languageId] ?? '//';
  const lines = body.slice(0, -1).split('\n');
  return `${c} Compare this snippet from ${o.name}:\n${lines.map((l) => (l === '' ? c : `${c} ${l}`)).join('\n')}\n`;
}

/** A short name for a snippet's document: its last two path segments (a URI's or a path's). */
export function snippetName(id: string): string {
  const path = decodeURIComponent(id.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, ''));
  return path.split(/[\\/]/).filter((s) => s !== '').slice(-2).join('/');
}

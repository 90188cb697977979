/**
 * Post-processing of a finished completion, in this order:
 *
 *   1. strip trailing whitespace-only lines;
 *   2. never repeat the suffix: drop trailing lines that duplicate the lines after the
 *      cursor, and a tail equal to the start of the suffix (auto-closed `)`, `}`, quotes)
 *      when what is left is balanced; on an empty line, a first line that is the next line
 *      drops the whole completion;
 *   3. cut back to the last complete point (brackets opened in the completion closed, no
 *      string or block comment left open), preferring a line end - unless the document
 *      already holds the rest: a completion that opens what the suffix closes (`function on|`
 *      + `Value(value) {` above an orphaned body, `/**` above orphaned ` * @param` lines) is
 *      kept whole when it leaves the document with fewer parse errors and none of its own;
 *   4. parse prefix + completion + suffix once (incrementally, from a copy of the
 *      document's tree) and drop the completion if it has more parse errors than the
 *      document had, or a parse error that starts inside it; a multi-line completion
 *      first gets two retries: without its last line, then its first line alone.
 *
 * With `partial` (a completion cut where the model stopped being sure), steps 1 and 2 only.
 *
 * Input and output are model text (LF line breaks); use `restoreEol` before inserting.
 */
import type { DocumentView } from './cursorContext';
import type { SyntaxNode } from './grammars';
import { editTree, parse } from './grammars';
import type { LanguageRules } from './languages';
import { CLOSER_OF, languageRules } from './languages';
import type { LexState } from './lexer';
import { LexicalScanner } from './lexer';
import { detectEol, restoreEol } from './prompt';
import type { ScopeInfo } from './scope';
import { advancePosition, indentWidth, isBlank, isWordChar, leadingWhitespace, lineStartAt, positionAt, toLf } from './text';

export interface TrimOptions {
  /** Budget for the one incremental parse of the completed document. */
  readonly parseBudgetMs?: number;
  /**
   * The text is the part of a longer completion the model was sure of (src/completion
   * confidence.ts), meant to be accepted and typed on from: steps 1 and 2 only. It may end
   * inside a construct, so it is neither cut back to a complete point nor parse-checked.
   */
  readonly partial?: boolean;
}

/** How much of the suffix to compare against. */
const SUFFIX_LOOK = 4096;
/** Longest tail compared character by character with the suffix start. */
const MAX_OVERLAP = 512;
const DEFAULT_TRIM_PARSE_BUDGET_MS = 100;

export function trimCompletion(doc: DocumentView, offset: number, text: string, info: ScopeInfo, options: TrimOptions = {}): string {
  if (offset !== info.cursor.offset) {
    throw new RangeError(`trimCompletion: offset ${offset} differs from the analyzed offset ${info.cursor.offset}`);
  }
  const rules = languageRules(doc.languageId);
  const look = doc.text.slice(offset, offset + SUFFIX_LOOK);
  const suffix = toLf(look);
  const suffixComplete = offset + SUFFIX_LOOK >= doc.text.length;
  const nl = suffix.indexOf('\n');
  const restOfLine = nl < 0 ? suffix : suffix.slice(0, nl);

  let t = stripTrailingBlank(toLf(text), isBlank(restOfLine));
  t = dropDuplicatedLines(t, suffix, suffixComplete, restOfLine, info, rules);
  // After Enter, a first line that is the next line of the document only restates it.
  if (isBlank(restOfLine) && isBlank(info.cursor.linePrefix) && restatesNextLine(t, suffix)) return '';
  t = dropSuffixOverlap(t, suffix, info, rules);
  if (options.partial === true) return stripTrailingBlank(t, isBlank(restOfLine));
  const whole = stripTrailingBlank(t, isBlank(restOfLine));
  t = cutToCompletePoint(t, info, rules);
  t = stripTrailingBlank(t, isBlank(restOfLine));
  t = closerOnItsOwnLine(t, doc.text, restOfLine, info);

  const current = info.docVersion === undefined || doc.version === info.docVersion;
  const parses = doc.tree !== undefined && doc.grammar !== undefined && current;
  const budgetMs = options.parseBudgetMs ?? DEFAULT_TRIM_PARSE_BUDGET_MS;
  if (parses && whole !== t && !isBlank(whole)) {
    const verdict = parseWith(doc, offset, whole, budgetMs);
    if (verdict !== undefined && verdict.after.count < verdict.before.count && !verdict.after.startsInside) return whole;
  }
  if (t === '' || isBlank(t)) return t;
  if (!parses) return t;
  if (!introducesErrors(doc, offset, t, budgetMs)) return t;
  // A multi-line completion gets two retries: without its last line, then its first line alone.
  for (const end of new Set([t.lastIndexOf('\n'), t.indexOf('\n')])) {
    if (end <= 0) continue;
    const shorter = cutToCompletePoint(t.slice(0, end), info, rules);
    if (!isBlank(shorter) && !introducesErrors(doc, offset, shorter, budgetMs)) return shorter;
  }
  return '';
}

/** Trailing whitespace-only lines go; trailing spaces too when nothing follows on the line. */
function stripTrailingBlank(t: string, lineEndsAfter: boolean): string {
  const stripped = t.replace(/(\n[ \t]*)+$/, '');
  return lineEndsAfter ? stripped.replace(/[ \t]+$/, '') : stripped;
}

/**
 * neutral[p]: after t[0, p) nothing the completion opened is still open, i.e. the text
 * could end there. Positions inside a multi-character delimiter are not neutral.
 */
function neutralPoints(t: string, info: ScopeInfo, rules: LanguageRules): Uint8Array {
  const start: LexState = { ...info.cursor.lex, stack: [] };
  const scanner = new LexicalScanner(rules.lexical, start, undefined);
  const neutral = new Uint8Array(t.length + 1);
  let modeChanged = false;
  const isNeutral = (): boolean => {
    const s = scanner.state;
    if (s.stack.length > 0) return false;
    return s.mode === 'code' || s.mode === 'lineComment' || (!modeChanged && s.mode === start.mode);
  };
  let p = 0;
  let now = isNeutral();
  for (let ev = scanner.next(t, true); ev; ev = scanner.next(t, true)) {
    neutral.fill(now ? 1 : 0, p, ev.at + 1);
    if (ev.kind !== 'newline' && ev.kind !== 'lineStart' && ev.kind !== 'open' && ev.kind !== 'close' && ev.kind !== 'underflow') {
      modeChanged = true;
    }
    now = isNeutral();
    // Inside the event's token (e.g. between the two characters of `*/`) nothing is complete.
    p = Math.max(ev.at + 1, scanner.pos);
  }
  neutral.fill(now ? 1 : 0, p, t.length + 1);
  return neutral;
}

/**
 * Whole lines at the end of a multi-line completion that repeat the lines after the
 * cursor (same text, same indentation) are dropped. Only when the cursor's line has
 * nothing after the cursor: otherwise the completion's last line joins that text.
 */
function dropDuplicatedLines(
  t: string,
  suffix: string,
  suffixComplete: boolean,
  restOfLine: string,
  info: ScopeInfo,
  rules: LanguageRules,
): string {
  if (!isBlank(restOfLine) || !t.includes('\n')) return t;
  const following = suffix.split('\n').slice(1);
  // The last line of a clipped suffix may be partial.
  if (!suffixComplete) following.pop();
  const next = following.filter((l) => !isBlank(l));
  const lines = t.split('\n');
  const starts: number[] = [];
  for (let i = 0, pos = 0; i < lines.length; pos += lines[i]!.length + 1, i++) starts.push(pos);
  const candidates = lines.map((_, i) => i).filter((i) => i > 0 && !isBlank(lines[i]!));
  const neutral = neutralPoints(t, info, rules);
  for (let k = Math.min(candidates.length, next.length); k >= 1; k--) {
    const tail = candidates.slice(candidates.length - k);
    if (!tail.every((line, j) => sameLine(lines[line]!, next[j]!))) continue;
    const cut = starts[tail[0]!]! - 1;
    if (neutral[cut] === 1) return t.slice(0, cut);
  }
  return t;
}

/** After Enter: the completion's first line with code is the suffix's next line with code (restatesFollowingLine). */
function restatesNextLine(t: string, suffix: string): boolean {
  return restatesFollowingLine(t, suffix.split('\n').slice(1).join('\n'));
}

/**
 * The completion's first non-blank line is the first non-blank line of `following` (the lines
 * after the cursor's line), trimmed: it only restates the code that is already there. Used here
 * after Enter and by src/completion's fitCompletion wherever the cursor ends its line.
 */
export function restatesFollowingLine(text: string, following: string): boolean {
  const first = text.split('\n').find((l) => !isBlank(l))?.trim();
  const next = following.split('\n').find((l) => !isBlank(l))?.trim();
  return first !== undefined && first.length > 1 && first === next;
}

function sameLine(a: string, b: string): boolean {
  return a.trim() === b.trim() && indentWidth(leadingWhitespace(a)) === indentWidth(leadingWhitespace(b));
}

/**
 * A tail of the completion equal to the start of the suffix is dropped when the kept
 * part is balanced: `foo(|)` + `a)` gives `a`, but `g(x)` stays (its `)` is its own).
 * The overlap must start at a token boundary, so `|abc` + `xa` is left alone.
 */
function dropSuffixOverlap(t: string, suffix: string, info: ScopeInfo, rules: LanguageRules): string {
  const max = Math.min(t.length, suffix.length, MAX_OVERLAP);
  let neutral: Uint8Array | undefined;
  for (let k = max; k >= 1; k--) {
    const overlap = suffix.slice(0, k);
    if (isBlank(overlap) || !t.endsWith(overlap)) continue;
    const cut = t.length - k;
    if (cut > 0 && isWordChar(t[cut - 1]) && isWordChar(overlap[0])) continue;
    neutral ??= neutralPoints(t, info, rules);
    if (neutral[cut] === 1) return t.slice(0, cut);
  }
  return t;
}

/**
 * If the completion leaves something open (a bracket it opened, a string, a block
 * comment), cut back to the last balanced line end, else to the last balanced token
 * boundary, else to nothing.
 */
function cutToCompletePoint(t: string, info: ScopeInfo, rules: LanguageRules): string {
  const neutral = neutralPoints(t, info, rules);
  if (neutral[t.length] === 1) return t;
  for (let p = t.length - 1; p > 0; p--) {
    if (t[p] === '\n' && neutral[p] === 1 && !isBlank(t.slice(0, p))) return t.slice(0, p);
  }
  for (let p = t.length - 1; p > 0; p--) {
    if (neutral[p] === 1 && !(isWordChar(t[p - 1]) && isWordChar(t[p])) && !isBlank(t.slice(0, p))) {
      return t.slice(0, p).replace(/[ \t]+$/, '');
    }
  }
  return '';
}

/**
 * `{|}` on one line, completed with several lines: the existing `}` goes on a line of
 * its own at the opener's indentation, as a person would type it.
 */
function closerOnItsOwnLine(t: string, text: string, restOfLine: string, info: ScopeInfo): string {
  const opener = info.cursor.opener;
  if (opener === undefined || !opener.onCursorLine || !t.includes('\n')) return t;
  if (!restOfLine.trimStart().startsWith(CLOSER_OF[opener.ch]!)) return t;
  if (/\n[ \t]*$/.test(t)) return t;
  return `${t}\n${leadingWhitespace(text.slice(lineStartAt(text, opener.at), opener.at))}`;
}

/** Parses the document with `insertion` at `offset` and compares error counts. */
function introducesErrors(doc: DocumentView, offset: number, insertion: string, budgetMs: number): boolean {
  const verdict = parseWith(doc, offset, insertion, budgetMs);
  // Out of time: no verdict, keep what the lexical checks allowed.
  if (verdict === undefined) return false;
  // An error that starts inside the completion is its own, even when the count is
  // unchanged (it may have replaced the hole the cursor was in).
  return verdict.after.count > verdict.before.count || verdict.after.startsInside;
}

type ErrorCount = ReturnType<typeof errors>;

/** Parse errors of the document before and after `insertion` at `offset`; undefined when out of time. */
function parseWith(doc: DocumentView, offset: number, insertion: string, budgetMs: number): { before: ErrorCount; after: ErrorCount } | undefined {
  const tree = doc.tree!;
  const grammar = doc.grammar!;
  const inserted = restoreEol(insertion, detectEol(doc.text));
  const start = positionAt(doc.text, offset);
  const copy = tree.copy();
  editTree(copy, {
    startIndex: offset,
    oldEndIndex: offset,
    newEndIndex: offset + inserted.length,
    startPosition: start,
    oldEndPosition: start,
    newEndPosition: advancePosition(start, inserted),
  });
  const next = parse(grammar, doc.text.slice(0, offset) + inserted + doc.text.slice(offset), { oldTree: copy, budgetMs });
  copy.delete();
  if (next === undefined) return undefined;
  const before = errors(tree.rootNode, offset, offset);
  const after = errors(next.rootNode, offset, offset + inserted.length);
  next.delete();
  return { before, after };
}

/**
 * ERROR and MISSING nodes (visiting only subtrees that contain errors), and whether one
 * starts inside [from, to): ERROR nodes from `from` on, zero-width MISSING ones strictly.
 */
function errors(root: SyntaxNode, from: number, to: number): { count: number; startsInside: boolean } {
  let count = 0;
  let startsInside = false;
  const visit = (node: SyntaxNode): void => {
    if (node.isError || node.isMissing) {
      count++;
      const start = node.startIndex;
      if (node.isMissing ? start > from && start < to : start >= from && start < to) startsInside = true;
    }
    if (!node.hasError) return;
    for (const child of node.children) {
      if (child.hasError || child.isMissing) visit(child);
    }
  };
  visit(root);
  return { count, startsInside };
}

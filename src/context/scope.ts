/**
 * `analyze`: what kind of completion fits at the cursor, how many tokens it may take,
 * and the PTP block size and budget for it.
 *
 *   expression  inside ( … ) or [ … ], or mid-line inside { … }: finish the expression
 *   line        mid-line or at the end of a line, or inside a comment or string
 *   statement   an empty line in a non-empty body: one or a few statements
 *   block       an empty body just opened by `{`, a `:` header, or `do`/`then`/`def`…
 */
import type { BlockChoice, BlockSizeOptions, LatencyPoint } from './blockSize';
import { chooseBlockSize } from './blockSize';
import type { CursorContext, DocumentView } from './cursorContext';
import { cursorContext } from './cursorContext';
import type { LanguageRules } from './languages';
import { languageRules } from './languages';
import { LexicalScanner } from './lexer';
import type { Scope } from './scopes';
import { indentWidth, isBlank, leadingWhitespace, lineEndAt, lineStartAt } from './text';

/**
 * Token caps per scope: the engine stops there whatever the stop rules say. An argument
 * list rarely needs more than a couple of dozen tokens; a new function body can run to
 * ~40 lines, which is as much ghost text as a person reads before accepting.
 */
export const DEFAULT_MAX_TOKENS: Readonly<Record<Scope, number>> = Object.freeze({
  expression: 24,
  line: 48,
  statement: 96,
  block: 192,
});

export interface AnalyzeOptions {
  /** Per-scope token caps (e.g. from `ptp.completion.maxTokens`); missing scopes use the defaults. */
  readonly maxTokens?: Partial<Record<Scope, number>>;
  /** Measured latency against rows per call. */
  readonly latency?: readonly LatencyPoint[];
  /** Measured acceptance histogram (from model.json). */
  readonly acceptance?: readonly number[];
  readonly blockSize?: BlockSizeOptions;
}

export interface ScopeInfo {
  readonly scope: Scope;
  /** Token cap for this completion. */
  readonly maxTokens: number;
  /** PTP block size M. */
  readonly blockSize: number;
  /** PTP budget B (aux rows per call). */
  readonly budget: number;
  /** Leading whitespace of the cursor's line. */
  readonly indent: string;
  readonly languageId: string;
  /** A few words on why this scope was chosen, for traces. */
  readonly reason: string;
  /**
   * Block scope: indentation (columns) of the line that opened the body; a generated
   * line indented this much or less ends the body. Undefined otherwise.
   */
  readonly headerIndent: number | undefined;
  /**
   * The construct the cursor is in already ends after the cursor (its closing bracket,
   * its `end`/`fi`, or its string quote), so the completion must stop before that, not
   * repeat it.
   */
  readonly closedAfter: boolean;
  readonly cursor: CursorContext;
  /** The document version analyzed, if the document had one. */
  readonly docVersion: number | undefined;
  /** The whole block-size decision, for traces. */
  readonly blockChoice: BlockChoice;
}

interface Classified {
  readonly scope: Scope;
  readonly reason: string;
  readonly headerIndent?: number;
  readonly closedAfter: boolean;
}

export function analyze(doc: DocumentView, offset: number, options: AnalyzeOptions = {}): ScopeInfo {
  const cursor = cursorContext(doc, offset);
  const rules = languageRules(doc.languageId);
  const c = classify(doc.text, cursor, rules);
  const maxTokens = options.maxTokens?.[c.scope] ?? DEFAULT_MAX_TOKENS[c.scope];
  if (!(Number.isInteger(maxTokens) && maxTokens >= 1)) {
    throw new RangeError(`maxTokens.${c.scope} must be an integer >= 1, got ${maxTokens}`);
  }
  const blockChoice = chooseBlockSize(c.scope, options.latency, options.acceptance, options.blockSize);
  return {
    scope: c.scope,
    maxTokens,
    // Drafting past the cap is wasted work.
    blockSize: Math.min(blockChoice.blockSize, maxTokens),
    budget: blockChoice.budget,
    indent: cursor.indent,
    languageId: doc.languageId,
    reason: c.reason,
    headerIndent: c.headerIndent,
    closedAfter: c.closedAfter,
    cursor,
    docVersion: doc.version,
    blockChoice,
  };
}

function classify(text: string, cursor: CursorContext, rules: LanguageRules): Classified {
  const { lex, opener } = cursor;
  if (lex.mode === 'lineComment' || lex.mode === 'blockComment') {
    return { scope: 'line', reason: 'inside a comment', closedAfter: cursor.delimiterInSuffix };
  }
  if (lex.mode === 'string') {
    return { scope: 'line', reason: 'inside a string', closedAfter: cursor.delimiterInSuffix };
  }
  const body = emptyBody(text, cursor, rules);
  if (body !== undefined) return body;
  if (opener !== undefined) {
    if (opener.ch === '(' || opener.ch === '[') {
      return { scope: 'expression', reason: `inside ${opener.ch} … ${opener.ch === '(' ? ')' : ']'}`, closedAfter: cursor.closerInSuffix };
    }
    // Python's braces are dicts and sets; elsewhere a `{` with code before the cursor on
    // the same line is an object literal or a one-line body being finished.
    if (rules.blocks === 'indentation' || (opener.onCursorLine && opener.contentBefore)) {
      return { scope: 'expression', reason: 'inside { … } mid-line', closedAfter: cursor.closerInSuffix };
    }
  }
  if (isBlank(cursor.linePrefix) && (isBlank(cursor.lineSuffix) || startsWithCloser(cursor.lineSuffix, rules))) {
    return { scope: 'statement', reason: 'empty line in a body', closedAfter: opener !== undefined && cursor.closerInSuffix };
  }
  return { scope: 'line', reason: isBlank(cursor.lineSuffix) ? 'end of a line' : 'mid-line', closedAfter: false };
}

/** What may sit between a `{` and the cursor in an empty body: nothing, or Ruby's `|params|`. */
function opensBraceBody(between: string, rules: LanguageRules): boolean {
  return isBlank(between) || (rules.blocks === 'keywords' && /^\s*\|[^|]*\|\s*$/.test(between));
}

function startsWithCloser(lineSuffix: string, rules: LanguageRules): boolean {
  const rest = lineSuffix.trimStart();
  return /^[)\]}]/.test(rest) || (rules.keywordCloser?.test(rest) ?? false);
}

/**
 * An empty body that was just opened: the cursor follows the opener with only
 * whitespace between, and nothing but the body's end (or nothing at all) follows.
 */
function emptyBody(text: string, cursor: CursorContext, rules: LanguageRules): Classified | undefined {
  const { offset, opener } = cursor;
  if (!isBlank(cursor.lineSuffix) && !startsWithCloser(cursor.lineSuffix, rules)) return undefined;

  if (opener?.ch === '{' && rules.blocks !== 'indentation' && opensBraceBody(text.slice(opener.at + 1, offset), rules)) {
    // Either the matching `}` comes next, or the `{` is not closed at all (typed without auto-close).
    if (!cursor.closerInSuffix || text[nextNonBlank(text, offset)] === '}') {
      return { scope: 'block', reason: 'empty body after {', headerIndent: opener.lineIndent, closedAfter: cursor.closerInSuffix };
    }
    return undefined;
  }
  if (rules.blocks === 'braces' || cursor.lex.stack.length > 0) return undefined;

  // Indentation and keyword languages: the last non-blank line before the cursor opens a body.
  const header = headerLineBefore(text, offset);
  if (header === undefined) return undefined;
  const code = codePart(header.line, rules);
  const opens =
    rules.blocks === 'indentation'
      ? code.endsWith(':')
      : rules.keywordOpener !== undefined && rules.keywordOpener.test(code);
  if (!opens) return undefined;
  const headerIndent = indentWidth(leadingWhitespace(header.line));
  const following = nextLineAfter(text, offset);
  if (following !== undefined && indentWidth(leadingWhitespace(following)) > headerIndent) return undefined;
  const closedAfter =
    rules.blocks === 'indentation'
      ? following !== undefined
      : following !== undefined && (rules.keywordCloser?.test(following.trimStart()) ?? false);
  const what = rules.blocks === 'indentation' ? ':' : (rules.keywordOpener?.exec(code)?.[0].trim().split(/\s+/)[0] ?? 'header');
  return { scope: 'block', reason: `empty body after ${what}`, headerIndent, closedAfter };
}

/** The last line with content that ends at or before the cursor (the cursor's own line if it has content). */
function headerLineBefore(text: string, offset: number): { line: string } | undefined {
  let end = offset;
  for (;;) {
    const start = lineStartAt(text, end);
    const line = text.slice(start, end);
    if (!isBlank(line)) return { line };
    if (start === 0) return undefined;
    end = start - 1;
    if (end > 0 && text[end - 1] === '\r') end--;
  }
}

/** The first non-blank line after the cursor's line, or undefined at the end of the text. */
function nextLineAfter(text: string, offset: number): string | undefined {
  let pos = text.indexOf('\n', offset);
  while (pos >= 0) {
    const start = pos + 1;
    const end = lineEndAt(text, start);
    const line = text.slice(start, end);
    if (!isBlank(line)) return line;
    pos = text.indexOf('\n', start);
  }
  return undefined;
}

function nextNonBlank(text: string, offset: number): number {
  const m = /\S/.exec(text.slice(offset, offset + 4096));
  return m === null ? -1 : offset + m.index;
}

/** A line without its trailing comment and whitespace. */
function codePart(line: string, rules: LanguageRules): string {
  const scanner = new LexicalScanner(rules.lexical, undefined, 0);
  let end = line.length;
  for (let ev = scanner.next(line, true); ev; ev = scanner.next(line, true)) {
    if (ev.kind === 'commentStart') {
      end = ev.at;
      break;
    }
  }
  return line.slice(0, end).trimEnd();
}

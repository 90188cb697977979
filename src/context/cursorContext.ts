/**
 * What surrounds the cursor: the cursor's line, whether it sits in code, a string or a
 * comment, the innermost open bracket, and whether that bracket (or string) is already
 * closed after the cursor.
 *
 * With a tree, tree-sitter decides strings and comments (it knows regex literals,
 * heredocs and raw strings) and picks where the bracket scan starts (the outermost
 * enclosing node near the cursor, so the scan is short and starts in code). Without a
 * tree, the lexical scanner does both from a window before the cursor.
 */
import type { SyntaxDocument } from './documents';
import type { SyntaxNode, SyntaxTree } from './grammars';
import type { LanguageRules, LexicalRules } from './languages';
import { CLOSER_OF, languageRules } from './languages';
import type { LexState } from './lexer';
import { LexicalScanner, scanState } from './lexer';
import { indentWidth, isBlank, leadingWhitespace, lineEndAt, lineStartAt } from './text';

/** The parts of a document src/context reads; a SyntaxDocument qualifies, so does a plain object. */
export type DocumentView = Pick<SyntaxDocument, 'languageId' | 'text'> &
  Partial<Pick<SyntaxDocument, 'tree' | 'grammar' | 'version'>>;

export interface OpenerInfo {
  readonly ch: string;
  /** Document offset of the bracket. */
  readonly at: number;
  /** Indentation (columns) of the line the bracket is on. */
  readonly lineIndent: number;
  /** The bracket is on the cursor's line. */
  readonly onCursorLine: boolean;
  /** Something other than whitespace lies between the bracket and the cursor. */
  readonly contentBefore: boolean;
}

/** Plain data (no tree references), so it can outlive the tree it came from. */
export interface CursorContext {
  readonly offset: number;
  readonly syntax: 'tree' | 'fallback';
  /** Lexical state at the cursor; `stack` holds the enclosing open brackets, innermost last. */
  readonly lex: LexState;
  readonly opener: OpenerInfo | undefined;
  /** The innermost open bracket is closed after the cursor (by the right bracket, at a plausible indentation). */
  readonly closerInSuffix: boolean;
  /** Cursor in a string or block comment that is closed after the cursor. */
  readonly delimiterInSuffix: boolean;
  /**
   * The lines after the cursor's line are a body waiting for a header: the next non-blank line
   * is indented deeper than the cursor's line, and a later one at the cursor line's indentation
   * starts with a closing bracket (`if (a|` above `    x();` and `}`).
   */
  readonly bodyFollows: boolean;
  /** Text of the cursor's line before the cursor. */
  readonly linePrefix: string;
  /** Text of the cursor's line after the cursor (no line break). */
  readonly lineSuffix: string;
  /** Leading whitespace of the cursor's line. */
  readonly indent: string;
  /** The smallest named node at the cursor, for traces. */
  readonly nodeType: string | undefined;
}

/** How far back the bracket scan looks, and how far ahead the closer search looks. */
const SCAN_WINDOW = 64 * 1024;
const SUFFIX_WINDOW = 64 * 1024;
/** Lines after the cursor's line that bodyFollows reads. */
const BODY_LOOK = 200;

const STRING_NODE =
  /^(string|template_string|string_literal|raw_string_literal|interpreted_string_literal|rune_literal|char_literal|character_literal|verbatim_string_literal|interpolated_string_expression|string_value|encapsed_string|raw_string|ansi_c_string|heredoc_body|heredoc|nowdoc|text_block|regex|regex_literal)$/;
const CODE_INSIDE_STRING = /interpolation|substitution|embedded|expansion/;
/** Closes nothing a scanner could find: heredocs and the like end where the tree says. */
const NO_DELIMITER = '\u0000';

export function cursorContext(doc: DocumentView, offset: number): CursorContext {
  const { text } = doc;
  if (!Number.isInteger(offset) || offset < 0 || offset > text.length) {
    throw new RangeError(`offset must be an integer in [0, ${text.length}], got ${offset}`);
  }
  const rules = languageRules(doc.languageId);
  const lineStart = lineStartAt(text, offset);
  const lineEnd = Math.max(offset, lineEndAt(text, offset));
  const tree = doc.tree;

  // The tree's node may start after brackets opened earlier on the cursor's line (an ERROR node
  // around a half-typed call): the scan always covers the whole line before the cursor.
  const scanFrom = tree ? Math.min(treeScanStart(tree, text, offset), lineStart) : fallbackScanStart(text, offset);
  let lex = scanState(rules.lexical, text, scanFrom, offset);
  let nodeType: string | undefined;
  if (tree) {
    const fromTree = treeLexMode(tree, text, offset, rules.lexical);
    nodeType = fromTree.nodeType;
    // A clean tree overrules the scanner (regex literals, heredocs); an erroneous one only when it is sure.
    if (fromTree.mode !== undefined) lex = { ...fromTree.mode, stack: lex.stack };
    else if (!fromTree.nearError && lex.mode !== 'code') lex = { ...lex, mode: 'code', close: '', multiline: false, escapes: true };
  }

  const innermost = lex.stack[lex.stack.length - 1];
  let opener: OpenerInfo | undefined;
  if (innermost !== undefined) {
    const openerLineStart = lineStartAt(text, innermost.at);
    opener = {
      ch: innermost.ch,
      at: innermost.at,
      lineIndent: indentWidth(leadingWhitespace(text.slice(openerLineStart, innermost.at))),
      onCursorLine: openerLineStart === lineStart,
      contentBefore: !isBlank(text.slice(innermost.at + 1, offset)),
    };
  }
  // Only an open bracket, string or comment has an end to look for.
  const after =
    opener !== undefined || lex.mode !== 'code' ? scanSuffix(rules, text, offset, lex) : { closer: undefined, delimiterClosed: false };
  let closerInSuffix = false;
  if (opener !== undefined && after.closer !== undefined && after.closer.ch === CLOSER_OF[opener.ch]) {
    const at = after.closer.at;
    const closerLineStart = lineStartAt(text, at);
    const firstOnLine = isBlank(text.slice(closerLineStart, at));
    // A `}` that starts a line less indented than the opener's line closes an outer block.
    closerInSuffix = closerLineStart === lineStart || !firstOnLine || indentWidth(text.slice(closerLineStart, at)) >= opener.lineIndent;
  }
  return {
    offset,
    syntax: tree ? 'tree' : 'fallback',
    lex,
    opener,
    closerInSuffix,
    delimiterInSuffix: after.delimiterClosed && !oneLineCommentLeftOpen(rules, lex, text.slice(lineStart, offset), text.slice(offset, lineEnd)),
    bodyFollows: bodyFollows(text, lineStart, lineEnd),
    linePrefix: text.slice(lineStart, offset),
    lineSuffix: text.slice(offset, lineEnd),
    indent: leadingWhitespace(text.slice(lineStart, lineEnd)),
    nodeType,
  };
}

/**
 * Scans forward from the cursor for the first closer that closes something opened before
 * the cursor, and for the end of the string or block comment the cursor is in.
 */
function scanSuffix(
  rules: LanguageRules,
  text: string,
  offset: number,
  lex: LexState,
): { closer: { ch: string; at: number } | undefined; delimiterClosed: boolean } {
  const scanner = new LexicalScanner(rules.lexical, { ...lex, stack: [] }, undefined, offset);
  const slice = text.slice(offset, offset + SUFFIX_WINDOW);
  const startsInDelimited = lex.mode === 'string' || lex.mode === 'blockComment';
  let delimiterClosed = false;
  let first = true;
  for (let ev = scanner.next(slice, true); ev; ev = scanner.next(slice, true)) {
    if (first && startsInDelimited && (ev.kind === 'stringEnd' || ev.kind === 'commentEnd')) {
      // A `*/` after another `/*` ends that later comment: the cursor's is still open. (Event
      // positions are the document's: the scanner starts at `offset`.)
      const opens = ev.kind === 'commentEnd' ? rules.lexical.blockComments.find(([, close]) => close === lex.close)?.[0] : undefined;
      delimiterClosed = ev.kind === 'commentEnd' ? opens === undefined || !text.slice(offset, ev.at).includes(opens) : ev.terminated;
      first = false;
    }
    if (ev.kind === 'underflow') return { closer: { ch: ev.ch, at: ev.at }, delimiterClosed };
  }
  return { closer: undefined, delimiterClosed };
}

/**
 * Start of the outermost node (below the root) around the last token before the cursor,
 * if it starts within SCAN_WINDOW. Nodes start in code, so the scan from there is in
 * step, and an unfinished construct just before the cursor (often an ERROR node that
 * stops short of the trailing whitespace) is included.
 */
function treeScanStart(tree: SyntaxTree, text: string, offset: number): number {
  const limit = Math.max(0, offset - SCAN_WINDOW);
  let last = offset - 1;
  while (last >= limit && /\s/.test(text[last]!)) last--;
  if (last < limit) return offset;
  let start = offset;
  for (let n: SyntaxNode | null = tree.rootNode.descendantForIndex(last); n?.parent; n = n.parent) {
    if (n.startIndex < limit) break;
    start = n.startIndex;
  }
  return start;
}

function fallbackScanStart(text: string, offset: number): number {
  return offset <= SCAN_WINDOW ? 0 : lineStartAt(text, offset - SCAN_WINDOW);
}

interface TreeVerdict {
  /** Set when the cursor is inside a string or comment node. */
  readonly mode: Omit<LexState, 'stack'> | undefined;
  /** The cursor is inside or next to a parse error, where the tree's word is weak. */
  readonly nearError: boolean;
  readonly nodeType: string | undefined;
}

function treeLexMode(tree: SyntaxTree, text: string, offset: number, rules: LexicalRules): TreeVerdict {
  if (offset === 0) return { mode: undefined, nearError: tree.rootNode.hasError, nodeType: tree.rootNode.type };
  const leaf = tree.rootNode.descendantForIndex(offset - 1);
  let nodeType: string | undefined;
  let nearError = false;
  let mode: Omit<LexState, 'stack'> | undefined;
  for (let n: SyntaxNode | null = leaf; n; n = n.parent) {
    if (nodeType === undefined && n.isNamed) nodeType = n.type;
    if (n.isError || n.isMissing) nearError = true;
    if (mode !== undefined || n.startIndex >= offset) continue;
    const type = n.type;
    if (CODE_INSIDE_STRING.test(type) && offset < n.endIndex) break;
    if (type.includes('comment')) {
      mode = commentMode(text, n, offset, rules);
      if (mode === undefined) break;
    } else if (STRING_NODE.test(type)) {
      mode = stringMode(text, n, offset, rules);
      if (mode === undefined) break;
    }
  }
  if (leaf?.hasError) nearError = true;
  return { mode, nearError, nodeType };
}

function commentMode(text: string, node: SyntaxNode, offset: number, rules: LexicalRules): Omit<LexState, 'stack'> | undefined {
  const body = text.slice(node.startIndex, node.endIndex);
  const block = rules.blockComments.find(([open]) => body.startsWith(open));
  if (block === undefined) {
    // A line comment runs to the end of its line, so a cursor at its end is still inside.
    return offset <= node.endIndex ? { mode: 'lineComment', close: '', multiline: false, escapes: false } : undefined;
  }
  const closed = body.length >= block[0].length + block[1].length && body.endsWith(block[1]);
  if (offset < node.endIndex || (offset === node.endIndex && !closed)) {
    return { mode: 'blockComment', close: block[1], multiline: true, escapes: false };
  }
  return undefined;
}

function stringMode(text: string, node: SyntaxNode, offset: number, rules: LexicalRules): Omit<LexState, 'stack'> | undefined {
  const body = text.slice(node.startIndex, node.endIndex);
  // Find the opening delimiter past any prefix (`f"`, `r#"`, `@"`).
  let close = NO_DELIMITER;
  let openEnd = 0;
  for (let i = 0; i < Math.min(4, body.length); i++) {
    const triple = rules.tripleQuotes.find((q) => body.startsWith(q, i));
    if (triple !== undefined) {
      close = triple;
      openEnd = i + triple.length;
      break;
    }
    if (rules.quotes.includes(body[i]!)) {
      close = body[i]!;
      openEnd = i + 1;
      break;
    }
  }
  const closed = close !== NO_DELIMITER && body.length >= openEnd + close.length && body.endsWith(close);
  const inside = offset >= node.startIndex + openEnd && (offset < node.endIndex || (offset === node.endIndex && !closed));
  if (!inside) return undefined;
  const multiline = close === NO_DELIMITER || rules.tripleQuotes.includes(close) || rules.multilineQuotes.includes(close);
  return { mode: 'string', close, multiline, escapes: !rules.rawQuotes.includes(close) };
}

// A block comment opened on the cursor's line ("/** @type {Asy|") with no closer on that line
// is one being typed: the closer the suffix scan finds further down belongs to a later
// comment, so the completion must close this one itself.
function oneLineCommentLeftOpen(rules: LanguageRules, lex: LexState, linePrefix: string, lineSuffix: string): boolean {
  if (lex.mode !== 'blockComment') return false;
  return rules.lexical.blockComments.some(([open, close]) => linePrefix.includes(open) && !lineSuffix.includes(close));
}

/** See CursorContext.bodyFollows; looks at most BODY_LOOK lines ahead. */
function bodyFollows(text: string, lineStart: number, lineEnd: number): boolean {
  const indent = indentWidth(leadingWhitespace(text.slice(lineStart, lineEnd)));
  const lines = text.slice(lineEnd + 1, lineEnd + 1 + SUFFIX_WINDOW).split('\n', BODY_LOOK);
  const first = lines.findIndex((l) => !isBlank(l));
  if (first < 0 || indentWidth(leadingWhitespace(lines[first]!)) <= indent) return false;
  for (const l of lines.slice(first + 1)) {
    if (isBlank(l)) continue;
    const w = indentWidth(leadingWhitespace(l));
    if (w < indent) return false;
    if (w === indent) return /^[)\]}]/.test(l.trimStart());
  }
  return false;
}

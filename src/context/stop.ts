/**
 * Stop rules: where the generated text completes the scope the cursor was in.
 *
 * The engine calls the stopper after every model call with the whole text generated so
 * far; the stopper scans only the characters it has not seen (one lexical scanner,
 * resumed), never the document, and answers the index to cut at once the scope is done:
 *
 *   closing the enclosing bracket   `foo(a, |)` + `b, c)`   -> cut before `)` if the
 *                                   document already closes it, else after it
 *   closing the cursor's string     `"hel|"` + `lo" + x`    -> cut before the quote
 *   a line break (line, expression) `x = |` + `1\ny = 2`    -> cut at the `\n`
 *   a blank line (statement)        `a()\n\nb()`            -> cut after `a()`
 *   a dedent (indentation/keywords) `    return 1\ndef g`   -> cut before `\ndef g`
 *   the body's `end` (keywords)     `  puts 1\nend`         -> keep `end` unless the
 *                                   document already has it
 */
import type { DocumentView } from './cursorContext';
import type { LanguageRules } from './languages';
import { CLOSER_OF, languageRules } from './languages';
import type { LexEvent } from './lexer';
import { LexicalScanner } from './lexer';
import { RepetitionStopper } from './repetition';
import type { ScopeInfo } from './scope';
import { indentWidth, isBlank, isWordChar } from './text';

/** Returns the index to cut the generated text at, or undefined to keep generating. */
export type Stopper = (generated: string) => number | undefined;

/**
 * `restated`: lines the completion must not write again (Generate Code's instruction comment,
 * which the prompt holds just before the cursor; see RepetitionStopper).
 */
export function makeStopper(doc: DocumentView, offset: number, info: ScopeInfo, restated: readonly string[] = []): Stopper {
  if (offset !== info.cursor.offset) {
    throw new RangeError(`makeStopper: offset ${offset} differs from the analyzed offset ${info.cursor.offset}`);
  }
  const rules = languageRules(doc.languageId);
  let stopper = new ScopeStopper(rules, info);
  let repetition = new RepetitionStopper(restated);
  let seen = '';
  return (generated) => {
    // The engine only appends. Should it ever rewrite what it sent, start over. (Checking
    // the length and the last few characters keeps each call independent of the length.)
    const tail = seen.slice(-64);
    if (generated.length < seen.length || !generated.startsWith(tail, seen.length - tail.length)) {
      stopper = new ScopeStopper(rules, info);
      repetition = new RepetitionStopper(restated);
      seen = '';
    }
    const checked = seen.length;
    seen = generated;
    const scopeCut = stopper.check(generated);
    const loopCut = repetition.check(generated);
    if (scopeCut === undefined || loopCut === undefined || scopeCut === loopCut) return earlier(scopeCut, loopCut);
    // Both rules fired on the characters this check added. A check after every token (AR)
    // may have seen one of them alone, a token earlier: answer the one that fires on the
    // shorter text, so the cut does not depend on how many tokens each check brought.
    return firstToFire(new ScopeStopper(rules, info), new RepetitionStopper(restated), generated, checked);
  };
}

/**
 * Feeds fresh rules `text` up to `from` (where neither had fired), then one character more
 * at a time: the cut of whichever fires first (the smaller cut when both fire at once).
 */
function firstToFire(scope: ScopeStopper, repetition: RepetitionStopper, text: string, from: number): number | undefined {
  for (let end = from; end <= text.length; end++) {
    const prefix = text.slice(0, end);
    const a = scope.check(prefix);
    const b = repetition.check(prefix);
    if (a !== undefined || b !== undefined) return earlier(a, b);
  }
  return undefined;
}

/** The earlier of two cuts, either of which may be missing. */
function earlier(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

class ScopeStopper {
  private readonly scanner: LexicalScanner;
  private cut: number | undefined;
  /** Start of the line being read (index into the generated text). */
  private lineBegin = 0;
  /** The `\n` that ended the last line with content: where to cut to drop what follows. */
  private lastContentEnd: number | undefined;
  private contentLines = 0;
  private blankRun = 0;
  /** Statement scope: indentation of the first line the completion starts. */
  private baseIndent: number | undefined;
  /** A line start at the header's indentation whose first word is not complete yet. */
  private pendingDedent: number | undefined;
  private delimiterOpen: boolean;
  /** Where the completion closed the cursor's bracket, when the rest of that line is still to come. */
  private closedAt: number | undefined;
  /** Closers after `closedAt` on its line, each matched to the next bracket out. */
  private outerClosed = 0;

  constructor(
    private readonly rules: LanguageRules,
    private readonly info: ScopeInfo,
  ) {
    const { cursor } = info;
    // The generated text continues the cursor's line; if only indentation precedes the
    // cursor, the first generated line starts with that much indentation.
    const lineStartIndent = isBlank(cursor.linePrefix) ? indentWidth(cursor.linePrefix) : undefined;
    this.scanner = new LexicalScanner(rules.lexical, { ...cursor.lex, stack: [] }, lineStartIndent);
    this.delimiterOpen = cursor.lex.mode === 'string' || cursor.lex.mode === 'blockComment';
  }

  check(generated: string): number | undefined {
    if (this.cut !== undefined) return this.cut;
    if (this.pendingDedent !== undefined) {
      const decided = this.resolveDedent(generated, this.pendingDedent);
      if (decided === 'wait') return undefined;
      return (this.cut = decided);
    }
    for (let ev = this.scanner.next(generated, false); ev; ev = this.scanner.next(generated, false)) {
      const at = this.onEvent(generated, ev);
      if (at !== undefined) return (this.cut = at);
      if (this.pendingDedent !== undefined) return undefined;
    }
    return undefined;
  }

  private onEvent(text: string, ev: LexEvent): number | undefined {
    const { scope } = this.info;
    switch (ev.kind) {
      case 'underflow': {
        const { opener, closerInSuffix, lineSuffix, lex } = this.info.cursor;
        if (this.closedAt !== undefined) {
          // More closers on the line that closed the cursor's bracket close the brackets around
          // it, innermost first (`});` after the last property of `el.tipsy({`).
          const outer = lex.stack[lex.stack.length - 2 - this.outerClosed++];
          if (outer === undefined || CLOSER_OF[outer.ch] !== ev.ch) return ev.at;
          this.closedAt = ev.at + 1;
          return undefined;
        }
        // The completion closes the bracket the cursor was in: the node is complete.
        const matches = opener !== undefined && CLOSER_OF[opener.ch] === ev.ch;
        if (!matches || closerInSuffix) return ev.at;
        // Nothing right of the cursor: the rest of the line (`;`, `,`, `)`) belongs to the
        // completion, unless it opens something new (`if (x) {`), which the cursor's scope does
        // not cover. So it does when the bracket opened on an earlier line and the closer starts
        // a line of its own (`},` after the last entry of a multi-line object).
        const closerStartsLine = isBlank(text.slice(this.lineBegin, ev.at)) && (this.lineBegin > 0 || isBlank(this.info.cursor.linePrefix));
        if (lineSuffix.trim() === '' && (opener.onCursorLine || closerStartsLine)) {
          this.closedAt = ev.at + 1;
          return undefined;
        }
        return ev.at + 1;
      }
      case 'stringEnd':
      case 'commentEnd':
        if (this.delimiterOpen) {
          this.delimiterOpen = false;
          // The cursor's own string or comment ends here; the document may already end it.
          if (ev.kind === 'stringEnd' ? ev.terminated : ev.end > ev.at) {
            if (this.info.cursor.delimiterInSuffix) return ev.at;
          }
        }
        return undefined;
      case 'newline':
        return this.onNewline(text, ev.at);
      case 'lineStart':
        if (this.scanner.depth > 0) return undefined;
        if (scope === 'statement' && this.rules.blocks !== 'braces') {
          if (this.baseIndent === undefined) {
            this.baseIndent = ev.indent;
            return undefined;
          }
          return ev.indent < this.baseIndent ? this.cutBeforeLine() : undefined;
        }
        if (scope === 'block' && this.rules.blocks !== 'braces' && this.info.headerIndent !== undefined) {
          if (ev.indent > this.info.headerIndent) return undefined;
          if (this.rules.blocks === 'indentation' || this.info.closedAfter) return this.cutBeforeLine();
          const decided = this.resolveDedent(text, ev.at);
          if (decided === 'wait') this.pendingDedent = ev.at;
          return typeof decided === 'number' ? decided : undefined;
        }
        return undefined;
      default:
        return undefined;
    }
  }

  private onNewline(text: string, at: number): number | undefined {
    // The rest of the line may open a block only when the document already holds its body.
    if (this.closedAt !== undefined) return /[([{]/.test(text.slice(this.closedAt, at)) && !this.info.cursor.bodyFollows ? this.closedAt : at;
    const content = !isBlank(text.slice(this.lineBegin, at));
    this.lineBegin = at + 1;
    if (content) {
      this.lastContentEnd = at;
      this.contentLines++;
      this.blankRun = 0;
    } else if (this.contentLines > 0) {
      this.blankRun++;
    }
    // The document holds the body of the header the cursor is on: the header line is the completion.
    if (this.info.scope === 'line' && this.info.cursor.bodyFollows && this.contentLines > 0) return at;
    if (this.scanner.depth > 0) return undefined;
    switch (this.info.scope) {
      case 'line':
        // A line break right after the cursor (a complete line) lets one more line through.
        return this.contentLines > 0 ? at : undefined;
      case 'expression':
        // Mid-line expressions end with the line; in a multi-line list, lines separate items.
        return this.info.cursor.opener?.onCursorLine === true && this.contentLines > 0 ? at : undefined;
      case 'statement':
        // A blank line after some statements closes the group.
        return this.blankRun > 0 ? this.lastContentEnd : undefined;
      case 'block':
        return undefined;
    }
  }

  /** Cut before the line being started, and before any blank lines above it. */
  private cutBeforeLine(): number {
    return this.lastContentEnd ?? 0;
  }

  /**
   * Keyword languages, block scope, a line back at the header's indentation: `end`,
   * `fi`, `done` close the body and are kept (the document lacks them); `else`, `elsif`
   * or any other line end the body before it.
   */
  private resolveDedent(text: string, lineAt: number): number | 'wait' {
    let end = lineAt;
    while (end < text.length && isWordChar(text[end])) end++;
    if (end === text.length) return 'wait';
    const nl = text.indexOf('\n', lineAt);
    const line = text.slice(lineAt, nl < 0 ? text.length : nl);
    const terminator = this.rules.keywordTerminator?.exec(line);
    if (terminator) return lineAt + terminator[0].length;
    return this.cutBeforeLine();
  }
}

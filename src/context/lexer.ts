/**
 * An incremental lexical scanner: brackets, strings, comments, line starts.
 *
 * It knows nothing of grammar. It exists for three jobs that must not re-parse the file:
 * following the model's text as it grows (stop rules), finding the last balanced point
 * of a completion (trim), and reading bracket depth when there is no tree (fallback).
 * It is resumable: `next()` returns undefined when it needs more text to decide (a `/`
 * that may start `//`), and the caller calls again once the text has grown.
 */
import type { LexicalRules } from './languages';
import { CLOSER_OF, OPENER_OF } from './languages';
import { TAB_WIDTH } from './text';

export type LexMode = 'code' | 'string' | 'lineComment' | 'blockComment';

export interface OpenBracket {
  readonly ch: string;
  /** Offset of the bracket in the scanned text (plus the scanner's base offset). */
  readonly at: number;
}

/** Where the scanner is. Plain data: copy it with `copyLexState`. */
export interface LexState {
  readonly mode: LexMode;
  /** The delimiter that ends the current string or block comment; '' otherwise. */
  readonly close: string;
  /** The current string may span lines. */
  readonly multiline: boolean;
  /** Backslash escapes apply in the current string. */
  readonly escapes: boolean;
  /** Brackets opened during the scan and not yet closed, innermost last. */
  readonly stack: readonly OpenBracket[];
}

export type LexEvent =
  /** A line break outside strings and block comments (it also ends a line comment). */
  | { readonly kind: 'newline'; readonly at: number }
  /** The first non-blank character of a line that starts in code; indent in columns. */
  | { readonly kind: 'lineStart'; readonly at: number; readonly indent: number }
  | { readonly kind: 'open'; readonly at: number; readonly ch: string }
  /** Closes a bracket opened during this scan (`matched` is false for `(` … `]`). */
  | { readonly kind: 'close'; readonly at: number; readonly ch: string; readonly matched: boolean }
  /** A closer with nothing open in this scan: it closes something opened before the scan. */
  | { readonly kind: 'underflow'; readonly at: number; readonly ch: string }
  | { readonly kind: 'stringStart'; readonly at: number; readonly end: number }
  /** `at` is where the delimiter starts, `end` where it ends; unterminated at a newline. */
  | { readonly kind: 'stringEnd'; readonly at: number; readonly end: number; readonly terminated: boolean }
  | { readonly kind: 'commentStart'; readonly at: number; readonly end: number; readonly line: boolean }
  | { readonly kind: 'commentEnd'; readonly at: number; readonly end: number };

export const CODE_STATE: LexState = { mode: 'code', close: '', multiline: false, escapes: true, stack: [] };

export function copyLexState(s: LexState): LexState {
  return { ...s, stack: [...s.stack] };
}

export class LexicalScanner {
  /** Index of the next character to read. */
  pos: number;
  private mode: LexMode;
  private close: string;
  private multiline: boolean;
  private escapes: boolean;
  private readonly stack: OpenBracket[];
  private atLineStart: boolean;
  private indent = 0;
  /** The previous character read in code, to tell a shell `#` comment from `$#`. */
  private prevChar: string | undefined;
  private readonly lookahead: number;
  /** Characters that can start something in code; all others are skipped quickly. */
  private readonly special: ReadonlySet<string>;

  /**
   * @param lineStartIndent when text[0] is still in a line's leading whitespace, the
   *   columns of indentation before it (0 at a line start); undefined when mid-line
   * @param base added to every reported offset (for scans over a slice of a document)
   */
  constructor(
    private readonly rules: LexicalRules,
    initial: LexState = CODE_STATE,
    lineStartIndent: number | undefined = 0,
    private readonly base = 0,
  ) {
    this.pos = 0;
    this.mode = initial.mode;
    this.close = initial.close;
    this.multiline = initial.multiline;
    this.escapes = initial.escapes;
    this.stack = [...initial.stack];
    this.atLineStart = lineStartIndent !== undefined && initial.mode === 'code';
    this.indent = lineStartIndent ?? 0;
    const delimiters = [
      ...rules.lineComments,
      ...rules.blockComments.flat(),
      ...rules.tripleQuotes,
      // Rust `'\u{1F600}'`-like literals are judged from the first four units.
      ...(rules.lifetimes ? ["'xx'"] : []),
    ];
    this.lookahead = Math.max(2, ...delimiters.map((d) => d.length));
    this.special = new Set([...delimiters.map((d) => d[0]!), ...rules.quotes, ...'()[]{}\n \t\r']);
  }

  get state(): LexState {
    return {
      mode: this.mode,
      close: this.close,
      multiline: this.multiline,
      escapes: this.escapes,
      stack: [...this.stack],
    };
  }

  /** Depth of brackets opened during the scan. */
  get depth(): number {
    return this.stack.length;
  }

  /**
   * The next event at or after `pos`, or undefined when the text runs out. Unless
   * `final`, it also stops (without consuming) where a delimiter might straddle the end.
   */
  next(text: string, final: boolean): LexEvent | undefined {
    const end = text.length;
    while (this.pos < end) {
      const i = this.pos;
      const ch = text[i]!;
      if (!final && i + this.lookahead > end && this.mightStartDelimiter(ch)) return undefined;
      switch (this.mode) {
        case 'code': {
          const ev = this.code(text, i, ch);
          if (ev) return ev;
          break;
        }
        case 'string': {
          if (this.escapes && ch === '\\') {
            if (i + 1 >= end && !final) return undefined;
            // An escaped newline continues the string; an escaped quote does not close it.
            this.pos = i + 2;
            break;
          }
          if (ch === '\n' && !this.multiline) {
            // Unterminated single-line string: end it here, then handle the newline as code.
            this.leaveToCode();
            return { kind: 'stringEnd', at: i + this.base, end: i + this.base, terminated: false };
          }
          if (text.startsWith(this.close, i)) {
            this.pos = i + this.close.length;
            this.leaveToCode();
            return { kind: 'stringEnd', at: i + this.base, end: this.pos + this.base, terminated: true };
          }
          this.pos = i + 1;
          break;
        }
        case 'lineComment': {
          if (ch === '\n') {
            this.leaveToCode();
            return { kind: 'commentEnd', at: i + this.base, end: i + this.base };
          }
          this.pos = i + 1;
          break;
        }
        case 'blockComment': {
          if (text.startsWith(this.close, i)) {
            this.pos = i + this.close.length;
            this.leaveToCode();
            return { kind: 'commentEnd', at: i + this.base, end: this.pos + this.base };
          }
          this.pos = i + 1;
          break;
        }
      }
    }
    return undefined;
  }

  /** Runs to the end of `text` (final) and returns the state there. */
  run(text: string): LexState {
    while (this.next(text, true)) {
      /* events are not needed */
    }
    return this.state;
  }

  private code(text: string, i: number, ch: string): LexEvent | undefined {
    const at = i + this.base;
    if (ch === '\n') {
      this.pos = i + 1;
      this.atLineStart = true;
      this.indent = 0;
      this.prevChar = undefined;
      return { kind: 'newline', at };
    }
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      if (this.atLineStart && ch !== '\r') this.indent += ch === '\t' ? TAB_WIDTH - (this.indent % TAB_WIDTH) : 1;
      this.pos = i + 1;
      this.prevChar = ch;
      return undefined;
    }
    if (this.atLineStart) {
      // Report the line start first; the character itself is read on the next call.
      this.atLineStart = false;
      return { kind: 'lineStart', at, indent: this.indent };
    }
    if (!this.special.has(ch)) {
      // Ordinary code: skip the run up to the next character that may matter.
      let j = i + 1;
      while (j < text.length && !this.special.has(text[j]!)) j++;
      this.pos = j;
      this.prevChar = text[j - 1];
      return undefined;
    }
    const r = this.rules;
    for (const [open, close] of r.blockComments) {
      if (text.startsWith(open, i)) {
        this.enter('blockComment', close, true, false, i + open.length);
        return { kind: 'commentStart', at, end: this.pos + this.base, line: false };
      }
    }
    for (const open of r.lineComments) {
      if (!text.startsWith(open, i)) continue;
      if (open === '#' && r.hashNeedsWordStart && this.prevChar !== undefined && !/[\s;|&()]/.test(this.prevChar)) {
        continue;
      }
      this.enter('lineComment', '', false, false, i + open.length);
      return { kind: 'commentStart', at, end: this.pos + this.base, line: true };
    }
    for (const q of r.tripleQuotes) {
      if (text.startsWith(q, i)) {
        this.enter('string', q, true, true, i + q.length);
        return { kind: 'stringStart', at, end: this.pos + this.base };
      }
    }
    if (r.quotes.includes(ch) && !(ch === "'" && r.lifetimes && !isRustCharLiteral(text, i))) {
      this.enter('string', ch, r.multilineQuotes.includes(ch), !r.rawQuotes.includes(ch), i + 1);
      return { kind: 'stringStart', at, end: this.pos + this.base };
    }
    this.pos = i + 1;
    this.prevChar = ch;
    if (ch in CLOSER_OF) {
      const opener = { ch, at };
      this.stack.push(opener);
      return { kind: 'open', at, ch };
    }
    if (ch in OPENER_OF) {
      const top = this.stack.pop();
      if (top === undefined) return { kind: 'underflow', at, ch };
      return { kind: 'close', at, ch, matched: top.ch === OPENER_OF[ch] };
    }
    return undefined;
  }

  private enter(mode: LexMode, close: string, multiline: boolean, escapes: boolean, pos: number): void {
    this.mode = mode;
    this.close = close;
    this.multiline = multiline;
    this.escapes = escapes;
    this.pos = pos;
  }

  private leaveToCode(): void {
    this.mode = 'code';
    this.close = '';
    this.multiline = false;
    this.escapes = true;
    this.prevChar = 'x';
  }

  private mightStartDelimiter(ch: string): boolean {
    switch (this.mode) {
      case 'code': {
        const r = this.rules;
        return (
          r.lineComments.some((d) => d[0] === ch) ||
          r.blockComments.some(([d]) => d[0] === ch) ||
          r.tripleQuotes.some((d) => d[0] === ch) ||
          (r.lifetimes && ch === "'")
        );
      }
      case 'string':
      case 'blockComment':
        return this.close.length > 1 && this.close[0] === ch;
      case 'lineComment':
        return false;
    }
  }
}

/** Rust: `'a'`, `'\n'`, `'😀'` are characters; `'a` (no closing quote next) is a lifetime. */
function isRustCharLiteral(text: string, i: number): boolean {
  if (text[i + 1] === '\\') return true;
  const cp = text.codePointAt(i + 1);
  if (cp === undefined) return false;
  const width = cp > 0xffff ? 2 : 1;
  return text[i + 1 + width] === "'";
}

/** State after scanning `text[from, to)` from code at a line start. */
export function scanState(rules: LexicalRules, text: string, from: number, to: number): LexState {
  return new LexicalScanner(rules, CODE_STATE, 0, from).run(text.slice(from, to));
}

/**
 * Fitting a completion to the editor line: when to complete automatically, and how the
 * pipeline's text becomes an inline item VS Code will actually show and accept without damage.
 * The worker fits every inline item before it answers (`fitAt`), the CLI prints the fitted text,
 * and the extension only decides whether to ask at all (src/protocol lineSuffix.ts, shared by both).
 *
 * VS Code shows an inline item only when its range starts on the cursor line and the text the
 * range covers right of the cursor is a subsequence of the item's text (it can only add ghost
 * characters, never delete). So the range may cover auto-closed brackets and quotes, which the
 * item then re-supplies once:
 *
 *   line:    print(|)          suffix ")"  is only closers: auto-complete, cover it
 *   worker:  "hello"           item: range [cursor, cursor+1) text "\"hello\")"
 *   shown:   print("hello"|)   ghost "\"hello\"" before the existing ")"; accepting gives one ")"
 *
 *   line:    call(|)            a multi-line body puts the ")" on its own line:
 *   worker:  "\n  a,\n  b"      item text "\n  a,\n  b\n)"
 *
 *   line:    total = |price * qty     suffix is real code: no automatic completion; an explicit
 *                                      one is cut to one line and never repeats the suffix
 *
 * Pure: strings in, strings out (after llama.vscode max_line_suffix and
 * shouldDiscardSuggestion, Tabby's lineEndReplaceLength and minCompletionChars).
 */

import { CLOSER_CHARS, classifyLineSuffix } from '../protocol/index';
import { restatesFollowingLine } from '../context/index';

/** Lines after the cursor line compared against a completion (to drop repeats of them). */
export const FOLLOWING_LINES = 20;
/** Automatic completions shorter than this many non-blank characters are noise (a lone `}`). */
export const MIN_AUTOMATIC_CHARS = 2;

const OPENER_OF: Record<string, string> = { ')': '(', ']': '[', '}': '{', '>': '<' };
const QUOTES = '"\'`';

export interface FitOptions {
  /** The person asked (explicit trigger): shorter items are fine. */
  readonly explicit: boolean;
  /** The document text after the cursor line (the following lines), or a head of it. */
  readonly followingText: string;
  /** Leading whitespace of the cursor line (where a closer moved to its own line goes). */
  readonly lineIndent?: string;
}

export interface FittedItem {
  /** Text to put in place of [cursor, cursor + coverLength). */
  readonly insertText: string;
  readonly coverLength: number;
}

/**
 * `fitCompletion` for a completion at `offset` in `documentText`, with what an editor sees
 * there: the rest of the cursor's line, the FOLLOWING_LINES lines after it, the line's
 * indentation. `explicit`: the person asked (Alt+\), so shorter items are fine.
 */
export function fitAt(documentText: string, offset: number, completion: string, explicit: boolean): FittedItem | undefined {
  const lineStart = documentText.lastIndexOf('\n', offset - 1) + 1;
  const lineEnd = documentText.indexOf('\n', offset);
  const end = lineEnd < 0 ? documentText.length : lineEnd;
  const followingText = lineEnd < 0 ? '' : documentText.slice(end + 1).split('\n').slice(0, FOLLOWING_LINES).join('\n');
  const lineIndent = /^[ \t]*/.exec(documentText.slice(lineStart, end))![0];
  return fitCompletion(completion, documentText.slice(offset, end), { explicit, followingText, lineIndent });
}

/**
 * Turns the pipeline's completion (text to insert at the cursor) into an item for this line,
 * or undefined when it should not be shown: empty, too short, or a repeat of what follows.
 */
export function fitCompletion(completion: string, lineSuffix: string, options: FitOptions): FittedItem | undefined {
  const suffix = classifyLineSuffix(lineSuffix);
  let text = completion.replace(/\r\n/g, '\n');
  if (suffix.kind === 'text') {
    // Mid-line: one line only (the rest of the line stays after it).
    const nl = text.indexOf('\n');
    if (nl >= 0) text = text.slice(0, nl);
    text = text.trimEnd();
    const rest = lineSuffix.trimEnd();
    if (text === '' || rest.startsWith(text.trim())) return undefined;
    if (text.endsWith(rest.trimStart())) {
      // The model wrote the rest of the line too: replace it instead of repeating it.
      return keepIfLongEnough({ insertText: text, coverLength: rest.length }, lineSuffix, options);
    }
    return keepIfLongEnough({ insertText: text, coverLength: 0 }, '', options);
  }
  if (suffix.kind === 'end') {
    text = text.replace(/\s+$/, '');
    if (text === '' || repeatsFollowingLines(text, options.followingText)) return undefined;
    return keepIfLongEnough({ insertText: text, coverLength: 0 }, '', options);
  }
  // Closers: drop a trailing copy of them the completion left unmatched, then re-supply them.
  // After a multi-line body they go on a line of their own, at the cursor line's indentation
  // (the worker may already end the text with that line break; it is kept).
  const closers = lineSuffix.slice(0, suffix.coverLength);
  const givenBreak = /\n[ \t]*$/.exec(text)?.[0];
  text = text.replace(/\s+$/, '');
  text = dropDuplicatedClosers(text, closers);
  if (text.trim() === '' || repeatsFollowingLines(text, options.followingText)) return undefined;
  const bracket = ')]}'.includes(closers.trimStart()[0] ?? '');
  const lineBreak = text.includes('\n') && bracket ? (givenBreak ?? `\n${options.lineIndent ?? ''}`) : '';
  return keepIfLongEnough({ insertText: text + lineBreak + closers, coverLength: closers.length }, lineBreak + closers, options);
}

function keepIfLongEnough(item: FittedItem, resupplied: string, options: FitOptions): FittedItem | undefined {
  const added = item.insertText.slice(0, item.insertText.length - resupplied.length).replace(/\s+/g, '');
  if (added.length === 0) return undefined;
  if (!options.explicit) {
    if (added.length < MIN_AUTOMATIC_CHARS) return undefined;
    // Only closing punctuation (`})`): the editor or the person closes those.
    if ([...added].every((c) => CLOSER_CHARS.includes(c))) return undefined;
  }
  return item;
}

/**
 * The completion's unmatched trailing closers that are also the start of the line's closers:
 * the model closed what the editor had already auto-closed.
 *
 *   text "a, b)"  closers ")"  ->  "a, b"     (the ")" closes nothing in the text)
 *   text "f(x)"   closers ")"  ->  "f(x)"     (balanced: the ")" is the text's own)
 *   text "hi\""   closers "\")" -> "hi"       (odd quote count: the last quote closes the string)
 */
export function dropDuplicatedClosers(text: string, closers: string): string {
  const wanted = closers.replace(/\s+/g, '');
  const q = wanted[0];
  if (q !== undefined && QUOTES.includes(q) && count(text, q) % 2 === 1 && text.trimEnd().endsWith(wanted)) {
    // The cursor is inside a string and the completion closes it and what follows: `hi")`.
    return text.trimEnd().slice(0, text.trimEnd().length - wanted.length);
  }
  const unmatched = unmatchedTail(text);
  let k = 0;
  // unmatched is the text's trailing run of unmatched closers, in order.
  while (k < unmatched.length && k < wanted.length && unmatched[k] === wanted[k]) k++;
  if (k === 0) return text;
  // Remove the last k closer characters (skipping whitespace between them).
  let removed = 0;
  let end = text.length;
  while (end > 0 && removed < k) {
    const c = text[end - 1]!;
    end--;
    if (!/\s/.test(c)) removed++;
  }
  return text.slice(0, end);
}

function count(text: string, c: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === c) n++;
  }
  return n;
}

/** The run of closing characters at the end of `text` that close nothing opened in `text` (with `;` `,`). */
function unmatchedTail(text: string): string {
  const stack: string[] = [];
  const unmatchedAt: boolean[] = new Array<boolean>(text.length).fill(false);
  let quote: string | undefined;
  let quoteStart = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (QUOTES.includes(c)) {
      quote = c;
      quoteStart = i;
    } else if ('([{'.includes(c)) stack.push(c);
    else if (')]}'.includes(c)) {
      if (stack.length > 0 && stack[stack.length - 1] === OPENER_OF[c]) stack.pop();
      else unmatchedAt[i] = true;
    }
  }
  // A string still open at the end: its opening quote was the closing quote of the cursor's string.
  if (quote !== undefined && quoteStart === text.trimEnd().length - 1) unmatchedAt[quoteStart] = true;
  let tail = '';
  for (let i = text.length - 1; i >= 0; i--) {
    const c = text[i]!;
    if (/\s/.test(c)) continue;
    // Statement ends (`;`, `,`) close nothing but belong to the run: `a, b);` against `);`.
    if (!unmatchedAt[i] && c !== ';' && c !== ',') break;
    tail = c + tail;
  }
  return tail;
}

/** The completion is the text that already follows the cursor line (llama.vscode's discard rule). */
function repeatsFollowingLines(text: string, followingText: string): boolean {
  if (text.trim() === '') return true;
  if (restatesFollowingLine(text, followingText)) return true;
  const squash = (s: string) => s.replace(/\s+/g, ' ').trim();
  const following = squash(followingText);
  const t = squash(text);
  return t.length >= 8 && following.startsWith(t);
}

/**
 * The three moments the quality benches score a suggestion at (bench/eval-confidence.ts,
 * bench/eval-knowledge.ts), on validation cases only (bench/data, never a package in
 * training/corpus/heldout.txt):
 *
 *   after Enter  bench/data/eval-whole-line.jsonl: one line's code removed, cursor after its
 *                indentation, the whole file;
 *   typing       bench/data/eval-line.jsonl: the rest of the line removed, the cursor moved back
 *                to the start of the word it was in (so it sits after a word boundary);
 *   multi-line   bench/data/eval-multiline.jsonl: an emptied block body, or 2-4 lines removed.
 *
 * A suggestion is right when the file really continues with it (the removed text, then the rest
 * of the document), trailing whitespace ignored.
 */
import { isWordChar } from '../../src/context';
import { type FimCase, readCases } from './cases';

export interface Moment {
  key: 'enter' | 'typing' | 'multi';
  name: string;
  cases: FimCase[];
}

/** eval-line's cursor sits anywhere in a line; typing moments start after a word boundary. */
export function atWordBoundary(c: FimCase): FimCase {
  let offset = c.offset;
  if (!isWordChar(c.target[0])) return c;
  while (offset > 0 && isWordChar(c.text[offset - 1])) offset--;
  if (offset === c.offset) return c;
  return { ...c, offset, target: c.text.slice(offset, c.offset) + c.target, text: c.text.slice(0, offset) + c.text.slice(c.offset) };
}

/** The moments, at most `limit` cases each. */
export function moments(limit = Infinity): Moment[] {
  return [
    { key: 'enter', name: 'after Enter (whole line)', cases: readCases('eval-whole-line.jsonl').slice(0, limit) },
    { key: 'typing', name: 'typing, mid-line', cases: readCases('eval-line.jsonl').slice(0, limit).map(atWordBoundary) },
    { key: 'multi', name: 'multi-line (block body, 2-4 lines)', cases: readCases('eval-multiline.jsonl').slice(0, limit) },
  ];
}

/** Right: the file continues with the suggestion (trailing whitespace ignored). */
export function isRight(c: FimCase, shown: string): boolean {
  const s = shown.replace(/\s+$/, '').replace(/\r\n/g, '\n');
  const continuation = (c.target + c.text.slice(c.offset)).replace(/\r\n/g, '\n');
  return s !== '' && continuation.startsWith(s);
}

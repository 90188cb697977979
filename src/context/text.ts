/**
 * Small, allocation-light helpers for offsets, lines and indentation.
 *
 * All offsets in src/context are UTF-16 code-unit offsets into a JavaScript string, the
 * same unit VS Code, the LSP (with the default `utf-16` position encoding) and
 * web-tree-sitter's `startIndex`/`column` use.
 */

/** The tab width used to compare indentation. Only ordering matters, so 4 is fine for 2 too. */
export const TAB_WIDTH = 4;

export interface Position {
  readonly row: number;
  readonly column: number;
}

/** Offset of the first character of the line that contains `offset`. */
export function lineStartAt(text: string, offset: number): number {
  return offset <= 0 ? 0 : text.lastIndexOf('\n', offset - 1) + 1;
}

/** Offset of the `\n` that ends the line containing `offset` (or `text.length`), before any `\r`. */
export function lineEndAt(text: string, offset: number): number {
  const nl = text.indexOf('\n', offset);
  const end = nl < 0 ? text.length : nl;
  return end > offset && text.charCodeAt(end - 1) === 13 /* \r */ ? end - 1 : end;
}

/** Row and column (UTF-16 units) of `offset`, as tree-sitter's Point wants them. */
export function positionAt(text: string, offset: number): Position {
  let row = 0;
  let lineStart = 0;
  for (let nl = text.indexOf('\n'); nl >= 0 && nl < offset; nl = text.indexOf('\n', nl + 1)) {
    row++;
    lineStart = nl + 1;
  }
  return { row, column: offset - lineStart };
}

/** Where a point ends up after `inserted` is written at `start`. */
export function advancePosition(start: Position, inserted: string): Position {
  const lastNl = inserted.lastIndexOf('\n');
  if (lastNl < 0) return { row: start.row, column: start.column + inserted.length };
  let rows = 0;
  for (let i = inserted.indexOf('\n'); i >= 0; i = inserted.indexOf('\n', i + 1)) rows++;
  return { row: start.row + rows, column: inserted.length - lastNl - 1 };
}

/** The leading run of spaces and tabs of `line`. */
export function leadingWhitespace(line: string): string {
  let i = 0;
  while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
  return line.slice(0, i);
}

/** Visual width of an indentation string, tabs counted as TAB_WIDTH columns. */
export function indentWidth(ws: string): number {
  let width = 0;
  for (const ch of ws) width += ch === '\t' ? TAB_WIDTH - (width % TAB_WIDTH) : 1;
  return width;
}

export function isBlank(s: string): boolean {
  return /^[ \t\r\n]*$/.test(s);
}

export function isWordChar(ch: string | undefined): boolean {
  return ch !== undefined && /[\p{L}\p{N}_$]/u.test(ch);
}

/** True when cutting `text` at `index` would split a surrogate pair. */
export function splitsSurrogatePair(text: string, index: number): boolean {
  if (index <= 0 || index >= text.length) return false;
  const before = text.charCodeAt(index - 1);
  const after = text.charCodeAt(index);
  return before >= 0xd800 && before <= 0xdbff && after >= 0xdc00 && after <= 0xdfff;
}

/** `\r\n` to `\n`; lone `\r` stays (tree-sitter and the model both treat it as whitespace). */
export function toLf(text: string): string {
  return text.indexOf('\r') < 0 ? text : text.replace(/\r\n/g, '\n');
}

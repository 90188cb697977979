/**
 * What is right of the cursor on its line, as the client and the worker both judge it: the
 * client asks for an automatic (as-you-type) completion only at a line end or before closers,
 * and the worker fits its items to the same kinds (src/completion/fitCompletion.ts).
 *
 *   "print(|)"          closers: auto-closed brackets and quotes; an item may cover them
 *   "x = 1|   "         end
 *   "total = |price"    text: code right of the cursor; only an explicit request completes here
 */
export type LineSuffixKind = 'end' | 'closers' | 'text';

export interface LineSuffix {
  readonly kind: LineSuffixKind;
  /** Characters right of the cursor an item's range covers (the closers, not trailing spaces). */
  readonly coverLength: number;
}

/** Characters an editor auto-closes (or a statement ends with) that may sit right of the cursor. */
export const CLOSER_CHARS = ')]}>"\'`;,';
/** More closers than this is code, not auto-closed brackets (llama.vscode's max_line_suffix 8). */
const MAX_CLOSERS = 8;

export function classifyLineSuffix(lineSuffix: string): LineSuffix {
  const code = lineSuffix.trimEnd();
  if (code === '') return { kind: 'end', coverLength: 0 };
  const closers = code.replace(/\s+/g, '');
  if (closers.length <= MAX_CLOSERS && [...closers].every((c) => CLOSER_CHARS.includes(c))) return { kind: 'closers', coverLength: code.length };
  return { kind: 'text', coverLength: 0 };
}

/** An automatic (as-you-type) completion is only asked for at a line end or before closers. */
export function allowsAutomatic(suffix: LineSuffix): boolean {
  return suffix.kind !== 'text';
}

/**
 * Comparing a completion with the removed text. Both sides are normalised the same way:
 * CRLF -> LF, trailing whitespace of every line dropped, trailing blank lines dropped
 * (leading whitespace is kept: the completion starts at the cursor and must indent right).
 *
 * Edit similarity = 1 - Levenshtein(a, b) / max(|a|, |b|) over characters (1 when both are
 * empty), as in CodeXGLUE / RepoBench-style next-line metrics.
 */

export function normalize(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((l) => l.replace(/[ \t]+$/, ''))
    .join('\n')
    .replace(/\n+$/, '');
}

export function exactMatch(completion: string, target: string): boolean {
  return normalize(completion) === normalize(target);
}

/** Equal up to whitespace: each line's leading whitespace dropped, other runs collapsed (a diagnostic for indentation slips). */
export function exactMatchIgnoringWhitespace(completion: string, target: string): boolean {
  const squash = (t: string): string =>
    normalize(t)
      .split('\n')
      .map((l) => l.trim().replace(/\s+/g, ' '))
      .join('\n');
  return squash(completion) === squash(target);
}

export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev = new Int32Array(b.length + 1);
  let cur = new Int32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const cost = ca === b.charCodeAt(j - 1) ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

export function editSimilarity(completion: string, target: string): number {
  const a = normalize(completion);
  const b = normalize(target);
  const n = Math.max(a.length, b.length);
  return n === 0 ? 1 : 1 - levenshtein(a, b) / n;
}

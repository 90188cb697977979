/**
 * What a reader calls a loop: the same line of code three times in one completion. Lines are
 * compared trimmed; lines that are only closers or punctuation (`}`, `});`, `end`, a comment closer) repeat
 * in real code and do not count.
 */

const TRIVIAL = /^([)\]}>;,.*/\\#\s]*|end|fi|done|esac|else:?|pass|break;?|continue;?|return;?)$/;

/** The first code line that occurs `times` times or more in `text`, or undefined. */
export function repeatedLine(text: string, times = 3): string | undefined {
  const count = new Map<string, number>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || TRIVIAL.test(line)) continue;
    const n = (count.get(line) ?? 0) + 1;
    if (n >= times) return line;
    count.set(line, n);
  }
  return undefined;
}

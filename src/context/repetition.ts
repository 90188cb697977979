/**
 * The loop guard: a small model at low temperature falls into loops, and a person reads any of
 * them as junk. Three shapes, each cut before the copy that makes it a loop:
 *
 *   the same lines again         `const b = a.z;` twice (one line of 8+ characters, or a
 *                                block of two to six lines): cut before the copy
 *   a block again, nearly        3-6 lines, each the same as or a near copy of the line a
 *                                block before (`template:template` then `template:template:
 *                                template` inside the same five lines): cut before the copy
 *   the same short line, 3 times `*,` `*,` `*,` or `base,` three times: cut before the second
 *   near copies, 4 in a row      `const c5 = Math.max(c, c2);` then c6, c7, …: lines of 12+
 *                                characters each within a few edits of the one before; the
 *                                first three are kept (`self.x = x` / `self.y = y` is code)
 *
 *   a restated line              a line the caller names (Generate Code's instruction
 *                                comment): the model is starting the task over
 *
 * Lines that are only closers and punctuation (`}`, `});`, `end`) never count. The guard reads
 * each line once, when its line break arrives, so its cut depends only on the text up to that
 * break: a check after every token (AR) and one after a call of several (PTP) cut at the same
 * place, and PTP still commits exactly AR's text.
 */

/** Fewest non-space characters a repeated block needs before two copies count as a loop. */
const MIN_CHARS = 8;
const MAX_PERIOD = 6;
/** Blocks of at least this many lines also count when their lines are near copies of the block before. */
const NEAR_BLOCK_MIN = 3;
/** Copies of a short block (under MIN_CHARS) that make a loop. */
const SHORT_COPIES = 3;
/** Near copies: lines at least this long, at least this similar to the line before, this many in a row. */
const NEAR_MIN_LENGTH = 12;
const NEAR_SIMILARITY = 0.85;
const NEAR_RUN = 4;

/** A line that only closes: brackets, punctuation, or a block's closing keyword. */
const CLOSER_LINE = /^([)\]}>;,.\s]*|end|fi|done|esac)$/;

interface Line {
  key: string;
  /** Index of the line's first character in the generated text. */
  start: number;
  /** Not only a closer (CLOSER_LINE). */
  code: boolean;
}

export class RepetitionStopper {
  private readonly lines: Line[] = [];
  private scanned = 0;
  private cut: number | undefined;
  /** Consecutive near copies ending at the last line (1: the last line alone). */
  private nearRun = 0;
  private readonly restated: ReadonlySet<string>;

  /** `restated`: lines (compared trimmed) that end the completion before they are written again. */
  constructor(restated: readonly string[] = []) {
    this.restated = new Set(restated.map((l) => l.trim()).filter((l) => l !== ''));
  }

  check(generated: string): number | undefined {
    if (this.cut !== undefined) return this.cut;
    let nl: number;
    while ((nl = generated.indexOf('\n', this.scanned)) !== -1) {
      const start = this.scanned;
      this.scanned = nl + 1;
      const key = generated.slice(start, nl).trim();
      if (key === '') continue;
      const cut = this.add({ key, start, code: !CLOSER_LINE.test(key) });
      if (cut !== undefined) return (this.cut = cut);
    }
    return undefined;
  }

  private add(line: Line): number | undefined {
    if (this.restated.has(line.key)) return before(line);
    const previous = this.lines[this.lines.length - 1];
    this.nearRun = previous !== undefined && nearCopy(previous, line) ? this.nearRun + 1 : 1;
    this.lines.push(line);
    if (this.lines.length > SHORT_COPIES * MAX_PERIOD) this.lines.shift();
    if (this.nearRun >= NEAR_RUN) return before(line);
    return this.periodicCopy() ?? this.nearBlockCopy();
  }

  /** Where a block of 3-6 lines starts again with each line the same as, or a near copy of, the one a block before. */
  private nearBlockCopy(): number | undefined {
    const n = this.lines.length;
    for (let p = NEAR_BLOCK_MIN; p <= MAX_PERIOD && 2 * p <= n; p++) {
      let code = 0;
      let matches = true;
      for (let i = 0; i < p && matches; i++) {
        const [a, b] = [this.lines[n - 1 - i - p]!, this.lines[n - 1 - i]!];
        matches = a.key === b.key || nearCopy(a, b);
        if (b.code) code++;
      }
      if (matches && code >= 2) return before(this.lines[n - p]!);
    }
    return undefined;
  }

  /** Where the repeated copy starts, if the last lines repeat the ones before them. */
  private periodicCopy(): number | undefined {
    const n = this.lines.length;
    for (let p = 1; p <= MAX_PERIOD && 2 * p <= n; p++) {
      const block = this.lines.slice(n - p);
      if (!block.some((l) => l.code) || !this.repeats(p, 2)) continue;
      const chars = block.reduce((s, l) => s + l.key.replace(/\s+/g, '').length, 0);
      if (chars >= MIN_CHARS) return before(this.lines[n - p]!);
      // A short block needs SHORT_COPIES copies; the cut keeps the first.
      if (SHORT_COPIES * p <= n && this.repeats(p, SHORT_COPIES)) return before(this.lines[n - (SHORT_COPIES - 1) * p]!);
    }
    return undefined;
  }

  /** The last `copies` blocks of `p` lines are equal. */
  private repeats(p: number, copies: number): boolean {
    const n = this.lines.length;
    if (copies * p > n) return false;
    for (let i = 0; i < p; i++) {
      const key = this.lines[n - 1 - i]!.key;
      for (let c = 1; c < copies; c++) if (this.lines[n - 1 - i - c * p]!.key !== key) return false;
    }
    return true;
  }
}

/** The cut that drops `line` and what follows (the line break before it is kept out too). */
function before(line: Line): number {
  return Math.max(0, line.start - 1);
}

function nearCopy(a: Line, b: Line): boolean {
  if (!a.code || !b.code || a.key === b.key) return false;
  if (Math.min(a.key.length, b.key.length) < NEAR_MIN_LENGTH) return false;
  const longer = Math.max(a.key.length, b.key.length);
  const budget = Math.floor(longer * (1 - NEAR_SIMILARITY));
  return boundedDistance(a.key, b.key, budget) <= budget;
}

/** Levenshtein distance of a and b, or budget + 1 once it is sure to exceed `budget`. */
function boundedDistance(a: string, b: string, budget: number): number {
  if (Math.abs(a.length - b.length) > budget) return budget + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(d);
      best = Math.min(best, d);
    }
    if (best > budget) return budget + 1;
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The first-line rule: a completion that must put code on the cursor's line. After Enter the
 * cursor stands on an empty line; a small FIM model often reads the blank line between two
 * lines of code as a finished middle and answers end-of-text, or writes a line break first and
 * its code on the line after. Neither is what the person asked for.
 *
 * Until the output (after the healed text, healing.ts) holds a character other than a space or
 * a tab, the rule masks end-of-text, every special token, and every token whose bytes reach a
 * line break before such a character. Then, until a line break ends that first line, it masks
 * end-of-text and the special tokens: a model trained on random character spans often ends a
 * middle inside a word (`def sum_`), which after Enter is never what the person wants. Like
 * healing it is a mask on the distribution at an output index, a pure function of the tokens
 * before it, so AR and PTP apply the same mask at the same index and PTP still commits exactly
 * AR's tokens.
 *
 *   output so far   ""           no "\n", no " \n", no <|endoftext|>; "    " and " return" pass
 *   output so far   "    "       the same mask
 *   output so far   "  x = 1"    no <|endoftext|> (nor another special token)
 *   output so far   "  x = 1\n"  no constraint
 */

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;

/** How bytes read by a line that has no code yet end: still blank, a line break first, or code. */
function scan(bytes: Uint8Array, from = 0): 'blank' | 'break' | 'code' {
  for (let i = from; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === SPACE || b === TAB) continue;
    return b === LF || b === CR ? 'break' : 'code';
  }
  return 'blank';
}

/** Index of the first byte from `from` on that is not a space or a tab. */
function firstCode(bytes: Uint8Array, from: number): number {
  let i = from;
  while (i < bytes.length && (bytes[i] === SPACE || bytes[i] === TAB)) i++;
  return i;
}

/**
 * Index in `tokens` of the token whose bytes, past the first `healedBytes` (the healed text),
 * hold the first code, as the rule reads it; -1 if none does. The token a second attempt bans.
 */
export function firstCodeToken(tokens: readonly number[], bytesOf: (id: number) => Uint8Array, healedBytes = 0): number {
  let pending = healedBytes;
  for (let i = 0; i < tokens.length; i++) {
    const bytes = bytesOf(tokens[i]!);
    const from = Math.min(pending, bytes.length);
    pending -= from;
    const seen = scan(bytes, from);
    if (seen === 'code') return i;
    if (seen === 'break') return -1;
  }
  return -1;
}

export class FirstLineRule {
  /** Allowed tokens while the first line has no code, by healed bytes still to re-type (0: healing done) and whether the ban applies. */
  private readonly masks = new Map<string, Uint8Array>();
  private noEnd: Uint8Array | undefined;

  constructor(
    private readonly bytesOf: (id: number) => Uint8Array,
    private readonly vocabSize: number,
    private readonly special: ReadonlySet<number>,
    /** Bytes of the healed text the output re-types first (not part of the completion). */
    private readonly healedBytes = 0,
    /** Tokens that may not start the first line's code (see Engine's firstLineBan). */
    private readonly ban: ReadonlySet<number> = new Set(),
  ) {}

  /** Whether a second attempt's ban is in force (some first tokens are ruled out). */
  get bans(): boolean {
    return this.ban.size > 0;
  }

  /**
   * Tokens allowed after `output` and the first `extraCount` of `extra`, given the healing mask
   * there (`healing`, undefined once healing is done); undefined: no constraint. `withBan` false:
   * as if nothing were banned (what a token's confidence is judged among: the ban stands for an
   * earlier attempt's text that was thrown away, not for the person's intent, so it must not
   * lend the runner-up the banned token's probability).
   */
  maskAfter(output: readonly number[], extra: readonly number[], extraCount: number, healing: Uint8Array | undefined, withBan = true): Uint8Array | undefined {
    let pending = this.healedBytes;
    let code = false;
    for (let i = 0; i < output.length + extraCount; i++) {
      const bytes = this.bytesOf(i < output.length ? output[i]! : extra[i - output.length]!);
      let from = Math.min(pending, bytes.length);
      pending -= from;
      if (!code) {
        const seen = scan(bytes, from);
        // A break the rule could not prevent (it is off where the output starts with one).
        if (seen === 'break') return healing;
        if (seen === 'blank') continue;
        code = true;
        from = firstCode(bytes, from);
      }
      // The first line is complete once a line break follows its code: no constraint after it.
      for (let j = from; j < bytes.length; j++) if (bytes[j] === LF || bytes[j] === CR) return healing;
    }
    return code ? this.endOfLine() : this.mask(pending, healing, withBan);
  }

  /** The first line has code but no line break yet: anything but end-of-text and special tokens. */
  private endOfLine(): Uint8Array {
    if (this.noEnd === undefined) {
      this.noEnd = new Uint8Array(this.vocabSize).fill(1);
      for (const id of this.special) if (id < this.vocabSize) this.noEnd[id] = 0;
    }
    return this.noEnd;
  }

  private mask(pending: number, healing: Uint8Array | undefined, withBan: boolean): Uint8Array {
    const key = `${pending}/${withBan}`;
    let mask = this.masks.get(key);
    if (mask !== undefined) return mask;
    mask = new Uint8Array(this.vocabSize);
    for (let id = 0; id < this.vocabSize; id++) {
      if (this.special.has(id) || (withBan && this.ban.has(id)) || (healing !== undefined && healing[id] === 0)) continue;
      const bytes = this.bytesOf(id);
      // The part of the token past the healed text starts the completion's first line.
      if (bytes.length > 0 && scan(bytes, Math.min(pending, bytes.length)) !== 'break') mask[id] = 1;
    }
    this.masks.set(key, mask);
    return mask;
  }
}

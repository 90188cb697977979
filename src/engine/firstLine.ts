/**
 * The first-line rule: a completion that must put code on the cursor's line. After Enter the
 * cursor stands on an empty line; a small FIM model often reads the blank line between two
 * lines of code as a finished middle and answers end-of-text, or writes a line break first and
 * its code on the line after. Neither is what the person asked for.
 *
 * Until the output (after the healed text, healing.ts) holds a character other than a space or
 * a tab, the rule masks end-of-text, every special token, and every token whose bytes reach a
 * line break before such a character. Like healing it is a mask on the distribution at an
 * output index, a pure function of the tokens before it, so AR and PTP apply the same mask at
 * the same index and PTP still commits exactly AR's tokens.
 *
 *   output so far   ""        mask: no "\n", no " \n", no <|endoftext|>; "    " and " return" pass
 *   output so far   "    "    the same mask
 *   output so far   "  x"     no constraint
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

export class FirstLineRule {
  /** Allowed tokens while the first line has no code, by healed bytes still to re-type (0: healing done). */
  private readonly masks = new Map<number, Uint8Array>();

  constructor(
    private readonly bytesOf: (id: number) => Uint8Array,
    private readonly vocabSize: number,
    private readonly special: ReadonlySet<number>,
    /** Bytes of the healed text the output re-types first (not part of the completion). */
    private readonly healedBytes = 0,
  ) {}

  /**
   * Tokens allowed after `output` and the first `extraCount` of `extra`, given the healing mask
   * there (`healing`, undefined once healing is done); undefined: no constraint.
   */
  maskAfter(output: readonly number[], extra: readonly number[], extraCount: number, healing: Uint8Array | undefined): Uint8Array | undefined {
    let pending = this.healedBytes;
    for (let i = 0; i < output.length + extraCount; i++) {
      const bytes = this.bytesOf(i < output.length ? output[i]! : extra[i - output.length]!);
      const skip = Math.min(pending, bytes.length);
      pending -= skip;
      // Code on the first line (the rule is met), or a break the rule could not prevent.
      if (scan(bytes, skip) !== 'blank') return healing;
    }
    return this.mask(pending, healing);
  }

  private mask(pending: number, healing: Uint8Array | undefined): Uint8Array {
    let mask = this.masks.get(pending);
    if (mask !== undefined) return mask;
    mask = new Uint8Array(this.vocabSize);
    for (let id = 0; id < this.vocabSize; id++) {
      if (this.special.has(id) || (healing !== undefined && healing[id] === 0)) continue;
      const bytes = this.bytesOf(id);
      // The part of the token past the healed text starts the completion's first line.
      if (bytes.length > 0 && scan(bytes, Math.min(pending, bytes.length)) !== 'break') mask[id] = 1;
    }
    this.masks.set(pending, mask);
    return mask;
  }
}

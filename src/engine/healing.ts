/**
 * Token healing. A prompt that ends inside a word ends on a token the model rarely saw there:
 * the cursor in `readFileS|` leaves `readFileS` split as `read` `File` `S`, where the training
 * text had `read` `File` `Sync`, so the model continues after `S` as if a word had ended.
 *
 * The prompt therefore drops its last token (any ASCII token: a word piece, punctuation such as
 * `=` where the text goes on `=>`, a line break before indentation) and, when that token is
 * inside a word, the word's earlier tokens too (letters, digits, `_`, `$`, with the space or
 * tab before them; at most MAX_TOKENS tokens). The first output tokens are
 * sampled only among tokens that re-type that text: a token whose bytes start with what is
 * still to re-type, or one that is a non-empty start of it (the rest then comes from the next
 * token). The re-typed text is not part of the completion. AR and PTP apply the same mask at
 * the same output index, so PTP still commits exactly AR's tokens.
 *
 *   prefix "x = os.path.joi"   tokens ... "." "jo" "i"   prompt ends "... os.path."
 *   output "join(" -> completion "n("
 */

/** A token inside a word, and one that may start it. */
const WORD = /^[A-Za-z0-9_$]+$/;
const WORD_START = /^[ \t]?[A-Za-z0-9_$]+$/;
/** The last token is healed whatever it is, if ASCII: a word, punctuation (`=` before `=>`), a line break before indentation. */
const HEALABLE = /^[\t\n\r\x20-\x7e]+$/;
/** Most prompt tokens re-typed (each costs the output one token). */
const MAX_TOKENS = 3;

export class TokenHealing {
  /** Allowed-token masks by how many bytes of the healed text are already re-typed. */
  private readonly masks = new Map<number, Uint8Array>();

  private constructor(
    /** The text of the dropped prompt tokens, which the output re-types first. */
    readonly text: string,
    private readonly bytes: Uint8Array,
    private readonly bytesOf: (id: number) => Uint8Array,
    private readonly vocabSize: number,
    private readonly special: ReadonlySet<number>,
  ) {}

  /**
   * Healing for a prompt whose last prefix token is `ids[at]`: the word tokens `ids[start..at]`
   * to drop, or undefined when `ids[at]` is not part of a word. `start` is never below `minStart`.
   */
  static of(
    ids: readonly number[],
    at: number,
    minStart: number,
    bytesOf: (id: number) => Uint8Array,
    vocabSize: number,
    special: ReadonlySet<number>,
  ): { start: number; healing: TokenHealing } | undefined {
    const text = (i: number): string => {
      const id = ids[i];
      return id === undefined || special.has(id) ? '' : String.fromCharCode(...bytesOf(id));
    };
    if (at < minStart || !HEALABLE.test(text(at))) return undefined;
    let start = at;
    while (start > minStart && at - start + 1 < MAX_TOKENS && WORD.test(text(start)) && WORD_START.test(text(start - 1))) start--;
    const healed = Array.from({ length: at - start + 1 }, (_, j) => text(start + j)).join('');
    const bytes = Uint8Array.from(healed, (c) => c.charCodeAt(0));
    return { start, healing: new TokenHealing(healed, bytes, bytesOf, vocabSize, special) };
  }

  /** Bytes of the healed text (what the output re-types before the completion starts). */
  get byteLength(): number {
    return this.bytes.length;
  }

  /**
   * Bytes of the healed text re-typed by the output so far (`output`, then the first `extraCount`
   * of `extra`), at most all of them. Reads only the first few tokens: healing ends early.
   */
  covered(output: readonly number[], extra: readonly number[] = [], extraCount = 0): number {
    let c = 0;
    for (let i = 0; i < output.length + extraCount && c < this.bytes.length; i++) {
      const id = i < output.length ? output[i]! : extra[i - output.length]!;
      c = Math.min(this.bytes.length, c + this.bytesOf(id).length);
    }
    return c;
  }

  /** Tokens allowed as the next output (after the same output as `covered`); undefined once the healed text is re-typed. */
  maskAfter(output: readonly number[], extra: readonly number[] = [], extraCount = 0): Uint8Array | undefined {
    const c = this.covered(output, extra, extraCount);
    if (c >= this.bytes.length) return undefined;
    let mask = this.masks.get(c);
    if (mask === undefined) {
      mask = new Uint8Array(this.vocabSize);
      const rest = this.bytes.subarray(c);
      for (let id = 0; id < this.vocabSize; id++) {
        if (this.special.has(id)) continue;
        const b = this.bytesOf(id);
        if (b.length > 0 && startsWith(b.length >= rest.length ? b : rest, b.length >= rest.length ? rest : b)) mask[id] = 1;
      }
      this.masks.set(c, mask);
    }
    return mask;
  }
}

function startsWith(a: Uint8Array, prefix: Uint8Array): boolean {
  for (let i = 0; i < prefix.length; i++) if (a[i] !== prefix[i]) return false;
  return true;
}

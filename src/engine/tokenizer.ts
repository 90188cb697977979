/**
 * Byte-level BPE tokenizer over @huggingface/tokenizers, plus an incremental detokenizer that
 * never emits half a UTF-8 character while tokens arrive one call at a time.
 */
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';

/**
 * Special token ids (MODEL_CONTRACT.md `special_tokens`). The FIM tokens (all three) and
 * file_sep may be absent in a converted model: prompts are then the prefix only.
 */
export interface SpecialTokens {
  endoftext: number;
  fim_prefix?: number;
  fim_middle?: number;
  fim_suffix?: number;
  file_sep?: number;
}

/** The token text each special id must have, where the contract names it. */
const SPECIAL_CONTENT: Partial<Record<keyof SpecialTokens, string>> = {
  endoftext: '<|endoftext|>',
  fim_prefix: '<|fim_prefix|>',
  fim_middle: '<|fim_middle|>',
  fim_suffix: '<|fim_suffix|>',
};

/** Text that exercises multi-byte UTF-8 and code punctuation; it must survive encode -> decode. */
const ROUND_TRIP_PROBE = 'def f(x):\n\treturn x  # héllo → 世界 🙂 "q" \'s\n';

/**
 * GPT-2's reversible byte <-> printable-character table used by byte-level BPE: printable
 * Latin-1 bytes map to themselves, the other 68 bytes to U+0100.. in order.
 */
function byteLevelDecoderTable(): Map<string, number> {
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table = new Map<string, number>();
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table.set(String.fromCharCode(printable(b) ? b : 256 + extra++), b);
  }
  return table;
}

type TokenizerJson = {
  model?: { type?: string };
  pre_tokenizer?: { type?: string; pretokenizers?: { type?: string }[] } | null;
  decoder?: { type?: string; decoders?: { type?: string }[] } | null;
  added_tokens?: { id: number; content: string }[];
};

function hasByteLevel(component: { type?: string; pretokenizers?: { type?: string }[]; decoders?: { type?: string }[] } | null | undefined): boolean {
  if (!component) return false;
  if (component.type === 'ByteLevel') return true;
  const parts = component.pretokenizers ?? component.decoders ?? [];
  return component.type === 'Sequence' && parts.some((p) => p.type === 'ByteLevel');
}

export class CodeTokenizer {
  readonly special: SpecialTokens;
  /** Largest token id + 1 (including added tokens). */
  readonly vocabSize: number;
  private readonly hf: HfTokenizer;
  /** Per token id: its bytes (byte-level tokens) or its UTF-8 (added tokens). */
  private readonly tokenBytes: (Uint8Array | undefined)[];

  /**
   * @param json parsed tokenizer.json
   * @throws Error with a one-line reason when the tokenizer is not byte-level BPE, lacks a
   *   special token, or does not round-trip text.
   */
  constructor(json: unknown, special: SpecialTokens, specialText: Partial<Record<keyof SpecialTokens, string>> = SPECIAL_CONTENT) {
    const tj = json as TokenizerJson;
    if (tj?.model?.type !== 'BPE' || !hasByteLevel(tj.pre_tokenizer)) {
      throw new Error('is not a byte-level BPE tokenizer (model.type must be "BPE" with a ByteLevel pre_tokenizer)');
    }
    if (!hasByteLevel(tj.decoder)) {
      // Without a ByteLevel decoder the library would join the raw byte characters ("Ġ", "Ċ").
      tj.decoder = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true } as TokenizerJson['decoder'];
    }
    // clean_up_tokenization_spaces would rewrite " ." to "." etc.: wrong for code.
    this.hf = new HfTokenizer(tj, { clean_up_tokenization_spaces: false });
    this.special = special;

    const vocab = this.hf.get_vocab(true);
    let maxId = -1;
    for (const id of vocab.values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;

    const added = new Map((tj.added_tokens ?? []).map((t) => [t.id, t.content]));
    const table = byteLevelDecoderTable();
    const utf8 = new TextEncoder();
    this.tokenBytes = new Array<Uint8Array | undefined>(this.vocabSize);
    for (const [token, id] of vocab) {
      const content = added.get(id);
      if (content !== undefined) {
        this.tokenBytes[id] = utf8.encode(content);
        continue;
      }
      const bytes = Array.from(token, (ch) => table.get(ch));
      if (bytes.every((b): b is number => b !== undefined)) this.tokenBytes[id] = Uint8Array.from(bytes);
    }

    for (const [name, id] of Object.entries(special) as [keyof SpecialTokens, number][]) {
      if (id === undefined) continue;
      const actual = this.hf.id_to_token(id);
      const expected = specialText[name] ?? SPECIAL_CONTENT[name];
      if (actual === undefined || (expected !== undefined && actual !== expected)) {
        throw new Error(
          `special token ${name} = ${id} is ${actual === undefined ? 'not in the vocabulary' : JSON.stringify(actual)}` +
            (expected ? `, expected ${JSON.stringify(expected)}` : ''),
        );
      }
    }
    const back = this.decode(this.encode(ROUND_TRIP_PROBE));
    if (back !== ROUND_TRIP_PROBE) {
      throw new Error(`does not round-trip text: ${JSON.stringify(ROUND_TRIP_PROBE)} decodes as ${JSON.stringify(back)}`);
    }
  }

  /** Token ids of plain text; special-token strings inside the text are matched as specials. */
  encode(text: string): number[] {
    if (text.length === 0) return [];
    return this.hf.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: readonly number[]): string {
    if (ids.length === 0) return '';
    return this.hf.decode([...ids], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  /** The bytes of one token (for the incremental detokenizer). */
  bytesOf(id: number): Uint8Array {
    const bytes = this.tokenBytes[id];
    if (bytes === undefined) throw new RangeError(`token id ${id} has no text (vocabulary size ${this.vocabSize})`);
    return bytes;
  }

  createDetokenizer(): IncrementalDetokenizer {
    return new IncrementalDetokenizer((id) => this.bytesOf(id));
  }
}

/**
 * Decodes a growing token list. Bytes of a character split across tokens are held back until
 * the character completes, so `text` never ends in a broken character; `flush()` releases
 * whatever is left (as U+FFFD if it never completed).
 */
export class IncrementalDetokenizer {
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });
  private parts: string[] = [];
  private length = 0;
  /** Text length after each pushed token (for cutting tokens at a character index). */
  readonly endsAt: number[] = [];

  constructor(private readonly bytesOf: (id: number) => Uint8Array) {}

  /** Appends one token; returns the newly completed text (possibly empty). */
  push(id: number): string {
    const piece = this.decoder.decode(this.bytesOf(id), { stream: true });
    if (piece.length > 0) {
      this.parts.push(piece);
      this.length += piece.length;
    }
    this.endsAt.push(this.length);
    return piece;
  }

  flush(): string {
    const rest = this.decoder.decode();
    if (rest.length > 0) {
      this.parts.push(rest);
      this.length += rest.length;
      if (this.endsAt.length > 0) this.endsAt[this.endsAt.length - 1] = this.length;
    }
    return rest;
  }

  get text(): string {
    if (this.parts.length > 1) this.parts = [this.parts.join('')];
    return this.parts[0] ?? '';
  }
}

/**
 * A small byte-level BPE tokenizer.json built in code (specials 0..4, the 256 byte symbols,
 * a few merges), for tokenizer and decoder tests that must not wait for a model.
 */
export const SPECIALS = ['<|endoftext|>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>', '<|file_sep|>'];
export const SPECIAL_IDS = { endoftext: 0, fim_prefix: 1, fim_middle: 2, fim_suffix: 3, file_sep: 4 };

function byteSymbols(): string[] {
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let extra = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCharCode(printable(b) ? b : 256 + extra++));
}

const MERGES: [string, string][] = [
  ['Ġ', 't'],
  ['r', 'e'],
  ['Ġt', 'h'],
  ['Ġth', 'e'],
  ['d', 'e'],
  ['de', 'f'],
  ['Ġ', 'Ġ'],
  ['ĠĠ', 'ĠĠ'],
  // "é" is two bytes (C3 A9): a merged token that is one whole character
  ['Ã', '©'],
];

export function syntheticTokenizerJson(options: { decoder?: boolean } = {}): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  SPECIALS.forEach((s, i) => (vocab[s] = i));
  byteSymbols().forEach((s, i) => (vocab[s] = SPECIALS.length + i));
  let next = SPECIALS.length + 256;
  for (const [a, b] of MERGES) vocab[a + b] = next++;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: options.decoder === false ? null : { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: MERGES.map(([a, b]) => `${a} ${b}`),
    },
  };
}

export const SYNTHETIC_VOCAB_SIZE = SPECIALS.length + 256 + MERGES.length;

#!/usr/bin/env node
// Train the byte-level BPE tokenizer on the training split and pick its size by measurement.
//
//   node training/tokenizer.mjs --corpus data/corpus --out data/tokenizer [--sizes 4096,8192,16384] [--choose 8192]
//
// The npm `tokenizers` binding trains a 30,000-token BPE with no options. BPE merges are
// greedy and ordered, so the first k merges plus the byte alphabet and the special tokens
// are exactly the k-merge tokenizer: train once, then truncate (docs/TRAINING.md, "Tokenizer").
// Pre-tokenizer: GPT-2 byte-level regex, which keeps runs of spaces, tabs and newlines as
// their own tokens. Writes tokenizer-<V>.json for each size and a sizes.json with bytes per
// token on the validation split, and tokenizer.json for the chosen size.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tokenizers from 'tokenizers';

const { Tokenizer, byteLevelAlphabet } = tokenizers;
export const SPECIALS = ['<|endoftext|>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>', '<|file_sep|>'];

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

export async function* readCorpus(file) {
  const xz = spawn('xz', ['-dc', file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const rl = createInterface({ input: xz.stdout, crlfDelay: Infinity });
  for await (const line of rl) if (line) yield JSON.parse(line);
}

export function baseJson() {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, vocab: {}, merges: [] },
  };
}

/** Specials, then the 256-symbol byte alphabet, then the first (size - 261) merges, in order. */
export function truncate(trained, size) {
  const json = baseJson();
  const vocab = Object.create(null);
  // special tokens live in the model vocabulary too, or the Rust library re-numbers them
  SPECIALS.forEach((t, id) => { vocab[t] = id; });
  let next = SPECIALS.length;
  for (const ch of byteLevelAlphabet().sort()) vocab[ch] = next++;
  const merges = [];
  for (const m of trained.model.merges) {
    if (next >= size) break;
    const [a, b] = Array.isArray(m) ? m : m.split(' ');
    if (!Object.hasOwn(vocab, a) || !Object.hasOwn(vocab, b) || Object.hasOwn(vocab, a + b)) continue;
    vocab[a + b] = next++;
    merges.push([a, b]);
  }
  json.model.vocab = vocab;
  json.model.merges = merges.map(([a, b]) => `${a} ${b}`); // 'a b' strings: every tokenizers version reads them
  return json;
}

async function main() {
  const corpus = arg('corpus', 'data/corpus');
  const out = arg('out', 'data/tokenizer');
  const sizes = arg('sizes', '4096,8192,12288,16384').split(',').map(Number);
  const sampleMb = Number(arg('sample-mb', '40'));
  mkdirSync(out, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), 'ptp-tok-'));
  // Training sample: every n-th file until sampleMb, in chunks of ~4 MB.
  let chunk = [], chunkBytes = 0, total = 0, k = 0;
  const files = [];
  for await (const r of readCorpus(join(corpus, 'train.jsonl.xz'))) {
    if (k++ % 3 !== 0) continue;
    chunk.push(r.text);
    chunkBytes += r.text.length;
    if (chunkBytes > 4e6) {
      const f = join(tmp, `part${files.length}.txt`);
      writeFileSync(f, chunk.join('\n'));
      files.push(f);
      total += chunkBytes;
      chunk = []; chunkBytes = 0;
      if (total > sampleMb * 1e6) break;
    }
  }
  if (chunk.length) { const f = join(tmp, `part${files.length}.txt`); writeFileSync(f, chunk.join('\n')); files.push(f); }
  console.error(`training BPE on ${files.length} files, ${(total / 1e6).toFixed(1)} MB`);
  const t0 = Date.now();
  const tok = Tokenizer.fromString(JSON.stringify(baseJson()));
  tok.train(files);
  const trainedPath = join(tmp, 'trained.json');
  tok.save(trainedPath);
  const { readFileSync } = await import('node:fs');
  const trained = JSON.parse(readFileSync(trainedPath, 'utf8'));
  console.error(`trained ${Object.keys(trained.model.vocab).length} tokens, ${trained.model.merges.length} merges in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  // Measure bytes per token on the validation split, per language.
  const val = [];
  for await (const r of readCorpus(join(corpus, 'val.jsonl.xz'))) val.push(r);
  const report = [];
  for (const size of sizes) {
    const json = truncate(trained, size);
    const path = join(out, `tokenizer-${size}.json`);
    writeFileSync(path, JSON.stringify(json));
    const t = Tokenizer.fromFile(path);
    const per = {};
    for (const r of val) {
      const enc = await t.encode(r.text);
      const p = (per[r.lang] ??= { bytes: 0, tokens: 0 });
      p.bytes += Buffer.byteLength(r.text);
      p.tokens += enc.getIds().length;
    }
    const all = Object.values(per).reduce((a, p) => ({ bytes: a.bytes + p.bytes, tokens: a.tokens + p.tokens }), { bytes: 0, tokens: 0 });
    const row = { size, bytesPerToken: +(all.bytes / all.tokens).toFixed(3),
      perLanguage: Object.fromEntries(Object.entries(per).map(([l, p]) => [l, +(p.bytes / p.tokens).toFixed(3)])) };
    report.push(row);
    console.error(JSON.stringify(row));
  }
  writeFileSync(join(out, 'sizes.json'), JSON.stringify(report, null, 1) + '\n');
  const choose = Number(arg('choose', '8192'));
  writeFileSync(join(out, 'tokenizer.json'), JSON.stringify(truncate(trained, choose)));
  rmSync(tmp, { recursive: true, force: true });
}

if (import.meta.url === `file://${process.argv[1]}`) await main();

#!/usr/bin/env node
// Tokenize the built corpus into the shard format training/data.py reads.
//
//   node training/tokenize_corpus.mjs --corpus data/corpus --tokenizer data/tokenizer/tokenizer.json --out data/tokens
//
// Writes <out>/<split>/{tokens.bin (uint16), docs.idx (int64 offsets), docs.json} for train and val.
// training/tokenize_corpus.py writes the same files with the Python tokenizers library (GPU machines).
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tokenizers from 'tokenizers';
import { readCorpus } from './tokenizer.mjs';

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

const corpus = arg('corpus', 'data/corpus');
const out = arg('out', 'data/tokens');
const tok = tokenizers.Tokenizer.fromFile(arg('tokenizer', 'data/tokenizer/tokenizer.json'));
const summary = {};
for (const split of ['train', 'val']) {
  mkdirSync(join(out, split), { recursive: true });
  const bin = createWriteStream(join(out, split, 'tokens.bin'));
  const offsets = [0n];
  const docs = [];
  let n = 0n;
  const perLang = {};
  for await (const r of readCorpus(join(corpus, `${split}.jsonl.xz`))) {
    const ids = (await tok.encode(r.text)).getIds();
    const buf = Buffer.from(Uint16Array.from(ids).buffer);
    if (!bin.write(buf)) await new Promise((res) => bin.once('drain', res));
    n += BigInt(ids.length);
    offsets.push(n);
    docs.push({ lang: r.lang, pkg: r.pkg, path: r.path });
    const p = (perLang[r.lang] ??= { bytes: 0, tokens: 0 });
    p.bytes += Buffer.byteLength(r.text);
    p.tokens += ids.length;
  }
  await new Promise((res) => bin.end(res));
  writeFileSync(join(out, split, 'docs.idx'), Buffer.from(BigInt64Array.from(offsets).buffer));
  writeFileSync(join(out, split, 'docs.json'), JSON.stringify(docs));
  summary[split] = { documents: docs.length, tokens: Number(n), perLanguage: perLang };
  console.error(split, docs.length, 'documents', Number(n), 'tokens');
}
writeFileSync(join(out, 'summary.json'), JSON.stringify(summary, null, 1) + '\n');

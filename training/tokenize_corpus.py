#!/usr/bin/env python3
"""Tokenize the built corpus with the Python tokenizers library (GPU machines have it).

Same output as training/tokenize_corpus.mjs: <out>/<split>/{tokens.bin, docs.idx, docs.json}.

    python3 training/tokenize_corpus.py --corpus data/corpus --tokenizer models/x/tokenizer.json --out data/tokens
"""
import argparse
import json
import lzma
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--tokenizer", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    tok = Tokenizer.from_file(str(args.tokenizer))
    summary = {}
    for split in ("train", "val"):
        rows = [json.loads(l) for l in lzma.open(args.corpus / f"{split}.jsonl.xz", "rt", encoding="utf-8")]
        d = args.out / split
        d.mkdir(parents=True, exist_ok=True)
        offsets, total = [0], 0
        with open(d / "tokens.bin", "wb") as f:
            for i in range(0, len(rows), 2048):
                encs = tok.encode_batch([r["text"] for r in rows[i : i + 2048]], add_special_tokens=False)
                for e in encs:
                    np.asarray(e.ids, dtype=np.uint16).tofile(f)
                    total += len(e.ids)
                    offsets.append(total)
        np.asarray(offsets, dtype=np.int64).tofile(d / "docs.idx")
        (d / "docs.json").write_text(json.dumps([{"lang": r["lang"], "pkg": r["pkg"], "path": r["path"]} for r in rows]))
        summary[split] = {"documents": len(rows), "tokens": total}
        print(split, len(rows), "documents", total, "tokens", flush=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()

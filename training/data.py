"""Token shards and the training-row sampler (plain text and suffix-first fill-in-the-middle).

A split directory holds ``tokens.bin`` (uint16, all documents back to back), ``docs.idx``
(int64 offsets, one more than the number of documents) and ``docs.json`` (language and
package per document). Both tokenizers (``tokenize_corpus.mjs`` here, ``tokenize.py`` on a GPU
machine) write this format.

Rows follow the engine's prompt layout (docs/MODEL_CONTRACT.md):
``<|fim_suffix|> S <|fim_prefix|> P <|fim_middle|> M <|endoftext|>`` for FIM samples and
``text <|endoftext|>`` for plain ones, packed back to back into rows of S+1 tokens.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np


class Special:
    def __init__(self, ids: dict):
        self.eot = ids["endoftext"]
        self.prefix = ids["fim_prefix"]
        self.middle = ids["fim_middle"]
        self.suffix = ids["fim_suffix"]
        self.file_sep = ids["file_sep"]
        # The line-break token (not special): line-boundary FIM cuts there. None if the vocabulary lacks one.
        self.newline = ids.get("newline")


def special_ids(tokenizer_json: Path) -> dict:
    tok = json.loads(Path(tokenizer_json).read_text())
    names = {"<|endoftext|>": "endoftext", "<|fim_prefix|>": "fim_prefix", "<|fim_middle|>": "fim_middle",
             "<|fim_suffix|>": "fim_suffix", "<|file_sep|>": "file_sep"}
    out = {names[t["content"]]: t["id"] for t in tok["added_tokens"] if t["content"] in names}
    missing = set(names.values()) - set(out)
    if missing:
        raise ValueError(f"{tokenizer_json}: special tokens missing: {sorted(missing)}")
    newline = tok.get("model", {}).get("vocab", {}).get("\u010a")  # byte-level BPE's "\n"
    if newline is not None:
        out["newline"] = newline
    return out


class TokenData:
    def __init__(self, split_dir: Path):
        split_dir = Path(split_dir)
        self.tokens = np.memmap(split_dir / "tokens.bin", dtype=np.uint16, mode="r")
        self.offsets = np.fromfile(split_dir / "docs.idx", dtype=np.int64)
        meta = split_dir / "docs.json"
        self.docs = json.loads(meta.read_text()) if meta.exists() else None
        self.lengths = np.diff(self.offsets)
        self.n_docs = len(self.lengths)

    def doc(self, i: int) -> np.ndarray:
        return np.asarray(self.tokens[self.offsets[i] : self.offsets[i + 1]], dtype=np.int64)

    def random_doc(self, rng: np.random.Generator) -> int:
        """A document chosen with probability proportional to its length."""
        pos = rng.integers(0, self.offsets[-1])
        return int(np.searchsorted(self.offsets, pos, side="right") - 1)


def fim_sample(rng, chunk: np.ndarray, sp: Special, max_suffix: int) -> np.ndarray:
    """Suffix-first FIM of one chunk, split at token boundaries."""
    n = len(chunk)
    c = int(rng.integers(0, n + 1))
    m = _fim_middle_length(rng, n - c)
    suffix = chunk[c + m :][:max_suffix]
    return np.concatenate([[sp.suffix], suffix, [sp.prefix], chunk[:c], [sp.middle], chunk[c : c + m], [sp.eot]])


def line_fim_sample(rng, chunk: np.ndarray, sp: Special, max_suffix: int) -> np.ndarray | None:
    """Suffix-first FIM whose middle is 1-3 whole lines, as an editor cuts it after Enter.

    The prefix ends before a line break, the middle starts with that break (then the
    indentation and the code) and stops before the break that ends its last line, where the
    suffix starts: exactly the engine's prompt for a cursor after a new line's indentation
    (the held-back indentation and the healed line break are re-typed by the middle). None when
    the chunk has too few non-blank lines.
    """
    if sp.newline is None:
        return None
    breaks = np.flatnonzero(chunk == sp.newline)
    if len(breaks) < 2:
        return None
    k = int(rng.choice([1, 2, 3], p=[0.6, 0.25, 0.15]))
    starts = [i for i in range(len(breaks) - k) if breaks[i + 1] - breaks[i] > 2 and breaks[i + k] - breaks[i + k - 1] > 1]
    if not starts:
        return None
    i = starts[int(rng.integers(0, len(starts)))]
    a, b = int(breaks[i]), int(breaks[i + k])
    return np.concatenate([[sp.suffix], chunk[b:][:max_suffix], [sp.prefix], chunk[:a], [sp.middle], chunk[a:b], [sp.eot]])


def sample_row(rng, data: TokenData, sp: Special, length: int, fim_rate: float = 0.5, line_fim: float = 0.0) -> np.ndarray:
    """Pack samples into one row of ``length`` tokens; ``line_fim`` of the FIM samples cut at line boundaries."""
    out, filled = [], 0
    while filled < length:
        room = length - filled
        d = data.random_doc(rng)
        L = int(data.lengths[d])
        if L == 0:
            continue
        fim = rng.random() < fim_rate and room >= 16
        n = min(L, (room - 4) if fim else room, length - 4)
        if n <= 0:
            n = min(L, room)
            fim = False
        start = 0 if rng.random() < 0.3 else int(rng.integers(0, max(1, L - n + 1)))
        chunk = data.doc(d)[start : start + n]
        if fim:
            s = line_fim_sample(rng, chunk, sp, max(16, length // 4)) if rng.random() < line_fim else None
            if s is None:
                s = fim_sample(rng, chunk, sp, max_suffix=max(16, length // 4))
        else:
            s = chunk if start + n < L else np.concatenate([chunk, [sp.eot]])
        s = s[:room]
        out.append(s)
        filled += len(s)
    return np.concatenate(out).astype(np.int64)


def batch(rng, data: TokenData, sp: Special, batch_size: int, length: int, fim_rate: float = 0.5, line_fim: float = 0.0) -> np.ndarray:
    return np.stack([sample_row(rng, data, sp, length, fim_rate, line_fim) for _ in range(batch_size)])


def _fim_middle_length(rng, n: int) -> int:
    """The middle's length in tokens: log-uniform 1-192, running to the end in 10% of samples."""
    if rng.random() < 0.1:
        return n
    return min(n, int(math.exp(rng.uniform(0.0, math.log(192)))))


def engine_context(rng, data: TokenData, sp: Special, length: int, fim_rate: float = 0.5) -> np.ndarray:
    """One context of exactly ``length`` tokens that ends where the engine's prompts end.

    The engine decodes after a cursor inside a document: left to right it feeds the text before
    the cursor; with a suffix it feeds ``<|fim_suffix|> S <|fim_prefix|> P <|fim_middle|>``, with
    the suffix given at least a quarter of the room (src/engine/prompt.ts). Packed training rows
    (``batch``) cut anywhere instead: at an end-of-text, where the teacher goes on to recite a
    memorised file header, or inside a FIM suffix. Drafts trained and validated there do not
    measure what the engine drafts. A document shorter than the context is preceded by the ends
    of other documents, each closed by end-of-text, as in packed rows.
    """
    while True:
        d = data.random_doc(rng)
        if data.lengths[d] >= 2:
            break
    doc = data.doc(d)
    n = len(doc)
    if rng.random() < fim_rate:
        cursor = int(rng.integers(0, n + 1))
        suffix = doc[cursor + _fim_middle_length(rng, n - cursor) :]
        room = length - 3
        keep_suffix = min(len(suffix), max(room // 4, room - cursor))
        keep_prefix = min(cursor, room - keep_suffix)
        core = np.concatenate([[sp.suffix], suffix[:keep_suffix], [sp.prefix], doc[cursor - keep_prefix : cursor], [sp.middle]])
    else:
        cursor = int(rng.integers(1, n + 1))
        core = doc[max(0, cursor - length) : cursor]
    fill, need = [], length - len(core)
    while need > 0:
        other = data.doc(data.random_doc(rng))
        tail = np.concatenate([other[-(need - 1) :] if need > 1 else other[:0], [sp.eot]])
        fill.insert(0, tail)
        need -= len(tail)
    return np.concatenate([*fill, core]).astype(np.int64)


def engine_batch(rng, data: TokenData, sp: Special, batch_size: int, length: int, fim_rate: float = 0.5) -> np.ndarray:
    return np.stack([engine_context(rng, data, sp, length, fim_rate) for _ in range(batch_size)])

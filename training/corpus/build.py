#!/usr/bin/env python3
"""Build the training corpus from fetched packages: exclude reserved packages, de-duplicate,
cap the mix per language, split train/validation by package.

    /usr/bin/python3 training/corpus/build.py --raw data/corpus/raw --out data/corpus

Writes ``<out>/{train,val}.jsonl.xz`` (``pkg``, ``path``, ``lang``, ``license``, ``text``),
``<out>/manifest.json`` (files, bytes per language and split, licences, what was removed)
and ``<out>/heldout-hashes.txt``.

Reserved packages (``training/corpus/heldout.txt``, never trained or tuned on) are excluded by package name and, to catch
vendored copies inside other packages, by the content hash of every file of theirs (fetched
into a temporary folder only to hash it) and by ``vendor/`` / ``_vendor/`` path names that
carry a reserved package's name.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import re
import subprocess
import sys
import tarfile
import tempfile
import zlib
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from filters import extract_safely, language_of, license_ok  # noqa: E402

# The reserved-package list lives beside this script; nothing in it is trained or tuned on.
HELDOUT = Path(__file__).resolve().parent / "heldout.txt"

# Share of the corpus per language (bytes), JS/TS first (issue 3; docs/TRAINING.md "Corpus").
MIX = {"typescript": 0.27, "javascript": 0.30, "python": 0.30, "go": 0.06, "rust": 0.05,
       "java": 0.025, "cpp": 0.02, "c": 0.01, "ruby": 0.015, "php": 0.01, "shell": 0.005,
       "csharp": 0.0, "css": 0.005}


def reserved() -> list[tuple[str, str]]:
    out = []
    for line in HELDOUT.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            src, name = line.split()
            out.append((src, name))
    return out


def norm_hash(text: str) -> str:
    return hashlib.sha1(re.sub(r"\s+", " ", text).strip().encode()).hexdigest()


def reserved_hashes(cache: Path) -> set[str]:
    """Content hashes of every source file of the reserved packages."""
    hashes: set[str] = set()
    cache.mkdir(parents=True, exist_ok=True)
    for src, name in reserved():
        with tempfile.TemporaryDirectory() as td:
            if src == "npm":
                r = subprocess.run(["npm", "pack", "--silent", "--json", "--pack-destination", td, name], capture_output=True, text=True)
                try:
                    fn = json.loads(r.stdout)[0]["filename"]
                    with tarfile.open(Path(td) / fn) as tf:
                        extract_safely(tf, Path(td) / "x")
                except (json.JSONDecodeError, IndexError, KeyError, tarfile.TarError):
                    print(f"warning: could not fetch reserved npm {name}; name filter only", file=sys.stderr)
                    continue
            else:
                subprocess.run(["apt-get", "download", "-qq", name], cwd=td, capture_output=True)
                debs = list(Path(td).glob("*.deb"))
                if not debs:
                    print(f"warning: could not fetch reserved deb {name}; name filter only", file=sys.stderr)
                    continue
                subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(Path(td) / "x")], check=False)
            for p in (Path(td) / "x").rglob("*"):
                if p.is_file() and not p.is_symlink() and language_of(str(p)):
                    try:
                        hashes.add(norm_hash(p.read_text(encoding="utf-8")))
                    except (UnicodeDecodeError, OSError):
                        pass
    return hashes


def reserved_path_re() -> re.Pattern:
    names = [re.escape(n.removeprefix("python3-")) for _, n in reserved()]
    return re.compile(r"(^|/)(_vendor|vendor|vendored|node_modules)/(" + "|".join(names) + r")(/|\.py$)")


def package_name(pkg: str) -> tuple[str, str]:
    """("npm", "@scope/x") for "npm:@scope/x@1.2.3"; ("debian", "python3-x") for "deb:python3-x"."""
    src, _, spec = pkg.partition(":")
    if src == "npm":
        return "npm", spec.rpartition("@")[0] or spec
    return "debian", spec


def is_reserved_pkg(pkg: str, reserved_set: set[tuple[str, str]]) -> bool:
    return package_name(pkg) in reserved_set


def reserved_reason(r: dict, reserved_set: set, vend: re.Pattern, held: set[str]) -> str | None:
    """Why a corpus file must be excluded as (a copy of) a reserved package, or None."""
    if is_reserved_pkg(r["pkg"], reserved_set):
        return "reserved package"
    if vend.search(r["path"]):
        return "reserved vendored path"
    if norm_hash(r["text"]) in held:
        return "reserved content"
    return None


SHINGLE = 5
NPERM = 64
BANDS, ROWS = 16, 4
_rng = np.random.default_rng(7)
_A = _rng.integers(1, 2**31 - 1, NPERM, dtype=np.uint64)
_B = _rng.integers(0, 2**31 - 1, NPERM, dtype=np.uint64)
WORD = re.compile(r"\w+")


def minhash(text: str) -> np.ndarray | None:
    words = WORD.findall(text)
    if len(words) < SHINGLE:
        return None
    sh = {zlib.crc32(" ".join(words[i : i + SHINGLE]).encode()) for i in range(0, len(words) - SHINGLE + 1)}
    h = np.fromiter(sh, dtype=np.uint64)
    return ((h[None, :] * _A[:, None] + _B[:, None]) % np.uint64(2**31 - 1)).min(axis=1)


def split_of(pkg: str) -> str:
    """Fixed split by a hash of the package name: about 3% validation."""
    return "val" if int(hashlib.sha1(pkg.encode()).hexdigest(), 16) % 100 < 3 else "train"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--raw", type=Path, default=Path("data/corpus/raw"))
    ap.add_argument("--out", type=Path, default=Path("data/corpus"))
    ap.add_argument("--total-mb", type=float, default=260.0, help="target corpus size")
    args = ap.parse_args()
    held = reserved_hashes(Path(tempfile.gettempdir()) / "ptp-heldout")
    vend = reserved_path_re()
    reserved_set = set(reserved())
    (args.out / "heldout-hashes.txt").write_text("\n".join(sorted(held)) + "\n")
    removed = defaultdict(int)
    seen: set[str] = set()
    buckets: dict[tuple, set] = defaultdict(set)
    by_lang: dict[str, list] = defaultdict(list)
    n_files = 0
    for f in sorted(args.raw.rglob("*.jsonl.xz")):
        with lzma.open(f, "rt", encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line)
                n_files += 1
                why = reserved_reason(r, reserved_set, vend, held)
                if why is None and not license_ok(r["license"]):
                    why = "licence not permissive for every file"
                if why:
                    removed[why] += 1
                    continue
                h = norm_hash(r["text"])
                if h in seen:
                    removed["exact duplicate"] += 1
                    continue
                seen.add(h)
                mh = minhash(r["text"])
                if mh is not None:
                    keys = [(b, mh[b * ROWS : (b + 1) * ROWS].tobytes()) for b in range(BANDS)]
                    if any(k in buckets for k in keys):
                        removed["near duplicate"] += 1
                        continue
                    for k in keys:
                        buckets[k] = True  # type: ignore[assignment]
                by_lang[r["lang"]].append(r)
    # choose the mix: per language up to its share of the target; shuffled deterministically
    rng = np.random.default_rng(0)
    manifest = {"files_seen": n_files, "removed": dict(removed), "languages": {}, "licences": defaultdict(int)}
    packages: dict[str, set] = {"train": set(), "val": set()}
    outs = {s: lzma.open(args.out / f"{s}.jsonl.xz", "wt", encoding="utf-8", preset=6) for s in ("train", "val")}
    for lang, rows in sorted(by_lang.items()):
        budget = MIX.get(lang, 0.0) * args.total_mb * 1e6
        order = rng.permutation(len(rows))
        stats = {"train": [0, 0], "val": [0, 0], "available_bytes": sum(len(r["text"]) for r in rows)}
        used = 0
        for i in order:
            r = rows[i]
            if used + len(r["text"]) > budget:
                continue
            used += len(r["text"])
            s = split_of(r["pkg"])
            stats[s][0] += 1
            stats[s][1] += len(r["text"].encode())
            manifest["licences"][r["license"]] += 1
            outs[s].write(json.dumps(r, ensure_ascii=False) + "\n")
            packages[s].add(r["pkg"])
        manifest["languages"][lang] = {"train_files": stats["train"][0], "train_bytes": stats["train"][1],
                                       "val_files": stats["val"][0], "val_bytes": stats["val"][1],
                                       "available_bytes": stats["available_bytes"]}
        print(f"{lang:12s} train {stats['train'][1]/1e6:7.1f} MB  val {stats['val'][1]/1e6:5.1f} MB  (available {stats['available_bytes']/1e6:.1f} MB)")
    for o in outs.values():
        o.close()
    manifest["licences"] = dict(sorted(manifest["licences"].items(), key=lambda kv: -kv[1]))
    manifest["packages"] = {s: sorted(p) for s, p in packages.items()}
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print("removed:", dict(removed))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Fetch the training corpus from the npm registry and Debian's packages.

Rerunnable and offline-safe: downloads go to a cache folder (``--cache``), already
fetched packages are skipped, and nothing runs package install scripts (``npm pack``
and ``apt-get download`` + ``dpkg-deb -x`` only).

Output: ``<out>/raw/<source>/<package>.jsonl.xz`` with one JSON object per kept file
(``pkg``, ``path``, ``lang``, ``license``, ``text``). ``build.py`` then de-duplicates,
removes reserved packages and splits train/validation.

    /usr/bin/python3 training/corpus/fetch.py --out data/corpus
"""
from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from filters import extract_safely, language_of, keep_file, license_ok  # noqa: E402

# The package lists to fetch from (npm-recommended.tsv, deb-*.txt) live in the repository.
LISTS = Path(__file__).resolve().parent / "lists"

# Languages we want and a byte cap per source package, so that one generated SDK or
# a huge stdlib cannot dominate the mix (docs/TRAINING.md "Corpus").
PER_PACKAGE_CAP = {"npm": 1_200_000, "deb": 2_000_000, "deb-core": 12_000_000}

# Debian picks per language list: how many packages to sample from each list.
DEB_SAMPLES = {
    "deb-py.txt": 420,
    "deb-node.txt": 160,
    "deb-go.txt": 140,
    "deb-rust.txt": 160,
    "deb-ruby.txt": 60,
    "deb-php.txt": 50,
}
DEB_CORE = [
    "libpython3.11-stdlib", "golang-1.19-src", "openjdk-17-source", "libruby3.1",
    "libstdc++-12-dev", "libfmt-dev", "nlohmann-json3-dev", "googletest", "libabsl-dev",
    "bash-completion", "rapidjson-dev", "libglm-dev",
]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def stable_sample(names: list[str], k: int, salt: str) -> list[str]:
    ranked = sorted(names, key=lambda n: hashlib.sha1((salt + n).encode()).hexdigest())
    return ranked[:k]


def write_package(out: Path, source: str, pkg: str, license: str, root: Path, cap: int) -> int:
    """Walk an unpacked package, keep readable source files, write them as jsonl.xz."""
    dest = out / "raw" / source / (re.sub(r"[^A-Za-z0-9._@+-]", "_", pkg) + ".jsonl.xz")
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for fn in sorted(filenames):
            p = Path(dirpath) / fn
            rel = str(p.relative_to(root))
            lang = language_of(rel)
            if lang is None or p.is_symlink():
                continue
            try:
                data = p.read_bytes()
            except OSError:
                continue
            text = keep_file(rel, data)
            if text is not None:
                files.append((rel, lang, text))
    # Prefer hand-written TypeScript sources over compiled JS of the same module.
    ts_stems = {re.sub(r"\.(ts|tsx)$", "", f[0].split("/src/", 1)[-1]) for f in files if f[1] == "typescript" and not f[0].endswith(".d.ts")}
    total, kept = 0, []
    for rel, lang, text in files:
        if lang == "javascript" and ts_stems and re.sub(r"\.(c|m)?js$", "", rel.split("/dist/", 1)[-1].split("/lib/", 1)[-1]) in ts_stems:
            continue
        if total + len(text) > cap:
            continue
        total += len(text)
        kept.append({"pkg": f"{source}:{pkg}", "path": rel, "lang": lang, "license": license, "text": text})
    dest.parent.mkdir(parents=True, exist_ok=True)
    with lzma.open(dest, "wt", encoding="utf-8", preset=1) as f:
        for r in kept:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return total


def fetch_npm(out: Path, cache: Path, limit: int | None):
    rows = []
    for line in (LISTS / "npm-recommended.tsv").read_text().splitlines():
        if not line.strip() or line.startswith("#"):  # the header row and comments
            continue
        spec, lic = line.split("\t")[:2]
        rows.append((spec, lic))
    if limit:
        rows = rows[:limit]
    tarballs = cache / "npm"
    tarballs.mkdir(parents=True, exist_ok=True)
    todo = [(s, l) for s, l in rows if not (out / "raw" / "npm" / (re.sub(r"[^A-Za-z0-9._@+-]", "_", s) + ".jsonl.xz")).exists()]
    for i in range(0, len(todo), 20):
        batch = todo[i : i + 20]
        r = subprocess.run(["npm", "pack", "--silent", "--json", "--pack-destination", str(tarballs)] + [s for s, _ in batch],
                           capture_output=True, text=True)
        try:
            packed = {f"{e['name']}@{e['version']}": e["filename"] for e in json.loads(r.stdout)}
        except (json.JSONDecodeError, KeyError):
            log("npm pack failed for batch", [s for s, _ in batch], r.stderr[-400:])
            continue
        for spec, lic in batch:
            if not license_ok(lic) or spec not in packed:
                log("skip", spec, lic)
                continue
            tgz = tarballs / packed[spec]
            with tempfile.TemporaryDirectory() as td:
                try:
                    with tarfile.open(tgz) as tf:
                        extract_safely(tf, td)
                except (tarfile.TarError, OSError) as e:
                    log("bad tarball", spec, e)
                    continue
                n = write_package(out, "npm", spec, lic, Path(td), PER_PACKAGE_CAP["npm"])
            tgz.unlink(missing_ok=True)
            log(f"npm {spec}: {n/1e6:.2f} MB")


def deb_license(root: Path, pkg: str) -> str:
    """Every licence the package's copyright file names, joined by " / ". ``license_ok``
    accepts the package only if all of them are permissive: a DEP-5 file's ``Files:`` globs
    name source paths, which cannot be matched to the installed files, so a package whose
    copyright also lists GPL (or MPL, CC-BY, ...) files is left out whole."""
    for cp in (root / "usr/share/doc").glob("*/copyright"):
        lic = re.findall(r"^License:\s*(\S[^\n]*)", cp.read_text(errors="replace"), re.M)
        return " / ".join(sorted(set(l.strip() for l in lic))) or "unknown"
    return "unknown"


def fetch_deb(out: Path, cache: Path, names: list[str], cap: int):
    debs = cache / "deb"
    debs.mkdir(parents=True, exist_ok=True)
    todo = [n for n in names if not (out / "raw" / "deb" / (re.sub(r"[^A-Za-z0-9._@+-]", "_", n) + ".jsonl.xz")).exists()]
    for i in range(0, len(todo), 20):
        batch = todo[i : i + 20]
        subprocess.run(["apt-get", "download", "-qq"] + batch, cwd=debs, capture_output=True, text=True)
        for name in batch:
            found = sorted(debs.glob(f"{name}_*.deb"))
            if not found:
                # apt-get download fails the whole batch on one unknown name: retry alone
                subprocess.run(["apt-get", "download", "-qq", name], cwd=debs, capture_output=True)
                found = sorted(debs.glob(f"{name}_*.deb"))
            if not found:
                log("no deb", name)
                continue
            with tempfile.TemporaryDirectory() as td:
                subprocess.run(["dpkg-deb", "-x", str(found[0]), td], check=False)
                lic = deb_license(Path(td), name)
                if not license_ok(lic):
                    log("skip licence", name, lic)
                    dest = out / "raw" / "deb" / (re.sub(r"[^A-Za-z0-9._@+-]", "_", name) + ".jsonl.xz")
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    with lzma.open(dest, "wt") as f:
                        pass
                else:
                    n = write_package(out, "deb", name, lic, Path(td), cap)
                    log(f"deb {name}: {n/1e6:.2f} MB ({lic})")
            for f in found:
                f.unlink(missing_ok=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("data/corpus"))
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "ptp-corpus-cache")
    ap.add_argument("--only", choices=["npm", "deb"], default=None)
    ap.add_argument("--npm-limit", type=int, default=None, help="first N npm packages only (for a quick run)")
    ap.add_argument("--deb-scale", type=float, default=1.0, help="scale the Debian sample sizes")
    args = ap.parse_args()
    if args.only in (None, "npm"):
        fetch_npm(args.out, args.cache, args.npm_limit)
    if args.only in (None, "deb"):
        fetch_deb(args.out, args.cache, DEB_CORE, PER_PACKAGE_CAP["deb-core"])
        for lst, k in DEB_SAMPLES.items():
            names = [l.strip() for l in (LISTS / lst).read_text().splitlines() if l.strip() and not l.startswith("#")]
            fetch_deb(args.out, args.cache, stable_sample(names, int(k * args.deb_scale), lst), PER_PACKAGE_CAP["deb"])
    shutil.rmtree(args.cache, ignore_errors=True)


if __name__ == "__main__":
    main()

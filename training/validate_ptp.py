"""PTP validation of a checkpoint, as the ptp stage measures it (``train.eval_ptp``), on either contexts.

    /usr/bin/python3 training/validate_ptp.py --ckpt training/checkpoints/ptp.fp16.part0 \\
        --data data/tokens --tokenizer data/gpu/tokenizer.json --contexts engine --rows 32

Prints the mean leading-correct count per window (the stage's "val correct"), P(c >= j), and the
engine's reading of the same windows (``ptp.engine_histogram``: the first row is not a draft).
With --rows 128 and the stage's window settings it repeats the GPU run's validation set.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ptp  # noqa: E402
import train  # noqa: E402
from data import Special, TokenData, special_ids  # noqa: E402
from model import load_weights  # noqa: E402


def survival(hist: list[float], n: int) -> list[float]:
    return [sum(hist[j:]) for j in range(1, n + 1)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", type=Path, required=True)
    ap.add_argument("--data", type=Path, required=True, help="token shards (its val/ split is used)")
    ap.add_argument("--tokenizer", type=Path, required=True)
    ap.add_argument("--contexts", choices=["engine", "packed"], default="engine")
    ap.add_argument("--rows", type=int, default=32, help="contexts per batch (the stage's --batch-size)")
    ap.add_argument("--batches", type=int, default=6, help="the stage's --eval-batches")
    ap.add_argument("--window", type=int, default=24)
    ap.add_argument("--windows", type=int, default=20)
    ap.add_argument("--gen-len", type=int, default=48)
    ap.add_argument("--seq-len", type=int, default=512)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0 = all cores)")
    args = ap.parse_args(argv)
    if args.device == "cpu":
        torch.set_num_threads(args.threads or os.cpu_count())
    model, ck = load_weights(args.ckpt)
    model.to(args.device).eval()
    sampling = ck.get("sampling", {"temperature": 0.2, "top_k": 50, "top_p": 0.95})
    stage = argparse.Namespace(seq_len=args.seq_len, gen_len=args.gen_len, window=args.window, windows=args.windows,
                               contexts=args.contexts, batch_size=args.rows, **sampling)
    correct, hist = train.eval_ptp(model, TokenData(args.data / "val"), Special(special_ids(args.tokenizer)), stage,
                                   args.device, n_batches=args.batches)
    fmt = lambda xs: " ".join(f"{x:.3f}" for x in xs)  # noqa: E731
    print(f"{args.ckpt} on {args.contexts} contexts, {args.rows * args.batches} of them: val correct {correct:.3f}")
    print(f"  P(c >= 1..6), first row included: {fmt(survival(hist, 6))}")
    print(f"  P(>= 1..6 drafts right), as the engine drafts: {fmt(survival(ptp.engine_histogram(hist), 6))}")


if __name__ == "__main__":
    main()

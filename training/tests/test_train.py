"""Training runs end to end on CPU: teacher (single process and 2-process DDP), resume, PTP, export."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ROOT / "training" / "train.py"
TOKENIZER = ROOT / "test" / "fixtures" / "tiny-model" / "tokenizer.json"
TINY = '{"hidden_size":32,"num_layers":2,"num_heads":2,"intermediate_size":64,"lora_rank":4,"vocab_size":8192}'

sys.path.insert(0, str(ROOT / "training"))
from model import load_weights  # noqa: E402


def make_tokens(d: Path):
    rng = np.random.default_rng(0)
    for split, n_docs in (("train", 40), ("val", 6)):
        s = d / split
        s.mkdir(parents=True)
        lens = rng.integers(50, 400, n_docs)
        # a learnable pattern: each document counts up modulo a small range
        toks = np.concatenate([(np.arange(n) % 97 + 10 + i % 5) for i, n in enumerate(lens)]).astype(np.uint16)
        toks.tofile(s / "tokens.bin")
        np.concatenate([[0], np.cumsum(lens)]).astype(np.int64).tofile(s / "docs.idx")
        (s / "docs.json").write_text(json.dumps([{"lang": "python", "pkg": "x", "path": "x.py"}] * n_docs))


def run(args, env=None):
    r = subprocess.run(args, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    return r.stdout + r.stderr


def common(tmp):
    return ["--data", str(tmp / "tokens"), "--tokenizer", str(TOKENIZER), "--device", "cpu", "--threads", "1",
            "--batch-size", "2", "--seq-len", "64", "--log-every", "1"]


def test_teacher_learns_resumes_and_ptp_trains(tmp_path):
    make_tokens(tmp_path / "tokens")
    ck = tmp_path / "teacher.pt"
    run([sys.executable, str(TRAIN), "teacher", *common(tmp_path), "--out", str(ck), "--steps", "30", "--lr", "3e-3",
         "--warmup", "5", "--config", TINY])
    hist = torch.load(ck)["train_state"]["history"]
    assert hist[-1]["val_loss"] < 8.5, hist  # below uniform (ln 8192 = 9.01): it learned
    run([sys.executable, str(TRAIN), "teacher", *common(tmp_path), "--out", str(ck), "--steps", "35", "--resume"])
    assert torch.load(ck)["train_state"]["step"] == 35
    parts = tmp_path / "parts"
    ptp_args = [sys.executable, str(TRAIN), "ptp", *common(tmp_path), "--init", str(ck), "--out", str(tmp_path / "ptp.pt"),
                "--window", "4", "--windows", "4", "--gen-len", "8", "--sample-reuse", "2", "--sample-batch", "4",
                "--eval-batches", "1", "--export-parts", str(parts)]
    # The starting weights are the bar: three steps in warm-up do not beat them, and write nothing.
    log = run([*ptp_args, "--steps", "3"])
    assert "at the start" in log and not parts.exists() and not (tmp_path / "ptp.pt").exists(), log[-1500:]
    # Widened from the teacher's LoRA rank 4 to 6: the checkpoint, validation and export follow.
    run([*ptp_args, "--steps", "20", "--lr", "1e-2", "--warmup", "2", "--lora-rank", "6"])
    model, extra = load_weights(parts / "ptp.fp16.part0")
    assert model.cfg.lora_rank == 6
    assert len(extra["hist"]) == 5 and abs(sum(extra["hist"]) - 1) < 1e-5
    # validate_ptp.py repeats the stage's validation: the number the checkpoint was selected on.
    out = run([sys.executable, str(ROOT / "training" / "validate_ptp.py"), "--ckpt", str(parts / "ptp.fp16.part0"),
               "--data", str(tmp_path / "tokens"), "--tokenizer", str(TOKENIZER), "--device", "cpu", "--threads", "1",
               "--rows", "2", "--batches", "1", "--window", "4", "--windows", "4", "--gen-len", "8", "--seq-len", "64"])
    assert f"val correct {extra['val_correct']:.3f}" in out, out
    # The export's histogram is the engine's reading: the window's first row is not a draft.
    run([sys.executable, str(ROOT / "training" / "export.py"), "--ckpt", str(parts / "ptp.fp16.part0"),
         "--tokenizer", str(TOKENIZER), "--out", str(tmp_path / "exported"), "--name", "tiny"])
    manifest = json.loads((tmp_path / "exported" / "model.json").read_text())["ptp"]
    h = extra["hist"]
    assert manifest["train_histogram"] == h
    assert manifest["acceptance_histogram"] == [h[0] + h[1], h[2], h[3], h[4]]
    base_before, _ = load_weights(ck)
    sd0, sd1 = base_before.state_dict(), model.state_dict()
    assert all(torch.allclose(sd0[k], sd1[k], atol=1e-2) for k in sd0 if "lora_" not in k and "u_embed" not in k), "base must stay frozen"


def test_ddp_with_two_cpu_processes_keeps_ranks_in_sync(tmp_path):
    """Two gloo processes, launched the way torchrun launches them (RANK/WORLD_SIZE/MASTER_*).
    Debian's torch 1.13 torchrun crashes under Python 3.11 before starting any worker
    (elastic's Std.from_str returns None), so the test sets the same environment itself;
    on torch 2.x machines `torchrun --nproc_per_node=N training/train.py ...` is the command."""
    make_tokens(tmp_path / "tokens")
    ck = tmp_path / "ddp.pt"
    cmd = [sys.executable, str(TRAIN), "teacher", *common(tmp_path), "--out", str(ck), "--steps", "4", "--config", TINY]
    base = {**os.environ, "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29517"}
    procs = [subprocess.Popen(cmd, env={**base, "RANK": str(r), "LOCAL_RANK": str(r)}, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for r in range(2)]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert "world=2" in outs[0] and "ranks in sync: True" in outs[0]
    state = torch.load(ck)["train_state"]
    assert state["step"] == 4 and state["tokens"] == 4 * 2 * 2 * 64  # both ranks' tokens counted

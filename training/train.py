#!/usr/bin/env python3
"""Train the teacher (next-token loss, half FIM) and then the PTP adapters (O-PTP distillation).

    # teacher, resumable, CPU or CUDA (bf16 autocast on CUDA)
    python3 training/train.py teacher --data data/tokens --tokenizer models/x/tokenizer.json \
        --out ckpt/teacher.pt --time-limit 3600
    # PTP adapters distilled from the frozen teacher on its own samples
    python3 training/train.py ptp --data data/tokens --tokenizer ... --init ckpt/teacher.pt --out ckpt/ptp.pt
    # DDP: torchrun --nproc_per_node=2 training/train.py teacher ... (gloo on CPU, nccl on CUDA)

Both stages save a checkpoint every --save-every seconds and at the end, resume from --out
when it exists (``--resume``), and stop by themselves at --time-limit. The schedule is
time-based (warmup, then cosine to 10% at the time limit) so a run of any length finishes
its schedule. The PTP stage validates its starting weights first and writes --out (and its
--export-parts) only when a later validation beats them, so a run that only made them worse
writes nothing; --save-last also writes the last weights, always, to OUT.last.pt.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import Special, TokenData, batch, engine_batch, special_ids  # noqa: E402
from model import PART_BYTES, Config, PTPModel, count_params, grow_lora, load_weights, save_weights  # noqa: E402
import ptp  # noqa: E402


def log(*a):
    if int(os.environ.get("RANK", "0")) == 0:
        print(time.strftime("%H:%M:%S"), *a, flush=True)


def setup_distributed(device: str):
    if "WORLD_SIZE" not in os.environ or int(os.environ["WORLD_SIZE"]) == 1:
        return 0, 1
    backend = "nccl" if device == "cuda" else "gloo"
    dist.init_process_group(backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    if device == "cuda":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", rank)))
    return rank, world


def all_reduce_grads(params, world):
    if world == 1:
        return
    for p in params:
        if p.grad is not None:
            dist.all_reduce(p.grad)
            p.grad /= world


def check_in_sync(model, world) -> bool:
    """All ranks hold the same weights (DDP by gradient all-reduce keeps them equal)."""
    if world == 1:
        return True
    total = torch.stack([p.detach().double().sum() for p in model.parameters()]).sum().reshape(1).cpu()
    gathered = [torch.zeros_like(total) for _ in range(world)]
    dist.all_gather(gathered, total)
    ok = all(torch.equal(g, gathered[0]) for g in gathered)
    log(f"ranks in sync: {ok}")
    return ok


def lr_at(step, elapsed, args):
    warm = min(1.0, (step + 1) / args.warmup)
    frac = min(1.0, elapsed / args.time_limit) if args.time_limit else min(1.0, step / max(1, args.steps))
    return args.lr * warm * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))


def schedule(opt, step, t0, args) -> bool:
    """Sets this step's learning rate; False once --steps or --time-limit is reached."""
    elapsed = time.time() - t0
    if (args.time_limit and elapsed > args.time_limit) or (args.steps and step >= args.steps):
        return False
    for g in opt.param_groups:
        g["lr"] = lr_at(step, elapsed, args)
    return True


def autocast(device):
    if device == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def to_dev(x, device):
    return torch.from_numpy(x).to(device, non_blocking=True)


_worker = {}


def _worker_init(data_dir, tokenizer, seed, mix=(0.5, 0.0)):
    _worker["mix"] = mix
    _worker["data"] = TokenData(data_dir)
    _worker["sp"] = Special(special_ids(tokenizer))
    _worker["rng"] = np.random.default_rng(seed)


def _worker_batch(shape):
    return batch(_worker["rng"], _worker["data"], _worker["sp"], *shape, *_worker["mix"])


def _worker_loop(q, data_dir, tokenizer, seed, shape, mix):
    _worker_init(data_dir, tokenizer, seed, mix)
    while True:
        q.put(_worker_batch(shape))


def batches(args, data_dir, shape, seed):
    """Training batches from --workers background processes (inline when 0), bounded queue."""
    mix = (args.fim_rate, args.line_fim)
    if args.workers == 0:
        _worker_init(data_dir, args.tokenizer, seed, mix)
        while True:
            yield _worker_batch(shape)
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    q = ctx.Queue(maxsize=4 * args.workers)
    procs = [ctx.Process(target=_worker_loop, args=(q, data_dir, args.tokenizer, seed * 100 + i, shape, mix), daemon=True)
             for i in range(args.workers)]
    for p in procs:
        p.start()
    try:
        while True:
            yield q.get()
    finally:
        for p in procs:
            p.terminate()


def save(model, out: Path, extra: dict, parts_dir: Path | None):
    """fp32 checkpoint at ``out``; with --export-parts also fp16 parts of <= 15 MB each
    (a GPU machine returns files of at most 16 MiB). ``join_parts`` reassembles them."""
    out.parent.mkdir(parents=True, exist_ok=True)
    save_weights(model, out, extra)
    if parts_dir is None:
        return
    import io
    buf = io.BytesIO()
    save_weights(model, buf, extra, dtype=torch.float16)
    data = buf.getvalue()
    parts_dir.mkdir(parents=True, exist_ok=True)
    for old in parts_dir.glob(out.stem + ".fp16.part*"):
        old.unlink()
    for i in range(0, len(data), PART_BYTES):
        (parts_dir / f"{out.stem}.fp16.part{i // PART_BYTES}").write_bytes(data[i : i + PART_BYTES])


@torch.no_grad()
def eval_teacher(model, val, sp, args, device, n_batches=8):
    model.eval()
    rng = np.random.default_rng(1234)
    tot, n = 0.0, 0
    for _ in range(n_batches):
        x = to_dev(batch(rng, val, sp, args.batch_size, args.seq_len + 1), device)
        with autocast(device):
            logits, _ = model(input_ids=x[:, :-1])
        tot += F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1), reduction="sum").item()
        n += x[:, 1:].numel()
    model.train()
    return tot / n


def train_teacher(args):
    device = args.device
    rank, world = setup_distributed(device)
    torch.manual_seed(args.seed)  # same initial weights on every rank; data streams differ per rank
    sp = Special(special_ids(args.tokenizer))
    val = TokenData(args.data / "val")
    out = Path(args.out)
    if args.resume and out.exists():
        model, ck = load_weights(out)
        state = ck.get("train_state", {})
        log(f"resumed from {out}: {state}")
    elif args.init:
        # Fine-tuning: the base weights go on from a checkpoint; its adapters are kept as they are.
        model, _ = load_weights(Path(args.init))
        state = {}
        log(f"teacher fine-tune from {args.init}")
    else:
        cfg = Config(**json.loads(args.config)) if args.config else Config()
        model, state = PTPModel(cfg), {}
    model.to(device)
    params = model.base_parameters()
    for p in model.adapter_parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.95), weight_decay=0.1)
    log(f"teacher: {count_params(model)} params, world={world}, device={device}")
    stream = batches(args, args.data / "train", (args.batch_size, args.seq_len + 1), args.seed * 1000 + rank + state.get("step", 0))
    step, tokens = state.get("step", 0), state.get("tokens", 0)
    t0, last_save = time.time(), time.time()
    history = state.get("history", [])
    while schedule(opt, step, t0, args):
        x = to_dev(next(stream), device)
        with autocast(device):
            logits, _ = model(input_ids=x[:, :-1])
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        all_reduce_grads(params, world)
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        tokens += x[:, 1:].numel() * world
        if step % args.log_every == 0:
            log(f"step {step} loss {loss.item():.4f} lr {opt.param_groups[0]['lr']:.2e} tokens {tokens/1e6:.2f}M "
                f"{tokens/ max(1e-9, time.time()-t0) / 1e3:.1f}k tok/s")
        if rank == 0 and time.time() - last_save > args.save_every:
            vl = eval_teacher(model, val, sp, args, device)
            history.append({"step": step, "tokens": tokens, "val_loss": vl})
            log(f"val loss {vl:.4f}")
            save(model, out, {"train_state": {"step": step, "tokens": tokens, "history": history}}, args.export_parts)
            last_save = time.time()
    check_in_sync(model, world)
    if rank == 0:
        vl = eval_teacher(model, val, sp, args, device)
        history.append({"step": step, "tokens": tokens, "val_loss": vl, "seconds": time.time() - t0})
        log(f"teacher done: step {step}, tokens {tokens}, val loss {vl:.4f}")
        save(model, out, {"train_state": {"step": step, "tokens": tokens, "history": history}}, args.export_parts)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


def teacher_generate(model, rng, data, sp, args, device, rows):
    """Teacher continuations (``rows`` of them) after one random-length context each."""
    S, G = args.seq_len, args.gen_len
    ctx_len = int(rng.integers(S // 4, S - G + 1))
    contexts = engine_batch if args.contexts == "engine" else batch
    ctx = to_dev(contexts(rng, data, sp, rows, ctx_len), device)
    model.eval()
    with torch.no_grad(), autocast(device):
        ids = ptp.generate(model, ctx, G, args.temperature, args.top_k, args.top_p, sp.eot)
    return ids, ctx_len


def teacher_bins(model, ids, ctx_len, args):
    """The sampled rows' bins and KV: what one PTP step trains on."""
    model.eval()
    with torch.no_grad(), autocast(ids.device.type):
        logits, kv = model(input_ids=ids)
    probs = ptp.sampling_dist(logits[:, :-1].float(), args.temperature, args.top_k, args.top_p)
    left, right = ptp.bin_edges(probs, ids[:, 1:])
    kv = [(k.detach(), v.detach()) for k, v in kv]
    return ids, ctx_len, left, right, kv


def teacher_sample(model, rng, data, sp, args, device):
    """Teacher continuations after random-length contexts, their bins, and the context's KV."""
    return teacher_bins(model, *teacher_generate(model, rng, data, sp, args, device, args.batch_size), args)


def ptp_windows(sample, rng, args, device, beta, eot):
    """Nested windows over one teacher sample: fresh starts and fresh u inside the bins."""
    ids, ctx_len, left, right, kv = sample
    G, L, N = args.gen_len, args.window, args.windows
    lo, hi = ctx_len, ctx_len + G - 1
    starts = torch.stack([torch.from_numpy(np.sort(rng.choice(np.arange(lo, hi + 1), size=min(N, hi - lo + 1), replace=False)))
                          for _ in range(ids.shape[0])]).to(device)
    u, pos, bias, tgt = ptp.windows(ids, starts, L, left, right, beta, eot)
    return u, pos, bias, tgt, kv


def ptp_batch(model, rng, data, sp, args, device, beta):
    """Teacher samples + nested windows for one PTP step."""
    return ptp_windows(teacher_sample(model, rng, data, sp, args, device), rng, args, device, beta, sp.eot)


def ptp_loss(model, b, device):
    u, pos, bias, tgt, kv = b
    with autocast(device):
        logits, _ = model(aux=u, position_ids=pos, attention_bias=bias, past=kv)
    loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=-100)
    return loss, logits


@torch.no_grad()
def eval_ptp(model, val, sp, args, device, n_batches=6):
    """Mean leading-correct tokens per window on fixed validation contexts and u (reproducible)."""
    rng = np.random.default_rng(4321)
    cpu_state = torch.random.get_rng_state()
    cuda_state = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
    torch.manual_seed(4321)
    counts = []
    for _ in range(n_batches):
        b = ptp_batch(model, rng, val, sp, args, device, beta=None)
        _, logits = ptp_loss(model, b, device)
        counts.append(ptp.leading_correct(logits.argmax(-1), b[3], args.window).cpu())
    torch.random.set_rng_state(cpu_state)
    if cuda_state is not None:
        torch.cuda.set_rng_state_all(cuda_state)
    model.train()
    c = torch.cat(counts)
    hist = torch.bincount(c, minlength=args.window + 1).float()
    return c.float().mean().item(), (hist / hist.sum()).tolist()


def last_path(out: Path) -> Path:
    """Where --save-last writes the PTP stage's last weights: ``ptp.pt`` -> ``ptp.last.pt``
    (and, with --export-parts, ``ptp.last.fp16.part*`` beside the best's ``ptp.fp16.part*``)."""
    return out.with_name(f"{out.stem}.last{out.suffix}")


def train_ptp(args):
    device = args.device
    rank, world = setup_distributed(device)
    torch.manual_seed(args.seed + rank)
    sp = Special(special_ids(args.tokenizer))
    train, val = TokenData(args.data / "train"), TokenData(args.data / "val")
    out = Path(args.out)
    src = out if (args.resume and out.exists()) else Path(args.init)
    if src.is_dir():  # a converted Hugging Face model (training/convert.py): adapters from scratch
        import convert  # noqa: PLC0415

        model, ck = convert.load_for_adapters(src, args.lora_rank or 16), {}
        log(f"ptp: new rank-{model.cfg.lora_rank} adapters for the converted model {src}")
    else:
        model, ck = load_weights(src)
    if args.lora_rank and args.lora_rank != model.cfg.lora_rank:
        model = grow_lora(model, args.lora_rank)
    state = ck.get("ptp_state", {}) if src == out else {}
    model.to(device)
    for p in model.base_parameters():
        p.requires_grad_(False)
    params = model.adapter_parameters()
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    log(f"ptp: {count_params(model)} params (LoRA rank {model.cfg.lora_rank}) from {src}, L={args.window} N={args.windows} "
        f"T={args.temperature} k={args.top_k} p={args.top_p}")
    rng = np.random.default_rng(args.seed * 7919 + rank + state.get("step", 0))
    step, best = state.get("step", 0), state.get("best", -1.0)
    if state.get("contexts", "packed") != args.contexts:
        best = -1.0  # validated on other contexts: not comparable
    history = state.get("history", [])
    t0, last_eval = time.time(), time.time()

    def evaluate_and_save(final=False):
        nonlocal best
        correct, hist = eval_ptp(model, val, sp, args, device, n_batches=args.eval_batches)
        history.append({"step": step, "val_correct": correct, "seconds": time.time() - t0})
        log(f"val correct {correct:.3f} (best {best:.3f})")
        record = {"ptp_state": {"step": step, "best": max(best, correct), "history": history, "contexts": args.contexts},
                  "train_state": ck.get("train_state", {}), "hist": hist, "val_correct": correct,
                  "sampling": {"temperature": args.temperature, "top_k": args.top_k, "top_p": args.top_p},
                  "window": args.window}
        if correct > best:
            best = correct
            save(model, out, record, args.export_parts)
            log(f"wrote {out}" + (f" and its parts in {args.export_parts}" if args.export_parts else ""))
        else:
            log(f"{out} not written: {correct:.3f} does not beat {best:.3f}")
        if final and args.save_last:
            save(model, last_path(out), record, args.export_parts)
            log(f"wrote the last weights to {last_path(out)} (--save-last)")

    if rank == 0 and best < 0:
        # The starting weights are the bar: a run that only made them worse writes nothing.
        best, _ = eval_ptp(model, val, sp, args, device, n_batches=args.eval_batches)
        history.append({"step": step, "val_correct": best, "seconds": 0.0, "start": True})
        log(f"val correct {best:.3f} at the start: a checkpoint is written only when it beats this")
    t_sample = 0.0  # seconds spent sampling the teacher and building windows, between logs
    sample, pending = None, []
    while schedule(opt, step, t0, args):
        ts = time.time()
        # Sampling the teacher costs most of a step: each sample serves --sample-reuse steps,
        # each with its own window starts and its own u inside the bins.
        # Generation is sequential over --gen-len tokens, so one call for --sample-batch rows costs
        # about what one for --batch-size rows does: it is split into steps of --batch-size rows.
        if sample is None or step % args.sample_reuse == 0:
            if not pending:
                ids, ctx_len = teacher_generate(model, rng, train, sp, args, device, max(args.sample_batch, args.batch_size))
                pending = [(ids[i : i + args.batch_size], ctx_len) for i in range(0, ids.shape[0], args.batch_size)]
            sample = teacher_bins(model, *pending.pop(0), args)
        b = ptp_windows(sample, rng, args, device, 0.3, sp.eot)
        if device == "cuda":
            torch.cuda.synchronize()
        t_sample += time.time() - ts
        model.train()
        loss, logits = ptp_loss(model, b, device)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        all_reduce_grads(params, world)
        opt.step()
        step += 1
        if step % args.log_every == 0:
            c = ptp.leading_correct(logits.argmax(-1), b[3], args.window).float().mean().item()
            log(f"ptp step {step} loss {loss.item():.4f} train correct {c:.2f} lr {opt.param_groups[0]['lr']:.2e} "
                f"sampling {t_sample / args.log_every:.3f} s/step")
            t_sample = 0.0
        if rank == 0 and time.time() - last_eval > args.save_every:
            evaluate_and_save()
            last_eval = time.time()
    if rank == 0:
        evaluate_and_save(final=True)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stage", choices=["teacher", "ptp"])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--tokenizer", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--init", type=Path,
                    help="ptp stage: a teacher checkpoint or a converted model directory (training/convert.py); "
                         "teacher stage: a checkpoint to fine-tune")
    ap.add_argument("--fim-rate", type=float, default=0.5, help="teacher stage: share of FIM samples")
    ap.add_argument("--line-fim", type=float, default=0.0,
                    help="teacher stage: share of FIM samples whose middle is 1-3 whole lines (data.line_fim_sample)")
    ap.add_argument("--config", help="JSON overrides of model.Config (teacher stage)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0 = all cores)")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--time-limit", type=float, default=0, help="seconds; 0 = use --steps")
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--seq-len", type=int, default=512)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--log-every", type=int, default=20)
    ap.add_argument("--save-every", type=float, default=600)
    ap.add_argument("--workers", type=int, default=0, help="background batch workers (teacher stage)")
    ap.add_argument("--export-parts", type=Path, help="also write fp16 checkpoint parts <= 15 MB here")
    # PTP stage
    ap.add_argument("--eval-batches", type=int, default=6)
    ap.add_argument("--window", type=int, default=32, help="L: aux tokens per window")
    ap.add_argument("--windows", type=int, default=16, help="N: windows per row")
    ap.add_argument("--gen-len", type=int, default=48, help="teacher-sampled tokens per row")
    ap.add_argument("--contexts", choices=["engine", "packed"], default="engine",
                    help="where the teacher's continuations start, in training and validation: at a cursor as the "
                         "engine prompts (data.engine_context), or anywhere in a packed row (the runs up to the fourth session)")
    ap.add_argument("--lora-rank", type=int, default=0,
                    help="ptp stage: widen the adapters to this rank first (outputs unchanged; 0 = the checkpoint's)")
    ap.add_argument("--save-last", action="store_true",
                    help="ptp stage: also write the last weights, whether or not they beat the start, to OUT.last.pt "
                         "(and OUT.last.fp16.part* with --export-parts) with their validation; --out and its parts stay "
                         "the best weights that beat the start, and are not written when none did")
    ap.add_argument("--sample-reuse", type=int, default=1, help="PTP steps per teacher sample (fresh windows and u each)")
    ap.add_argument("--sample-batch", type=int, default=0,
                    help="rows the teacher samples at once, split into steps of --batch-size (0 = --batch-size)")
    ap.add_argument("--temperature", type=float, default=0.2)
    ap.add_argument("--top-k", type=int, default=50)
    ap.add_argument("--top-p", type=float, default=0.95)
    args = ap.parse_args(argv)
    if args.device == "cpu":
        torch.set_num_threads(args.threads or os.cpu_count())
    elif args.device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
    (train_teacher if args.stage == "teacher" else train_ptp)(args)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Export a checkpoint to a model directory (docs/MODEL_CONTRACT.md).

    # the shipped model
    python3 training/export.py --ckpt ckpt/ptp.pt --tokenizer data/tokenizer/tokenizer.json \
        --out models/ptp-code-10m --name ptp-code-10m
    # the engine's test fixture: tiny random weights (LoRA included), real tokenizer
    python3 training/export.py --random '{"hidden_size":32,"num_layers":2,"num_heads":2,"intermediate_size":64,"lora_rank":4}' \
        --tokenizer data/tokenizer/tokenizer.json --out test/fixtures/tiny-model --name tiny-random

Writes model.onnx, tokenizer.json, model.json (with sha256) and parity.json: inputs and
PyTorch outputs for a cold prefill and for a mixed token+aux call over a KV cache, which
test/parity.test.ts replays through onnxruntime-node.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import special_ids  # noqa: E402
import ptp  # noqa: E402
from model import NEG, Config, PTPModel, count_params, load_weights  # noqa: E402

PARITY_ATOL = 1e-3  # max |logit difference| allowed between PyTorch and onnxruntime (fp32)


class OnnxWrapper(torch.nn.Module):
    def __init__(self, model: PTPModel):
        super().__init__()
        self.model = model

    def forward(self, input_ids, aux, position_ids, attention_mask, *past_flat):
        L = self.model.cfg.num_layers
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(L)]
        logits, new = self.model(input_ids=input_ids, aux=aux, position_ids=position_ids,
                                 attention_bias=attention_mask, past=past)
        flat = [t for kv in new for t in kv]
        return (logits, *flat)


def mixed_inputs(cfg: Config, P: int, Tv: int, Ta: int, seed: int = 0):
    """A PQD-shaped call: Tv verify rows after P cached rows, then Ta aux rows in one group."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, cfg.vocab_size, (1, Tv), generator=g)
    aux = torch.floor(torch.rand(1, Ta, generator=g) * 2**24) / 2**24
    pos = torch.cat([torch.arange(P, P + Tv), torch.arange(P + Tv - 1, P + Tv - 1 + Ta)]).unsqueeze(0)
    T = Tv + Ta
    allowed = torch.zeros(T, P + T, dtype=torch.bool)
    for q in range(Tv):
        allowed[q, : P + q + 1] = True
    for j in range(Ta):
        allowed[Tv + j, : P + Tv] = True
        allowed[Tv + j, P + Tv : P + Tv + j + 1] = True
    mask = torch.zeros(T, P + T).masked_fill(~allowed, NEG).view(1, 1, T, P + T)
    return ids, aux, pos, mask


def export(model: PTPModel, out: Path, opset: int = 17):
    cfg = model.cfg
    model.eval()
    H, Dh, L = cfg.kv_heads, cfg.head_dim, cfg.num_layers
    P, Tv, Ta = 5, 3, 4
    ids, aux, pos, mask = mixed_inputs(cfg, P, Tv, Ta)
    past = [torch.randn(1, P, H, Dh) * 0.1 for _ in range(2 * L)]
    names_past = [f"past_{kind}_{i}" for i in range(L) for kind in ("key", "value")]
    names_new = [f"new_{kind}_{i}" for i in range(L) for kind in ("key", "value")]
    dyn = {"input_ids": {1: "Tv"}, "aux": {1: "Ta"}, "position_ids": {1: "T"}, "attention_mask": {2: "T", 3: "PT"},
           "logits": {1: "T"}}
    for n in names_past:
        dyn[n] = {1: "P"}
    for n in names_new:
        dyn[n] = {1: "T"}
    with torch.no_grad():
        torch.onnx.export(OnnxWrapper(model), (ids, aux, pos, mask, *past), str(out / "model.onnx"),
                          input_names=["input_ids", "aux", "position_ids", "attention_mask", *names_past],
                          output_names=["logits", *names_new], dynamic_axes=dyn, opset_version=opset,
                          do_constant_folding=False)  # folding would store the tied embedding twice


def parity_cases(model: PTPModel) -> list[dict]:
    """Reference outputs: a cold prefill (P=0, Ta=0) and a mixed call over the prefill's cache."""
    cfg = model.cfg
    cases = []
    with torch.no_grad():
        P = 9
        ids, _, _, _ = mixed_inputs(cfg, 0, P, 0, seed=1)
        pos = torch.arange(P).unsqueeze(0)
        mask = torch.zeros(P, P).masked_fill(torch.ones(P, P, dtype=torch.bool).triu(1), NEG).view(1, 1, P, P)
        logits, kv = model(input_ids=ids, aux=torch.zeros(1, 0), position_ids=pos, attention_bias=mask,
                           past=[(torch.zeros(1, 0, cfg.kv_heads, cfg.head_dim),) * 2 for _ in range(cfg.num_layers)])
        cases.append({"name": "prefill", "input_ids": ids[0].tolist(), "aux": [], "position_ids": pos[0].tolist(),
                      "attention_mask": f32(mask), "past_length": 0, "logits": f32(logits),
                      "new_key_0": f32(kv[0][0]), "new_value_last": f32(kv[-1][1])})
        ids2, aux2, pos2, mask2 = mixed_inputs(cfg, P, 4, 6, seed=2)
        logits2, kv2 = model(input_ids=ids2, aux=aux2, position_ids=pos2, attention_bias=mask2, past=kv)
        cases.append({"name": "mixed", "input_ids": ids2[0].tolist(), "aux": aux2[0].tolist(), "position_ids": pos2[0].tolist(),
                      "attention_mask": f32(mask2), "past_length": P, "past_from": "prefill",
                      "logits": f32(logits2), "new_key_0": f32(kv2[0][0]), "new_value_last": f32(kv2[-1][1])})
    return cases


def f32(t: torch.Tensor) -> str:
    """float32 little-endian, base64 (compact for the JSON fixture)."""
    import base64
    return base64.b64encode(t.detach().float().contiguous().numpy().astype("<f4").tobytes()).decode()


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--ckpt", type=Path)
    src.add_argument("--random", help="JSON Config overrides: export random weights (test fixture)")
    ap.add_argument("--tokenizer", type=Path)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--name")
    ap.add_argument("--into", type=Path, help="a converted model directory (training/convert.py): write the checkpoint's "
                    "graph with its PTP adapters there, keeping its tokenizer, special tokens and provenance")
    ap.add_argument("--version", default="0.1.0")
    ap.add_argument("--metrics", type=Path, help="JSON file with measured metrics to record in model.json")
    args = ap.parse_args()
    base_manifest = None
    if args.into:
        base_manifest = json.loads((args.into / "model.json").read_text(encoding="utf-8"))
        args.out, args.tokenizer = args.into, args.into / "tokenizer.json"
        args.name = args.name or base_manifest["name"]
    if not (args.tokenizer and args.out and args.name):
        ap.error("--tokenizer, --out and --name are required (or --into DIR)")
    args.out.mkdir(parents=True, exist_ok=True)
    tok = json.loads(args.tokenizer.read_text())
    vocab = len(tok["model"]["vocab"]) + sum(1 for t in tok["added_tokens"] if t["content"] not in tok["model"]["vocab"])
    extra: dict = {}
    if args.ckpt:
        model, ck = load_weights(args.ckpt)
        extra = {k: ck[k] for k in ("hist", "val_correct", "sampling", "window", "train_state", "ptp_state") if k in ck}
    else:
        torch.manual_seed(0)
        model = PTPModel(Config(vocab_size=vocab, **json.loads(args.random)))
        with torch.no_grad():  # peaky random distributions and a random (non-zero) drafter
            model.embed.weight.mul_(4.0)
            for n, p in model.named_parameters():
                if "lora_b" in n:
                    p.normal_(0, 0.05)
                if ".q.base" in n or ".k.base" in n:
                    p.normal_(0, 0.3)  # position-sensitive attention, so a shifted position id shows
    if model.cfg.vocab_size != vocab:
        sys.exit(f"error: {args.tokenizer} has {vocab} tokens but the checkpoint's vocab_size is {model.cfg.vocab_size}")
    model.eval()
    export(model, args.out)
    if args.tokenizer.resolve() != (args.out / "tokenizer.json").resolve():
        shutil.copyfile(args.tokenizer, args.out / "tokenizer.json")
    (args.out / "parity.json").write_text(json.dumps({"atol": PARITY_ATOL, "cases": parity_cases(model)}))
    sampling = extra.get("sampling", {"temperature": 0.2, "top_k": 50, "top_p": 0.95})
    window = extra.get("window", 32)
    hist = extra.get("hist")
    if hist is None:
        acceptance, source = [0.5 ** (c + 1) for c in range(window)] + [0.5 ** window], "a placeholder: no validation histogram"
    elif extra.get("ptp_state", {}).get("contexts") == "engine":
        acceptance = ptp.engine_histogram(hist)
        source = ("training's validation on engine contexts (train.py --contexts engine), the window's first row "
                  "excluded (ptp.engine_histogram); train_histogram is the count with it")
    else:
        acceptance, source = hist, "training's validation on packed-row contexts (the runs up to the fourth session)"
        print("warning: validated on packed-row contexts, whose windows after an end-of-text overstate acceptance; "
              "replace acceptance_histogram with the engine's measurement (npm run bench, speed.json 'acceptance')")
    manifest = {
        "name": args.name,
        "version": args.version,
        "license": "MIT",
        "architecture": {"type": "llama", **model.cfg.to_dict(), "parameters": count_params(model)},
        "context_length": model.cfg.context_length,
        "special_tokens": base_manifest["special_tokens"] if base_manifest else special_ids(args.tokenizer),
        "fim_layout": "suffix-first: <|fim_suffix|>S<|fim_prefix|>P<|fim_middle|>M<|endoftext|>",
        "sampling": sampling,
        "ptp": {"window_length": window, "acceptance_histogram": acceptance, "acceptance_histogram_source": source,
                "u_embedding": "binary-expansion-24+linear", "val_correct": extra.get("val_correct"),
                **({"train_histogram": hist} if hist is not None else {})},
        "onnx": {"file": "model.onnx", "sha256": sha256(args.out / "model.onnx"), "opset": 17,
                 "attention_mask": "additive float32: 0 attend, -1e9 masked",
                 "kv_layout": "batch,seq,heads,head_dim", "outputs_new_rows_only": True},
        "training": {k: extra[k] for k in ("train_state", "ptp_state") if k in extra},
        "metrics": json.loads(args.metrics.read_text()) if args.metrics else {},
    }
    if base_manifest is not None:  # a converted model: its own tokens, provenance and context; adapters now present
        manifest.update({k: base_manifest[k] for k in ("special_tokens", "special_token_text", "fim_layout", "converted_from", "license", "version") if k in base_manifest})
        manifest["architecture"]["type"] = base_manifest["architecture"].get("type", "llama")
        manifest["ptp"]["adapters"] = True
    (args.out / "model.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}: {count_params(model)} params, onnx {((args.out / 'model.onnx').stat().st_size) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()

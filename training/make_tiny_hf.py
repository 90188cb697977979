#!/usr/bin/env python3
"""Tiny random checkpoints in the Hugging Face layout, for the converter's tests (no downloads).

    python3 training/make_tiny_hf.py --family qwen2 --out /tmp/tiny-qwen2
    python3 training/make_tiny_hf.py --family llama --out /tmp/tiny-llama --bad missing-weights

Writes config.json, model.safetensors (HF tensor names) and tokenizer.json: the shipped
models/ptp-code-10m/tokenizer.json (byte-level BPE) with its special tokens renamed to the
family's spellings. Families: llama (Llama 3 style: GQA, untied lm_head, no FIM tokens,
fp32), qwen2 (q/k/v biases, GQA, tied, vocab padded past the tokenizer, bf16), qwen2-untied,
starcoder2 (LayerNorm, GELU MLP, biases everywhere, fp16). --bad makes a broken checkpoint
for the error-message tests.
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from safetensors_io import save_file  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BASE_TOKENIZER = ROOT / "models/ptp-code-10m/tokenizer.json"

SPECIALS = {  # the shipped tokenizer's ids 0..4: endoftext, fim_prefix, fim_middle, fim_suffix, file_sep
    "llama": ["<|end_of_text|>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>", "<|reserved_special_token_2|>", "<|reserved_special_token_3|>"],
    "qwen2": ["<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|file_sep|>"],
    "starcoder2": ["<|endoftext|>", "<fim_prefix>", "<fim_middle>", "<fim_suffix>", "<file_sep>"],
}
FAMILIES = ["llama", "qwen2", "qwen2-untied", "starcoder2"]


def tokenizer_json(family: str) -> dict:
    tok = json.loads(BASE_TOKENIZER.read_text(encoding="utf-8"))
    names = SPECIALS[family.split("-")[0]]
    for t in tok["added_tokens"]:
        t["content"] = names[t["id"]]
    for old in list(tok["model"]["vocab"]):
        if tok["model"]["vocab"][old] < len(names):
            del tok["model"]["vocab"][old]
    for i, n in enumerate(names):
        tok["model"]["vocab"][n] = i
    if family.startswith("qwen2"):  # Qwen's layout: a Sequence pre-tokenizer around ByteLevel, an NFC normalizer
        tok["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [copy.deepcopy(tok["pre_tokenizer"])]}
        tok["normalizer"] = {"type": "NFC"}
    return tok


# Same-shape random checkpoints for benchmarks (no real weights needed to time a graph).
SHAPES = {"qwen2.5-0.5b": {"d": 896, "L": 24, "H": 14, "Hkv": 2, "F": 4864, "tokens": 151665, "vocab": 151936}}


def make(family: str, out: Path, seed: int = 0, bad: str | None = None, shape: str | None = None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    tok = tokenizer_json(family)
    d, L, H, Hkv, F = 64, 2, 4, 2, 96
    if shape:
        sh = SHAPES[shape]
        d, L, H, Hkv, F = sh["d"], sh["L"], sh["H"], sh["Hkv"], sh["F"]
        vocab = tok["model"]["vocab"]
        for i in range(len(vocab), sh["tokens"]):  # unreachable filler tokens up to the real vocabulary size
            vocab[f"<|pad_{i}|>"] = i
    n_tok = len(tok["model"]["vocab"])
    Dh = d // H
    arch = family.split("-")[0]
    config = {
        "architectures": {"llama": ["LlamaForCausalLM"], "qwen2": ["Qwen2ForCausalLM"], "starcoder2": ["Starcoder2ForCausalLM"]}[arch],
        "model_type": arch, "hidden_size": d, "num_hidden_layers": L, "num_attention_heads": H, "num_key_value_heads": Hkv,
        "intermediate_size": F, "vocab_size": SHAPES[shape]["vocab"] if shape else n_tok + (64 if arch == "qwen2" else 0), "max_position_embeddings": 4096,
        "rope_theta": {"llama": 500000.0, "qwen2": 1000000.0, "starcoder2": 100000.0}[arch],
        "tie_word_embeddings": family in ("qwen2", "starcoder2"), "bos_token_id": 0, "eos_token_id": 0,
        "torch_dtype": {"llama": "float32", "qwen2": "bfloat16", "starcoder2": "float16"}[arch],
    }
    if arch == "starcoder2":
        config.update(norm_epsilon=1e-5, hidden_act="gelu_pytorch_tanh", use_bias=True, sliding_window=1024)
    else:
        config.update(rms_norm_eps=1e-6, hidden_act="silu")
    if arch == "qwen2":
        config.update(use_sliding_window=False, sliding_window=4096)
    dtype = {"llama": torch.float32, "qwen2": torch.bfloat16, "starcoder2": torch.float16}[arch]
    g = torch.Generator().manual_seed(seed)

    def rnd(*shape, std=0.08):
        return (torch.randn(*shape, generator=g) * std).to(dtype)

    V = config["vocab_size"]
    t = {"model.embed_tokens.weight": rnd(V, d, std=0.5), "model.norm.weight": (1 + rnd(d, std=0.1).float()).to(dtype)}
    if arch == "starcoder2":
        t["model.norm.bias"] = rnd(d, std=0.05)
    if not config["tie_word_embeddings"]:
        t["lm_head.weight"] = rnd(V, d, std=0.5)
    for i in range(L):
        p = f"model.layers.{i}"
        for norm in ("input_layernorm", "post_attention_layernorm"):
            t[f"{p}.{norm}.weight"] = (1 + rnd(d, std=0.1).float()).to(dtype)
            if arch == "starcoder2":
                t[f"{p}.{norm}.bias"] = rnd(d, std=0.05)
        shapes = {"self_attn.q_proj": (H * Dh, d), "self_attn.k_proj": (Hkv * Dh, d), "self_attn.v_proj": (Hkv * Dh, d), "self_attn.o_proj": (d, H * Dh)}
        shapes.update({"mlp.c_fc": (F, d), "mlp.c_proj": (d, F)} if arch == "starcoder2" else {"mlp.gate_proj": (F, d), "mlp.up_proj": (F, d), "mlp.down_proj": (d, F)})
        for name, shape in shapes.items():
            # Larger q/k so that attention (and so RoPE and position handling) matters.
            t[f"{p}.{name}.weight"] = rnd(*shape, std=0.3 if name in ("self_attn.q_proj", "self_attn.k_proj") else 0.08)
            if arch == "starcoder2" or (arch == "qwen2" and name in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj")):
                t[f"{p}.{name}.bias"] = rnd(shape[0], std=0.05)

    if bad == "unsupported-arch":
        config["model_type"], config["architectures"] = "mamba", ["MambaForCausalLM"]
    if bad == "missing-tensor":
        del t["model.layers.1.mlp.down_proj.weight" if arch != "starcoder2" else "model.layers.1.mlp.c_proj.weight"]
    if bad == "mismatched-tokenizer":
        config["vocab_size"] = n_tok - 100
        t["model.embed_tokens.weight"] = t["model.embed_tokens.weight"][: n_tok - 100]
        if "lm_head.weight" in t:
            t["lm_head.weight"] = t["lm_head.weight"][: n_tok - 100]
    (out / "config.json").write_text(json.dumps(config, indent=1))
    if bad != "missing-weights":
        save_file(t, out / "model.safetensors", {"format": "pt"})
    if bad != "missing-tokenizer":
        (out / "tokenizer.json").write_text(json.dumps(tok, ensure_ascii=False))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", choices=FAMILIES, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--shape", choices=sorted(SHAPES), help="a real model's shape with random weights (benchmarks)")
    ap.add_argument("--bad", choices=["missing-weights", "missing-tokenizer", "missing-tensor", "unsupported-arch", "mismatched-tokenizer"])
    args = ap.parse_args()
    make(args.family, args.out, args.seed, args.bad, args.shape)


if __name__ == "__main__":
    main()

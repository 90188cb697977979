#!/usr/bin/env python3
"""Convert a local Hugging Face checkpoint into a model directory (docs/MODEL_CONTRACT.md).

    python3 training/convert.py --hf ~/models/Qwen2.5-Coder-0.5B --out models/qwen2.5-coder-0.5b
    python3 training/convert.py --hf DIR --out OUT --weights fp16      # or int8 (see docs/BYO_MODEL.md)

Reads config.json, *.safetensors (one file or a model.safetensors.index.json shard set) and
tokenizer.json (byte-level BPE) from DIR; nothing is downloaded. Supported: model_type llama,
qwen2 (q/k/v biases, grouped-query attention, tied or untied embeddings) and starcoder2. The
weights are mapped onto training/model.py (lora_rank 0: no PTP adapters, manifest
ptp.adapters false), the mapped model's logits are checked against training/hf_reference.py (an
independent forward pass of the same tensors), then the graph, tokenizer, manifest and
parity.json (the reference's logits, which `ptp-complete convert` replays through onnxruntime)
are written. Every failure is one line on stderr, "error: FILE: problem; supported: ...", exit 1.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import export as ex  # noqa: E402
import hf_reference  # noqa: E402
from model import NEG, Config, PTPModel, count_params  # noqa: E402
from safetensors_io import SafetensorsError, load_file, read_header  # noqa: E402

SUPPORTED = "Llama, Qwen2 and StarCoder2 checkpoints (config.json model_type llama, qwen2 or starcoder2) with *.safetensors weights and a byte-level BPE tokenizer.json"
REFERENCE_ATOL = 1e-4  # mapped PyTorch model vs the reference forward (fp32)

# FIM token spellings by family: (prefix, middle, suffix, file separator).
FIM_NAMES = [
    ("<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|file_sep|>"),  # Qwen2.5-Coder, the shipped model
    ("<fim_prefix>", "<fim_middle>", "<fim_suffix>", "<file_sep>"),  # StarCoder / StarCoder2
    ("<｜fim▁begin｜>", "<｜fim▁end｜>", "<｜fim▁hole｜>", None),  # DeepSeek-Coder
    ("<PRE>", "<MID>", "<SUF>", None),  # CodeLlama
]


class ConvertError(Exception):
    def __init__(self, file, problem):
        super().__init__(f"{file}: {problem}; supported: {SUPPORTED}")


# -- reading the checkpoint -------------------------------------------------------------------

def read_json(path: Path, what: str) -> dict:
    if not path.is_file():
        raise ConvertError(path, f"{what} is missing")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise ConvertError(path, f"is not valid JSON ({e})") from None


def weight_files(src: Path) -> list[Path]:
    index = src / "model.safetensors.index.json"
    if index.is_file():
        files = sorted(set(read_json(index, "the shard index")["weight_map"].values()))
        for f in files:
            if not (src / f).is_file():
                raise ConvertError(src / f, "is listed in model.safetensors.index.json but missing")
        return [src / f for f in files]
    files = sorted(src.glob("*.safetensors"))
    if not files:
        other = [p.name for p in src.iterdir() if p.suffix in (".bin", ".pt", ".pth", ".gguf")] if src.is_dir() else []
        found = f" (found {', '.join(other[:3])}: save the model with save_pretrained(safe_serialization=True))" if other else ""
        raise ConvertError(src, f"no *.safetensors weights{found}")
    return files


def load_tensors(files: list[Path]) -> dict[str, torch.Tensor]:
    tensors: dict[str, torch.Tensor] = {}
    for f in files:
        try:
            tensors.update({k: v.float() for k, v in load_file(f).items()})
        except SafetensorsError as e:
            raise ConvertError(f, str(e).split(": ", 1)[-1]) from None
    return tensors


def config_of(hf: dict, path: Path, context_length: int | None) -> Config:
    arch = hf.get("model_type")
    if arch not in ("llama", "qwen2", "starcoder2"):
        raise ConvertError(path, f"model_type {arch!r} ({', '.join(hf.get('architectures') or []) or 'no architectures'}) is not supported")
    star = arch == "starcoder2"
    act = hf.get("hidden_act", "gelu_pytorch_tanh" if star else "silu")
    want_act = ("gelu_pytorch_tanh", "gelu_new") if star else ("silu",)
    if act not in want_act:
        raise ConvertError(path, f"hidden_act {act!r} is not supported for {arch} (expected {want_act[0]})")
    scaling = hf.get("rope_scaling")
    if scaling and scaling.get("rope_type", scaling.get("type")) not in (None, "default"):
        raise ConvertError(path, f"rope_scaling {scaling.get('rope_type', scaling.get('type'))!r} is not supported (plain RoPE only)")
    if arch == "qwen2" and hf.get("use_sliding_window"):
        raise ConvertError(path, "use_sliding_window true is not supported")
    for key in ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size"):
        if not isinstance(hf.get(key), int):
            raise ConvertError(path, f"{key} is missing or not an integer")
    H = hf["num_attention_heads"]
    Hkv = hf.get("num_key_value_heads") or H
    if H % Hkv:
        raise ConvertError(path, f"num_attention_heads {H} is not a multiple of num_key_value_heads {Hkv}")
    head_dim = hf.get("head_dim") or hf["hidden_size"] // H
    max_pos = hf.get("max_position_embeddings", 2048)
    limit = min(max_pos, hf.get("sliding_window") or max_pos) if star else max_pos
    ctx = min(context_length or 2048, limit)
    bias_all = bool(hf.get("use_bias", True)) if star else False
    return Config(
        vocab_size=hf["vocab_size"], hidden_size=hf["hidden_size"], num_layers=hf["num_hidden_layers"], num_heads=H,
        intermediate_size=hf["intermediate_size"], rope_theta=float(hf.get("rope_theta", 10000.0)), lora_rank=0,
        context_length=ctx, norm_eps=float(hf.get("norm_epsilon" if star else "rms_norm_eps", 1e-5)),
        num_kv_heads=Hkv, attn_head_dim=head_dim if head_dim != hf["hidden_size"] // H else 0,
        qkv_bias=arch == "qwen2" or bool(hf.get("attention_bias")) or bias_all,
        o_bias=bool(hf.get("attention_bias")) or bias_all, mlp_bias=bool(hf.get("mlp_bias")) or bias_all,
        tied_embeddings=bool(hf.get("tie_word_embeddings", star)),
        norm="layer" if star else "rms", mlp="gelu_tanh" if star else "gated_silu",
    )


def map_state(hf: dict, tensors: dict, cfg: Config, model: PTPModel, src: Path) -> dict:
    """The PTPModel state dict from the HF tensors (names without the "model." prefix)."""
    t = {k[len("model."):] if k.startswith("model.") else k: v for k, v in tensors.items()}
    star = hf.get("model_type") == "starcoder2"
    names = {"embed.weight": "embed_tokens.weight", "norm.weight": "norm.weight"}
    if star:
        names["norm.bias"] = "norm.bias"
    if not cfg.tied_embeddings:
        names["lm_head.weight"] = "lm_head.weight"
    linears = {"attn.q": "self_attn.q_proj", "attn.k": "self_attn.k_proj", "attn.v": "self_attn.v_proj", "attn.o": "self_attn.o_proj"}
    linears.update({"mlp.up": "mlp.c_fc", "mlp.down": "mlp.c_proj"} if star else {"mlp.gate": "mlp.gate_proj", "mlp.up": "mlp.up_proj", "mlp.down": "mlp.down_proj"})
    for i in range(cfg.num_layers):
        names[f"blocks.{i}.attn_norm.weight"] = f"layers.{i}.input_layernorm.weight"
        names[f"blocks.{i}.mlp_norm.weight"] = f"layers.{i}.post_attention_layernorm.weight"
        if star:
            names[f"blocks.{i}.attn_norm.bias"] = f"layers.{i}.input_layernorm.bias"
            names[f"blocks.{i}.mlp_norm.bias"] = f"layers.{i}.post_attention_layernorm.bias"
        for ours, theirs in linears.items():
            names[f"blocks.{i}.{ours}.base.weight"] = f"layers.{i}.{theirs}.weight"
            names[f"blocks.{i}.{ours}.base.bias"] = f"layers.{i}.{theirs}.bias"
    state = model.state_dict()
    out = {}
    for ours, ref in state.items():
        theirs = names.get(ours)
        if theirs is None:  # u_embed (no adapters yet): zeros
            out[ours] = torch.zeros_like(ref)
            continue
        value = t.get(theirs)
        if value is None:
            full = theirs if theirs == "lm_head.weight" else "model." + theirs
            raise ConvertError(src, f"the weights lack {full} (needed by {hf.get('model_type')} with this config.json)")
        if ours in ("embed.weight", "lm_head.weight"):
            value = value[: cfg.vocab_size]  # trimmed to the tokenizer (padding rows dropped)
        if tuple(value.shape) != tuple(ref.shape):
            raise ConvertError(src, f"tensor {theirs} has shape {list(value.shape)} but config.json implies {list(ref.shape)}")
        out[ours] = value.float()
    return out


def tokenizer_info(tok_path: Path, src: Path, hf: dict, hf_vocab: int) -> tuple[int, dict, dict]:
    """(vocab size, special token ids, their text) from tokenizer.json's own added tokens."""
    tok = read_json(tok_path, "tokenizer.json")
    model = tok.get("model") or {}
    pre = tok.get("pre_tokenizer") or {}
    parts = [pre] + list(pre.get("pretokenizers") or [])
    if model.get("type") != "BPE" or not any(p.get("type") == "ByteLevel" for p in parts):
        raise ConvertError(tok_path, f"is not a byte-level BPE tokenizer (model {model.get('type')!r}, pre_tokenizer {pre.get('type')!r}; SentencePiece-style tokenizers such as Llama 2's are not supported)")
    vocab = dict(model.get("vocab") or {})
    added = {t["content"]: t["id"] for t in tok.get("added_tokens") or []}
    ids = {**vocab, **added}
    n = max(ids.values()) + 1
    if n > hf_vocab:
        raise ConvertError(tok_path, f"has {n} tokens but config.json vocab_size is {hf_vocab}: the tokenizer belongs to another model")
    if sorted(ids.values()) != list(range(n)):
        raise ConvertError(tok_path, "token ids are not contiguous from 0")
    by_id = {v: k for k, v in ids.items()}

    # End of text: config.json eos_token_id, else tokenizer_config.json eos_token, else the usual names.
    eos = hf.get("eos_token_id")
    eos = eos[0] if isinstance(eos, list) and eos else eos
    tc_path = src / "tokenizer_config.json"
    tc = json.loads(tc_path.read_text(encoding="utf-8")) if tc_path.is_file() else {}
    eos_text = tc.get("eos_token")
    eos_text = eos_text.get("content") if isinstance(eos_text, dict) else eos_text
    if not isinstance(eos, int) or eos not in by_id:
        eos = ids.get(eos_text) if eos_text in ids else next((ids[c] for c in ("<|endoftext|>", "</s>", "<|end_of_text|>", "<｜end▁of▁sentence｜>") if c in ids), None)
    if eos is None:
        raise ConvertError(tok_path, "has no end-of-text token (config.json eos_token_id, tokenizer_config.json eos_token)")
    # A FIM model ends the middle with <|endoftext|> (Qwen2.5-Coder's eos is <|im_end|> only in chat models).
    if "<|endoftext|>" in added and by_id[eos] != "<|endoftext|>" and any(f[0] in added for f in FIM_NAMES):
        eos = added["<|endoftext|>"]
    special = {"endoftext": eos}
    for prefix, middle, suffix, sep in FIM_NAMES:
        if prefix in ids and middle in ids and suffix in ids:
            special.update(fim_prefix=ids[prefix], fim_middle=ids[middle], fim_suffix=ids[suffix])
            if sep and sep in ids:
                special["file_sep"] = ids[sep]
            break
    return n, special, {k: by_id[v] for k, v in special.items()}


# -- checking ---------------------------------------------------------------------------------

@torch.no_grad()
def check_reference(model: PTPModel, hf: dict, tensors: dict, cfg: Config, n: int = 24, seed: int = 0) -> dict:
    """Max |logit diff| between the mapped model (cold and over its own KV cache) and the reference."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, cfg.vocab_size, (1, n), generator=g)
    ref, _ = hf_reference.forward(hf, tensors, ids)
    ref = ref[:, : cfg.vocab_size]
    full, _ = model(input_ids=ids)
    P = n // 2
    _, kv = model(input_ids=ids[:, :P])
    T = n - P
    allowed = torch.ones(T, n, dtype=torch.bool).tril(P)
    bias = torch.zeros(T, n).masked_fill(~allowed, NEG).view(1, 1, T, n)
    cached, _ = model(input_ids=ids[:, P:], aux=torch.zeros(1, 0), position_ids=torch.arange(P, n).unsqueeze(0), attention_bias=bias, past=kv)
    return {"cold": float((full[0] - ref).abs().max()), "cached": float((cached[0] - ref[P:]).abs().max()),
            "logit_scale": float(ref.abs().max())}


def reference_parity_cases(model: PTPModel, hf: dict, tensors: dict) -> list[dict]:
    """export.parity_cases, with the prefill case's logits and first keys from the reference."""
    cases = ex.parity_cases(model)
    prefill = cases[0]
    ids = torch.tensor(prefill["input_ids"]).unsqueeze(0)
    ref, kv = hf_reference.forward(hf, tensors, ids)
    prefill["logits"] = ex.f32(ref[:, : model.cfg.vocab_size].unsqueeze(0))
    prefill["new_key_0"] = ex.f32(kv[0][0].unsqueeze(0))
    prefill["new_value_last"] = ex.f32(kv[-1][1].unsqueeze(0))
    prefill["source"] = "training/hf_reference.py"
    return cases


def load_for_adapters(model_dir: Path, rank: int) -> PTPModel:
    """The converted model of ``model_dir`` (re-read from its Hugging Face source, which
    model.json's converted_from names) with fresh PTP adapters of ``rank``: LoRA B at zero (every
    output unchanged) and a fresh u-embedding, ready for ``train.py ptp --init model_dir``."""
    from model import grow_lora  # noqa: PLC0415

    manifest = read_json(model_dir / "model.json", "model.json")
    src = Path((manifest.get("converted_from") or {}).get("path", ""))
    if not src.is_dir():
        raise ConvertError(model_dir / "model.json", f"converted_from.path {str(src)!r} is not a directory: the Hugging Face checkpoint it was converted from is needed to train adapters")
    hf = read_json(src / "config.json", "config.json")
    cfg = config_of(hf, src / "config.json", manifest.get("context_length"))
    cfg.vocab_size = manifest["architecture"]["vocab_size"]
    tensors = load_tensors(weight_files(src))
    model = PTPModel(cfg)
    model.load_state_dict(map_state(hf, tensors, cfg, model, src))
    grown = grow_lora(model, max(rank, 1))
    torch.nn.init.normal_(grown.u_embed.weight, std=0.02)
    torch.nn.init.zeros_(grown.u_embed.bias)
    return grown


# -- main -------------------------------------------------------------------------------------

def convert(src: Path, out: Path, name: str | None = None, weights: str = "fp32", context_length: int | None = None, quiet: bool = False,
            fim_layout: str = "prefix-first") -> dict:
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    if not src.is_dir():
        raise ConvertError(src, "is not a directory (point --hf at a local checkpoint directory)")
    cfg_path = src / "config.json"
    hf = read_json(cfg_path, "config.json")
    cfg = config_of(hf, cfg_path, context_length)
    files = weight_files(src)
    n_tok, special, special_text = tokenizer_info(src / "tokenizer.json", src, hf, cfg.vocab_size)
    tok_path = src / "tokenizer.json"
    trimmed = cfg.vocab_size - n_tok
    cfg.vocab_size = n_tok
    for f in files:
        read_header(f)  # a clear error before loading gigabytes
    t0 = time.time()
    tensors = load_tensors(files)
    torch.manual_seed(0)
    model = PTPModel(cfg)
    model.load_state_dict(map_state(hf, tensors, cfg, model, src))
    model.eval()
    say(f"loaded {src} ({hf['model_type']}, {count_params(model)['base'] / 1e6:.1f}M parameters) in {time.time() - t0:.1f} s")
    diffs = check_reference(model, hf, tensors, cfg)
    say(f"mapped model vs reference forward: max |logit diff| {diffs['cold']:.2e} cold, {diffs['cached']:.2e} over the KV cache (logits up to {diffs['logit_scale']:.1f})")
    if max(diffs["cold"], diffs["cached"]) > REFERENCE_ATOL * max(1.0, diffs["logit_scale"] / 10):
        raise ConvertError(src, f"the mapped model's logits differ from the reference forward by {max(diffs['cold'], diffs['cached']):.2e} (a conversion bug: please report it with config.json)")

    out.mkdir(parents=True, exist_ok=True)
    ex.export(model, out)
    if weights != "fp32":
        import quantize  # noqa: PLC0415 (needs the onnx package)
        quantize.convert_weights(out / "model.onnx", weights)
    shutil.copyfile(tok_path, out / "tokenizer.json")
    (out / "parity.json").write_text(json.dumps({"atol": ex.PARITY_ATOL if weights == "fp32" else None, "weights": weights,
                                                 "cases": reference_parity_cases(model, hf, tensors)}))
    window = 16
    manifest = {
        "name": name or src.name,
        "version": "converted",
        "license": "see the original checkpoint's license",
        "architecture": {"type": hf["model_type"], **cfg.to_dict(), "parameters": count_params(model)},
        "context_length": cfg.context_length,
        "special_tokens": special,
        "special_token_text": special_text,
        "fim_layout": (("prefix-first: fim_prefix P fim_suffix S fim_middle M endoftext" if fim_layout == "prefix-first"
                        else "suffix-first: fim_suffix S fim_prefix P fim_middle M endoftext") if "fim_prefix" in special
                       else "none: the tokenizer has no FIM tokens, so prompts are the prefix only (left to right)"),
        "sampling": {"temperature": 0.2, "top_k": 50, "top_p": 0.95},
        "ptp": {"adapters": False, "window_length": window, "acceptance_histogram": [1.0] + [0.0] * window,
                "acceptance_histogram_source": "none: no PTP adapters (training/train.py ptp --init trains them); the engine drafts from the context only"},
        "onnx": {"file": "model.onnx", "sha256": ex.sha256(out / "model.onnx"), "opset": 17, "weights": weights,
                 "attention_mask": "additive float32: 0 attend, -1e9 masked",
                 "kv_layout": "batch,seq,heads,head_dim", "outputs_new_rows_only": True},
        "converted_from": {"path": str(src.resolve()), "model_type": hf["model_type"], "architectures": hf.get("architectures"),
                           "weight_files": [f.name for f in files], "vocab_trimmed": trimmed,
                           "reference_max_abs_diff": diffs},
        "metrics": {},
    }
    (out / "model.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    size = (out / "model.onnx").stat().st_size + sum(p.stat().st_size for p in out.glob("model.onnx.data"))
    say(f"wrote {out}: {weights} weights, model.onnx {size / 1e6:.1f} MB, context {cfg.context_length}, "
        f"FIM {'yes' if 'fim_prefix' in special else 'no (left to right only)'}, no PTP adapters")
    return {"out": str(out), "diffs": diffs, "bytes": size}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hf", type=Path, required=True, help="local Hugging Face checkpoint directory")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--name")
    ap.add_argument("--weights", choices=["fp32", "fp16", "int8"], default="fp32")
    ap.add_argument("--context-length", type=int, help="tokens of context (default min(2048, the model's))")
    ap.add_argument("--fim-layout", choices=["prefix-first", "suffix-first"], default="prefix-first",
                    help="FIM prompt order the model was trained on (default prefix-first: Qwen2.5-Coder, StarCoder2, DeepSeek-Coder)")
    args = ap.parse_args(argv)
    try:
        convert(args.hf, args.out, args.name, args.weights, args.context_length, fim_layout=args.fim_layout)
    except ConvertError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A reference forward pass of Hugging Face Llama, Qwen2 and StarCoder2 checkpoints, written
straight from the transformers modeling code's semantics on the checkpoint's own tensor names,
independent of training/model.py. training/convert.py checks the mapped model against it.

    logits, kv = forward(config_json, tensors, input_ids)   # plain causal pass, no cache

Semantics followed (transformers 4.4x):
* Llama/Qwen2: RMSNorm (x * rsqrt(mean(x^2) + eps) * w, in float32), SwiGLU MLP
  down(silu(gate(x)) * up(x)); StarCoder2: LayerNorm with bias, c_proj(gelu_tanh(c_fc(x))).
* RoPE: inv_freq = 1 / theta^(arange(0, d, 2) / d), emb = cat(freqs, freqs),
  q' = q cos + rotate_half(q) sin with rotate_half(x) = cat(-x2, x1) (non-interleaved halves).
* GQA: repeat_kv repeats each K/V head n_rep times consecutively.
* Biases: Qwen2 q/k/v; Llama attention_bias => q/k/v/o, mlp_bias; StarCoder2 use_bias => all.
* lm_head: the embedding when tie_word_embeddings, else lm_head.weight.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _rms(x, w, eps):
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)) * w.float()


def _rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


def _linear(t, prefix, x):
    w = t[prefix + ".weight"].float()
    b = t.get(prefix + ".bias")
    return F.linear(x, w, None if b is None else b.float())


def forward(config: dict, tensors: dict, input_ids: torch.Tensor):
    """input_ids [T] or [1, T] -> (logits [T, V] float32, [(k, v)] per layer, each [T, Hkv, Dh] after RoPE)."""
    t = {k[len("model."):] if k.startswith("model.") else k: v for k, v in tensors.items()}
    arch = config.get("model_type")
    ids = input_ids.reshape(-1)
    T = ids.shape[0]
    d = config["hidden_size"]
    H = config["num_attention_heads"]
    Hkv = config.get("num_key_value_heads") or H
    Dh = config.get("head_dim") or d // H
    theta = float(config.get("rope_theta", 10000.0))
    star = arch == "starcoder2"
    eps = config.get("norm_epsilon" if star else "rms_norm_eps", 1e-5)

    def norm(prefix, x):
        if star:
            return F.layer_norm(x.float(), (d,), t[prefix + ".weight"].float(), t[prefix + ".bias"].float(), eps)
        return _rms(x, t[prefix + ".weight"], eps)

    inv_freq = 1.0 / (theta ** (torch.arange(0, Dh, 2, dtype=torch.int64).float() / Dh))
    freqs = torch.outer(torch.arange(T, dtype=torch.float32), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]  # [T, 1, Dh]

    x = t["embed_tokens.weight"].float()[ids]
    causal = torch.full((T, T), float("-inf")).triu(1)
    kvs = []
    for i in range(config["num_hidden_layers"]):
        p = f"layers.{i}"
        h = norm(f"{p}.input_layernorm", x)
        q = _linear(t, f"{p}.self_attn.q_proj", h).view(T, H, Dh)
        k = _linear(t, f"{p}.self_attn.k_proj", h).view(T, Hkv, Dh)
        v = _linear(t, f"{p}.self_attn.v_proj", h).view(T, Hkv, Dh)
        q = q * cos + _rotate_half(q) * sin
        k = k * cos + _rotate_half(k) * sin
        kvs.append((k, v))
        rep = H // Hkv
        kr = k[:, :, None, :].expand(T, Hkv, rep, Dh).reshape(T, H, Dh)  # repeat_kv
        vr = v[:, :, None, :].expand(T, Hkv, rep, Dh).reshape(T, H, Dh)
        scores = torch.einsum("qhd,khd->hqk", q, kr) / math.sqrt(Dh) + causal
        a = torch.einsum("hqk,khd->qhd", torch.softmax(scores, dim=-1), vr).reshape(T, H * Dh)
        x = x + _linear(t, f"{p}.self_attn.o_proj", a)
        h = norm(f"{p}.post_attention_layernorm", x)
        if star:
            m = _linear(t, f"{p}.mlp.c_proj", F.gelu(_linear(t, f"{p}.mlp.c_fc", h), approximate="tanh"))
        else:
            m = _linear(t, f"{p}.mlp.down_proj", F.silu(_linear(t, f"{p}.mlp.gate_proj", h)) * _linear(t, f"{p}.mlp.up_proj", h))
        x = x + m
    x = norm("norm", x)
    tied = config.get("tie_word_embeddings", star)  # transformers' defaults: Llama/Qwen2 False, StarCoder2 True
    head = t["embed_tokens.weight"] if tied else tensors["lm_head.weight"]
    return F.linear(x, head.float()), kvs

"""The PTP Complete model: a Llama-style decoder whose auxiliary rows run gated LoRA.

One network is both the teacher and the Parallel Token Prediction drafter
(docs/ALGORITHM.md §2):

* token rows embed a token and run the frozen base weights -- exactly the teacher;
* aux rows embed an auxiliary variable u (24 binary-expansion bits, then a linear layer)
  and every linear layer adds a LoRA delta on those rows only.

``forward`` takes token rows first, then aux rows, an additive attention bias over
``[past | new rows]`` and a sequence-major KV cache ``[B, P, H, Dh]``; it returns logits
and the keys/values of the new rows only. That is the ONNX contract
(docs/MODEL_CONTRACT.md), so training, export and the TypeScript engine share one path.

Works on PyTorch 1.13 (Debian, CPU) and 2.x (CUDA, bf16 autocast).
"""
from __future__ import annotations

import io
import math
import os
import pickle
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

NEG = -1e9  # additive mask value for "may not attend"


@dataclass
class Config:
    vocab_size: int = 8192
    hidden_size: int = 256
    num_layers: int = 8
    num_heads: int = 4
    intermediate_size: int = 768
    rope_theta: float = 10000.0
    lora_rank: int = 32
    lora_scale: float = 1.0
    u_bits: int = 24
    context_length: int = 512
    norm_eps: float = 1e-5
    # Options for checkpoints converted from Hugging Face (training/convert.py); the defaults
    # are the shipped model's architecture.
    num_kv_heads: int = 0  # grouped-query attention: K/V heads (0 = num_heads)
    attn_head_dim: int = 0  # 0 = hidden_size // num_heads
    qkv_bias: bool = False  # biases on q, k, v (Qwen2, StarCoder2)
    o_bias: bool = False  # bias on the attention output (StarCoder2, Llama attention_bias)
    mlp_bias: bool = False
    tied_embeddings: bool = True  # False: a separate lm_head
    norm: str = "rms"  # "rms" (Llama, Qwen2) or "layer" (LayerNorm with bias: StarCoder2)
    mlp: str = "gated_silu"  # "gated_silu" (Llama, Qwen2) or "gelu_tanh" (c_fc/c_proj: StarCoder2)

    @property
    def head_dim(self) -> int:
        return self.attn_head_dim or self.hidden_size // self.num_heads

    @property
    def kv_heads(self) -> int:
        return self.num_kv_heads or self.num_heads

    @property
    def adapters(self) -> bool:
        """lora_rank 0: a converted model without PTP adapters (manifest ptp.adapters false)."""
        return self.lora_rank > 0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["head_dim"] = self.head_dim
        d["num_kv_heads"] = self.kv_heads
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Config":
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in names})


def make_norm(cfg: "Config") -> nn.Module:
    return nn.LayerNorm(cfg.hidden_size, eps=cfg.norm_eps) if cfg.norm == "layer" else RMSNorm(cfg.hidden_size, cfg.norm_eps)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        xf = x.float()
        y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return (y * self.weight.float()).to(x.dtype)


class GatedLoRALinear(nn.Module):
    """y = x W^T (+ b) on token rows; y = x W^T (+ b) + s (x A^T) B^T on aux rows (the last rows).
    rank 0: no adapters (every row is the base layer)."""

    def __init__(self, d_in: int, d_out: int, rank: int, scale: float, bias: bool = False):
        super().__init__()
        self.base = nn.Linear(d_in, d_out, bias=bias)
        self.rank = rank
        if rank == 0:
            return
        self.lora_a = nn.Linear(d_in, rank, bias=False)
        self.lora_b = nn.Linear(rank, d_out, bias=False)
        self.scale = scale
        nn.init.kaiming_uniform_(self.lora_a.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_b.weight)

    def forward(self, x, n_tok: int, n_aux: int):
        y = self.base(x)
        if n_aux == 0 or self.rank == 0:
            return y
        xa = x[:, n_tok:]
        delta = self.lora_b(self.lora_a(xa)) * self.scale
        if n_tok == 0:
            return y + delta
        return torch.cat([y[:, :n_tok], y[:, n_tok:] + delta], dim=1)


def rope(x, cos, sin):
    """x [B,T,H,Dh]; cos/sin [B,T,1,Dh/2]; rotate-half (Llama) layout."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        d, r, s = cfg.hidden_size, cfg.lora_rank, cfg.lora_scale
        self.h, self.hkv, self.dh = cfg.num_heads, cfg.kv_heads, cfg.head_dim
        assert self.h % self.hkv == 0, "num_heads must be a multiple of num_kv_heads"
        self.q = GatedLoRALinear(d, self.h * self.dh, r, s, cfg.qkv_bias)
        self.k = GatedLoRALinear(d, self.hkv * self.dh, r, s, cfg.qkv_bias)
        self.v = GatedLoRALinear(d, self.hkv * self.dh, r, s, cfg.qkv_bias)
        self.o = GatedLoRALinear(self.h * self.dh, d, r, s, cfg.o_bias)

    def forward(self, x, n_tok, n_aux, cos, sin, bias, past, causal):
        B, T, _ = x.shape
        q = self.q(x, n_tok, n_aux).view(B, T, self.h, self.dh)
        k = self.k(x, n_tok, n_aux).view(B, T, self.hkv, self.dh)
        v = self.v(x, n_tok, n_aux).view(B, T, self.hkv, self.dh)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        new_kv = (k, v)  # the cache holds the K/V heads once (not repeated per query head)
        if past is not None:
            k = torch.cat([past[0].to(k.dtype), k], dim=1)
            v = torch.cat([past[1].to(v.dtype), v], dim=1)
        if self.hkv != self.h:  # GQA: K/V head j serves query heads j*rep .. (j+1)*rep-1
            rep = self.h // self.hkv
            k = k.repeat_interleave(rep, dim=2)
            v = v.repeat_interleave(rep, dim=2)
        qh, kh, vh = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        if hasattr(F, "scaled_dot_product_attention") and not torch.jit.is_tracing() and not torch.onnx.is_in_onnx_export():
            if causal:
                out = F.scaled_dot_product_attention(qh, kh, vh, is_causal=True)
            else:
                out = F.scaled_dot_product_attention(qh, kh, vh, attn_mask=bias.to(qh.dtype))
        else:
            scores = torch.matmul(qh, kh.transpose(-1, -2)) * (1.0 / math.sqrt(self.dh))
            if causal:
                Tq, Tk = scores.shape[-2], scores.shape[-1]
                bias = torch.triu(torch.full((Tq, Tk), NEG, device=x.device), diagonal=Tk - Tq + 1)
            scores = scores + bias.to(scores.dtype)
            out = torch.matmul(torch.softmax(scores.float(), dim=-1).to(vh.dtype), vh)
        out = out.transpose(1, 2).reshape(B, T, self.h * self.dh)
        return self.o(out, n_tok, n_aux), new_kv


class MLP(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        d, f, r, s = cfg.hidden_size, cfg.intermediate_size, cfg.lora_rank, cfg.lora_scale
        self.kind = cfg.mlp
        if cfg.mlp == "gelu_tanh":
            self.up = GatedLoRALinear(d, f, r, s, cfg.mlp_bias)
        else:
            self.gate = GatedLoRALinear(d, f, r, s, cfg.mlp_bias)
            self.up = GatedLoRALinear(d, f, r, s, cfg.mlp_bias)
        self.down = GatedLoRALinear(f, d, r, s, cfg.mlp_bias)

    def forward(self, x, n_tok, n_aux):
        if self.kind == "gelu_tanh":
            return self.down(F.gelu(self.up(x, n_tok, n_aux), approximate="tanh"), n_tok, n_aux)
        return self.down(F.silu(self.gate(x, n_tok, n_aux)) * self.up(x, n_tok, n_aux), n_tok, n_aux)


class Block(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.attn_norm = make_norm(cfg)
        self.attn = Attention(cfg)
        self.mlp_norm = make_norm(cfg)
        self.mlp = MLP(cfg)

    def forward(self, x, n_tok, n_aux, cos, sin, bias, past, causal):
        a, kv = self.attn(self.attn_norm(x), n_tok, n_aux, cos, sin, bias, past, causal)
        x = x + a
        x = x + self.mlp(self.mlp_norm(x), n_tok, n_aux)
        return x, kv


def u_bits(u, n_bits: int):
    """Binary expansion of u in [0,1): b_i = floor(u * 2^i) mod 2, i = 1..n (exact in fp32)."""
    scale = torch.pow(2.0, torch.arange(1, n_bits + 1, device=u.device, dtype=torch.float32))
    x = torch.floor(u.float().unsqueeze(-1) * scale)
    return x - 2.0 * torch.floor(x * 0.5)


class PTPModel(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.u_embed = nn.Linear(cfg.u_bits, cfg.hidden_size)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.num_layers))
        self.norm = make_norm(cfg)
        if not cfg.tied_embeddings:
            self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        half = cfg.head_dim // 2
        inv = 1.0 / (cfg.rope_theta ** (torch.arange(0, half, dtype=torch.float32) / half))
        self.register_buffer("inv_freq", inv, persistent=False)
        nn.init.normal_(self.embed.weight, std=0.02)
        for n, p in self.named_parameters():
            if n.endswith("base.weight") or n == "lm_head.weight":
                nn.init.normal_(p, std=0.02)
                if ".o." in n or ".down." in n:
                    p.data.mul_(1.0 / math.sqrt(2 * cfg.num_layers))

    # -- parameter groups ------------------------------------------------------------
    def adapter_parameters(self):
        return [p for n, p in self.named_parameters() if "lora_" in n or n.startswith("u_embed")]

    def base_parameters(self):
        return [p for n, p in self.named_parameters() if not ("lora_" in n or n.startswith("u_embed"))]

    # -- forward -----------------------------------------------------------------------
    def forward(self, input_ids=None, aux=None, position_ids=None, attention_bias=None, past=None):
        """Token rows (input_ids [B,Tv]) then aux rows (aux [B,Ta]).

        attention_bias: additive [B,1,T,P+T]; None means plain causal over the token rows
        with no past (teacher training). past: list of (k, v) [B,P,H,Dh] or None.
        Returns (logits [B,T,V], [(k_new, v_new)] with [B,T,H,Dh]).
        """
        parts = []
        n_tok = 0 if input_ids is None else input_ids.shape[1]
        n_aux = 0 if aux is None else aux.shape[1]
        if n_tok:
            parts.append(self.embed(input_ids))
        if n_aux:
            parts.append(self.u_embed(u_bits(aux, self.cfg.u_bits)).to(parts[0].dtype if parts else self.embed.weight.dtype))
        x = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
        B, T, _ = x.shape
        if position_ids is None:
            position_ids = torch.arange(T, device=x.device).unsqueeze(0).expand(B, T)
        freqs = position_ids.float().unsqueeze(-1) * self.inv_freq
        cos, sin = freqs.cos().unsqueeze(2), freqs.sin().unsqueeze(2)
        causal = attention_bias is None
        if causal:
            assert past is None and n_aux == 0, "causal mode is for teacher training only"
        new_kv = []
        for i, blk in enumerate(self.blocks):
            x, kv = blk(x, n_tok, n_aux, cos.to(x.dtype), sin.to(x.dtype), attention_bias,
                        None if past is None else past[i], causal)
            new_kv.append(kv)
        logits = F.linear(self.norm(x), self.embed.weight if self.cfg.tied_embeddings else self.lm_head.weight)
        return logits, new_kv


def count_params(model: nn.Module) -> dict:
    base = sum(p.numel() for p in model.base_parameters())
    adapters = sum(p.numel() for p in model.adapter_parameters())
    return {"base": base, "adapters": adapters, "total": base + adapters}


def save_weights(model: PTPModel, path, extra: dict | None = None, dtype=torch.float32):
    sd = {k: v.detach().to("cpu", dtype) for k, v in model.state_dict().items()}
    torch.save({"config": model.cfg.to_dict(), "state_dict": sd, **(extra or {})}, path)


PART_BYTES = 15_000_000  # train.py --export-parts: every part but the last holds exactly this many bytes

PARTS_HINT = ("train.py --export-parts writes NAME.fp16.part0, part1, ... when it saves: the teacher stage at every save, "
              "the PTP stage only when its validation beats the starting weights (its log's 'val correct ... at the start'; "
              "--save-last also writes the last weights as NAME.last.fp16.part*)")


def join_parts(first_part) -> io.BytesIO:
    """Reassemble ``name.fp16.part0``, ``part1``, ... written by train.py --export-parts.

    A missing, empty or short part raises an error naming that file (FileNotFoundError when
    no part or a middle part is absent, ValueError when one is empty or truncated), rather than
    handing torch.load a buffer it fails on with ``EOFError``."""
    first = Path(first_part)
    stem = first.name.rsplit(".part", 1)[0]
    found = {}
    for p in first.parent.glob(stem + ".part*"):
        index = p.name.rsplit(".part", 1)[1]
        if index.isdigit() and p.is_file():
            found[int(index)] = p
    if not found or not first.exists():
        there = ", ".join(p.name for _, p in sorted(found.items())) or "none"
        raise FileNotFoundError(
            f"checkpoint part {first} does not exist ({stem}.part* in {first.parent}: {there}): "
            f"check the path, or copy the parts there. {PARTS_HINT}")
    parts = [found.get(i) for i in range(max(found) + 1)]
    for i, p in enumerate(parts):
        if p is None:
            raise FileNotFoundError(
                f"checkpoint part {first.parent / f'{stem}.part{i}'} is missing ({stem}.part0..part{max(found)} "
                f"are needed): copy every part from where the run wrote them. {PARTS_HINT}")
    for i, p in enumerate(parts):
        size = p.stat().st_size
        if size == 0 or (i < len(parts) - 1 and size != PART_BYTES):
            what = "is empty (0 bytes)" if size == 0 else f"holds {size} bytes, not {PART_BYTES} as every part but the last does"
            raise ValueError(f"checkpoint part {p} {what}: an interrupted write or copy; copy it again from where the run "
                             f"wrote it, or use an earlier checkpoint. {PARTS_HINT}")
    return io.BytesIO(b"".join(p.read_bytes() for p in parts))


def load_weights(path, map_location="cpu") -> tuple[PTPModel, dict]:
    """A checkpoint from ``save_weights``: one file, or the fp16 parts of --export-parts (path = part0).
    An empty, truncated or incomplete one raises an error that names it (see ``join_parts``)."""
    is_file = isinstance(path, (str, os.PathLike))
    from_parts = is_file and ".part" in Path(path).name
    if from_parts:
        src = join_parts(path)
        where = f"joined from the {Path(path).name.rsplit('.part', 1)[0]}.part* files next to {path}"
        why = "a part missing at the end, or one cut short"
    else:
        src, where, why = path, str(path), "cut short or not a checkpoint"
        if is_file and Path(path).is_file() and Path(path).stat().st_size == 0:
            raise ValueError(f"checkpoint {path} is empty (0 bytes): an interrupted write or copy; "
                             "write or copy it again, or use an earlier checkpoint")
    try:
        ck = torch.load(src, map_location=map_location)
    except (EOFError, ValueError, pickle.UnpicklingError, RuntimeError) as e:  # how torch.load meets a short file
        if not is_file or (isinstance(e, RuntimeError) and "PytorchStreamReader" not in str(e)):
            raise  # not the file's bytes (a CUDA tensor on a machine without CUDA, say): torch's own message
        raise ValueError(f"checkpoint {where} cannot be read ({type(e).__name__}: {e}): {why}; "
                         "copy it again from where the run wrote it, or use an earlier checkpoint") from e
    model = PTPModel(Config.from_dict(ck["config"]))
    model.load_state_dict({k: v.float() for k, v in ck["state_dict"].items()})
    return model, ck


def grow_lora(model: PTPModel, rank: int) -> PTPModel:
    """The same network with every LoRA widened to ``rank``: the trained adapters fill the first
    rows of A and columns of B, the new rows of A start as a fresh layer's and the new columns of
    B at zero, so every output is unchanged and training can use the added rank."""
    old = model.cfg.lora_rank
    if rank < old:
        raise ValueError(f"LoRA rank {rank} is below the checkpoint's {old}: adapters can be widened, not narrowed")
    if rank == old:
        return model
    grown = PTPModel(Config.from_dict({**asdict(model.cfg), "lora_rank": rank})).to(next(model.parameters()).device)
    state = grown.state_dict()
    with torch.no_grad():
        for k, v in model.state_dict().items():
            if k.endswith("lora_a.weight"):
                state[k][:old] = v
            elif k.endswith("lora_b.weight"):
                state[k].zero_()
                state[k][:, :old] = v
            else:
                state[k] = v
    grown.load_state_dict(state)
    return grown

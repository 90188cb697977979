"""PTP pieces shared by training and evaluation (docs/ALGORITHM.md §1, §8).

* ``sampling_dist``: temperature, top-k, renormalise, top-p ("keep while the mass
  strictly before it is < p"), renormalise -- the contract's Pick distribution.
* ``bin_edges``: each target token's interval [F(t-1), F(t)) in token-id order.
* ``windows``: nested windows of L aux rows per context, the additive mask and targets.
* ``generate``: batched teacher sampling with u through Pick (PTP training data).
"""
from __future__ import annotations

import torch

from model import NEG


def sampling_dist(logits: torch.Tensor, temperature: float, top_k: int, top_p: float) -> torch.Tensor:
    logits = logits.float()
    V = logits.shape[-1]
    if temperature <= 0:
        top_k, temperature = 1, 1.0
    if 0 < top_k < V:
        order = torch.sort(logits, dim=-1, descending=True, stable=True).indices  # ties: lower id first
        keep = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, order[..., :top_k], True)
        logits = logits.masked_fill(~keep, float("-inf"))
    probs = torch.softmax(logits / temperature, dim=-1)
    if top_p < 1.0:
        sp, order = torch.sort(probs, dim=-1, descending=True, stable=True)
        before = torch.cumsum(sp, dim=-1) - sp
        drop_sorted = before >= top_p
        drop_sorted[..., 0] = False
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        probs = probs.masked_fill(drop, 0.0)
        probs = probs / probs.sum(-1, keepdim=True)
    return probs


def bin_edges(probs: torch.Tensor, targets: torch.Tensor):
    """Left/right CDF edges (id order) of ``targets`` under ``probs`` [..., V]."""
    cdf = torch.cumsum(probs, dim=-1)
    right = cdf.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    left = right - probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return left.clamp(0, 1), right.clamp(0, 1)


def pick(probs: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """min{j : F[j] > u} with the last kept token's edge forced to 1."""
    cdf = torch.cumsum(probs, dim=-1)
    last = (probs > 0).float().cumsum(-1).argmax(-1, keepdim=True)
    cdf = cdf.scatter(-1, last, torch.ones_like(last, dtype=cdf.dtype))
    cdf = torch.where(torch.arange(cdf.shape[-1], device=cdf.device) > last, torch.ones_like(cdf), cdf)
    return torch.searchsorted(cdf, u.unsqueeze(-1).to(cdf.dtype), right=True).squeeze(-1).clamp(max=probs.shape[-1] - 1)


def windows(ids: torch.Tensor, starts: torch.Tensor, L: int, left: torch.Tensor, right: torch.Tensor,
            beta: float | None, eot: int):
    """Build the nested aux batch.

    ids [B,S] context rows; starts [B,N] first target position of each window (>= 1);
    left/right [B,S-1] bin edges, entry j for token j+1. beta=None draws u uniformly in
    the bin (validation), else Beta(beta, beta).
    Returns u [B,N*L], position ids [B,N*L], bias [B,1,N*L,S+N*L], targets [B,N*L] (-100 = ignore).
    """
    B, S = ids.shape
    N = starts.shape[1]
    dev = ids.device
    j = torch.arange(L, device=dev)
    pos = starts.unsqueeze(-1) + j  # [B,N,L] target positions
    valid = pos < S
    pos_c = pos.clamp(max=S - 1)
    tgt = ids.gather(1, pos_c.view(B, -1)).view(B, N, L)
    lo = left.gather(1, (pos_c - 1).view(B, -1)).view(B, N, L)
    hi = right.gather(1, (pos_c - 1).view(B, -1)).view(B, N, L)
    # a zero-width bin cannot be encoded by u: ignore it and everything after it in the window
    ok = valid & (hi > lo)
    ok = ok.long().cumprod(-1).bool()
    # after an end-of-text target the window is over
    after_eot = torch.cumsum((tgt == eot).long(), -1) - (tgt == eot).long() > 0
    ok = ok & ~after_eot
    if beta is None:
        z = torch.rand(B, N, L, device=dev)
    else:
        z = torch.distributions.Beta(torch.tensor(beta, device=dev), torch.tensor(beta, device=dev)).sample((B, N, L))
    u = (lo + (hi - lo) * z).clamp(0, 1 - 2 ** -24)
    u = torch.floor(u * 2 ** 24) / 2 ** 24  # the engine's u has 24 bits
    u = torch.where(ok, u, torch.zeros_like(u))
    targets = torch.where(ok, tgt, torch.full_like(tgt, -100))
    position_ids = torch.where(ok, pos - 1, torch.zeros_like(pos))
    # mask: context keys < start of own window; aux keys of own window at offset <= own
    kpos = torch.arange(S, device=dev)
    ctx_ok = kpos.view(1, 1, 1, S) < starts.view(B, N, 1, 1)  # [B,N,1,S]
    ctx_ok = ctx_ok.expand(B, N, L, S).reshape(B, N * L, S)
    win = torch.arange(N * L, device=dev)
    same = (win.view(-1, 1) // L == win.view(1, -1) // L) & (win.view(1, -1) <= win.view(-1, 1))
    allowed = torch.cat([ctx_ok, same.unsqueeze(0).expand(B, -1, -1)], dim=-1)
    bias = torch.zeros(allowed.shape, device=dev).masked_fill(~allowed, NEG).unsqueeze(1)
    return u.view(B, -1), position_ids.view(B, -1), bias, targets.view(B, -1)


def leading_correct(pred: torch.Tensor, targets: torch.Tensor, L: int) -> torch.Tensor:
    """Per window, the number of leading positions where pred == target (ignored = stop)."""
    B = pred.shape[0]
    good = (pred == targets) & (targets != -100)
    return good.view(B, -1, L).long().cumprod(-1).sum(-1).view(-1)


@torch.no_grad()
def generate(model, ctx: torch.Tensor, n_new: int, temperature: float, top_k: int, top_p: float, eot: int):
    """Teacher samples: ctx [B,C] -> [B,C+n_new]; positions after an end-of-text repeat it."""
    B, C = ctx.shape
    logits, kv = model(input_ids=ctx)
    out = [ctx]
    done = torch.zeros(B, dtype=torch.bool, device=ctx.device)
    last = logits[:, -1]
    for t in range(n_new):
        probs = sampling_dist(last, temperature, top_k, top_p)
        tok = pick(probs, torch.rand(B, device=ctx.device))
        tok = torch.where(done, torch.full_like(tok, eot), tok)
        done |= tok == eot
        out.append(tok.unsqueeze(1))
        if t == n_new - 1:
            break
        P = C + t
        bias = torch.zeros(B, 1, 1, P + 1, device=ctx.device)
        pos = torch.full((B, 1), P, device=ctx.device, dtype=torch.long)
        logits, new = model(input_ids=tok.unsqueeze(1), position_ids=pos, attention_bias=bias, past=kv)
        kv = [(torch.cat([k, nk], 1), torch.cat([v, nv], 1)) for (k, v), (nk, nv) in zip(kv, new)]
        last = logits[:, -1]
    return torch.cat(out, dim=1)


def engine_histogram(hist: list[float]) -> list[float]:
    """Validation's leading-correct histogram as the engine's accepted-drafts histogram.

    A window's first aux row only re-predicts the token the teacher rows give anyway: the engine
    drafts from the second row on (src/engine/ptp.ts). So c leading correct rows are c - 1
    accepted drafts, and a wrong first row is none.
    """
    if len(hist) < 2:
        raise ValueError(f"a histogram needs at least two bins, got {len(hist)}")
    return [hist[0] + hist[1], *hist[2:]]

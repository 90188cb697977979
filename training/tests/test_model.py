"""Properties of training/model.py that the engine relies on (run: python3 -m pytest training/tests)."""
import io
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import model as model_module  # noqa: E402
from model import NEG, Config, PTPModel, grow_lora, join_parts, load_weights, save_weights, u_bits  # noqa: E402
import ptp  # noqa: E402

CFG = Config(vocab_size=97, hidden_size=32, num_layers=2, num_heads=2, intermediate_size=48, lora_rank=4)


def random_model(seed=0):
    torch.manual_seed(seed)
    m = PTPModel(CFG).eval()
    with torch.no_grad():
        for n, p in m.named_parameters():
            if "lora_b" in n:
                p.normal_(0, 0.1)
    return m


def test_cached_decoding_equals_full_causal_pass():
    m = random_model()
    ids = torch.randint(0, 97, (1, 12))
    full, _ = m(input_ids=ids)
    P = 7
    _, kv = m(input_ids=ids[:, :P])
    T = 12 - P
    bias = torch.zeros(T, P + T).masked_fill(torch.ones(T, P + T, dtype=torch.bool).triu(P + 1), NEG).view(1, 1, T, P + T)
    step, _ = m(input_ids=ids[:, P:], position_ids=torch.arange(P, 12).unsqueeze(0), attention_bias=bias, past=kv)
    assert torch.allclose(full[:, P:], step, atol=1e-4)


def test_token_rows_ignore_adapters_and_aux_rows():
    m = random_model()
    ids = torch.randint(0, 97, (1, 6))
    base, _ = m(input_ids=ids)
    aux = torch.rand(1, 3)
    pos = torch.cat([torch.arange(6), torch.arange(5, 8)]).unsqueeze(0)
    allowed = torch.zeros(9, 9, dtype=torch.bool)
    allowed[:6, :6] = torch.ones(6, 6, dtype=torch.bool).tril()
    allowed[6:, :6] = True
    allowed[6:, 6:] = torch.ones(3, 3, dtype=torch.bool).tril()
    bias = torch.zeros(9, 9).masked_fill(~allowed, NEG).view(1, 1, 9, 9)
    mixed, _ = m(input_ids=ids, aux=aux, position_ids=pos, attention_bias=bias)
    assert torch.allclose(base, mixed[:, :6], atol=1e-5)
    # and the aux rows do depend on u
    mixed2, _ = m(input_ids=ids, aux=1 - aux, position_ids=pos, attention_bias=bias)
    assert not torch.allclose(mixed[:, 6:], mixed2[:, 6:])


def test_grow_lora_keeps_every_output_and_trains_the_added_rank():
    m = random_model()
    ids = torch.randint(0, 97, (1, 6))
    aux = torch.rand(1, 3)
    pos = torch.cat([torch.arange(6), torch.arange(5, 8)]).unsqueeze(0)
    bias = torch.zeros(9, 9).masked_fill(torch.ones(9, 9, dtype=torch.bool).triu(1), NEG).view(1, 1, 9, 9)
    before, _ = m(input_ids=ids, aux=aux, position_ids=pos, attention_bias=bias)
    g = grow_lora(m, 7)
    assert g.cfg.lora_rank == 7 and g.blocks[0].attn.q.lora_a.weight.shape[0] == 7
    after, _ = g(input_ids=ids, aux=aux, position_ids=pos, attention_bias=bias)
    assert torch.allclose(before, after, atol=1e-5)
    # the added columns of B get a gradient: the new rank is not dead weight
    after[:, 6:].logsumexp(-1).sum().backward()
    assert g.blocks[0].mlp.up.lora_b.weight.grad[:, 4:].abs().sum() > 0
    assert grow_lora(m, 4) is m
    try:
        grow_lora(m, 2)
        raise AssertionError("narrowing must fail")
    except ValueError as e:
        assert "below the checkpoint's 4" in str(e)


def test_u_bits_binary_expansion():
    u = torch.tensor([0.5, 0.25, 0.75, 1 - 2**-24])
    b = u_bits(u, 24)
    assert b[0].tolist() == [1.0] + [0.0] * 23
    assert b[1].tolist() == [0.0, 1.0] + [0.0] * 22
    assert b[2].tolist() == [1.0, 1.0] + [0.0] * 22
    assert b[3].tolist() == [1.0] * 24


def test_pick_inverse_cdf_in_id_order():
    probs = torch.tensor([[0.1, 0.0, 0.6, 0.3]])
    for u, want in [(0.0, 0), (0.0999, 0), (0.1, 2), (0.69, 2), (0.7001, 3), (0.999999, 3)]:
        assert ptp.pick(probs, torch.tensor([u])).item() == want
    d = ptp.sampling_dist(torch.tensor([[1.0, 3.0, 2.0, 3.0]]), 0.0, 50, 1.0)
    assert d.argmax().item() == 1 and d[0, 1].item() == 1.0


def test_window_mask_matches_brute_force():
    B, S, L, N = 1, 10, 3, 2
    ids = torch.randint(5, 97, (B, S))
    left, right = torch.zeros(B, S - 1), torch.ones(B, S - 1)
    starts = torch.tensor([[3, 6]])
    u, pos, bias, tgt = ptp.windows(ids, starts, L, left, right, None, eot=0)
    allowed = bias[0, 0] == 0
    for n in range(N):
        for j in range(L):
            q = n * L + j
            for k in range(S + N * L):
                if k < S:
                    want = k < starts[0, n].item()
                else:
                    a = k - S
                    want = a // L == n and a % L <= j
                assert allowed[q, k].item() == want, (q, k)
            assert pos[0, q].item() == starts[0, n].item() + j - 1
            assert tgt[0, q].item() == ids[0, starts[0, n].item() + j].item()


def write_parts(d: Path, stem: str, data: bytes, size: int) -> list[Path]:
    """What train.py --export-parts writes, with parts of ``size`` bytes."""
    d.mkdir(parents=True, exist_ok=True)
    out = [d / f"{stem}.fp16.part{i // size}" for i in range(0, len(data), size)]
    for i, p in zip(range(0, len(data), size), out):
        p.write_bytes(data[i : i + size])
    return out


def test_parts_join_and_a_missing_or_empty_part_is_named(tmp_path, monkeypatch):
    """Checkpoint parts load; a missing, empty or short one is an error that names the file and what
    to do, never torch.load's EOFError on an empty buffer (the PTP stage writes no part when its
    validation never beats the start)."""
    monkeypatch.setattr(model_module, "PART_BYTES", 4096)  # several parts from a small model
    m = random_model()
    buf = io.BytesIO()
    save_weights(m, buf, {"val_correct": 0.5}, dtype=torch.float16)
    data = buf.getvalue()
    parts = write_parts(tmp_path / "ok", "ptp", data, 4096)
    (tmp_path / "ok" / "ptp.fp16.part1.bak").write_bytes(b"x")  # a stray copy is not a part
    assert len(parts) > 2 and join_parts(parts[0]).getvalue() == data
    loaded, ck = load_weights(parts[0])
    assert ck["val_correct"] == 0.5 and all(torch.equal(v, m.state_dict()[k].half().float())
                                            for k, v in loaded.state_dict().items())

    def error(path, kind):
        with pytest.raises(kind) as e:
            load_weights(path)
        assert not isinstance(e.value, EOFError)
        return str(e.value)

    missing = tmp_path / "none" / "ptp.fp16.part0"
    missing.parent.mkdir()
    msg = error(missing, FileNotFoundError)
    assert str(missing) in msg and "beats the starting weights" in msg and "--save-last" in msg, msg
    with pytest.raises(FileNotFoundError, match="does not exist"):
        join_parts(missing)

    empty = tmp_path / "empty" / "ptp.fp16.part0"
    empty.parent.mkdir()
    empty.write_bytes(b"")
    msg = error(empty, ValueError)
    assert str(empty) in msg and "empty" in msg and "copy it again" in msg, msg

    gap = write_parts(tmp_path / "gap", "ptp", data, 4096)
    gap[1].unlink()
    msg = error(gap[0], FileNotFoundError)
    assert str(gap[1]) in msg and "copy every part" in msg, msg

    short = write_parts(tmp_path / "short", "ptp", data, 4096)
    short[1].write_bytes(short[1].read_bytes()[:100])
    msg = error(short[0], ValueError)
    assert str(short[1]) in msg and "100 bytes" in msg, msg

    tail = write_parts(tmp_path / "tail", "ptp", data, 4096)
    tail[-1].unlink()  # the set looks whole but ends early: torch cannot read it
    msg = error(tail[0], ValueError)
    assert "ptp.fp16.part*" in msg and "cannot be read" in msg, msg

    plain = tmp_path / "plain.pt"
    plain.write_bytes(b"")
    msg = error(plain, ValueError)
    assert str(plain) in msg and "empty" in msg, msg

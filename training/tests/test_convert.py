"""training/convert.py on tiny random Hugging Face checkpoints (make_tiny_hf.py), no downloads.
ONNX parity through onnxruntime is test/engine/byoModel.test.ts (Node)."""
import json
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import convert  # noqa: E402
import hf_reference  # noqa: E402
from make_tiny_hf import FAMILIES, make  # noqa: E402
from safetensors_io import load_file, save_file  # noqa: E402


def test_safetensors_round_trip(tmp_path):
    t = {"a": torch.randn(3, 4), "b": torch.randn(5).to(torch.bfloat16), "c": torch.arange(6, dtype=torch.int64).view(2, 3), "d": torch.randn(2).half()}
    save_file(t, tmp_path / "x.safetensors", {"format": "pt"})
    back = load_file(tmp_path / "x.safetensors")
    assert set(back) == set(t)
    for k in t:
        assert back[k].dtype == t[k].dtype and torch.equal(back[k], t[k])


@pytest.mark.parametrize("family", FAMILIES)
def test_converted_model_matches_reference(tmp_path, family):
    src = make(family, tmp_path / "hf")
    result = convert.convert(src, tmp_path / "out", quiet=True)
    assert result["diffs"]["cold"] < 1e-4 and result["diffs"]["cached"] < 1e-4
    m = json.loads((tmp_path / "out/model.json").read_text())
    assert m["ptp"]["adapters"] is False and m["architecture"]["lora_rank"] == 0
    assert m["architecture"]["num_kv_heads"] == 2 and m["architecture"]["num_heads"] == 4
    assert m["architecture"]["vocab_size"] == 8192  # qwen2's padded 8256 rows trimmed to the tokenizer
    assert m["special_tokens"]["endoftext"] == 0
    if family == "llama":
        assert "fim_prefix" not in m["special_tokens"]
    else:
        assert m["special_tokens"]["fim_prefix"] == 1 and m["special_token_text"]["fim_prefix"] in ("<|fim_prefix|>", "<fim_prefix>")
    assert (tmp_path / "out/model.onnx").stat().st_size > 0


def test_reference_is_sensitive_to_each_family_feature(tmp_path):
    """The check would catch a mapping that drops biases, GQA order or the untied head."""
    src = make("qwen2-untied", tmp_path / "hf")
    cfg = json.loads((src / "config.json").read_text())
    t = {k: v.float() for k, v in load_file(src / "model.safetensors").items()}
    ids = torch.randint(0, 8000, (1, 16))
    base, _ = hf_reference.forward(cfg, t, ids)
    no_bias = {k: (torch.zeros_like(v) if k.endswith("q_proj.bias") else v) for k, v in t.items()}
    tied = dict(cfg, tie_word_embeddings=True)
    assert (hf_reference.forward(cfg, no_bias, ids)[0] - base).abs().max() > 1e-2
    assert (hf_reference.forward(tied, t, ids)[0] - base).abs().max() > 1e-2


@pytest.mark.parametrize("bad,family,message", [
    ("missing-weights", "llama", "no *.safetensors weights"),
    ("missing-tokenizer", "qwen2", "tokenizer.json: tokenizer.json is missing"),
    ("missing-tensor", "qwen2", "the weights lack model.layers.1.mlp.down_proj.weight"),
    ("unsupported-arch", "llama", "model_type 'mamba' (MambaForCausalLM) is not supported"),
    ("mismatched-tokenizer", "starcoder2", "has 8192 tokens but config.json vocab_size is 8092"),
])
def test_bad_checkpoint_is_one_line(tmp_path, capsys, bad, family, message):
    src = make(family, tmp_path / "hf", bad=bad)
    assert convert.main(["--hf", str(src), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and message in err and "supported: Llama, Qwen2 and StarCoder2" in err


def test_adapters_for_a_converted_model(tmp_path):
    """train.py ptp --init <converted dir> trains adapters; export.py --into writes them there."""
    from test_train import common, make_tokens, run

    src = make("qwen2", tmp_path / "hf")  # Qwen's special-token names: the corpus tokenizer's ids
    conv = tmp_path / "conv"
    convert.convert(src, conv, quiet=True)
    make_tokens(tmp_path / "tokens")
    root = Path(__file__).resolve().parents[2]
    ck = tmp_path / "ptp.pt"
    args = [sys.executable, str(root / "training/train.py"), "ptp", *common(tmp_path), "--init", str(conv), "--out", str(ck),
            "--window", "4", "--windows", "4", "--gen-len", "8", "--eval-batches", "1", "--lora-rank", "4",
            "--steps", "20", "--lr", "1e-2", "--warmup", "2"]
    log = run(args)
    assert "new rank-4 adapters for the converted model" in log
    if not ck.exists():  # 20 steps on a random model need not beat its starting adapters (then nothing is written)
        from model import save_weights

        save_weights(convert.load_for_adapters(conv, 4), ck)
    run([sys.executable, str(root / "training/export.py"), "--ckpt", str(ck), "--into", str(conv)])
    m = json.loads((conv / "model.json").read_text())
    assert m["ptp"]["adapters"] is True and m["architecture"]["lora_rank"] == 4
    assert m["architecture"]["num_kv_heads"] == 2 and m["converted_from"]["model_type"] == "qwen2"
    assert m["special_token_text"]["fim_prefix"] == "<|fim_prefix|>"

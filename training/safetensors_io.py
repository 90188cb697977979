"""A small reader/writer for the safetensors format (no dependency beyond PyTorch).

Layout: 8-byte little-endian header length N, N bytes of JSON
``{name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}``
then the raw little-endian tensor bytes (offsets relative to the end of the header).
"""
from __future__ import annotations

import json
import struct
from pathlib import Path

import torch

DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool,
}
NAMES = {v: k for k, v in DTYPES.items()}


class SafetensorsError(ValueError):
    pass


def read_header(path: Path) -> tuple[dict, int]:
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise SafetensorsError(f"{path}: not a safetensors file (shorter than 8 bytes)")
        (n,) = struct.unpack("<Q", head)
        if n > 100_000_000:
            raise SafetensorsError(f"{path}: not a safetensors file (header length {n})")
        try:
            header = json.loads(f.read(n))
        except ValueError as e:
            raise SafetensorsError(f"{path}: not a safetensors file (header is not JSON: {e})") from None
    return header, 8 + n


def load_file(path: Path) -> dict[str, torch.Tensor]:
    """All tensors of one file (copied out of the file; float dtypes kept as stored)."""
    path = Path(path)
    header, start = read_header(path)
    data = path.read_bytes()[start:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = DTYPES.get(info.get("dtype"))
        if dtype is None:
            raise SafetensorsError(f"{path}: tensor {name} has unsupported dtype {info.get('dtype')}")
        b, e = info["data_offsets"]
        if e > len(data) or b > e:
            raise SafetensorsError(f"{path}: tensor {name} lies outside the file (truncated?)")
        shape = info["shape"]
        if b == e:
            out[name] = torch.zeros(shape, dtype=dtype)
            continue
        t = torch.frombuffer(bytearray(data[b:e]), dtype=dtype)
        if t.numel() != (int(torch.tensor(shape).prod().item()) if shape else 1):
            raise SafetensorsError(f"{path}: tensor {name} has {t.numel()} values but shape {shape}")
        out[name] = t.reshape(shape)
    return out


def save_file(tensors: dict[str, torch.Tensor], path: Path, metadata: dict | None = None) -> None:
    header: dict = {"__metadata__": metadata} if metadata else {}
    blobs, offset = [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        raw = t.view(torch.uint8).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)

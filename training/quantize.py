#!/usr/bin/env python3
"""Weight storage options for an exported model.onnx (training/convert.py --weights), with the
onnx package (Debian: python3-onnx). The graph's inputs and outputs stay float32 (the contract).

* fp16: every float weight of 4096+ values is stored as float16 and cast back to float32 in the
  graph. Halves the file; onnxruntime folds the casts when it loads, so memory and speed are
  fp32's.
* int8: every linear layer's weight [out, in] is stored as int8 with one float scale per output
  row (symmetric, absmax / 127), and its MatMul becomes DynamicQuantizeLinear(x) ->
  MatMulInteger -> Cast -> Mul(scale_x * scale_w): the activations are quantized per call and
  the product runs in integer arithmetic (onnxruntime's int8 GEMM). A tied embedding's lookup
  reads the same int8 rows (Gather, Cast, Mul by the row's scale). A quarter of the file and of
  the weights' memory; logits move by what int8 rounding costs (measured, not bounded).

    python3 training/quantize.py IN.onnx OUT.onnx --weights int8
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MIN_VALUES = 4096  # smaller weights (norms, biases, u_embed) stay float32


def _consumers(graph, name):
    return [n for n in graph.node if name in n.input]


def pretranspose(model: onnx.ModelProto) -> int:
    """Transpose(W) -> MatMul becomes a stored W^T: onnxruntime would otherwise fold the Transpose
    at load and keep both copies (twice the weights' memory). A tied embedding, also read by
    Gather, keeps its Transpose."""
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    n = 0
    for node in list(g.node):
        if node.op_type != "Transpose" or node.input[0] not in inits or list(node.attribute[0].ints) != [1, 0]:
            continue
        if len(_consumers(g, node.input[0])) != 1:
            continue
        init = inits[node.input[0]]
        wt = numpy_helper.from_array(np.ascontiguousarray(numpy_helper.to_array(init).T), node.output[0])
        g.initializer.remove(init)
        g.initializer.append(wt)
        g.node.remove(node)
        n += 1
    return n


def to_fp16(model: onnx.ModelProto) -> int:
    g = model.graph
    casts, n = [], 0
    for init in list(g.initializer):
        if init.data_type != TensorProto.FLOAT or int(np.prod(init.dims)) < MIN_VALUES:
            continue
        w = numpy_helper.to_array(init)
        half = numpy_helper.from_array(w.astype(np.float16), init.name + "_fp16")
        g.initializer.remove(init)
        g.initializer.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT, name=init.name + "_cast"))
        n += 1
    for c in reversed(casts):
        g.node.insert(0, c)
    return n


def to_int8(model: onnx.ModelProto) -> int:
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    done = 0
    for name, init in list(inits.items()):
        if init.data_type != TensorProto.FLOAT or len(init.dims) != 2 or int(np.prod(init.dims)) < MIN_VALUES:
            continue
        users = _consumers(g, name)
        plan = []  # (kind, node, matmuls)
        ok = True
        for u in users:
            if u.op_type == "Transpose" and list(u.attribute[0].ints) == [1, 0]:
                mms = _consumers(g, u.output[0])
                if not mms or any(m.op_type != "MatMul" or m.input[1] != u.output[0] for m in mms):
                    ok = False
                plan.append(("linear", u, mms))
            elif u.op_type == "Gather" and u.input[0] == name and not any(a.name == "axis" and a.i != 0 for a in u.attribute):
                plan.append(("gather", u, []))
            else:
                ok = False
        if not ok or not plan:
            continue
        w = numpy_helper.to_array(init).astype(np.float32)
        scale = np.maximum(np.abs(w).max(axis=1), 1e-12) / 127.0
        q = np.clip(np.rint(w / scale[:, None]), -127, 127).astype(np.int8)
        g.initializer.remove(init)
        g.initializer.append(numpy_helper.from_array(q, name + "_int8"))
        g.initializer.append(numpy_helper.from_array(scale.astype(np.float32), name + "_scale"))
        for kind, node, mms in plan:
            if kind == "gather":
                out = node.output[0]
                node.input[0] = name + "_int8"
                node.output[0] = out + "_int8"
                ids = node.input[1]
                idx = list(g.node).index(node)
                new = [
                    helper.make_node("Cast", [out + "_int8"], [out + "_f"], to=TensorProto.FLOAT),
                    helper.make_node("Gather", [name + "_scale", ids], [out + "_s"], axis=0),
                    helper.make_node("Unsqueeze", [out + "_s", name + "_axes"], [out + "_s1"]),
                    helper.make_node("Mul", [out + "_f", out + "_s1"], [out]),
                ]
                if not any(i.name == name + "_axes" for i in g.initializer):
                    g.initializer.append(numpy_helper.from_array(np.array([-1], dtype=np.int64), name + "_axes"))
                for k, nn in enumerate(new):
                    g.node.insert(idx + 1 + k, nn)
                continue
            node.input[0] = name + "_int8"  # Transpose now yields int8 [in, out] (folded at load)
            for mm in mms:
                x, y = mm.input[0], mm.output[0]
                idx = list(g.node).index(mm)
                p = y + "_q"
                new = [
                    helper.make_node("DynamicQuantizeLinear", [x], [p + "x", p + "xs", p + "xz"]),
                    helper.make_node("MatMulInteger", [p + "x", node.output[0], p + "xz"], [p + "i"]),
                    helper.make_node("Cast", [p + "i"], [p + "f"], to=TensorProto.FLOAT),
                    helper.make_node("Mul", [p + "xs", name + "_scale"], [p + "s"]),
                    helper.make_node("Mul", [p + "f", p + "s"], [y]),
                ]
                g.node.remove(mm)
                for k, nn in enumerate(new):
                    g.node.insert(idx + k, nn)
        done += 1
    return done


def convert_weights(path: Path, weights: str, out: Path | None = None) -> int:
    model = onnx.load(str(path))
    if weights == "fp32":
        n = pretranspose(model)
    else:
        n = to_fp16(model) if weights == "fp16" else to_int8(model)
    if weights == "int8" and not any(o.domain in ("", "ai.onnx") and o.version >= 10 for o in model.opset_import):
        raise ValueError("int8 needs opset >= 10")
    onnx.save(model, str(out or path))
    return n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", type=Path)
    ap.add_argument("dst", type=Path)
    ap.add_argument("--weights", choices=["fp32", "fp16", "int8"], required=True, help="fp32: only store linear weights pre-transposed")
    args = ap.parse_args()
    n = convert_weights(args.src, args.weights, args.dst)
    print(f"wrote {args.dst}: {n} weights as {args.weights}, {args.dst.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

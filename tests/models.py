"""ONNX models built with onnx.helper for the tests (random weights, fixed seeds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


def _save(
    path: Path,
    nodes: list[onnx.NodeProto],
    inits: dict[str, np.ndarray],
    in_shape: list[int | str],
    out_shape: list[int | str],
    in_name: str = "input",
    out_name: str = "logits",
) -> Path:
    graph = helper.make_graph(
        nodes,
        path.stem,
        [helper.make_tensor_value_info(in_name, TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, out_shape)],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def _weights(seed: int, *shapes: tuple[int, ...]) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for shape in shapes:
        fan_in = shape[-1] if len(shape) == 2 else 1
        scale = 1.0 / np.sqrt(fan_in) if len(shape) == 2 else 0.1
        out.append(rng.normal(0.0, scale, shape).astype(np.float32))
    return out


def mlp_784_128_10(path: Path) -> Path:
    """PyTorch-style export: Gemm(transB=1) + Relu + Gemm, dynamic batch."""
    w1, b1, w2, b2 = _weights(1, (128, 784), (128,), (10, 128), (10,))
    nodes = [
        helper.make_node(
            "Gemm",
            ["input", "fc1.weight", "fc1.bias"],
            ["/fc1/Gemm_output_0"],
            name="/fc1/Gemm",
            transB=1,
        ),
        helper.make_node(
            "Relu", ["/fc1/Gemm_output_0"], ["/relu/Relu_output_0"], name="/relu/Relu"
        ),
        helper.make_node(
            "Gemm",
            ["/relu/Relu_output_0", "fc2.weight", "fc2.bias"],
            ["logits"],
            name="/fc2/Gemm",
            transB=1,
        ),
    ]
    inits = {"fc1.weight": w1, "fc1.bias": b1, "fc2.weight": w2, "fc2.bias": b2}
    return _save(path, nodes, inits, ["batch", 784], ["batch", 10])


def matmul_add(path: Path) -> Path:
    """MatMul + Add biases, with Identity and Dropout nodes to be removed."""
    w1, b1, w2, b2 = _weights(2, (64, 32), (32,), (32, 5), (5,))
    nodes = [
        helper.make_node("Identity", ["input"], ["x_id"], name="/identity"),
        helper.make_node("MatMul", ["x_id", "w1"], ["mm1"], name="/fc1/MatMul"),
        helper.make_node("Add", ["mm1", "b1"], ["fc1"], name="/fc1/Add"),
        helper.make_node("Relu", ["fc1"], ["h1"], name="/relu"),
        helper.make_node("Dropout", ["h1"], ["h1d"], name="/dropout"),
        helper.make_node("MatMul", ["h1d", "w2"], ["mm2"], name="/fc2/MatMul"),
        helper.make_node("Add", ["b2", "mm2"], ["logits"], name="/fc2/Add"),
    ]
    inits = {"w1": w1, "b1": b1, "w2": w2, "b2": b2}
    return _save(path, nodes, inits, [1, 64], [1, 5])


def flatten_reshape(path: Path) -> Path:
    """[1,1,12,12] image -> Flatten -> Gemm(alpha, beta, transB=0) -> Relu -> Gemm -> Reshape."""
    w1, b1, w2, b2 = _weights(3, (144, 24), (1, 24), (12, 24), (12,))
    shape = np.array([1, 3, 4], dtype=np.int64)
    nodes = [
        helper.make_node("Flatten", ["input"], ["flat"], name="/flatten", axis=1),
        helper.make_node(
            "Gemm", ["flat", "w1", "b1"], ["fc1"], name="/fc1/Gemm", alpha=0.5, beta=2.0
        ),
        helper.make_node("Relu", ["fc1"], ["h1"], name="/relu"),
        helper.make_node("Gemm", ["h1", "w2", "b2"], ["fc2"], name="/fc2/Gemm", transB=1),
        helper.make_node("Reshape", ["fc2", "shape"], ["logits"], name="/reshape"),
    ]
    inits = {"w1": w1, "b1": b1, "w2": w2, "b2": b2, "shape": shape}
    return _save(path, nodes, inits, [1, 1, 12, 12], [1, 3, 4])


def dynamic_reshape(path: Path) -> Path:
    """PyTorch's x.view(x.size(0), -1): Shape -> Gather -> Unsqueeze -> Concat -> Reshape.

    Also a Reshape between a Gemm and its Relu (the importer moves the Relu up).
    """
    w1, b1, w2, b2 = _weights(4, (32, 50), (32,), (3, 32), (3,))
    nodes = [
        helper.make_node("Shape", ["input"], ["shape"], name="/Shape"),
        helper.make_node("Gather", ["shape", "zero"], ["batch"], name="/Gather", axis=0),
        helper.make_node("Unsqueeze", ["batch", "axes"], ["batch1"], name="/Unsqueeze"),
        helper.make_node("Concat", ["batch1", "minus_one"], ["target"], name="/Concat", axis=0),
        helper.make_node("Reshape", ["input", "target"], ["flat"], name="/Reshape"),
        helper.make_node("Gemm", ["flat", "w1", "b1"], ["fc1"], name="/fc1/Gemm", transB=1),
        helper.make_node("Reshape", ["fc1", "grid"], ["fc1_grid"], name="/to_grid"),
        helper.make_node("Relu", ["fc1_grid"], ["h1_grid"], name="/relu"),
        helper.make_node("Reshape", ["h1_grid", "flat_shape"], ["h1"], name="/from_grid"),
        helper.make_node("Gemm", ["h1", "w2", "b2"], ["logits"], name="/fc2/Gemm", transB=1),
    ]
    inits = {
        "w1": w1,
        "b1": b1,
        "w2": w2,
        "b2": b2,
        "zero": np.array(0, dtype=np.int64),
        "axes": np.array([0], dtype=np.int64),
        "minus_one": np.array([-1], dtype=np.int64),
        "grid": np.array([1, 4, 8], dtype=np.int64),
        "flat_shape": np.array([1, 32], dtype=np.int64),
    }
    return _save(path, nodes, inits, ["N", 2, 25], ["N", 3])


def unsupported(path: Path) -> Path:
    """A dilated Conv, Hardmax and LpNormalization around a Gemm: three unsupported nodes."""
    rng = np.random.default_rng(5)
    kernel = rng.normal(0, 0.3, (2, 1, 3, 3)).astype(np.float32)
    w, b = _weights(6, (72, 4), (4,))
    nodes = [
        helper.make_node(
            "Conv",
            ["input", "kernel"],
            ["conv"],
            name="/conv/Conv",
            dilations=[2, 2],
            pads=[1, 1, 1, 1],
        ),
        helper.make_node("Hardmax", ["conv"], ["sig"], name="/act/Hardmax"),
        helper.make_node("Flatten", ["sig"], ["flat"], name="/flatten"),
        helper.make_node("Gemm", ["flat", "w", "b"], ["fc"], name="/fc/Gemm"),
        helper.make_node("LpNormalization", ["fc"], ["logits"], name="/norm/LpNormalization"),
    ]
    inits = {"kernel": kernel, "w": w, "b": b}
    return _save(path, nodes, inits, [1, 1, 8, 8], [1, 4])


def many_unsupported(path: Path) -> Path:
    """Seven unsupported nodes of six op types, five of them behind the first one: two Hardmaxes,
    an Asinh and an Atanh (no import rule), a dilated Conv, a padded MaxPool and a Gemm with
    transA=1 (supported op types whose attributes are not)."""
    rng = np.random.default_rng(8)
    k1 = rng.normal(0, 0.3, (2, 1, 3, 3)).astype(np.float32)
    k2 = rng.normal(0, 0.3, (2, 2, 3, 3)).astype(np.float32)
    w = rng.normal(0, 0.3, (1, 4)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["input", "k1"], ["c1"], name="/conv1/Conv", pads=[1, 1, 1, 1]),
        helper.make_node("Hardmax", ["c1"], ["s1"], name="/act1/Hardmax"),
        helper.make_node(
            "Conv", ["s1", "k2"], ["c2"], name="/conv2/Conv", dilations=[2, 2], pads=[2, 2, 2, 2]
        ),
        helper.make_node("Asinh", ["c2"], ["m"], name="/asinh/Asinh"),
        helper.make_node(
            "MaxPool", ["m"], ["p"], name="/pool/MaxPool", kernel_shape=[2, 2], pads=[2, 2, 2, 2]
        ),
        helper.make_node("Hardmax", ["p"], ["s2"], name="/act2/Hardmax"),
        helper.make_node("Flatten", ["s2"], ["flat"], name="/flatten"),
        helper.make_node("Gemm", ["flat", "w"], ["fc"], name="/fc/Gemm", transA=1),
        helper.make_node("Atanh", ["fc"], ["logits"], name="/out/Atanh"),
    ]
    inits = {"k1": k1, "k2": k2, "w": w}
    return _save(path, nodes, inits, [1, 1, 8, 8], [162, 4])


def residual_add(path: Path) -> Path:
    """An Add of two activations (a residual connection), plus an unnamed Atanh."""
    w, b = _weights(7, (16, 8), (8,))
    nodes = [
        helper.make_node("Gemm", ["input", "w", "b"], ["fc"], name="/fc/Gemm"),
        helper.make_node("Relu", ["fc"], ["h"], name="/relu"),
        helper.make_node("Add", ["h", "h"], ["twice"], name="/residual/Add"),
        helper.make_node("Atanh", ["twice"], ["logits"]),
    ]
    return _save(path, nodes, {"w": w, "b": b}, [1, 16], [1, 8])


BUILDERS = {
    "mlp_784_128_10": mlp_784_128_10,
    "matmul_add": matmul_add,
    "flatten_reshape": flatten_reshape,
    "dynamic_reshape": dynamic_reshape,
}


def sample_inputs(shape: tuple[int, ...], count: int, seed: int = 0) -> np.ndarray:
    """Inputs in [0, 1) like pixels, shape [count, *shape]."""
    return np.random.default_rng(seed).random((count, *shape))


def _two_inputs(path: Path, nodes: list[onnx.NodeProto], inits: dict[str, np.ndarray]) -> Path:
    """Inputs x and y, [batch, 4] each, and one output [batch, 3] (issue 14)."""
    graph = helper.make_graph(
        nodes,
        path.stem,
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4]),
            helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4]),
        ],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["batch", 3])],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def two_inputs_gemm(path: Path) -> Path:
    """x -> Gemm, y -> Gemm, Add, Relu, Gemm -> out: each input through its own layer."""
    wx, bx, wy, by, w2, b2 = _weights(31, (5, 4), (5,), (5, 4), (5,), (3, 5), (3,))
    nodes = [
        helper.make_node("Gemm", ["x", "wx", "bx"], ["hx"], name="/x/Gemm", transB=1),
        helper.make_node("Gemm", ["y", "wy", "by"], ["hy"], name="/y/Gemm", transB=1),
        helper.make_node("Add", ["hx", "hy"], ["h"], name="/add"),
        helper.make_node("Relu", ["h"], ["r"], name="/relu"),
        helper.make_node("Gemm", ["r", "w2", "b2"], ["out"], name="/out/Gemm", transB=1),
    ]
    inits = {"wx": wx, "bx": bx, "wy": wy, "by": by, "w2": w2, "b2": b2}
    return _two_inputs(path, nodes, inits)


def two_inputs_add(path: Path) -> Path:
    """x + y read directly by an Add, then Gemm -> out."""
    w, b = _weights(32, (3, 4), (3,))
    nodes = [
        helper.make_node("Add", ["x", "y"], ["s"], name="/add"),
        helper.make_node("Gemm", ["s", "w", "b"], ["out"], name="/out/Gemm", transB=1),
    ]
    return _two_inputs(path, nodes, {"w": w, "b": b})

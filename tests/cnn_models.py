"""Small CNNs built with onnx.helper for the tests (random weights, fixed seeds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import helper

import models

OPSET = 17


def save(
    path: Path,
    nodes: list[onnx.NodeProto],
    inits: dict[str, np.ndarray],
    in_shape: list[int | str],
    out_shape: list[int | str],
) -> Path:
    """Check and write a graph from ``input`` to ``logits`` (float initializers as float32)."""
    as32 = {k: np.asarray(v, dtype=np.float32) for k, v in inits.items()}
    return models._save(path, nodes, as32, in_shape, out_shape)


def _kernel(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    fan_in = int(np.prod(shape[1:]))
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)


def _batchnorm(rng: np.random.Generator, prefix: str, channels: int) -> dict[str, np.ndarray]:
    return {
        f"{prefix}.gamma": rng.uniform(0.5, 1.5, channels),
        f"{prefix}.beta": rng.normal(0.0, 0.2, channels),
        f"{prefix}.mean": rng.normal(0.0, 0.2, channels),
        f"{prefix}.var": rng.uniform(0.5, 1.5, channels),
    }


def lenet(path: Path) -> Path:
    """LeNet-style, input 1×1×12×12 with a dynamic batch.

    Conv 4×1×3×3 (padded) + BatchNorm + Relu + MaxPool 2×2, Conv 8×4×3×3 + Relu +
    AveragePool 2×2, Flatten, Gemm → 10.
    """
    rng = np.random.default_rng(11)
    inits = {
        "conv1.weight": _kernel(rng, (4, 1, 3, 3)),
        "conv1.bias": rng.normal(0.0, 0.1, 4),
        **_batchnorm(rng, "bn1", 4),
        "conv2.weight": _kernel(rng, (8, 4, 3, 3)),
        "conv2.bias": rng.normal(0.0, 0.1, 8),
        "fc.weight": rng.normal(0.0, np.sqrt(1.0 / 32), (10, 32)),
        "fc.bias": rng.normal(0.0, 0.1, 10),
    }
    nodes = [
        helper.make_node(
            "Conv",
            ["input", "conv1.weight", "conv1.bias"],
            ["c1"],
            name="/conv1/Conv",
            kernel_shape=[3, 3],
            pads=[1, 1, 1, 1],
        ),
        helper.make_node(
            "BatchNormalization",
            ["c1", "bn1.gamma", "bn1.beta", "bn1.mean", "bn1.var"],
            ["n1"],
            name="/bn1/BatchNormalization",
            epsilon=1e-5,
        ),
        helper.make_node("Relu", ["n1"], ["r1"], name="/relu1/Relu"),
        helper.make_node(
            "MaxPool", ["r1"], ["p1"], name="/pool1/MaxPool", kernel_shape=[2, 2], strides=[2, 2]
        ),
        helper.make_node("Conv", ["p1", "conv2.weight", "conv2.bias"], ["c2"], name="/conv2/Conv"),
        helper.make_node("Relu", ["c2"], ["r2"], name="/relu2/Relu"),
        helper.make_node(
            "AveragePool",
            ["r2"],
            ["p2"],
            name="/pool2/AveragePool",
            kernel_shape=[2, 2],
            strides=[2, 2],
        ),
        helper.make_node("Flatten", ["p2"], ["flat"], name="/flatten/Flatten"),
        helper.make_node(
            "Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], name="/fc/Gemm", transB=1
        ),
    ]
    return save(path, nodes, inits, ["N", 1, 12, 12], ["N", 10])


def gap_cnn(path: Path) -> Path:
    """PyTorch-style order and extras, input 1×1×12×12.

    Conv 4×1×3×3 stride 2 (padded) with its bias as a separate Add, MaxPool 2×2 stride 1 and
    then Relu, Conv 6×4×3×3 (padded) + BatchNorm + Relu, GlobalAveragePool, Flatten,
    MatMul + Add → 10.
    """
    rng = np.random.default_rng(12)
    inits = {
        "conv1.weight": _kernel(rng, (4, 1, 3, 3)),
        "conv1.bias": rng.normal(0.0, 0.1, (1, 4, 1, 1)),
        "conv2.weight": _kernel(rng, (6, 4, 3, 3)),
        **_batchnorm(rng, "bn2", 6),
        "fc.weight": rng.normal(0.0, np.sqrt(1.0 / 6), (6, 10)),
        "fc.bias": rng.normal(0.0, 0.1, 10),
    }
    nodes = [
        helper.make_node(
            "Conv",
            ["input", "conv1.weight"],
            ["c1"],
            name="/conv1/Conv",
            strides=[2, 2],
            pads=[1, 1, 1, 1],
        ),
        helper.make_node("Add", ["c1", "conv1.bias"], ["b1"], name="/conv1/Add"),
        helper.make_node("MaxPool", ["b1"], ["p1"], name="/pool1/MaxPool", kernel_shape=[2, 2]),
        helper.make_node("Relu", ["p1"], ["r1"], name="/relu1/Relu"),
        helper.make_node(
            "Conv", ["r1", "conv2.weight"], ["c2"], name="/conv2/Conv", pads=[1, 1, 1, 1]
        ),
        helper.make_node(
            "BatchNormalization",
            ["c2", "bn2.gamma", "bn2.beta", "bn2.mean", "bn2.var"],
            ["n2"],
            name="/bn2/BatchNormalization",
        ),
        helper.make_node("Relu", ["n2"], ["r2"], name="/relu2/Relu"),
        helper.make_node("GlobalAveragePool", ["r2"], ["g"], name="/gap/GlobalAveragePool"),
        helper.make_node("Flatten", ["g"], ["flat"], name="/flatten/Flatten"),
        helper.make_node("MatMul", ["flat", "fc.weight"], ["mm"], name="/fc/MatMul"),
        helper.make_node("Add", ["mm", "fc.bias"], ["logits"], name="/fc/Add"),
    ]
    return save(path, nodes, inits, ["N", 1, 12, 12], ["N", 10])


def one_channel_conv(path: Path) -> Path:
    """Conv 1×2×3×3 (one output channel, '/one/Conv'), Flatten, MatMul → 2; input 1×2×6×6.

    Proved as two output channels and a dense layer keeping the first.
    """
    rng = np.random.default_rng(13)
    inits = {"one.weight": _kernel(rng, (1, 2, 3, 3)), "fc.weight": rng.normal(0.0, 0.5, (16, 2))}
    nodes = [
        helper.make_node("Conv", ["input", "one.weight"], ["c"], name="/one/Conv"),
        helper.make_node("Flatten", ["c"], ["flat"], name="/flatten/Flatten"),
        helper.make_node("MatMul", ["flat", "fc.weight"], ["logits"], name="/fc/MatMul"),
    ]
    return save(path, nodes, inits, ["N", 2, 6, 6], ["N", 2])


def one_value_patch_conv(path: Path) -> Path:
    """Conv 2×1×1×1 (one value per patch, '/point/Conv') on a one-channel image, Flatten,
    MatMul → 2; input 1×1×6×6. Zero knowledge refuses it: its kernel column has no variable to
    carry a mask."""
    rng = np.random.default_rng(14)
    inits = {"k": _kernel(rng, (2, 1, 1, 1)), "fc.weight": rng.normal(0.0, 0.5, (72, 2))}
    nodes = [
        helper.make_node("Conv", ["input", "k"], ["c"], name="/point/Conv"),
        helper.make_node("Flatten", ["c"], ["flat"], name="/flatten/Flatten"),
        helper.make_node("MatMul", ["flat", "fc.weight"], ["logits"], name="/fc/MatMul"),
    ]
    return save(path, nodes, inits, ["N", 1, 6, 6], ["N", 2])

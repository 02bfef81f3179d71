"""MatMul of an activation by itself (zkgrad.onnx_matmul): x·x, of one matrix or of stacked
ones, is a product block like any product of two activations; it proves and verifies to
onnxruntime's answer within the quantisation error, and so does a product of two different
activations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

import zkgrad
from zkgrad.onnx import import_onnx

RNG = np.random.default_rng(7)


def _save(tmp_path: Path, nodes: list[onnx.NodeProto], shape: list[int]) -> Path:
    graph = helper.make_graph(
        nodes,
        "self_matmul",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    path = tmp_path / "self_matmul.onnx"
    onnx.save(model, path)
    return path


@pytest.mark.parametrize(
    ("shape", "ops"),
    [
        ([1, 3, 2, 2], ["Unary", "Product"]),
        ([1, 4, 4], ["Unary", "Product"]),
    ],
)
def test_x_times_x_proves_and_matches_onnxruntime(
    tmp_path: Path, shape: list[int], ops: list[str]
) -> None:
    nodes = [
        helper.make_node("Sigmoid", ["x"], ["s"]),
        helper.make_node("MatMul", ["s", "s"], ["y"], name="square"),
    ]
    path = _save(tmp_path, nodes, shape)
    graph, _ = import_onnx(path)
    kinds = [type(op).__name__ for op in graph.ops if type(op).__name__ != "Reshape"]
    assert kinds == ops
    samples = RNG.normal(0, 2, (16, *shape[1:])).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    session = ort.InferenceSession(str(path))
    for x in samples[:2]:
        verified = np.asarray(zkgrad.verify(model, model.prove(x))).reshape(-1)
        expected = session.run(None, {"x": x[None]})[0].reshape(-1)
        # within 2 % of the largest output (the report's error is the mean)
        assert np.max(np.abs(verified - expected)) < 0.02 * np.abs(expected).max()
        assert model.report.relative_error < 0.02


def test_a_product_of_two_different_activations_proves(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node("MatMul", ["r", "x"], ["y"], name="pair"),
    ]
    # 4 × 4: the input then has room for its four readers (the ReLU's copy and B's copy each
    # read it twice), more than a column of at most 8 values may have without revealing it.
    path = _save(tmp_path, nodes, [1, 4, 4])
    samples = RNG.normal(0, 1, (16, 4, 4)).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    x = samples[0]
    verified = np.asarray(zkgrad.verify(model, model.prove(x))).reshape(4, 4)
    assert np.max(np.abs(verified - np.maximum(x, 0) @ x)) < 0.01

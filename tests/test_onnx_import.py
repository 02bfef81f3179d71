"""ONNX import: supported graphs become the right float graph; everything else is a clear error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import models
from zkgrad import ModelError, UnsupportedModelError
from zkgrad.graph import Dense, FloatGraph, Relu, Reshape
from zkgrad.onnx import import_onnx
from zkgrad.reference import run_float


def float_forward(graph: FloatGraph, x: np.ndarray) -> np.ndarray:
    """The imported graph's float semantics in numpy (an independent check of the import)."""
    value = np.asarray(x, dtype=np.float64).reshape(-1)
    for op in graph.ops:
        if isinstance(op, Dense):
            value = op.weight @ value + (0.0 if op.bias is None else op.bias)
        elif isinstance(op, Relu):
            value = np.maximum(value, 0.0)
    return value.reshape(graph.output_shape)


@pytest.mark.parametrize("name", sorted(models.BUILDERS))
def test_import_matches_onnxruntime(name: str, onnx_path: Callable[[str], Path]) -> None:
    graph, model = import_onnx(onnx_path(name))
    samples = models.sample_inputs(graph.input_shape, 4)
    reference = run_float(model, samples, [graph.onnx_output])[graph.onnx_output]
    for sample, expected in zip(samples, reference, strict=True):
        np.testing.assert_allclose(float_forward(graph, sample), expected, rtol=1e-4, atol=1e-5)


def test_mlp_784_128_10_layout(onnx_path: Callable[[str], Path]) -> None:
    graph, _ = import_onnx(onnx_path("mlp_784_128_10"))
    assert graph.input_shape == (1, 784)  # dynamic batch fixed to 1
    assert graph.output_shape == (1, 10)
    assert [type(op).__name__ for op in graph.ops] == ["Dense", "Relu", "Dense"]
    first = graph.ops[0]
    assert isinstance(first, Dense) and first.weight.shape == (128, 784)
    assert graph.num_params() == 784 * 128 + 128 + 128 * 10 + 10


def test_matmul_add_fuses_bias_and_drops_identity(onnx_path: Callable[[str], Path]) -> None:
    graph, _ = import_onnx(onnx_path("matmul_add"))
    kinds = [type(op).__name__ for op in graph.ops]
    assert kinds == ["Dense", "Relu", "Dense"]
    dense = graph.ops[0]
    assert isinstance(dense, Dense)
    assert dense.input == "input" and dense.output == "fc1" and dense.bias is not None
    assert graph.output == "logits"


def test_flatten_reshape_shapes(onnx_path: Callable[[str], Path]) -> None:
    graph, _ = import_onnx(onnx_path("flatten_reshape"))
    reshapes = [op for op in graph.ops if isinstance(op, Reshape)]
    assert [op.shape for op in reshapes] == [(1, 144), (1, 3, 4)]
    assert graph.output_shape == (1, 3, 4)


def test_dynamic_reshape_is_folded_and_relu_moves_before_reshape(
    onnx_path: Callable[[str], Path],
) -> None:
    graph, _ = import_onnx(onnx_path("dynamic_reshape"))
    kinds = [type(op).__name__ for op in graph.ops]
    assert kinds == ["Reshape", "Dense", "Relu", "Reshape", "Reshape", "Dense"]
    assert graph.input_shape == (1, 2, 25)


def test_unsupported_ops_are_all_listed(onnx_path: Callable[[str], Path]) -> None:
    with pytest.raises(UnsupportedModelError) as info:
        import_onnx(onnx_path("unsupported"))
    found = {(node.name, node.op_type) for node in info.value.nodes}
    assert found == {
        ("/conv/Conv", "Conv"),
        ("/act/Sigmoid", "Sigmoid"),
        ("/softmax/Softmax", "Softmax"),
    }
    message = str(info.value)
    for name in ("/conv/Conv", "/act/Sigmoid", "/softmax/Softmax"):
        assert name in message
    assert "\n" not in message
    assert isinstance(info.value, ModelError)


def test_residual_add_and_unnamed_node_are_reported(tmp_path: Path) -> None:
    path = models.residual_add(tmp_path / "residual.onnx")
    with pytest.raises(UnsupportedModelError) as info:
        import_onnx(path)
    names = [(node.name, node.op_type) for node in info.value.nodes]
    assert names == [("/residual/Add", "Add"), ("Tanh_3", "Tanh")]
    assert "constant bias" in info.value.nodes[0].reason


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        import_onnx(tmp_path / "nope.onnx")


def test_not_onnx(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_text("this is not a protobuf\n")
    with pytest.raises(ModelError, match="not an ONNX model"):
        import_onnx(path)

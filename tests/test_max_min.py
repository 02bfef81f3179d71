"""Elementwise Max and Min: with a scalar constant a clip by table lookup, of two activations
b + relu(a − b) and a − relu(a − b) (blocks already proved); they match onnxruntime, and three
operands are one clear error naming the node."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import zkgrad
from zkgrad.onnx import import_onnx

RNG = np.random.default_rng(47)
N = 16  # wider than 8 values: the input has three readers in Max(x·W, x)


def _save(tmp_path: Path, nodes: list[onnx.NodeProto], consts: dict[str, np.ndarray]) -> Path:
    graph = helper.make_graph(
        nodes,
        "extreme",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, N])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, N])],
        [numpy_helper.from_array(v.astype(np.float32), k) for k, v in consts.items()],
    )
    path = tmp_path / "extreme.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


def _of_a_layer_and_the_input(op: str) -> tuple[list[onnx.NodeProto], dict[str, np.ndarray]]:
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["h"]),
        helper.make_node(op, ["h", "x"], ["y"], name="extreme"),
    ]
    return nodes, {"w": RNG.normal(0, 0.6, (N, N))}


CASES = {
    "Max(x, 0.3)": ([helper.make_node("Max", ["x", "c"], ["y"])], {"c": np.array(0.3)}),
    "Min(x, -0.2)": ([helper.make_node("Min", ["x", "c"], ["y"])], {"c": np.array(-0.2)}),
    "Max(x·W, x)": _of_a_layer_and_the_input("Max"),
    "Min(x·W, x)": _of_a_layer_and_the_input("Min"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_max_and_min_prove_and_match_onnxruntime(tmp_path: Path, case: str) -> None:
    path = _save(tmp_path, *CASES[case])
    samples = RNG.normal(0, 1, (16, N)).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    session = ort.InferenceSession(str(path))
    for x in samples[:2]:
        verified = np.asarray(zkgrad.verify(model, model.prove(x))).reshape(-1)
        expected = session.run(None, {"x": x[None]})[0].reshape(-1)
        assert np.max(np.abs(verified - expected)) < 0.02, (case, verified, expected)


def test_three_operands_are_refused_by_name(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node("Max", ["r", "x", "c"], ["y"], name="extreme"),
    ]
    path = _save(tmp_path, nodes, {"c": np.array(0.1)})
    with pytest.raises(zkgrad.UnsupportedModelError, match="3 operands") as info:
        import_onnx(path)
    assert [node.name for node in info.value.nodes] == ["extreme"]


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
def test_a_non_finite_constant_operand_is_refused_by_name(tmp_path: Path, value: float) -> None:
    # Min(x, -inf) once reached the native IR parser as "invalid IR JSON".
    nodes = [helper.make_node("Min", ["x", "c"], ["y"], name="extreme")]
    path = _save(tmp_path, nodes, {"c": np.array(value)})
    with pytest.raises(zkgrad.UnsupportedModelError, match="must be finite") as info:
        import_onnx(path)
    assert [node.name for node in info.value.nodes] == ["extreme"]


@pytest.mark.parametrize("op", ["Max", "Min"])
@pytest.mark.parametrize("order", [("x", "m"), ("m", "x")])
def test_a_broadcast_row_mean_operand_matches_onnxruntime(
    tmp_path: Path, op: str, order: tuple[str, str]
) -> None:
    # Min(x, mean(x)) with the mean [1, 3, 1] broadcast once failed: the broadcast operand was
    # read again after the difference ("only the previous node's output can be broadcast").
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["m"], axes=[2], keepdims=1),
        helper.make_node(op, list(order), ["y"], name="extreme"),
    ]
    graph = helper.make_graph(
        nodes,
        "extreme",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4])],
    )
    path = tmp_path / "extreme.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    samples = RNG.normal(0, 1, (16, 1, 3, 4)).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    session = ort.InferenceSession(str(path))
    for x in samples[:2]:
        verified = np.asarray(zkgrad.verify(model, model.prove(x))).reshape(-1)
        expected = session.run(None, {"x": x})[0].reshape(-1)
        assert np.max(np.abs(verified - expected)) < 0.01, (op, order, verified, expected)

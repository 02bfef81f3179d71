"""Add, Sub and Mul of two activations where the smaller one broadcasts to the
other's shape (EZKL's 1l_var: x − mean(x)): the small operand is copied by a constant dense
layer (negated for a subtrahend) and the op proved as usual; it matches onnxruntime, and an
operand that cannot be broadcast is one clear error naming the node."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import zkgrad

RNG = np.random.default_rng(31)


def _save(tmp_path: Path, nodes: list[onnx.NodeProto], consts: dict[str, np.ndarray]) -> Path:
    graph = helper.make_graph(
        nodes,
        "broadcast",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4])],
        [numpy_helper.from_array(v.astype(np.float32), k) for k, v in consts.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    path = tmp_path / "broadcast.onnx"
    onnx.save(model, path)
    return path


def _row_mean_then(op: str, order: tuple[str, str]) -> list[onnx.NodeProto]:
    return [
        helper.make_node("ReduceMean", ["x"], ["m"], axes=[2], keepdims=1),
        helper.make_node(op, list(order), ["y"], name="combine"),
    ]


CASES = {
    "x - mean (centered rows)": _row_mean_then("Sub", ("x", "m")),
    "mean - x": _row_mean_then("Sub", ("m", "x")),
    "mean + x": _row_mean_then("Add", ("m", "x")),
    "x * mean": _row_mean_then("Mul", ("x", "m")),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_broadcast_operand_proves_and_matches_onnxruntime(tmp_path: Path, case: str) -> None:
    path = _save(tmp_path, CASES[case], {})
    samples = RNG.normal(0, 1, (16, 3, 4)).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    session = ort.InferenceSession(str(path))
    for x in samples[:2]:
        verified = np.asarray(zkgrad.verify(model, model.prove(x))).reshape(-1)
        expected = session.run(None, {"x": x[None]})[0].reshape(-1)
        assert np.max(np.abs(verified - expected)) < 0.02, (case, verified, expected)


def test_an_earlier_operand_is_broadcast_where_it_was_computed(tmp_path: Path) -> None:
    # mean(x) is computed, then 2·x: the small operand is the earlier one, not the previous
    # node's output; its broadcast reads it where it was computed (the graph branches).
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["m"], axes=[2], keepdims=1),
        helper.make_node("Mul", ["x", "two"], ["d"]),
        helper.make_node("Add", ["d", "m"], ["y"], name="combine"),
    ]
    path = _save(tmp_path, nodes, {"two": np.full(1, 2.0)})
    samples = RNG.normal(0, 1, (16, 3, 4)).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    session = ort.InferenceSession(str(path))
    x = samples[0]
    verified = np.asarray(zkgrad.verify(model, model.prove(x))).reshape(-1)
    expected = session.run(None, {"x": x[None]})[0].reshape(-1)
    assert np.max(np.abs(verified - expected)) < 0.03, (verified, expected)

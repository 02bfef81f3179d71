"""A BOOL or integer model input read as float32 (zkgrad.onnx_input_type): through Identity
and Cast to float32 it proves and verifies to onnxruntime's answer on the original model;
any other reader is one clear refusal naming that node."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import zkgrad
from zkgrad.onnx import import_onnx

RNG = np.random.default_rng(5)


def _save(
    tmp_path: Path,
    nodes: list[onnx.NodeProto],
    types: tuple[int, int],
    shapes: tuple[list[int], list[int]],
    consts: dict[str, np.ndarray] | None = None,
) -> Path:
    graph = helper.make_graph(
        nodes,
        "typed_input",
        [helper.make_tensor_value_info("x", types[0], shapes[0])],
        [helper.make_tensor_value_info("y", types[1], shapes[1])],
        [numpy_helper.from_array(v, k) for k, v in (consts or {}).items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    path = tmp_path / "typed_input.onnx"
    onnx.save(model, path)
    return path


def _prove_against_onnxruntime(path: Path, samples: np.ndarray, tolerance: float) -> None:
    model = zkgrad.compile(path, calibration=samples.astype(np.float64))
    session = ort.InferenceSession(str(path))
    for x in samples[:2]:
        verified = np.asarray(zkgrad.verify(model, model.prove(x.astype(np.float64))))
        expected = session.run(None, {"x": x[None]})[0].astype(np.float64).reshape(-1)
        assert np.max(np.abs(verified.reshape(-1) - expected)) <= tolerance * max(
            1.0, np.abs(expected).max()
        )


def test_a_bool_input_passed_through_identity(tmp_path: Path) -> None:
    """EZKL's boolean_identity: the proof states the 0/1 values that the bool output holds."""
    nodes = [helper.make_node("Identity", ["x"], ["y"])]
    path = _save(tmp_path, nodes, (TensorProto.BOOL, TensorProto.BOOL), ([1, 3], [1, 3]))
    _prove_against_onnxruntime(path, RNG.integers(0, 2, (4, 3)).astype(bool), 0.0)


def test_an_integer_input_cast_to_float(tmp_path: Path) -> None:
    w = RNG.normal(0, 0.3, (4, 5)).astype(np.float32)
    nodes = [
        helper.make_node("Cast", ["x"], ["f"], to=TensorProto.FLOAT),
        helper.make_node("Gemm", ["f", "w"], ["y"]),
    ]
    path = _save(
        tmp_path, nodes, (TensorProto.INT64, TensorProto.FLOAT), ([1, 4], [1, 5]), {"w": w}
    )
    _prove_against_onnxruntime(path, RNG.integers(-20, 20, (8, 4)), 0.01)


def test_an_integer_input_divided_as_an_integer_is_refused(tmp_path: Path) -> None:
    """The input is read (rounded by a table), but ONNX's integer Div rounds toward zero."""
    nodes = [
        helper.make_node("Identity", ["x"], ["i"]),
        helper.make_node("Div", ["i", "two"], ["y"], name="halve"),
    ]
    path = _save(
        tmp_path,
        nodes,
        (TensorProto.INT64, TensorProto.INT64),
        ([1, 4], [1, 4]),
        {"two": np.array(2, dtype=np.int64)},
    )
    with pytest.raises(zkgrad.UnsupportedModelError, match="integer division") as info:
        import_onnx(path)
    assert info.value.problems == []
    assert [node.name for node in info.value.nodes] == ["halve"]


def test_an_integer_input_read_by_ops_is_rounded_and_proved(tmp_path: Path) -> None:
    """An INT64 input that a Mul reads: x rounded by a table lookup, then proved as integers."""
    nodes = [
        helper.make_node("Mul", ["x", "three"], ["m"]),
        helper.make_node("Cast", ["m"], ["f"], to=TensorProto.FLOAT),
        helper.make_node("Gemm", ["f", "w"], ["y"]),
    ]
    w = RNG.normal(0, 0.3, (4, 5)).astype(np.float32)
    path = _save(
        tmp_path,
        nodes,
        (TensorProto.INT64, TensorProto.FLOAT),
        ([1, 4], [1, 5]),
        {"three": np.array(3, dtype=np.int64), "w": w},
    )
    _prove_against_onnxruntime(path, RNG.integers(-20, 20, (8, 4)), 0.05)


def test_a_double_input_is_read_as_float(tmp_path: Path) -> None:
    """A DOUBLE graph (skl2onnx writes them) imports whatever reads its input."""
    w = RNG.normal(0, 0.3, (4, 3))
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["h"]),
        helper.make_node("Sigmoid", ["h"], ["y"]),
    ]
    path = _save(
        tmp_path, nodes, (TensorProto.DOUBLE, TensorProto.DOUBLE), ([1, 4], [1, 3]), {"w": w}
    )
    _prove_against_onnxruntime(path, RNG.normal(0, 1, (8, 4)), 0.01)

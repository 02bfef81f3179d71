"""Comparisons with a constant, Not and Where with constant branches (zkgrad.onnx_compare):
booleans as 0/1 through a step lookup and diagonal layers; they prove and verify to
onnxruntime's answer, the equal case included; a comparison of two activations compares their
difference with 0."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import zkgrad
from zkgrad.onnx import import_onnx

RNG = np.random.default_rng(11)


def _save(
    tmp_path: Path,
    nodes: list[onnx.NodeProto],
    consts: dict[str, np.ndarray],
    types: tuple[int, int] = (TensorProto.FLOAT, TensorProto.FLOAT),
) -> Path:
    graph = helper.make_graph(
        nodes,
        "compare",
        [helper.make_tensor_value_info("x", types[0], [1, 12])],
        [helper.make_tensor_value_info("y", types[1], [1, 12])],
        [numpy_helper.from_array(v, k) for k, v in consts.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    path = tmp_path / "compare.onnx"
    onnx.save(model, path)
    return path


def _prove_against_onnxruntime(path: Path, samples: np.ndarray) -> None:
    model = zkgrad.compile(path, calibration=samples.astype(np.float64))
    session = ort.InferenceSession(str(path))
    for x in samples[:3]:
        verified = np.asarray(zkgrad.verify(model, model.prove(x.astype(np.float64))))
        expected = session.run(None, {"x": x[None]})[0].astype(np.float64).reshape(-1)
        # The constants' rounding only: a wrong comparison would be off by at least 0.18.
        np.testing.assert_allclose(verified.reshape(-1), expected, atol=0.002)


# Values on a grid of quarters, so that some equal the constant 0.5 exactly.
GRID = (RNG.integers(-8, 9, (8, 12)) / 4).astype(np.float32)


@pytest.mark.parametrize("op", ["Less", "LessOrEqual", "Greater", "GreaterOrEqual", "Equal"])
def test_a_comparison_selects_between_constants(tmp_path: Path, op: str) -> None:
    nodes = [
        helper.make_node(op, ["x", "c"], ["b"], name="cmp"),
        helper.make_node("Where", ["b", "p", "q"], ["y"]),
    ]
    consts = {
        "c": np.array(0.5, np.float32),
        "p": np.array(2.0, np.float32),
        "q": np.linspace(-1, 1, 12, dtype=np.float32),
    }
    path = _save(tmp_path, nodes, consts)
    kinds = [type(o).__name__ for o in import_onnx(path)[0].ops if type(o).__name__ != "Reshape"]
    assert kinds == ["Unary", "Dense"]
    samples = GRID.copy()
    samples[0, :3] = 0.5
    _prove_against_onnxruntime(path, samples)


def test_one_threshold_per_value_compares_the_difference(tmp_path: Path) -> None:
    """As tree ensembles compare each feature with its own threshold."""
    thresholds = (RNG.integers(-4, 5, 12) / 4).astype(np.float32)
    nodes = [
        helper.make_node("GreaterOrEqual", ["x", "c"], ["b"]),
        helper.make_node("Where", ["b", "p", "q"], ["y"]),
    ]
    consts = {"c": thresholds, "p": np.array(1.0, np.float32), "q": np.array(-1.0, np.float32)}
    path = _save(tmp_path, nodes, consts)
    kinds = [type(o).__name__ for o in import_onnx(path)[0].ops if type(o).__name__ != "Reshape"]
    assert kinds == ["Dense", "Unary", "Dense"]
    samples = GRID.copy()
    samples[0] = thresholds  # every value at its threshold
    _prove_against_onnxruntime(path, samples)


def test_not_of_a_constant_compared_with_an_integer_input(tmp_path: Path) -> None:
    """EZKL's 1l_where: an INT64 input cast to float, Less with the constant on the left, Not,
    and a bool output."""
    nodes = [
        helper.make_node("Cast", ["x"], ["f"], to=TensorProto.FLOAT),
        helper.make_node("Less", ["c", "f"], ["b"]),
        helper.make_node("Not", ["b"], ["y"]),
    ]
    path = _save(
        tmp_path,
        nodes,
        {"c": np.array(1.0, np.float32)},
        (TensorProto.INT64, TensorProto.BOOL),
    )
    _prove_against_onnxruntime(path, RNG.integers(-3, 4, (8, 12)))


@pytest.mark.parametrize("op", ["Less", "GreaterOrEqual", "Equal"])
def test_comparing_two_activations_compares_their_difference(tmp_path: Path, op: str) -> None:
    # relu(x) ? x: equal where x ≥ 0, so Equal and the ≥ cases are both exercised.
    nodes = [
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node(op, ["r", "x"], ["b"], name="pair"),
        helper.make_node("Cast", ["b"], ["y"], to=TensorProto.FLOAT),
    ]
    path = _save(tmp_path, nodes, {})
    _prove_against_onnxruntime(path, (RNG.integers(-8, 9, (8, 12)) / 4).astype(np.float32))


def test_a_linear_classifier_picks_its_label(tmp_path: Path) -> None:
    """EZKL's linear_svc (skl2onnx): a DOUBLE input, a decision value compared with 0, the
    comparison cast to INT64 and the class label gathered from a uint8 list."""
    w = RNG.normal(0, 1, (12, 1))
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["d"]),
        helper.make_node("Reshape", ["d", "flat"], ["r"]),
        helper.make_node("Greater", ["r", "zero"], ["b"]),
        helper.make_node("Cast", ["b"], ["i"], to=TensorProto.INT64),
        helper.make_node("Gather", ["classes", "i"], ["y"], axis=0),
    ]
    consts = {
        "w": w,
        "flat": np.array([-1], np.int64),
        "zero": np.array(0.0),
        "classes": np.array([3, 7], np.uint8),
    }
    graph = helper.make_graph(
        nodes,
        "svc",
        [helper.make_tensor_value_info("x", TensorProto.DOUBLE, [1, 12])],
        [helper.make_tensor_value_info("y", TensorProto.UINT8, [1])],
        [numpy_helper.from_array(v, k) for k, v in consts.items()],
    )
    path = tmp_path / "svc.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    samples = RNG.normal(0, 1, (8, 12))
    # Decision values away from 0 (by more than the quantisation error), both classes.
    decisions = (samples @ w).reshape(-1)
    samples = samples[np.abs(decisions) > 0.5]
    model = zkgrad.compile(path, calibration=samples)
    session = ort.InferenceSession(str(path))
    labels = set()
    for x in samples:
        verified = np.asarray(zkgrad.verify(model, model.prove(x)), dtype=np.float64)
        expected = session.run(None, {"x": x[None]})[0].astype(np.float64)
        np.testing.assert_allclose(verified.reshape(-1), expected.reshape(-1), atol=0.01)
        labels.add(int(expected[0]))
    assert labels == {3, 7}


def test_gathering_by_a_non_boolean_index_is_refused(tmp_path: Path) -> None:
    # (An index read from the float input: zkgrad reads every activation as float.)
    nodes = [helper.make_node("Gather", ["t", "x"], ["y"], name="pick")]
    path = _save(tmp_path, nodes, {"t": np.arange(4, dtype=np.float32)})
    with pytest.raises(zkgrad.UnsupportedModelError, match="needs integer indices") as info:
        import_onnx(path)
    assert [node.name for node in info.value.nodes] == ["pick"]


def test_a_flipped_comparison_proof_is_rejected(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Less", ["x", "c"], ["b"]),
        helper.make_node("Where", ["b", "p", "q"], ["y"]),
    ]
    consts = {
        "c": np.array(0.0, np.float32),
        "p": np.array(1.0, np.float32),
        "q": np.array(-1.0, np.float32),
    }
    path = _save(tmp_path, nodes, consts)
    model = zkgrad.compile(path, calibration=GRID.astype(np.float64))
    data = model.prove(GRID[0].astype(np.float64)).data
    for position in (len(data) // 3, len(data) - 5):
        flipped = bytearray(data)
        flipped[position] ^= 0x20
        with pytest.raises(zkgrad.InvalidProof):
            zkgrad.verify(model, bytes(flipped))

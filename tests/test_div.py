"""Div by an activation: a / b is imported as a Reciprocal lookup of b (wherever it was
computed) and a product (with the activation a, or with a constant dividend); it proves and
verifies to onnxruntime's answer within the quantisation error (also for a divisor computed
before the previous node), and a flipped proof is rejected."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import zkgrad
from zkgrad import InvalidProof
from zkgrad.onnx import import_onnx

RNG = np.random.default_rng(17)
N = 8


def _save(tmp_path: Path, nodes: list[onnx.NodeProto], inits: list[onnx.TensorProto]) -> Path:
    graph = helper.make_graph(
        nodes,
        "div",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, N])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, N])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    path = tmp_path / "div.onnx"
    onnx.save(model, path)
    return path


def softsign_by_div(tmp_path: Path) -> Path:
    """y = x / (1 + |x|): the divisor is the previous node's output, the dividend the input."""
    nodes = [
        helper.make_node("Abs", ["x"], ["a"]),
        helper.make_node("Add", ["a", "one"], ["d"]),
        helper.make_node("Div", ["x", "d"], ["y"], name="ratio"),
    ]
    return _save(tmp_path, nodes, [numpy_helper.from_array(np.ones(1, np.float32), "one")])


def constant_over_activation(tmp_path: Path) -> Path:
    """y = 2 / (x² + 1)."""
    nodes = [
        helper.make_node("Mul", ["x", "x"], ["sq"]),
        helper.make_node("Add", ["sq", "one"], ["d"]),
        helper.make_node("Div", ["two", "d"], ["y"], name="ratio"),
    ]
    inits = [
        numpy_helper.from_array(np.ones(1, np.float32), "one"),
        numpy_helper.from_array(np.full(1, 2.0, np.float32), "two"),
    ]
    return _save(tmp_path, nodes, inits)


@pytest.mark.parametrize("build", [softsign_by_div, constant_over_activation])
def test_division_by_an_activation_proves_and_matches_onnxruntime(tmp_path: Path, build) -> None:
    path = build(tmp_path)
    kinds = [type(op).__name__ for op in import_onnx(path)[0].ops]
    assert "Unary" in kinds, kinds
    samples = RNG.normal(0, 1.5, (32, N)).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    session = ort.InferenceSession(str(path))
    for x in samples[:2]:
        verified = zkgrad.verify(model, model.prove(x))
        expected = session.run(None, {"x": x.reshape(1, N)})[0]
        assert np.max(np.abs(verified - expected)) < 0.01, (verified, expected)


def test_a_flipped_division_proof_is_rejected(tmp_path: Path) -> None:
    path = softsign_by_div(tmp_path)
    samples = RNG.normal(0, 1.5, (32, N)).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    data = model.prove(samples[0]).data
    for position in (len(data) // 3, len(data) - 3):
        flipped = bytearray(data)
        flipped[position] ^= 0x10
        with pytest.raises(InvalidProof):
            zkgrad.verify(model, bytes(flipped))


def test_a_divisor_computed_earlier_proves(tmp_path: Path) -> None:
    """y = (3·x) / x: the divisor x is the input, not the previous node's output (the product);
    its reciprocal is looked up where x was computed."""
    nodes = [
        helper.make_node("Mul", ["x", "three"], ["p"]),
        helper.make_node("Div", ["p", "x"], ["y"], name="ratio"),
    ]
    path = _save(tmp_path, nodes, [numpy_helper.from_array(np.full(1, 3.0, np.float32), "three")])
    samples = (np.abs(RNG.normal(0, 1, (8, N))) + 0.5).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    verified = np.asarray(zkgrad.verify(model, model.prove(samples[0]))).reshape(-1)
    np.testing.assert_allclose(verified, 3.0, atol=0.05)


def test_a_calibration_sample_dividing_by_zero_names_the_node(tmp_path: Path) -> None:
    # 1 / relu(x) with a calibration sample whose relu is exactly 0: onnxruntime's output is
    # inf; compiling once failed with "invalid IR JSON" (a NaN in the accuracy report).
    nodes = [
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node("Div", ["one", "r"], ["y"], name="inverse"),
    ]
    path = _save(tmp_path, nodes, [numpy_helper.from_array(np.array(1.0, np.float32), "one")])
    samples = (np.abs(RNG.normal(0, 1, (8, N))) + 0.5).astype(np.float32)
    samples[2, 3] = -1.0
    with pytest.raises(zkgrad.ModelError, match=r"sample 2.*non-finite.*node 'inverse'"):
        zkgrad.compile(path, calibration=samples)


def test_a_divisor_smaller_than_calibrated_is_refused_not_capped(tmp_path: Path) -> None:
    """1/x beyond what the reciprocal's calibrated output scale represents would be capped at
    the end of its range and verify a wrong quotient: the prover refuses it, naming the node."""
    nodes = [
        helper.make_node("Abs", ["x"], ["a"]),
        helper.make_node("Add", ["a", "small"], ["d"]),
        helper.make_node("Div", ["x", "d"], ["y"], name="ratio"),
    ]
    path = _save(tmp_path, nodes, [numpy_helper.from_array(np.full(1, 0.05, np.float32), "small")])
    samples = (RNG.uniform(0.5, 3.0, (32, N)) * RNG.choice([-1, 1], (32, N))).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    verified = zkgrad.verify(model, model.prove(samples[0]))
    np.testing.assert_allclose(
        verified.reshape(-1), samples[0] / (np.abs(samples[0]) + 0.05), atol=0.02
    )
    x = samples[0].copy()
    x[3] = 0.0  # divisor 0.05: 1/0.05 = 20, far above any calibrated 1/d
    with pytest.raises(zkgrad.ModelError, match=r"ratio.*end of the 'reciprocal' table"):
        model.prove(x)

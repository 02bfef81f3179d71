"""Softmax (zkgrad.onnx_softmax): imported as a chain of proved ops (max, subtraction, Exp,
sum, Reciprocal, product), it proves and verifies
to onnxruntime's answer within the quantisation error; a flipped proof is rejected; the
unsupported cases are one clear error naming the node."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import zkgrad
from zkgrad import InvalidProof, ModelError
from zkgrad.onnx import import_onnx

RNG = np.random.default_rng(5)
N_IN = 6


def _model(tmp_path: Path, out_shape: list[int], axis: int | None, opset: int = 13) -> Path:
    """x (6) → MatMul → Relu → MatMul (to prod(out_shape)) → Reshape → Softmax → y."""
    n = int(np.prod(out_shape))
    w1 = RNG.normal(0, 0.6, (N_IN, 8)).astype(np.float32)
    w2 = RNG.normal(0, 0.6, (8, n)).astype(np.float32)
    attrs = {} if axis is None else {"axis": axis}
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"]),
        helper.make_node("Relu", ["h"], ["hr"]),
        helper.make_node("MatMul", ["hr", "w2"], ["z"]),
        helper.make_node("Reshape", ["z", "shape"], ["zs"]),
        helper.make_node("Softmax", ["zs"], ["y"], name="probabilities", **attrs),
    ]
    inits = [
        numpy_helper.from_array(w1, "w1"),
        numpy_helper.from_array(w2, "w2"),
        numpy_helper.from_array(np.array(out_shape, dtype=np.int64), "shape"),
    ]
    graph = helper.make_graph(
        nodes,
        "softmax",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, N_IN])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model)
    path = tmp_path / "softmax.onnx"
    onnx.save(model, path)
    return path


CASES = {
    "ten classes": ([1, 10], None, 13),
    "opset 11, flattened from axis 1": ([1, 10], 1, 11),
    "three classes": ([1, 3], -1, 13),
    "two classes": ([1, 2], -1, 13),
}


@pytest.mark.parametrize("case", list(CASES))
def test_softmax_proves_and_matches_onnxruntime(tmp_path: Path, case: str) -> None:
    out_shape, axis, opset = CASES[case]
    path = _model(tmp_path, out_shape, axis, opset)
    samples = RNG.normal(0, 1, (32, N_IN)).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    session = ort.InferenceSession(str(path))
    for x in samples[:2]:
        proof = model.prove(x)
        verified = np.asarray(zkgrad.verify(model, proof)).reshape(out_shape)
        expected = session.run(None, {"x": x.reshape(1, N_IN)})[0]
        assert np.max(np.abs(verified - expected)) < 0.01, (case, verified, expected)
        np.testing.assert_allclose(verified.sum(axis=-1), 1.0, atol=0.02)


def test_softmax_is_the_chain_of_proved_ops(tmp_path: Path) -> None:
    graph, _ = import_onnx(_model(tmp_path, [1, 10], None))
    kinds = [type(op).__name__ for op in graph.ops]
    assert "MaxPool" in kinds
    tail = [k for k in kinds[kinds.index("MaxPool") :] if k != "Reshape"]
    assert tail == ["MaxPool", "Dense", "Dense", "Add", "Unary", "Dense", "Unary", "Dense", "Mul"]
    assert [op.func for op in graph.ops if type(op).__name__ == "Unary"] == ["exp", "reciprocal"]


def test_a_flipped_softmax_proof_is_rejected(tmp_path: Path) -> None:
    path = _model(tmp_path, [1, 10], None)
    samples = RNG.normal(0, 1, (32, N_IN)).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    data = model.prove(samples[0]).data
    for position in (len(data) // 5, len(data) // 2, len(data) - 2):
        flipped = bytearray(data)
        flipped[position] ^= 0x04
        with pytest.raises(InvalidProof):
            zkgrad.verify(model, bytes(flipped))


def test_a_lone_softmax_calibrates_its_own_steps(tmp_path: Path) -> None:
    # Softmax on the input itself (as EZKL's 1l_softmax). The steps the importer adds (the
    # shifted logits, their exponentials, the sum) have no ONNX tensor: their ranges come from
    # running the float graph on the calibration data. Calibrated on rows of nearly equal
    # values, it proves such rows; a row spread over the whole input range leaves the shifted
    # logits' calibrated range, a clear error naming the softmax's step.
    node = helper.make_node("Softmax", ["x"], ["y"], name="probabilities")
    graph = helper.make_graph(
        [node],
        "lone_softmax",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 10])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
    )
    path = tmp_path / "lone.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    levels = RNG.uniform(-6, 6, (32, 1))
    samples = (levels + RNG.normal(0, 0.05, (32, 10))).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    for x in samples[:2]:
        verified = zkgrad.verify(model, model.prove(x)).reshape(-1)
        expected = np.exp(x - x.max()) / np.exp(x - x.max()).sum()
        assert np.max(np.abs(verified - expected)) < 0.002, (verified, expected)
    with pytest.raises(ModelError, match=r"'probabilities:shift:requant'.*out of range"):
        model.prove(np.linspace(-6, 6, 10, dtype=np.float32))
    # Calibrated on spread rows too, the same row proves.
    wide = np.concatenate([samples, RNG.uniform(-6, 6, (8, 10)).astype(np.float32)])
    model = zkgrad.compile(path, calibration=wide)
    x = np.linspace(-6, 6, 10)
    verified = zkgrad.verify(model, model.prove(x.astype(np.float32))).reshape(-1)
    expected = np.exp(x - x.max()) / np.exp(x - x.max()).sum()
    assert np.max(np.abs(verified - expected)) < 0.005, (verified, expected)


@pytest.mark.parametrize(
    ("out_shape", "axis", "reason"),
    [
        ([1, 2, 5], 1, "only the last axis is supported"),
        ([1, 1], -1, "softmax over a single value"),
    ],
)
def test_unsupported_softmax_names_the_node_and_reason(
    tmp_path: Path, out_shape: list[int], axis: int, reason: str
) -> None:
    with pytest.raises(zkgrad.UnsupportedModelError, match=reason) as info:
        import_onnx(_model(tmp_path, out_shape, axis))
    assert [node.name for node in info.value.nodes] == ["probabilities"]


def test_a_softmax_over_several_rows_normalises_each(tmp_path: Path) -> None:
    # 3 rows of 5: each row's maximum is its own pooling window (rows spread to 8 apart).
    path = _model(tmp_path, [1, 3, 5], -1)
    samples = RNG.normal(0, 1, (16, N_IN)).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    x = samples[1]
    verified = np.asarray(zkgrad.verify(model, model.prove(x))).reshape(3, 5)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    expected = session.run(None, {"x": x[None]})[0].reshape(3, 5)
    assert np.max(np.abs(verified - expected)) < 0.01
    np.testing.assert_allclose(verified.sum(1), 1.0, atol=0.02)

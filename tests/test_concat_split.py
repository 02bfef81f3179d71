"""Concat of several activations (and constants): each activation placed by a constant 0/1
layer, summed by Add blocks of two activations; proves and verifies to onnxruntime's answer
within the quantisation error, on either axis; and Split, one constant slice per part."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import zkgrad
from zkgrad.graph import Add
from zkgrad.onnx import import_onnx

RNG = np.random.default_rng(67)


@pytest.mark.parametrize("axis", [1, 2])
def test_a_concat_of_two_branches_and_a_constant(tmp_path: Path, axis: int) -> None:
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["a"]),
        helper.make_node("Relu", ["x"], ["b"]),
        helper.make_node("Concat", ["a", "b", "c"], ["cat"], axis=axis, name="cat"),
        helper.make_node("Flatten", ["cat"], ["f"]),
        helper.make_node("Gemm", ["f", "w2"], ["y"], transB=1),
    ]
    c_shape = [1, 1, 4] if axis == 1 else [1, 4, 2]
    total = 4 * (4 + 4 + 1) if axis == 1 else 4 * (4 + 4 + 2)
    inits = [
        numpy_helper.from_array(RNG.normal(0, 0.5, (4, 4)).astype(np.float32), "w1"),
        numpy_helper.from_array(RNG.normal(0, 0.5, (3, total)).astype(np.float32), "w2"),
        numpy_helper.from_array(RNG.normal(0, 1, c_shape).astype(np.float32), "c"),
    ]
    x_shape = [1, 4, 4]  # a and b are [1, 4, 4]; c adds a row (axis 1) or two columns (axis 2)
    graph = helper.make_graph(
        nodes,
        "concat",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
        inits,
    )
    path = tmp_path / "concat.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    graph_ir, _ = import_onnx(path)
    assert any(isinstance(op, Add) and op.name.startswith("cat:join") for op in graph_ir.ops)
    samples = RNG.normal(0, 1, (16, 1, 4, 4)).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for x in samples[:3]:
        want = session.run(None, {"x": x})[0]
        got = zkgrad.verify(model, model.prove(x))
        assert np.abs(got - want).max() < 0.01 * max(1.0, float(np.abs(want).max()))


def test_a_split_feeds_each_part_to_its_own_op(tmp_path: Path) -> None:
    # h (18) split in three: a·b + c, each part a constant slice of h.
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"]),
        helper.make_node("Split", ["h", "sizes"], ["a", "b", "c"], axis=1, name="split"),
        helper.make_node("Mul", ["a", "b"], ["ab"]),
        helper.make_node("Add", ["ab", "c"], ["y"]),
    ]
    inits = [
        numpy_helper.from_array(RNG.normal(0, 0.4, (16, 18)).astype(np.float32), "w1"),
        numpy_helper.from_array(np.array([6, 6, 6], dtype=np.int64), "sizes"),
    ]
    graph = helper.make_graph(
        nodes,
        "split",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6])],
        inits,
    )
    path = tmp_path / "split.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    samples = RNG.normal(0, 1, (16, 1, 16)).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for x in samples[:3]:
        want = session.run(None, {"x": x})[0]
        got = zkgrad.verify(model, model.prove(x))
        assert np.abs(got - want).max() < 0.01 * max(1.0, float(np.abs(want).max()))

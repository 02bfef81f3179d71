"""Graphs that fork and join: each op reads the input or any earlier op's output, so two
branches may both compute before an Add joins them (a ResNet block whose shortcut is a strided
1×1 convolution). They prove and verify to onnxruntime's answer within the quantisation error;
a branch that leads nowhere is dropped; a flipped proof is rejected."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import zkgrad
from zkgrad import InvalidProof
from zkgrad.graph import Add, Conv, Dense
from zkgrad.onnx import import_onnx

RNG = np.random.default_rng(23)


def _const(name: str, *shape: int, scale: float = 0.4) -> onnx.TensorProto:
    return numpy_helper.from_array(RNG.normal(0, scale, shape).astype(np.float32), name)


def _save(
    tmp_path: Path,
    nodes: list[onnx.NodeProto],
    inits: list[onnx.TensorProto],
    x_shape: list[int],
    y_shape: list[int],
) -> Path:
    graph = helper.make_graph(
        nodes,
        "branches",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)],
        inits,
    )
    path = tmp_path / "branches.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


def _resnet_block(tmp_path: Path) -> Path:
    """conv3×3/2 → relu → conv3×3, beside a 1×1/2 shortcut conv; add, relu, pool, classify."""
    nodes = [
        helper.make_node(
            "Conv",
            ["x", "w1", "b1"],
            ["c1"],
            name="main_1",
            kernel_shape=[3, 3],
            strides=[2, 2],
            pads=[1, 1, 1, 1],
        ),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node(
            "Conv",
            ["r1", "w2", "b2"],
            ["c2"],
            name="main_2",
            kernel_shape=[3, 3],
            pads=[1, 1, 1, 1],
        ),
        helper.make_node(
            "Conv", ["x", "ws", "bs"], ["s"], name="shortcut", kernel_shape=[1, 1], strides=[2, 2]
        ),
        helper.make_node("Add", ["c2", "s"], ["sum"], name="join"),
        helper.make_node("Relu", ["sum"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["y"], transB=1, name="classifier"),
    ]
    inits = [
        _const("w1", 8, 3, 3, 3),
        _const("b1", 8),
        _const("w2", 8, 8, 3, 3, scale=0.2),
        _const("b2", 8),
        _const("ws", 8, 3, 1, 1),
        _const("bs", 8),
        _const("wf", 5, 8),
        _const("bf", 5),
    ]
    return _save(tmp_path, nodes, inits, [1, 3, 8, 8], [1, 5])


def _uneven_branches(tmp_path: Path, dead: bool = False) -> Path:
    """x → fc_a → relu → fc_b, beside x → fc_c; add; → head. ``dead``: one more Gemm reads x
    and leads nowhere."""
    nodes = [
        helper.make_node("Gemm", ["x", "wa", "ba"], ["a"], transB=1, name="fc_a"),
        helper.make_node("Relu", ["a"], ["ra"]),
        helper.make_node("Gemm", ["x", "wc", "bc"], ["c"], transB=1, name="fc_c"),
        helper.make_node("Gemm", ["ra", "wb", "bb"], ["b"], transB=1, name="fc_b"),
        helper.make_node("Sub", ["b", "c"], ["d"], name="join"),
        helper.make_node("Gemm", ["d", "wh", "bh"], ["y"], transB=1, name="head"),
    ]
    inits = [
        _const("wa", 8, 6),
        _const("ba", 8),
        _const("wb", 5, 8),
        _const("bb", 5),
        _const("wc", 5, 6),
        _const("bc", 5),
        _const("wh", 3, 5),
        _const("bh", 3),
    ]
    if dead:
        nodes.insert(1, helper.make_node("Gemm", ["x", "wz", "bz"], ["z"], transB=1, name="dead"))
        inits += [_const("wz", 2, 6), _const("bz", 2)]
    return _save(tmp_path, nodes, inits, [1, 6], [1, 3])


def _matches_onnxruntime(path: Path, samples: np.ndarray, tolerance: float) -> zkgrad.Model:
    model = zkgrad.compile(path, calibration=samples)
    session = ort.InferenceSession(str(path))
    scale = None
    for x in samples[:2]:
        verified = np.asarray(zkgrad.verify(model, model.prove(x))).reshape(-1)
        expected = session.run(None, {"x": x[None].astype(np.float32)})[0].reshape(-1)
        scale = max(scale or 0.0, float(np.max(np.abs(expected))))
        assert np.max(np.abs(verified - expected)) <= tolerance * scale, (verified, expected)
    return model


def test_a_resnet_block_with_a_shortcut_convolution_proves(tmp_path: Path) -> None:
    path = _resnet_block(tmp_path)
    graph, _ = import_onnx(path)
    convs = {op.name: op for op in graph.ops if isinstance(op, Conv)}
    assert convs["shortcut"].input == "x" and convs["main_1"].input == "x"
    join = next(op for op in graph.ops if isinstance(op, Add))
    assert {join.input, join.other} == {convs["main_2"].output, convs["shortcut"].output}
    samples = RNG.normal(0, 1, (16, 3, 8, 8)).astype(np.float32)
    model = _matches_onnxruntime(path, samples, 0.05)
    proof = model.prove(samples[3]).data
    flipped = bytearray(proof)
    flipped[len(flipped) // 2] ^= 1
    with pytest.raises(InvalidProof):
        zkgrad.verify(model, bytes(flipped))


def test_branches_of_uneven_depth_prove(tmp_path: Path) -> None:
    path = _uneven_branches(tmp_path)
    samples = RNG.normal(0, 1, (16, 6)).astype(np.float32)
    _matches_onnxruntime(path, samples, 0.05)


def test_a_branch_that_leads_nowhere_is_dropped(tmp_path: Path) -> None:
    path = _uneven_branches(tmp_path, dead=True)
    graph, _ = import_onnx(path)
    assert "dead" not in [op.name for op in graph.ops if isinstance(op, Dense)]
    samples = RNG.normal(0, 1, (16, 6)).astype(np.float32)
    _matches_onnxruntime(path, samples, 0.05)

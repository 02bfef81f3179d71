"""1-D convolution and pooling (``zkgrad.onnx_1d``: the 2-D twins of height 1) and an average
pool over one channel (a constant convolution, proved as two channels): each proves and
verifies to onnxruntime's answer within the quantisation error; a flipped proof is rejected."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import zkgrad
from zkgrad import InvalidProof

RNG = np.random.default_rng(61)


def _const(name: str, *shape: int, scale: float = 0.4) -> onnx.TensorProto:
    return numpy_helper.from_array(RNG.normal(0, scale, shape).astype(np.float32), name)


def _save(
    tmp_path: Path, nodes: list[onnx.NodeProto], x: list[int], y: list[int], inits: list
) -> Path:
    graph = helper.make_graph(
        nodes,
        "one_d",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, y)],
        inits,
    )
    path = tmp_path / "one_d.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def _proves_like_onnxruntime(path: Path, shape: tuple[int, ...]) -> zkgrad.Model:
    samples = RNG.normal(0, 1, (16, *shape)).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for x in samples[:3]:
        want = session.run(None, {"x": x})[0]
        got = zkgrad.verify(model, model.prove(x))
        assert np.abs(got - want).max() < 0.01 * max(1.0, float(np.abs(want).max()))
    return model


def test_a_1d_cnn_proves(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3], pads=[1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node(
            "AveragePool", ["r"], ["p"], kernel_shape=[5], pads=[2, 2], count_include_pad=1
        ),
        helper.make_node("MaxPool", ["p"], ["m"], kernel_shape=[2], strides=[2]),
        helper.make_node("Flatten", ["m"], ["f"]),
        helper.make_node("Gemm", ["f", "w2"], ["y"], transB=1),
    ]
    inits = [_const("w", 6, 3, 3), _const("b", 6, scale=0.1), _const("w2", 4, 48, scale=0.2)]
    path = _save(tmp_path, nodes, [1, 3, 16], [1, 4], inits)
    model = _proves_like_onnxruntime(path, (1, 3, 16))
    flipped = bytearray(model.prove(RNG.normal(0, 1, (1, 3, 16))).data)
    flipped[len(flipped) // 3] ^= 4
    with pytest.raises(InvalidProof):
        zkgrad.verify(model, bytes(flipped))


def test_a_moving_average_over_one_channel_proves(tmp_path: Path) -> None:
    # EZKL's ltsf decomposition: a 1-D average of one channel, the remainder x − mean.
    nodes = [
        helper.make_node(
            "AveragePool", ["x"], ["mean"], kernel_shape=[5], pads=[2, 2], count_include_pad=1
        ),
        helper.make_node("Sub", ["x", "mean"], ["y"]),
    ]
    path = _save(tmp_path, nodes, [1, 1, 24], [1, 1, 24], [])
    _proves_like_onnxruntime(path, (1, 1, 24))

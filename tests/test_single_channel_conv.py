"""A convolution to one output channel (EZKL's 1l_conv, 1l_downsample): proved as the kernel
twice and a constant dense layer keeping the first channel; it proves and verifies to
onnxruntime's answer, also with a ReLU and a convolution after it; a flipped proof is rejected;
a channel too large for the dense layer is one clear error naming the node."""

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

RNG = np.random.default_rng(23)


def _save(
    tmp_path: Path,
    nodes: list[onnx.NodeProto],
    inits: dict[str, np.ndarray],
    in_shape: list[int],
    out_shape: list[int],
) -> Path:
    graph = helper.make_graph(
        nodes,
        "single_channel",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
        [numpy_helper.from_array(v.astype(np.float32), k) for k, v in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    path = tmp_path / "single.onnx"
    onnx.save(model, path)
    return path


def _check(path: Path, in_shape: list[int]) -> zkgrad.Model:
    samples = RNG.normal(0, 1, (16, *in_shape[1:])).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    session = ort.InferenceSession(str(path))
    for x in samples[:2]:
        verified = zkgrad.verify(model, model.prove(x))
        expected = session.run(None, {"x": x[None]})[0]
        scale = max(1.0, float(np.abs(expected).max()))
        assert np.max(np.abs(verified - expected)) < 0.02 * scale, (verified, expected)
    return model


def test_a_single_channel_convolution_as_the_output(tmp_path: Path) -> None:
    nodes = [helper.make_node("Conv", ["x", "k", "b"], ["y"], name="conv", pads=[1, 1, 1, 1])]
    inits = {"k": RNG.normal(0, 0.5, (1, 3, 2, 2)), "b": np.array([0.1])}
    path = _save(tmp_path, nodes, inits, [1, 3, 5, 5], [1, 1, 6, 6])
    kinds = [type(op).__name__ for op in import_onnx(path)[0].ops]
    assert kinds == ["Conv", "Reshape", "Dense", "Reshape"]
    model = _check(path, [1, 3, 5, 5])
    data = model.prove(RNG.normal(0, 1, (3, 5, 5)).astype(np.float32)).data
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x08
    with pytest.raises(InvalidProof):
        zkgrad.verify(model, bytes(flipped))


def test_a_single_channel_convolution_inside_a_cnn(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Conv", ["x", "k1"], ["c1"], name="squeeze"),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "k2"], ["c2"], name="widen"),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("Flatten", ["r2"], ["f"]),
        helper.make_node("Gemm", ["f", "w"], ["y"], transB=1),
    ]
    inits = {
        "k1": RNG.normal(0, 0.5, (1, 2, 2, 2)),
        "k2": RNG.normal(0, 0.5, (2, 1, 2, 2)),
        "w": RNG.normal(0, 0.3, (3, 2 * 4 * 4)),
    }
    path = _save(tmp_path, nodes, inits, [1, 2, 6, 6], [1, 3])
    _check(path, [1, 2, 6, 6])


def test_a_large_single_channel_is_refused_by_name(tmp_path: Path) -> None:
    nodes = [helper.make_node("Conv", ["x", "k"], ["y"], name="wide")]
    path = _save(tmp_path, nodes, {"k": np.ones((1, 1, 1, 2))}, [1, 1, 20, 21], [1, 1, 20, 20])
    with pytest.raises(zkgrad.UnsupportedModelError, match="single output channel of 400") as e:
        import_onnx(path)
    assert [node.name for node in e.value.nodes] == ["wide"]

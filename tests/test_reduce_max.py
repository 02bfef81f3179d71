"""ReduceMax / ReduceMin as max-pooling blocks, and max pooling whose output column is padded
(fewer than 8 values: a height-1 image, a whole-tensor reduction) — both prove, verify and match
onnxruntime; reductions over non-trailing axes are refused naming the node."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import zkgrad
from zkgrad import UnsupportedModelError

RNG = np.random.default_rng(21)


def _save(tmp_path: Path, nodes, shape, out, inits=(), opset=13) -> Path:  # type: ignore[no-untyped-def]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out)],
        list(inits),
    )
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), path)
    return path


def _prove_and_compare(path: Path, shape: list[int], atol: float) -> None:
    samples = RNG.normal(0, 1, (8, *shape[1:]))
    model = zkgrad.compile(path, calibration=samples)
    session = ort.InferenceSession(str(path))
    for x in samples[:2]:
        verified = zkgrad.verify(model, model.prove(x))
        (want,) = session.run(None, {"x": x[None].astype(np.float32)})
        np.testing.assert_allclose(verified.reshape(-1), want.reshape(-1), atol=atol)


@pytest.mark.parametrize(
    ("op", "attrs", "shape", "out"),
    [
        ("ReduceMax", {"keepdims": 0}, [1, 3, 2, 2], []),  # every axis: one value
        ("ReduceMin", {"keepdims": 0}, [1, 3, 2, 2], []),
        ("ReduceMax", {"axes": [2, 3], "keepdims": 1}, [1, 4, 2, 3], [1, 4, 1, 1]),
        ("ReduceMin", {"axes": [-1], "keepdims": 0}, [1, 5, 8], [1, 5]),
        ("ReduceMax", {"axes": [-1], "keepdims": 0}, [1, 5, 6], [1, 5]),
    ],
)
def test_reduce_max_and_min_prove_and_match_onnxruntime(
    tmp_path: Path, op: str, attrs: dict, shape: list[int], out: list[int]
) -> None:
    path = _save(tmp_path, [helper.make_node(op, ["x"], ["y"], **attrs)], shape, out, opset=13)
    _prove_and_compare(path, shape, atol=0.02)


def test_a_reduction_over_a_leading_axis_is_refused_naming_the_node(tmp_path: Path) -> None:
    node = helper.make_node("ReduceMax", ["x"], ["y"], axes=[1], keepdims=0, name="rmax")
    path = _save(tmp_path, [node], [1, 3, 4], [1, 4])
    with pytest.raises(UnsupportedModelError, match=r"(?s)rmax.*only trailing axes"):
        zkgrad.onnx.import_onnx(path)


@pytest.mark.parametrize(("kernel", "hw"), [((1, 3), (1, 6)), ((1, 4), (1, 8)), ((2, 2), (2, 4))])
def test_max_pool_with_a_padded_output_column_proves(
    tmp_path: Path, kernel: tuple[int, int], hw: tuple[int, int]
) -> None:
    # Two channels of two pooled values: the output column is padded to 2^3 entries. The
    # pooling relation's point spans the padding variables (they were once left out, and an
    # honest proof was rejected).
    weight = RNG.normal(0, 0.5, (2, 2, 3, 3)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["y"], kernel_shape=list(kernel), strides=list(kernel)),
    ]
    out = [1, 2, hw[0] // kernel[0], hw[1] // kernel[1]]
    path = _save(tmp_path, nodes, [1, 2, *hw], out, [numpy_helper.from_array(weight, "w")])
    _prove_and_compare(path, [1, 2, *hw], atol=0.05)


def test_a_min_over_rows_of_a_width_other_than_a_power_of_two(tmp_path: Path) -> None:
    # −x on a flat activation is one dense column of 30; the pooling reads 5 channels of 6
    # stored 8 apart, so a 0/1 layer spreads the rows first; each window reads its row only.
    node = helper.make_node("ReduceMin", ["x"], ["y"], axes=[-1], keepdims=0, name="rmin")
    path = _save(tmp_path, [node], [1, 5, 6], [1, 5])
    samples = RNG.normal(0, 1, (8, 5, 6))
    model = zkgrad.compile(path, calibration=samples)
    x = samples[2]
    verified = np.asarray(zkgrad.verify(model, model.prove(x))).reshape(-1)
    assert np.max(np.abs(verified - x.min(axis=1))) < 0.01

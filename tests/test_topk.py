"""TopK's values by an odd–even transposition sort of ReLU compare-exchanges
(zkgrad.onnx_topk): largest and smallest, every k, several rows, ties; the values prove and
verify to onnxruntime's; a used Indices output is one clear error naming the node."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import zkgrad
from zkgrad import InvalidProof, UnsupportedModelError
from zkgrad.onnx import import_onnx

RNG = np.random.default_rng(31)


def _save(tmp_path: Path, shape: list[int], k: int, largest: int, indices: bool = False) -> Path:
    outputs = ["values", "indices"]
    node = helper.make_node("TopK", ["x", "k"], outputs, name="top", largest=largest)
    out_shape = [*shape[:-1], k]
    graph_outputs = [helper.make_tensor_value_info("values", TensorProto.FLOAT, out_shape)]
    if indices:
        graph_outputs.append(helper.make_tensor_value_info("indices", TensorProto.INT64, out_shape))
    graph = helper.make_graph(
        [node],
        "topk",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        graph_outputs,
        [numpy_helper.from_array(np.array([k], np.int64), "k")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    path = tmp_path / "topk.onnx"
    onnx.save(model, path)
    return path


@pytest.mark.parametrize(
    ("shape", "k", "largest"), [([1, 6], 4, 1), ([1, 6], 2, 0), ([1, 7], 7, 1), ([1, 2, 5], 3, 0)]
)
def test_topk_values_match_onnxruntime(
    tmp_path: Path, shape: list[int], k: int, largest: int
) -> None:
    path = _save(tmp_path, shape, k, largest)
    # Quarters, so that ties happen.
    samples = (RNG.integers(-8, 9, (12, *shape[1:])) / 4).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    session = ort.InferenceSession(str(path))
    verified = np.asarray(zkgrad.verify(model, model.prove(samples)))
    for x, got in zip(samples, verified.reshape(len(samples), -1), strict=True):
        expected = session.run(None, {"x": x[None]})[0].reshape(-1)
        np.testing.assert_allclose(got, expected, atol=1e-3)


def test_a_tampered_topk_proof_is_rejected(tmp_path: Path) -> None:
    path = _save(tmp_path, [1, 6], 3, 1)
    model = zkgrad.compile(path, calibration=RNG.normal(0, 1, (8, 6)))
    data = bytearray(model.prove(RNG.normal(0, 1, 6)).data)
    data[len(data) // 3] ^= 0x04
    with pytest.raises(InvalidProof):
        zkgrad.verify(model, bytes(data))


def test_a_used_indices_output_is_named(tmp_path: Path) -> None:
    path = _save(tmp_path, [1, 6], 3, 1, indices=True)
    with pytest.raises(UnsupportedModelError, match="Indices output is used") as info:
        import_onnx(path)
    assert [node.name for node in info.value.nodes] == ["top"]

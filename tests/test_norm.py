"""LayerNormalization and InstanceNormalization (zkgrad.onnx_norm): imported as a chain of
proved ops (centring, square, mean, Pow −½ by lookup, product, scale and bias), they prove and
verify to onnxruntime's answer within the quantisation error; a flipped proof is rejected; the
unsupported cases are one clear error naming the node."""

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

RNG = np.random.default_rng(41)


def _save(
    tmp_path: Path,
    node: onnx.NodeProto,
    consts: dict[str, np.ndarray],
    shape: list[int],
    opset: int = 17,
) -> Path:
    graph = helper.make_graph(
        [node],
        "norm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
        [numpy_helper.from_array(v.astype(np.float32), k) for k, v in consts.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model)
    path = tmp_path / "norm.onnx"
    onnx.save(model, path)
    return path


def layer_norm(tmp_path: Path, shape: list[int], axis: int = -1) -> Path:
    width = shape[axis:] if axis != -1 else shape[-1:]
    node = helper.make_node(
        "LayerNormalization", ["x", "g", "b"], ["y"], name="norm", axis=axis, epsilon=1e-5
    )
    consts = {"g": RNG.uniform(0.5, 1.5, width), "b": RNG.normal(0, 0.2, width)}
    return _save(tmp_path, node, consts, shape)


def instance_norm(tmp_path: Path, shape: list[int]) -> Path:
    node = helper.make_node("InstanceNormalization", ["x", "g", "b"], ["y"], name="norm")
    consts = {"g": RNG.uniform(0.5, 1.5, shape[1]), "b": RNG.normal(0, 0.2, shape[1])}
    return _save(tmp_path, node, consts, shape, opset=13)


CASES = {
    "layer norm over the last axis": (layer_norm, [1, 4, 6]),
    "layer norm over two axes": (lambda p, s: layer_norm(p, s, axis=1), [1, 3, 4]),
    "instance norm": (instance_norm, [1, 2, 3, 3]),
    # 4 values, carried in a wider column: the centred values are read three times.
    "instance norm of one 2×2 channel": (instance_norm, [1, 1, 2, 2]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_normalisation_proves_and_matches_onnxruntime(tmp_path: Path, case: str) -> None:
    build, shape = CASES[case]
    path = build(tmp_path, shape)
    # Rows of different offsets and spreads, as activations have.
    samples = (
        RNG.normal(0, 1, (24, *shape[1:]))
        * RNG.uniform(0.5, 2, (24, 1, 1, *[1] * (len(shape) - 3)))
        + RNG.normal(0, 1, (24, 1, *[1] * (len(shape) - 2)))
    ).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    session = ort.InferenceSession(str(path))
    for x in samples[:2]:
        verified = np.asarray(zkgrad.verify(model, model.prove(x))).reshape(x.shape)
        expected = session.run(None, {"x": x[None]})[0][0]
        assert np.max(np.abs(verified - expected)) < 0.05, (case, verified - expected)


def test_layer_norm_is_the_chain_of_proved_ops(tmp_path: Path) -> None:
    graph, _ = import_onnx(layer_norm(tmp_path, [1, 4, 6]))
    kinds = [type(op).__name__ for op in graph.ops if type(op).__name__ != "Reshape"]
    assert kinds == ["Dense", "Mul", "Dense", "Unary", "Dense", "Mul", "Dense"]
    assert [op.func for op in graph.ops if type(op).__name__ == "Unary"] == ["pow"]


def test_few_values_are_normalised_in_a_wider_column(tmp_path: Path) -> None:
    graph, _ = import_onnx(instance_norm(tmp_path, [1, 1, 2, 2]))
    dense = [op for op in graph.ops if type(op).__name__ == "Dense"]
    # Centring writes 9 values (4 and zeros); the last layer drops the zeros.
    assert [op.weight.shape for op in dense] == [(9, 4), (1, 9), (9, 1), (4, 9)]
    assert not dense[0].weight[4:].any() and not dense[-1].weight[:, 4:].any()


def test_a_flipped_normalisation_proof_is_rejected(tmp_path: Path) -> None:
    path = layer_norm(tmp_path, [1, 4, 6])
    samples = RNG.normal(0, 1, (24, 4, 6)).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    data = model.prove(samples[0]).data
    for position in (len(data) // 3, len(data) - 5):
        flipped = bytearray(data)
        flipped[position] ^= 0x20
        with pytest.raises(InvalidProof):
            zkgrad.verify(model, bytes(flipped))


@pytest.mark.parametrize(
    ("build", "shape", "reason"),
    [
        (instance_norm, [1, 3, 1, 1], "normalising rows of a single value is not supported"),
        (layer_norm, [1, 20, 20], "normalising 400 values is not supported yet"),
    ],
)
def test_unsupported_normalisation_names_the_node(
    tmp_path: Path, build, shape: list[int], reason: str
) -> None:
    with pytest.raises(zkgrad.UnsupportedModelError, match=reason) as info:
        import_onnx(build(tmp_path, shape))
    assert [node.name for node in info.value.nodes] == ["norm"]

"""Elementwise ops with a constant operand (Mul, Add, Sub, Div, Neg, a lone BatchNormalization):
each becomes a diagonal layer of its own (or folds into the layer before it) and proves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import int_reference
import zkgrad
from zkgrad.compiler import build
from zkgrad.graph import Conv, Dense, Mul
from zkgrad.onnx import import_onnx

RNG = np.random.default_rng(41)


def _model(
    tmp_path: Path,
    nodes: list[onnx.NodeProto],
    consts: dict[str, np.ndarray],
    shape: list[int],
) -> Path:
    graph = helper.make_graph(
        nodes,
        "constants",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
        [numpy_helper.from_array(v.astype(np.float32), k) for k, v in consts.items()],
    )
    path = tmp_path / "constants.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


def _prove(path: Path, shape: list[int], expected: object) -> None:
    samples = RNG.normal(0, 1, (6, *shape[1:]))
    model = zkgrad.compile(path, calibration=samples)
    quantized = build(path, samples)
    for x in samples[:2]:
        proof = model.prove(x)
        verified = zkgrad.verify(model, proof)
        ref = int_reference.run_output(quantized.ir, quantized.tensors, model.quantize(x))
        np.testing.assert_array_equal(proof.output_q.reshape(-1), ref)
        want = np.asarray(expected(x)).reshape(-1)  # type: ignore[operator]
        np.testing.assert_allclose(verified.reshape(-1), want, atol=0.05 * np.abs(want).max())


def test_mul_then_add_of_constants(tmp_path: Path) -> None:
    c, k = RNG.normal(0, 1, 6), RNG.normal(0, 1, 6)
    nodes = [helper.make_node("Mul", ["x", "c"], ["m"]), helper.make_node("Add", ["k", "m"], ["y"])]
    path = _model(tmp_path, nodes, {"c": c, "k": k}, [1, 6])
    graph, _ = import_onnx(path)
    # The Add folds into the Mul's diagonal layer as its bias.
    assert [type(o).__name__ for o in graph.ops] == ["Dense"]
    _prove(path, [1, 6], lambda x: c * x + k)


@pytest.mark.parametrize("op", ["Sub", "SubFrom", "Neg", "Div"])
def test_sub_neg_and_div_by_constants(tmp_path: Path, op: str) -> None:
    k = RNG.normal(0, 1, 5) + 3.0
    if op == "SubFrom":
        node = helper.make_node("Sub", ["k", "x"], ["y"])
        want = lambda x: k - x  # noqa: E731
    elif op == "Neg":
        node = helper.make_node("Neg", ["x"], ["y"])
        want = lambda x: -x  # noqa: E731
    elif op == "Div":
        node = helper.make_node("Div", ["x", "k"], ["y"])
        want = lambda x: x / k  # noqa: E731
    else:
        node = helper.make_node("Sub", ["x", "k"], ["y"])
        want = lambda x: x - k  # noqa: E731
    path = _model(tmp_path, [node], {"k": k}, [1, 5])
    _prove(path, [1, 5], want)


def test_a_lone_batchnorm_is_a_per_channel_convolution(tmp_path: Path) -> None:
    g, b, m, v = (RNG.normal(0, 1, 3) for _ in range(4))
    v = np.abs(v) + 0.5
    nodes = [helper.make_node("BatchNormalization", ["x", "g", "b", "m", "v"], ["y"])]
    path = _model(tmp_path, nodes, {"g": g, "b": b, "m": m, "v": v}, [1, 3, 4, 4])
    graph, _ = import_onnx(path)
    assert [type(o) for o in graph.ops] == [Conv]
    scale = g / np.sqrt(v + 1e-5)

    def want(x: np.ndarray) -> np.ndarray:
        return x * scale[:, None, None] + (b - m * scale)[:, None, None]

    _prove(path, [1, 3, 4, 4], want)


def test_an_elementwise_constant_on_an_image_is_flattened(tmp_path: Path) -> None:
    """Not per channel: a dense diagonal on the flattened image, reshaped back."""
    c = RNG.normal(0, 1, (1, 2, 2, 2))
    nodes = [helper.make_node("Mul", ["x", "c"], ["y"])]
    path = _model(tmp_path, nodes, {"c": c}, [1, 2, 2, 2])
    graph, _ = import_onnx(path)
    assert [type(o).__name__ for o in graph.ops] == ["Reshape", "Dense", "Reshape"]
    assert isinstance(graph.ops[1], Dense)
    _prove(path, [1, 2, 2, 2], lambda x: c[0] * x)


def test_a_large_constant_becomes_an_activation(tmp_path: Path) -> None:
    # On more values than a diagonal layer takes: the constant is a dense layer of zero weights
    # whose bias is the constant, multiplied as a second activation (Division: test_div.py).
    nodes = [helper.make_node("Mul", ["x", "c"], ["y"], name="big")]
    c = RNG.normal(0, 1, 2000)
    path = _model(tmp_path, nodes, {"c": c}, [1, 2000])
    graph, _ = import_onnx(path)
    assert any(isinstance(op, Mul) for op in graph.ops)
    x = RNG.normal(0, 1, (1, 2000))
    model = zkgrad.compile(path, calibration=RNG.normal(0, 1, (8, 1, 2000)))
    got = np.asarray(zkgrad.verify(model, model.prove(x))).reshape(-1)
    assert np.abs(got - x.reshape(-1) * c).max() < 0.02


def test_a_factor_after_a_layer_folds_into_its_weights(tmp_path: Path) -> None:
    """Mul by a constant per output right after Gemm (an exported batch normalisation, as in
    EZKL's mnist_gan), on more values than a diagonal layer may have: the factor scales the
    weight rows and the bias, and the Add after it is the bias; proved against onnxruntime."""
    w, b = RNG.normal(0, 0.3, (8, 1500)), RNG.normal(0, 1, 1500)
    c, k = RNG.uniform(-2, 2, 1500), RNG.normal(0, 1, 1500)
    nodes = [
        helper.make_node("Gemm", ["x", "w", "b"], ["h"]),
        helper.make_node("Mul", ["h", "c"], ["m"], name="scale"),
        helper.make_node("Add", ["m", "k"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "fold",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1500])],
        [
            numpy_helper.from_array(v.astype(np.float32), n)
            for n, v in {"w": w, "b": b, "c": c, "k": k}.items()
        ],
    )
    path = tmp_path / "fold.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    ops, _ = import_onnx(path)
    assert [type(o).__name__ for o in ops.ops] == ["Dense"]
    samples = RNG.normal(0, 1, (6, 8)).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    session = ort.InferenceSession(str(path))
    for x in samples[:2]:
        verified = np.asarray(zkgrad.verify(model, model.prove(x))).reshape(-1)
        expected = session.run(None, {"x": x[None]})[0].reshape(-1)
        assert np.max(np.abs(verified - expected)) < 0.01 * np.abs(expected).max()


def test_a_per_channel_factor_after_a_conv_folds_into_it(tmp_path: Path) -> None:
    w, c = RNG.normal(0, 0.5, (3, 2, 3, 3)), RNG.uniform(-2, 2, (3, 1, 1))
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["h"], pads=[1, 1, 1, 1]),
        helper.make_node("Mul", ["c", "h"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "fold",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4, 4])],
        [numpy_helper.from_array(v.astype(np.float32), n) for n, v in {"w": w, "c": c}.items()],
    )
    path = tmp_path / "conv_fold.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    ops, _ = import_onnx(path)
    assert [type(o).__name__ for o in ops.ops] == ["Conv"]
    samples = RNG.normal(0, 1, (6, 2, 4, 4)).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    session = ort.InferenceSession(str(path))
    for x in samples[:2]:
        verified = np.asarray(zkgrad.verify(model, model.prove(x))).reshape(-1)
        expected = session.run(None, {"x": x[None]})[0].reshape(-1)
        assert np.max(np.abs(verified - expected)) < 0.01 * np.abs(expected).max()

"""Products of two activations (``MatMul(A, B)``, a product block: `zk/matmul.rs`) and softmax
over several rows: single-head self-attention, softmax(x·Wq·(x·Wk)ᵀ/√d)·x·Wv, proves and
verifies within the quantisation error of onnxruntime's answer, for widths that are powers of
two and widths that the importer pads. A flipped proof is rejected; stacked matrices (several
heads) are refused by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import zkgrad
from zkgrad import InvalidProof, UnsupportedModelError
from zkgrad.graph import Product
from zkgrad.onnx import import_onnx

RNG = np.random.default_rng(41)


def _const(name: str, *shape: int, scale: float = 0.4) -> onnx.TensorProto:
    return numpy_helper.from_array(RNG.normal(0, scale, shape).astype(np.float32), name)


def _attention(tmp_path: Path, seq: int, dim: int, softmax: bool = True) -> Path:
    nodes = [
        helper.make_node("MatMul", ["x", "wq"], ["q"]),
        helper.make_node("MatMul", ["x", "wk"], ["k"]),
        helper.make_node("MatMul", ["x", "wv"], ["v"]),
        helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["q", "kt"], ["s"]),
        helper.make_node("Mul", ["s", "scale"], ["scaled"]),
        helper.make_node("Softmax", ["scaled"], ["p"], axis=-1)
        if softmax
        else helper.make_node("Relu", ["scaled"], ["p"]),
        helper.make_node("MatMul", ["p", "v"], ["o"]),
    ]
    scale = numpy_helper.from_array(np.array(1 / np.sqrt(dim), dtype=np.float32), "scale")
    graph = helper.make_graph(
        nodes,
        "attention",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, seq, dim])],
        [helper.make_tensor_value_info("o", TensorProto.FLOAT, [1, seq, dim])],
        [_const("wq", dim, dim), _const("wk", dim, dim), _const("wv", dim, dim), scale],
    )
    path = tmp_path / f"attention_{seq}_{dim}.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def _matches_onnxruntime(path: Path, samples: np.ndarray) -> zkgrad.Model:
    model = zkgrad.compile(path, calibration=samples)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for x in samples[:4]:
        want = session.run(None, {"x": x})[0]
        got = model.run(x)
        assert got.shape == want.shape
        bound = float(model.report.max_abs_error or 0.0) + 2.0**-model.output_scale_bits
        assert np.abs(got - want).max() <= bound + 1e-6
    assert (model.report.relative_error or 0.0) < 0.02
    return model


@pytest.mark.parametrize(("seq", "dim"), [(4, 8), (5, 6)])
def test_self_attention_proves_and_verifies(tmp_path: Path, seq: int, dim: int) -> None:
    path = _attention(tmp_path, seq, dim)
    graph, _ = import_onnx(path)
    products = [op for op in graph.ops if isinstance(op, Product)]
    assert len(products) == 2  # q·kᵀ and p·v; the projections are dense layers
    samples = RNG.normal(0, 1, (16, 1, seq, dim)).astype(np.float32)
    model = _matches_onnxruntime(path, samples)
    proof = model.prove(samples[2])
    np.testing.assert_array_equal(zkgrad.verify(model, proof), model.run(samples[2]))
    batch = model.prove(samples[:3])
    assert zkgrad.verify(model.verifying_key(), batch).shape == (3, seq, dim)
    flipped = bytearray(proof.data)
    flipped[len(flipped) // 2] ^= 1
    with pytest.raises(InvalidProof):
        zkgrad.verify(model, bytes(flipped))


def test_widths_that_are_not_powers_of_two_are_padded(tmp_path: Path) -> None:
    # 5 × 6 by 6 × 5: the inner width 6 and the output width 5 are padded to 8.
    path = _attention(tmp_path, 5, 6, softmax=False)
    graph, _ = import_onnx(path)
    first = next(op for op in graph.ops if isinstance(op, Product))
    assert (first.rows, first.inner, first.cols) == (5, 8, 8)
    assert any(op.name.endswith(":unpad") for op in graph.ops)
    _matches_onnxruntime(path, RNG.normal(0, 1, (16, 1, 5, 6)).astype(np.float32))


def test_a_product_of_two_graph_inputs(tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["a", "b"], ["y"])],
        "two_inputs",
        [
            helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, 3, 4]),
            helper.make_tensor_value_info("b", TensorProto.FLOAT, [1, 4, 2]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 2])],
    )
    path = tmp_path / "ab.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    a, b = RNG.normal(0, 1, (1, 3, 4)), RNG.normal(0, 1, (1, 4, 2))
    model = zkgrad.compile(path)
    got = zkgrad.verify(model, model.prove({"a": a, "b": b}))
    assert np.abs(got - a @ b).max() < 0.01


def _two_input_product(tmp_path: Path, a: list[int], b: list[int], out: list[int]) -> Path:
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "y"], ["z"], name="heads")],
        "heads",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, a),
            helper.make_tensor_value_info("y", TensorProto.FLOAT, b),
        ],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, out)],
    )
    path = tmp_path / "heads.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


@pytest.mark.parametrize(("rows", "inner", "cols"), [(4, 4, 4), (3, 5, 2)])
def test_stacked_products_multiply_each_head(
    tmp_path: Path, rows: int, inner: int, cols: int
) -> None:
    # Two heads; 3 × 5 by 5 × 2 pads every dimension (stacked rows must be powers of two).
    path = _two_input_product(
        tmp_path, [1, 2, rows, inner], [1, 2, inner, cols], [1, 2, rows, cols]
    )
    graph, _ = import_onnx(path)
    (product,) = [op for op in graph.ops if isinstance(op, Product)]
    assert product.heads == 2
    x, y = RNG.normal(0, 1, (1, 2, rows, inner)), RNG.normal(0, 1, (1, 2, inner, cols))
    model = zkgrad.compile(path)
    got = zkgrad.verify(model, model.prove({"x": x, "y": y}))
    assert got.shape == (1, 2, rows, cols)
    assert np.abs(got - x @ y).max() < 0.02


def test_a_broadcast_stack_is_refused_by_name(tmp_path: Path) -> None:
    path = _two_input_product(tmp_path, [1, 2, 4, 4], [1, 1, 4, 4], [1, 2, 4, 4])
    with pytest.raises(UnsupportedModelError, match=r"(?s)heads.*stacks differ"):
        zkgrad.compile(path)

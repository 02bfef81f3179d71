"""Skip connections: ONNX models with an Add or Sub of two activations (built with onnx.helper)
compile, prove and verify, and the proved output equals the independent integer reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import int_reference
import zkgrad
from zkgrad import UnsupportedModelError
from zkgrad.compiler import build
from zkgrad.graph import Add
from zkgrad.onnx import import_onnx

RNG = np.random.default_rng(14)


def _const(name: str, *shape: int, scale: float = 0.3) -> onnx.TensorProto:
    return numpy_helper.from_array(RNG.normal(0, scale, shape).astype(np.float32), name)


def _save(
    tmp_path: Path,
    nodes: list[onnx.NodeProto],
    inits: list[onnx.TensorProto],
    n_in: int,
    n_out: int,
) -> Path:
    graph = helper.make_graph(
        nodes,
        "residual",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n_in])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n_out])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    path = tmp_path / "residual.onnx"
    onnx.save(model, path)
    return path


def residual_mlp(tmp_path: Path, swap: bool = False, op: str = "Add") -> Path:
    """x (8) → Gemm → Relu (h1) → Gemm → Relu (h2) → h2 ± h1 → Relu → Gemm (3) → y."""
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["g1"], transB=1),
        helper.make_node("Relu", ["g1"], ["h1"]),
        helper.make_node("Gemm", ["h1", "w2", "b2"], ["g2"], transB=1),
        helper.make_node("Relu", ["g2"], ["h2"]),
        helper.make_node(op, ["h1", "h2"] if swap else ["h2", "h1"], ["r"]),
        helper.make_node("Relu", ["r"], ["rr"]),
        helper.make_node("Gemm", ["rr", "w3", "b3"], ["y"], transB=1),
    ]
    inits = [
        _const("w1", 6, 8),
        _const("b1", 6),
        _const("w2", 6, 6),
        _const("b2", 6),
        _const("w3", 3, 6),
        _const("b3", 3),
    ]
    return _save(tmp_path, nodes, inits, 8, 3)


def _check_model(path: Path, samples: np.ndarray) -> zkgrad.Model:
    model = zkgrad.compile(path, calibration=samples)
    quantized = build(path, samples)
    for x in samples[:2]:
        proof = model.prove(x)
        verified = zkgrad.verify(model, proof)
        x_q = model.quantize(x)
        expected = int_reference.run_output(quantized.ir, quantized.tensors, x_q)
        np.testing.assert_array_equal(proof.output_q.reshape(-1), expected)
        np.testing.assert_array_equal(verified, proof.output)
    return model


@pytest.mark.parametrize(("swap", "op"), [(False, "Add"), (True, "Add"), (False, "Sub")])
def test_a_residual_mlp_proves_and_verifies(tmp_path: Path, swap: bool, op: str) -> None:
    path = residual_mlp(tmp_path, swap, op)
    graph, _ = import_onnx(path)
    adds = [o for o in graph.ops if isinstance(o, Add)]
    assert len(adds) == 1 and {adds[0].input, adds[0].other} == {"h1", "h2"}
    assert adds[0].sign == (-1 if op == "Sub" else 1)
    samples = RNG.normal(0, 1, (8, 8))
    model = _check_model(path, samples)
    # The quantised model tracks the float one (residual sums are exact integer sums).
    assert model.report["relative_error"] < 0.05, model.report


def test_a_skip_from_the_input_proves(tmp_path: Path) -> None:
    """y = Gemm(x) − x: the Sub reads the model input and the previous output."""
    nodes = [
        helper.make_node("Gemm", ["x", "w", "b"], ["g"], transB=1),
        helper.make_node("Sub", ["g", "x"], ["y"]),
    ]
    path = _save(tmp_path, nodes, [_const("w", 5, 5), _const("b", 5)], 5, 5)
    _check_model(path, RNG.normal(0, 1, (8, 5)))


def test_squeeze_and_unsqueeze_are_wiring(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Gemm", ["x", "w", "b"], ["g"], transB=1),
        helper.make_node("Unsqueeze", ["g", "axes"], ["u"]),
        helper.make_node("Squeeze", ["u", "axes"], ["s"]),
        helper.make_node("Add", ["s", "x"], ["y"]),
    ]
    axes = numpy_helper.from_array(np.array([1], dtype=np.int64), "axes")
    path = _save(tmp_path, nodes, [_const("w", 4, 4), _const("b", 4), axes], 4, 4)
    graph, _ = import_onnx(path)
    assert [type(o).__name__ for o in graph.ops] == ["Dense", "Reshape", "Reshape", "Add"]
    _check_model(path, RNG.normal(0, 1, (8, 4)))


def test_two_computing_branches_prove(tmp_path: Path) -> None:
    """Add(Gemm_a(x), Gemm_b(x)): both operands compute from x (the graph forks and joins)."""
    nodes = [
        helper.make_node("Gemm", ["x", "wa", "ba"], ["a"], transB=1, name="branch_a"),
        helper.make_node("Gemm", ["x", "wb", "bb"], ["b"], transB=1, name="branch_b"),
        helper.make_node("Add", ["a", "b"], ["y"], name="join"),
    ]
    inits = [_const("wa", 4, 4), _const("ba", 4), _const("wb", 4, 4), _const("bb", 4)]
    path = _save(tmp_path, nodes, inits, 4, 4)
    _check_model(path, RNG.normal(0, 1, (8, 4)))


def test_operands_of_different_shapes_are_refused(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Gemm", ["x", "w", "b"], ["g"], transB=1),
        helper.make_node("Add", ["g", "x"], ["y"], name="mismatch"),
    ]
    path = _save(tmp_path, nodes, [_const("w", 3, 4), _const("b", 3)], 4, 3)
    with pytest.raises(UnsupportedModelError, match=r"(?s)mismatch.*differ in shape"):
        import_onnx(path)


def test_a_skip_before_a_relu_is_refused(tmp_path: Path) -> None:
    """The skip reads g1 before its Relu: the Relu fuses into g1's block, so g1 is not kept."""
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["g1"], transB=1),
        helper.make_node("Relu", ["g1"], ["h1"], name="relu1"),
        helper.make_node("Gemm", ["h1", "w2", "b2"], ["g2"], transB=1),
        helper.make_node("Add", ["g2", "g1"], ["y"]),
    ]
    inits = [_const("w1", 4, 4), _const("b1", 4), _const("w2", 4, 4), _const("b2", 4)]
    path = _save(tmp_path, nodes, inits, 4, 4)
    with pytest.raises(UnsupportedModelError, match=r"(?s)relu1.*also read by another node"):
        import_onnx(path)


def test_a_narrow_tensor_with_three_readers_is_read_through_copies(tmp_path: Path) -> None:
    """h (4 values) read by the next Gemm and two skips: the third reader takes a copy of h
    (the circuit refuses a third reader of a narrow column), and the model proves."""
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["g1"], transB=1, name="fc1"),
        helper.make_node("Relu", ["g1"], ["h"]),
        helper.make_node("Gemm", ["h", "w2", "b2"], ["g2"], transB=1),
        helper.make_node("Add", ["g2", "h"], ["r1"]),
        helper.make_node("Add", ["r1", "h"], ["y"]),
    ]
    inits = [_const("w1", 4, 4), _const("b1", 4), _const("w2", 4, 4), _const("b2", 4)]
    path = _save(tmp_path, nodes, inits, 4, 4)
    graph = import_onnx(path)[0]
    assert [op.input for op in graph.ops if op.name == "Add_4"] == ["r1"]
    assert "h:copy1" in {getattr(op, "other", None) for op in graph.ops}
    samples = RNG.normal(0, 1, (4, 4))
    model = zkgrad.compile(path, calibration=samples)
    session = ort.InferenceSession(str(path))
    for x in samples[:2]:
        verified = np.asarray(zkgrad.verify(model, model.prove(x))).reshape(-1)
        expected = session.run(None, {"x": x[None].astype(np.float32)})[0].reshape(-1)
        np.testing.assert_allclose(verified, expected, atol=0.05)


@pytest.mark.parametrize(
    ("ops", "shape"),
    [
        (["Relu"], [1, 6]),
        (["Identity"], [1, 5]),
        (["Flatten"], [1, 2, 2, 3]),
        (["Relu", "Relu"], [1, 4]),
    ],
)
def test_a_relu_or_pure_wiring_gets_a_copy_block(
    tmp_path: Path, ops: list[str], shape: list[int]
) -> None:
    """A Relu on the input, or a model that only moves data, is proved as y = x (+ ReLU)."""
    names = ["x", *(f"t{i}" for i in range(len(ops) - 1)), "y"]
    nodes = [
        helper.make_node(op, [a], [b]) for op, a, b in zip(ops, names, names[1:], strict=False)
    ]
    out = [shape[0], int(np.prod(shape[1:]))] if ops == ["Flatten"] else shape
    graph = helper.make_graph(
        nodes,
        "wiring",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out)],
    )
    path = tmp_path / "wiring.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    samples = RNG.normal(0, 1, (6, *shape[1:]))
    model = _check_model(path, samples)
    x = samples[0]
    want = np.maximum(x, 0) if "Relu" in ops else x
    got = zkgrad.verify(model, model.prove(x)).reshape(-1)
    np.testing.assert_allclose(got, want.reshape(-1), atol=2.0**-model.output_scale_bits)


@pytest.mark.parametrize("square", [False, True])
def test_a_product_of_two_activations_proves(tmp_path: Path, square: bool) -> None:
    """y = Gemm(x) ⊙ x (a gate reading the input), or Gemm(x)², then a Gemm."""
    nodes = [
        helper.make_node("Gemm", ["x", "w", "b"], ["g"], transB=1),
        helper.make_node("Mul", ["g", "g" if square else "x"], ["m"]),
        helper.make_node("Gemm", ["m", "w2", "b2"], ["y"], transB=1),
    ]
    inits = [_const("w", 6, 6), _const("b", 6), _const("w2", 2, 6), _const("b2", 2)]
    path = _save(tmp_path, nodes, inits, 6, 2)
    graph, _ = import_onnx(path)
    assert [type(o).__name__ for o in graph.ops] == ["Dense", "Mul", "Dense"]
    model = _check_model(path, RNG.normal(0, 1, (8, 6)))
    assert model.report["relative_error"] < 0.05, model.report

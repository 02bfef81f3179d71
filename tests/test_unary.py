"""Nonlinear ops by table lookup (zkgrad.onnx_unary): ONNX models built with onnx.helper import,
their integer semantics track numpy and onnxruntime within the quantisation error, and models
with them prove and verify; a tampered output is rejected, an input outside the calibrated
table is a clear error naming the node."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import zkgrad
from zkgrad import InvalidProof, ModelError
from zkgrad.compiler import build
from zkgrad.graph import Unary
from zkgrad.onnx import SUPPORTED_OPS, import_onnx
from zkgrad.onnx_unary import UNARY_OPS, real

RNG = np.random.default_rng(21)


def _save(
    tmp_path: Path,
    nodes: list[onnx.NodeProto],
    inits: list[onnx.TensorProto],
    n_in: int,
    n_out: int,
    opset: int = 13,
) -> Path:
    graph = helper.make_graph(
        nodes,
        "unary",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n_in])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n_out])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model)
    path = tmp_path / "unary.onnx"
    onnx.save(model, path)
    return path


def _const(name: str, *shape: int, scale: float = 0.4) -> onnx.TensorProto:
    return numpy_helper.from_array(RNG.normal(0, scale, shape).astype(np.float32), name)


def gemm_act_gemm(tmp_path: Path, act: str) -> Path:
    """x (6) → Gemm (5) → act → Gemm (3) → y."""
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["g1"], transB=1),
        helper.make_node(act, ["g1"], ["h"]),
        helper.make_node("Gemm", ["h", "w2", "b2"], ["y"], transB=1),
    ]
    inits = [_const("w1", 5, 6), _const("b1", 5), _const("w2", 3, 5), _const("b2", 3)]
    return _save(tmp_path, nodes, inits, 6, 3)


#: (ONNX op, attributes, constant second input, opset, input sampler) for single-op models.
SINGLE = [
    ("Sigmoid", {}, None, 13, "normal"),
    ("Tanh", {}, None, 13, "normal"),
    ("Exp", {}, None, 13, "normal"),
    ("Log", {}, None, 13, "positive"),
    ("Sqrt", {}, None, 13, "positive"),
    ("Reciprocal", {}, None, 13, "positive"),
    ("Pow", {}, 2.0, 13, "normal"),
    ("Pow", {}, 0.5, 13, "positive"),
    ("Erf", {}, None, 13, "normal"),
    ("Gelu", {}, None, 20, "normal"),
    ("Gelu", {"approximate": "tanh"}, None, 20, "normal"),
    ("Softplus", {}, None, 13, "normal"),
    ("Softsign", {}, None, 13, "normal"),
    ("HardSigmoid", {"alpha": 0.3, "beta": 0.4}, None, 13, "normal"),
    ("HardSwish", {}, None, 14, "normal"),
    ("LeakyRelu", {"alpha": 0.1}, None, 13, "normal"),
    ("PRelu", {}, 0.25, 13, "normal"),
    ("Elu", {"alpha": 0.7}, None, 13, "normal"),
    ("Selu", {}, None, 13, "normal"),
    *((op, {}, None, 13, "normal") for op in ("Sin", "Cos", "Tan", "Atan", "Sinh", "Cosh")),
    ("Asin", {}, None, 13, "unit"),
    ("Acos", {}, None, 13, "unit"),
    *((op, {}, None, 13, "normal") for op in ("Abs", "Sign", "Ceil", "Floor", "Round")),
    ("Clip", {"min": -0.5, "max": 0.7}, None, 6, "normal"),
    ("Celu", {"alpha": 0.8}, None, 13, "normal"),
    ("ThresholdedRelu", {"alpha": 0.3}, None, 13, "normal"),
    ("Shrink", {"bias": 0.1, "lambd": 0.4}, None, 13, "normal"),
    ("Mish", {}, None, 18, "normal"),
]


def single_op(tmp_path: Path, op: str, attrs: dict, const: float | None, opset: int) -> Path:
    inputs = ["x"] if const is None else ["x", "c"]
    inits = [] if const is None else [numpy_helper.from_array(np.array(const, np.float32), "c")]
    node = helper.make_node(op, inputs, ["y"], **attrs)
    return _save(tmp_path, [node], inits, 16, 16, opset)


def _samples(kind: str, count: int) -> np.ndarray:
    x = RNG.normal(0, 1.5, (count, 16))
    if kind == "unit":
        return np.tanh(x) * 0.9
    return np.abs(x) + 0.05 if kind == "positive" else x


@pytest.mark.parametrize(("op", "attrs", "const", "opset", "kind"), SINGLE)
def test_integer_semantics_track_numpy_and_onnxruntime(
    tmp_path: Path, op: str, attrs: dict, const: float | None, opset: int, kind: str
) -> None:
    path = single_op(tmp_path, op, attrs, const, opset)
    samples = _samples(kind, 16).astype(np.float32)
    quantized = build(path, samples)
    unary = [n for n in quantized.ir["nodes"] if n["op"] == "unary"]
    assert len(unary) == 1, quantized.ir["nodes"]
    node = unary[0]
    s_in, s_out = node["in_scale"], node["out_scale"]
    lo, hi = node["range"]
    assert lo <= -1 or kind == "positive"
    # The table is sized from calibration: twice the inputs' magnitude, not the whole range.
    assert hi <= math.ceil(2 * np.abs(samples).max() * 2**s_in)
    model = zkgrad.compile(path, calibration=samples)
    # The output scale comes from the calibrated output (written through a copy here).
    assert model.report["relative_error"] < 0.02, (op, model.report["relative_error"])
    session = ort.InferenceSession(str(path))
    func, params = node["func"], tuple(node.get("params", []))
    for x in samples[:4]:
        x_q = model.quantize(x).reshape(-1)
        y_q = model.run_q(x).reshape(-1)
        # Rust's rounding of f at the quantised input, to within one unit (libm vs numpy).
        want = np.rint(real(func, x_q * 2.0**-s_in, params) * 2.0**s_out)
        assert np.max(np.abs(y_q - want)) <= 1, (op, y_q, want)
        # onnxruntime on the float input: the input's and the output's rounding, amplified by
        # f's slope between the two inputs.
        y_ref = session.run(None, {"x": x.reshape(1, 16)})[0].reshape(-1)
        x_back = x_q * 2.0**-s_in
        slope = np.abs(real(func, x_back + 2.0**-s_in, params) - real(func, x_back, params))
        tolerance = 2.0**-s_out + slope + 1e-6
        err = np.abs(model.run(x).reshape(-1) - y_ref)
        assert np.all(err <= tolerance), (op, err, tolerance)


def test_every_table_op_is_listed_as_supported() -> None:
    assert UNARY_OPS <= set(SUPPORTED_OPS)
    ops = {op for op, *_ in SINGLE}
    assert ops == set(UNARY_OPS)


@pytest.mark.parametrize("act", ["Sigmoid", "Tanh"])
def test_gemm_act_gemm_proves_and_verifies(tmp_path: Path, act: str) -> None:
    path = gemm_act_gemm(tmp_path, act)
    graph, _ = import_onnx(path)
    assert [type(o).__name__ for o in graph.ops] == ["Dense", "Unary", "Dense"]
    assert isinstance(graph.ops[1], Unary) and graph.ops[1].func == act.lower()
    samples = RNG.normal(0, 1, (16, 6)).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    assert model.report["relative_error"] < 0.05, model.report
    session = ort.InferenceSession(str(path))
    proofs = []
    for x in samples[:2]:
        proof = model.prove(x)
        np.testing.assert_array_equal(proof.output_q.reshape(-1), model.run_q(x).reshape(-1))
        verified = zkgrad.verify(model, proof)
        np.testing.assert_array_equal(verified, proof.output)
        y_ref = session.run(None, {"x": x.reshape(1, 6)})[0]
        assert np.max(np.abs(verified - y_ref)) < 0.05
        proofs.append(proof)
    # A batch is one proof.
    batch = model.prove(samples[:3])
    np.testing.assert_array_equal(zkgrad.verify(model, batch), batch.output)


def test_a_tampered_proof_is_rejected(tmp_path: Path) -> None:
    """Flipped bits anywhere are rejected (the output's own tampering test is in
    crates/zkgrad-core/tests/unary.rs, which edits the claimed output directly)."""
    path = gemm_act_gemm(tmp_path, "Sigmoid")
    samples = RNG.normal(0, 1, (16, 6)).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    data = model.prove(samples[0]).data
    for position in (len(data) // 4, len(data) // 2, len(data) - 1):
        flipped = bytearray(data)
        flipped[position] ^= 0x01
        with pytest.raises(InvalidProof):
            zkgrad.verify(model, bytes(flipped))


def test_an_input_outside_the_table_names_the_node(tmp_path: Path) -> None:
    """The table covers twice the calibrated magnitude, the activation range four times: an
    input three times as large is provable as an activation but not in the table."""
    path = single_op(tmp_path, "Tanh", {}, None, 13)
    samples = RNG.normal(0, 0.5, (16, 16)).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    x = np.zeros(16, dtype=np.float32)
    x[3] = 3.0 * np.abs(samples).max()
    with pytest.raises(ModelError, match=r"'Tanh_0' \(tanh\).*outside the 'tanh' table's"):
        model.prove(x)


def test_unsupported_table_ops_name_the_reason(tmp_path: Path) -> None:
    node = helper.make_node("Pow", ["x", "e"], ["y"])
    exponent = numpy_helper.from_array(np.arange(16, dtype=np.float32).reshape(1, 16), "e")
    path = _save(tmp_path, [node], [exponent], 16, 16)
    with pytest.raises(zkgrad.UnsupportedModelError, match="one constant for every value"):
        import_onnx(path)


def test_clip_reads_its_bounds_from_constant_inputs(tmp_path: Path) -> None:
    """From opset 11 Clip's bounds are inputs; an absent one is unbounded (a ReLU6 here)."""
    node = helper.make_node("Clip", ["x", "lo", ""], ["y"])
    zero = numpy_helper.from_array(np.array(0.0, np.float32), "lo")
    graph, _ = import_onnx(_save(tmp_path, [node], [zero], 16, 16))
    op = next(o for o in graph.ops if isinstance(o, Unary))
    assert isinstance(op, Unary) and op.func == "clip" and op.params[0] == 0.0
    assert op.params[1] > 1e29
    path = _save(
        tmp_path,
        [helper.make_node("Clip", ["x", "lo", "hi"], ["y"])],
        [zero, numpy_helper.from_array(np.array(6.0, np.float32), "hi")],
        16,
        16,
    )
    samples = RNG.normal(0, 4, (16, 16)).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    verified = zkgrad.verify(model, model.prove(samples[0]))
    np.testing.assert_allclose(verified.reshape(-1), np.clip(samples[0], 0, 6), atol=0.01)


def test_celu_with_alpha_zero_is_refused_by_name(tmp_path: Path) -> None:
    # Celu divides by alpha: alpha=0 once compiled to "invalid IR JSON" from the native parser.
    node = helper.make_node("Celu", ["x"], ["y"], name="celu", alpha=0.0)
    path = _save(tmp_path, [node], [], 16, 16)
    with pytest.raises(zkgrad.UnsupportedModelError, match="alpha=0") as info:
        import_onnx(path)
    assert [n.name for n in info.value.nodes] == ["celu"]

"""Integer and boolean activations (zkgrad.onnx_integers, zkgrad.integers, zkgrad.narrow_reads):
ArgMax/ArgMin (ties included), And/Or/Xor, Cast to integer types and to BOOL, Gather by an index
(after an ArgMax or a table lookup, negative indices included), OneHot and GatherElements prove
and verify to exactly the float model's answer; what cannot be imported is one clear error
naming the node; a small tensor read by many ops is copied so that it proves."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

import zkgrad
import zkgrad.onnx as zkgrad_onnx
from zkgrad import InvalidProof, ModelError, UnsupportedModelError, _native
from zkgrad.graph import Copy, Dense, FloatGraph, Mul, Relu, Reshape, Unary, reads
from zkgrad.integers import boolean_after, integral_tensors
from zkgrad.onnx import import_onnx

RNG = np.random.default_rng(29)  # the module-level constants only
FLOAT, INT64 = TensorProto.FLOAT, TensorProto.INT64


def _save(
    tmp_path: Path,
    nodes: list[onnx.NodeProto],
    consts: dict[str, np.ndarray],
    x_shape: list[int],
    y_shape: list[int],
    y_type: int = FLOAT,
    check: bool = True,
) -> Path:
    graph = helper.make_graph(
        nodes,
        "integers",
        [helper.make_tensor_value_info("x", FLOAT, x_shape)],
        [helper.make_tensor_value_info("y", y_type, y_shape)],
        [numpy_helper.from_array(v, k) for k, v in consts.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    if check:  # the refusals below feed a float tensor to And/Gather: not type-correct ONNX
        onnx.checker.check_model(model)
    path = tmp_path / "integers.onnx"
    onnx.save(model, path)
    return path


def _expected(path: Path, samples: np.ndarray) -> np.ndarray:
    """The float model's outputs, one flattened row per sample (onnxruntime, or the ONNX
    reference evaluator where onnxruntime has no kernel)."""
    state = ort.capi.onnxruntime_pybind11_state
    try:
        run = ort.InferenceSession(str(path)).run
    except (state.InvalidGraph, state.NotImplemented):
        run = ReferenceEvaluator(str(path)).run
    rows = [np.asarray(run(None, {"x": x[None]})[0]).reshape(-1) for x in samples]
    return np.stack(rows).astype(np.float64)


def _prove_exactly(path: Path, samples: np.ndarray) -> np.ndarray:
    """Compile, prove every sample in one batch proof, verify: the verified outputs equal the
    float model's exactly (integers, table values and 0/1 need no tolerance). Returns them."""
    model = zkgrad.compile(path, calibration=samples)
    verified = np.asarray(zkgrad.verify(model, model.prove(samples)), dtype=np.float64)
    expected = _expected(path, samples)
    np.testing.assert_array_equal(verified.reshape(expected.shape), expected)
    return expected


def _grid(n: int, width: int, step: float = 0.25, seed: int = 0) -> np.ndarray:
    """Values on a grid of ``step`` in [−1, 1]: some sit exactly on the thresholds below (seeded
    per call, so a test's samples do not depend on which tests ran before it)."""
    k = round(1 / step)
    rng = np.random.default_rng(seed)
    return (rng.integers(-k, k + 1, (n, width)) * step).astype(np.float32)


# An integer index from two comparisons: idx = 2·[x·A < 0.5] + [x·B > −0.25], 0..3 (minus
# `offset`), with A and B 0/1 selection matrices so that every combination occurs.
def _index_nodes(a: np.ndarray, b: np.ndarray, offset: int = 0) -> tuple[list, dict]:
    nodes = [
        helper.make_node("MatMul", ["x", "sel_a"], ["xa"]),
        helper.make_node("MatMul", ["x", "sel_b"], ["xb"]),
        helper.make_node("Less", ["xa", "half"], ["lt"]),
        helper.make_node("Greater", ["xb", "quarter"], ["gt"]),
        helper.make_node("Cast", ["lt"], ["lt_i"], to=INT64),
        helper.make_node("Cast", ["gt"], ["gt_i"], to=INT64),
        helper.make_node("Mul", ["lt_i", "two"], ["lt_2"]),
        helper.make_node("Add", ["lt_2", "gt_i"], ["idx0"]),
        helper.make_node("Sub", ["idx0", "offset"], ["idx"]),
    ]
    consts = {
        "sel_a": a.astype(np.float32),
        "sel_b": b.astype(np.float32),
        "half": np.array(0.5, np.float32),
        "quarter": np.array(-0.25, np.float32),
        "two": np.array(2, np.int64),
        "offset": np.array(offset, np.int64),
    }
    return nodes, consts


def _index_values(samples: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return 2 * (samples @ a < 0.5) + (samples @ b > -0.25)


EYE6, FLIP6 = np.eye(6), np.eye(6)[::-1]


# 1. ArgMax / ArgMin of float activations, then a Gather by the index.

W8 = (RNG.integers(-4, 5, (8, 8)) / 4).astype(np.float32)
W8[5] = W8[2]  # outputs 2 and 5 are always equal: a tie whenever they are the extreme
TABLE8 = RNG.integers(-9, 10, (8, 3)).astype(np.float32)


def _tied_samples(op: str, h_of: Callable[[np.ndarray], np.ndarray], axis: int = -1) -> np.ndarray:
    """Twelve grid samples: six whose extreme (of h_of(x) along ``axis``) is tied, six not."""
    pool = _grid(200, 8)
    h = h_of(pool)
    extreme = (h.max if op == "ArgMax" else h.min)(axis=axis, keepdims=True)
    at = h == extreme
    tied = at.sum(axis=axis).max(axis=-1) > 1 if h.ndim > 2 else at.sum(axis=axis) > 1
    assert tied.sum() >= 4, "no ties on the grid"
    return np.concatenate([pool[tied][:6], pool[~tied][:6]])


@pytest.mark.parametrize(
    ("op", "keepdims", "last"),
    [("ArgMax", 0, 0), ("ArgMax", 0, 1), ("ArgMax", 1, 0), ("ArgMin", 0, 0), ("ArgMin", 1, 1)],
)
def test_argmax_then_gather_picks_the_float_models_row(
    tmp_path: Path, op: str, keepdims: int, last: int
) -> None:
    nodes = [
        helper.make_node("Gemm", ["x", "w"], ["h"], transB=1),
        helper.make_node(op, ["h"], ["i"], axis=-1, keepdims=keepdims, select_last_index=last),
        helper.make_node("Gather", ["t", "i"], ["y"], axis=0),
    ]
    out = [1, 1, 3] if keepdims else [1, 3]
    path = _save(tmp_path, nodes, {"w": W8, "t": TABLE8}, [1, 8], out)
    samples = _tied_samples(op, lambda s: s @ W8.T)
    expected = _prove_exactly(path, samples)
    # The ties were settled as ONNX settles them: the first extreme, or the last one.
    h = samples @ W8.T
    at = h == (h.max if op == "ArgMax" else h.min)(axis=1, keepdims=True)
    first, final = np.argmax(at, axis=1), 7 - np.argmax(at[:, ::-1], axis=1)
    assert (first != final).sum() >= 4
    np.testing.assert_array_equal(expected, TABLE8[final if last else first])


def test_argmax_along_a_middle_axis_then_gather(tmp_path: Path) -> None:
    w = (np.random.default_rng(4).integers(-4, 5, (12, 8)) / 4).astype(np.float32)
    w[4] = w[0]  # [0, 0, 0] and [0, 1, 0]: a tie along axis 1
    nodes = [
        helper.make_node("Gemm", ["x", "w"], ["h"], transB=1),
        helper.make_node("Reshape", ["h", "shape"], ["r"]),
        helper.make_node("ArgMax", ["r"], ["i"], axis=1, keepdims=0),
        helper.make_node("Gather", ["t", "i"], ["y"], axis=0),
    ]
    table = np.array([[1, -1], [2, 5], [-3, 4]], np.float32)
    consts = {"w": w, "shape": np.array([1, 3, 4], np.int64), "t": table}
    path = _save(tmp_path, nodes, consts, [1, 8], [1, 4, 2])
    samples = _tied_samples("ArgMax", lambda s: (s @ w.T).reshape(-1, 3, 4), axis=1)
    _prove_exactly(path, samples)


@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
@pytest.mark.parametrize("last", [0, 1])
def test_argmax_of_comparisons_then_gather_along_axis_1(tmp_path: Path, op: str, last: int) -> None:
    """0/1 values skip the maximum; rows of all 0s and all 1s tie everywhere."""
    nodes = [
        helper.make_node("Less", ["x", "zero"], ["b"]),
        helper.make_node("Cast", ["b"], ["f"], to=FLOAT),
        helper.make_node(op, ["f"], ["i"], axis=-1, keepdims=1, select_last_index=last),
        helper.make_node("Gather", ["t", "i"], ["y"], axis=1),
    ]
    table = np.arange(24, dtype=np.float32).reshape(3, 8)
    path = _save(
        tmp_path, nodes, {"zero": np.array(0.0, np.float32), "t": table}, [1, 8], [3, 1, 1]
    )
    samples = _grid(12, 8)
    samples[0], samples[1] = 1.0, -1.0
    expected = _prove_exactly(path, samples)
    assert expected[0, 0] == expected[1, 0] == (7.0 if last else 0.0)  # t[0, first or last]


# 2. ArgMax as the model's output.


@pytest.mark.parametrize(("op", "last"), [("ArgMax", 0), ("ArgMin", 1)])
def test_the_index_itself_is_the_output(tmp_path: Path, op: str, last: int) -> None:
    nodes = [
        helper.make_node("Gemm", ["x", "w"], ["h"], transB=1),
        helper.make_node(op, ["h"], ["y"], axis=-1, keepdims=1, select_last_index=last),
    ]
    path = _save(tmp_path, nodes, {"w": W8}, [1, 8], [1, 1], INT64)
    expected = _prove_exactly(path, _tied_samples(op, lambda s: s @ W8.T))
    assert len(set(expected.reshape(-1))) >= 3


# 3. And, Or, Xor of two comparisons.


@pytest.mark.parametrize("op", ["And", "Or", "Xor"])
def test_logical_ops_of_comparisons_cover_the_truth_table(tmp_path: Path, op: str) -> None:
    flip = np.eye(12)[::-1]
    nodes = [
        helper.make_node("MatMul", ["x", "flip"], ["h"]),
        helper.make_node("Less", ["x", "half"], ["a"]),
        helper.make_node("Greater", ["h", "quarter"], ["b"]),
        helper.make_node(op, ["a", "b"], ["l"], name="logic"),
        helper.make_node("Cast", ["l"], ["y"], to=FLOAT),
    ]
    consts = {
        "flip": flip.astype(np.float32),
        "half": np.array(0.5, np.float32),
        "quarter": np.array(-0.25, np.float32),
    }
    path = _save(tmp_path, nodes, consts, [1, 12], [1, 12])
    samples = _grid(8, 12)
    samples[0, :4] = [0.5, -0.25, 0.5, -0.25]  # on the thresholds
    a, b = (samples < 0.5).reshape(-1), (samples @ flip > -0.25).reshape(-1)
    pairs = set(zip(a, b, strict=True))
    assert len(pairs) == 4
    _prove_exactly(path, samples)


# 4. Gather from a constant by an integer index (a table lookup).


@pytest.mark.parametrize(
    ("table", "offset"),
    [
        (np.array([10, -3, 7, 2], np.float32), 0),
        (np.array([10, -3, 7, 2], np.float32), 4),  # indices −4..−1: ONNX wraps them
        (np.arange(12, dtype=np.float32).reshape(4, 3) * 1.5 - 4, 0),  # rows of a 2-D table
        (np.arange(12, dtype=np.float32).reshape(4, 3) * 1.5 - 4, 3),  # −3..0
    ],
    ids=["1-D", "1-D negative", "2-D", "2-D negative"],
)
def test_gather_by_an_index_from_comparisons(
    tmp_path: Path, table: np.ndarray, offset: int
) -> None:
    nodes, consts = _index_nodes(EYE6, FLIP6, offset)
    nodes.append(helper.make_node("Gather", ["t", "idx"], ["y"], axis=0, name="pick"))
    path = _save(tmp_path, nodes, {**consts, "t": table}, [1, 6], [1, 6, *table.shape[1:]])
    samples = _grid(8, 6)
    assert set(_index_values(samples, EYE6, FLIP6).reshape(-1)) == {0, 1, 2, 3}
    expected = _prove_exactly(path, samples)
    assert set(expected.reshape(-1)) == set(table.reshape(-1))  # every row was read


# 5. OneHot of an integer index.


@pytest.mark.parametrize("axis", [-1, 1])
@pytest.mark.parametrize("offset", [0, 2, 4])
def test_one_hot_of_an_index(tmp_path: Path, axis: int, offset: int) -> None:
    nodes, consts = _index_nodes(EYE6, FLIP6, offset)
    nodes += [
        helper.make_node("OneHot", ["idx", "depth", "values"], ["o"], axis=axis),
        helper.make_node("Cast", ["o"], ["y"], to=FLOAT),
    ]
    consts |= {"depth": np.array(4, np.int64), "values": np.array([0, 1], np.int64)}
    path = _save(tmp_path, nodes, consts, [1, 6], [1, 6, 4] if axis == -1 else [1, 4, 6])
    expected = _prove_exactly(path, _grid(8, 6))
    assert expected.sum(axis=1).tolist() == [6.0] * 8  # one hot value per index: none dropped


# 6. GatherElements of the input by an integer activation.


@pytest.mark.parametrize("offset", [0, 4])
def test_gather_elements_of_the_input_by_an_index(tmp_path: Path, offset: int) -> None:
    a = np.zeros((4, 6))
    a[[0, 1, 2, 3, 0, 2], range(6)] = 1
    b = np.zeros((4, 6))
    b[[3, 2, 1, 0, 1, 3], range(6)] = 1
    nodes, consts = _index_nodes(a, b, offset)
    nodes.append(helper.make_node("GatherElements", ["x", "idx"], ["y"], axis=1))
    path = _save(tmp_path, nodes, consts, [1, 4], [1, 6])
    samples = _grid(8, 4)
    assert set(_index_values(samples, a, b).reshape(-1)) == {0, 1, 2, 3}
    _prove_exactly(path, samples)


# 7. Refusals: one sentence, naming the node.


def _refusal(case: str) -> tuple[list[onnx.NodeProto], dict[str, np.ndarray], int]:
    layer = [helper.make_node("MatMul", ["x", "w"], ["h"])]
    if case == "truncating cast":
        return [*layer, helper.make_node("Cast", ["h"], ["y"], to=INT64, name="bad")], {}, INT64
    if case == "And of a non-boolean":
        return (
            [
                *layer,
                helper.make_node("Less", ["x", "zero"], ["b"]),
                helper.make_node("And", ["h", "b"], ["a"], name="bad"),
                helper.make_node("Cast", ["a"], ["y"], to=FLOAT),
            ],
            {"zero": np.array(0.0, np.float32)},
            FLOAT,
        )
    return (
        [
            *layer,
            helper.make_node("Relu", ["h"], ["r"]),
            helper.make_node("Gather", ["t", "r"], ["y"], axis=0, name="bad"),
        ],
        {"t": np.arange(8, dtype=np.float32)},
        FLOAT,
    )


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("truncating cast", "would truncate"),
        ("And of a non-boolean", "'h' is not an activation known to hold 0 and 1"),
        ("Gather by a float", "needs integer indices"),
    ],
)
def test_a_node_that_cannot_be_imported_is_named(tmp_path: Path, case: str, message: str) -> None:
    nodes, consts, y_type = _refusal(case)
    w = (np.random.default_rng(1).integers(-4, 5, (8, 8)) / 4).astype(np.float32)
    path = _save(tmp_path, nodes, {"w": w, **consts}, [1, 8], [1, 8], y_type, check=False)
    with pytest.raises(UnsupportedModelError, match=message) as info:
        zkgrad.compile(path, calibration=_grid(4, 8))
    assert [node.name for node in info.value.nodes] == ["bad"]
    reason = info.value.nodes[0].reason
    assert "\n" not in reason and ". " not in reason and "Traceback" not in str(info.value)


# 8. Cast to BOOL of a float activation.


@pytest.mark.parametrize("source", ["input", "layer"])
def test_cast_to_bool_is_nonzero(tmp_path: Path, source: str) -> None:
    w = (np.random.default_rng(2).integers(-2, 3, (8, 8)) / 2).astype(np.float32)
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["h"]),
        helper.make_node("Cast", ["h" if source == "layer" else "x"], ["b"], to=TensorProto.BOOL),
        helper.make_node("Cast", ["b"], ["y"], to=FLOAT),
    ]
    if source == "input":
        nodes = nodes[1:]
    path = _save(tmp_path, nodes, {"w": w} if source == "layer" else {}, [1, 8], [1, 8])
    samples = _grid(12, 8, step=0.5)
    values = samples @ w if source == "layer" else samples
    assert (values == 0).sum() >= 3 and (values != 0).sum() >= 3
    expected = _prove_exactly(path, samples)
    np.testing.assert_array_equal(expected, (values != 0).astype(np.float64))


# 9. A small tensor read by many ops.


def _reads_of_narrow_tensors(graph: FloatGraph) -> dict[str, int]:
    """Reads (operand slots) of each tensor of at most 8 values, a reshape being its input; a
    Copy reads its input twice (x + x)."""
    size = {graph.input: math.prod(graph.input_shape)}
    root = {graph.input: graph.input}
    count: Counter[str] = Counter()
    for op in graph.ops:
        if isinstance(op, Relu):
            size[op.output] = size[op.input]
        else:
            size[op.output] = math.prod(op.shape if isinstance(op, Reshape) else op.out_shape)
        root[op.output] = root[op.input] if isinstance(op, Reshape) else op.output
        if isinstance(op, (Reshape, Relu)):
            continue
        for tensor in reads(op) * (2 if isinstance(op, Copy) else 1):
            count[root[tensor]] += 1
    return {t: n for t, n in count.items() if size[t] <= 8}


def test_an_input_of_three_values_read_five_times_is_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nodes = [
        helper.make_node("Mul", ["x", "x"], ["a"]),
        helper.make_node("Add", ["a", "x"], ["b"]),
        helper.make_node("Mul", ["b", "x"], ["c"]),
        helper.make_node("Add", ["c", "x"], ["y"]),
    ]
    path = _save(tmp_path, nodes, {}, [1, 3], [1, 3])
    graph = import_onnx(path)[0]
    counts = _reads_of_narrow_tensors(graph)
    assert counts["x"] == 2 and max(counts.values()) <= 2, counts
    assert sum(":copy" in op.name for op in graph.ops) == 3
    samples = np.random.default_rng(3).normal(0, 1, (8, 3)).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    verified = np.asarray(zkgrad.verify(model, model.prove(samples)))
    np.testing.assert_allclose(verified.reshape(8, 3), _expected(path, samples), atol=0.02)
    # Without the copies the circuit refuses the model.
    monkeypatch.setattr(zkgrad_onnx, "spread_narrow_reads", lambda graph: None)
    with pytest.raises(ModelError, match="read by 5 blocks"):
        zkgrad.compile(path, calibration=samples)


def test_relu_of_a_small_input_plus_the_input_proves(tmp_path: Path) -> None:
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Add", ["r", "x"], ["y"])]
    path = _save(tmp_path, nodes, {}, [1, 3], [1, 3])
    samples = np.random.default_rng(3).normal(0, 1, (8, 3)).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    verified = np.asarray(zkgrad.verify(model, model.prove(samples)))
    np.testing.assert_allclose(verified.reshape(8, 3), _expected(path, samples), atol=0.02)
    assert max(_reads_of_narrow_tensors(import_onnx(path)[0]).values()) <= 2


# 10. Soundness, and an index outside its table.


def test_a_tampered_tree_proof_is_rejected(tmp_path: Path) -> None:
    nodes, consts = _index_nodes(EYE6, FLIP6)
    nodes.append(helper.make_node("Gather", ["t", "idx"], ["y"], axis=0))
    table = np.array([10, -3, 7, 2], np.float32)
    path = _save(tmp_path, nodes, {**consts, "t": table}, [1, 6], [1, 6])
    samples = _grid(8, 6)
    model = zkgrad.compile(path, calibration=samples)
    data = model.prove(samples[0]).data
    np.testing.assert_array_equal(
        zkgrad.verify(model, data).reshape(-1), _expected(path, samples)[0]
    )
    for position in (len(data) // 3, len(data) // 2, len(data) - 5):
        flipped = bytearray(data)
        flipped[position] ^= 0x20
        with pytest.raises(InvalidProof):
            zkgrad.verify(model, bytes(flipped))
    # A changed claimed output (a byte whose flip still decodes, to another output).
    stated = _native.proof_output(data)
    changed = 0
    for position in range(min(len(data), 800)):
        flipped = bytearray(data)
        flipped[position] ^= 0x01
        try:
            other = _native.proof_output(bytes(flipped))
        except Exception:  # bytes that no longer decode
            continue
        if other.size == stated.size and (other != stated).any():
            changed += 1
            with pytest.raises(InvalidProof):
                zkgrad.verify(model, bytes(flipped))
            if changed == 3:
                break
    assert changed > 0, "no byte of the claimed output found"


@pytest.mark.parametrize("op", ["Gather", "OneHot"])
def test_an_index_outside_its_table_is_an_error_naming_the_node(tmp_path: Path, op: str) -> None:
    """Calibrated on inputs ≤ 1 the index is 0; an input above 1 makes it 2 (Gather from 2
    values) or 4 (OneHot of depth 4): ONNX refuses the one and writes zeros for the other."""
    scale = 2 if op == "Gather" else 4
    nodes = [
        helper.make_node("Greater", ["x", "one"], ["b"]),
        helper.make_node("Cast", ["b"], ["bi"], to=INT64),
        helper.make_node("Mul", ["bi", "scale"], ["idx"]),
    ]
    consts = {"one": np.array(1.0, np.float32), "scale": np.array(scale, np.int64)}
    if op == "Gather":
        nodes.append(helper.make_node("Gather", ["t", "idx"], ["y"], axis=0, name="pick"))
        consts["t"] = np.array([5.0, -5.0], np.float32)
        out = [1, 4]
    else:
        nodes.append(helper.make_node("OneHot", ["idx", "d", "v"], ["y"], axis=-1, name="pick"))
        consts |= {"d": np.array(4, np.int64), "v": np.array([0.0, 1.0], np.float32)}
        out = [1, 4, 4]
    path = _save(tmp_path, nodes, consts, [1, 4], out)
    samples = _grid(8, 4)
    model = zkgrad.compile(path, calibration=samples)
    np.testing.assert_array_equal(
        np.asarray(zkgrad.verify(model, model.prove(samples))).reshape(8, -1),
        _expected(path, samples),
    )
    x = samples[0].copy()
    x[1] = 1.5
    with pytest.raises(ModelError, match=rf"node 'pick\b.*input\[\d+\] = {scale} is not an index"):
        model.prove(x)


# Integer semantics that the removed Casts leave behind.


def test_integer_division_of_an_index_is_refused(tmp_path: Path) -> None:
    """ONNX's integer Div rounds toward zero (idx / 2 of 3 is 1): refused, not proved as 1.5."""
    nodes, consts = _index_nodes(EYE6, FLIP6)
    nodes += [
        helper.make_node("Div", ["idx", "two"], ["q"], name="halve"),
        helper.make_node("Cast", ["q"], ["y"], to=FLOAT),
    ]
    path = _save(tmp_path, nodes, consts, [1, 6], [1, 6])
    with pytest.raises(UnsupportedModelError, match="integer division") as caught:
        import_onnx(path)
    assert [node.name for node in caught.value.nodes] == ["halve"]


def test_a_cast_that_would_wrap_is_refused(tmp_path: Path) -> None:
    """An index of −1..2 cast to UINT8 (ONNX wraps −1 to 255) is refused, naming the range;
    cast to INT8 it fits and proves exactly."""
    for to, refused in ((TensorProto.UINT8, True), (TensorProto.INT8, False)):
        nodes, consts = _index_nodes(EYE6, FLIP6, offset=1)  # −1..2
        nodes += [
            helper.make_node("Cast", ["idx"], ["u"], to=to, name="narrow"),
            helper.make_node("Cast", ["u"], ["y"], to=FLOAT),
        ]
        path = _save(tmp_path, nodes, consts, [1, 6], [1, 6])
        if refused:
            with pytest.raises(UnsupportedModelError, match=r"beyond UINT8's \[0, 255\]") as e:
                import_onnx(path)
            assert [node.name for node in e.value.nodes] == ["narrow"]
        else:
            _prove_exactly(path, _grid(8, 6))


# 11. Which activations are integers and which 0/1, from the ops alone.


def _compare(x: str, out: str) -> Unary:
    return Unary(out, x, out, "compare", (0.5, 0.0, 0.0, 1.0), (1, 4))


def _dense(x: str, out: str, weight: np.ndarray, bias: np.ndarray | None) -> Dense:
    return Dense(out, x, out, weight, bias, (1, 4))


def test_integral_tensors_from_the_ops() -> None:
    whole = np.array([[2.0, 1, 0, 0], [0, -3, 1, 0], [1, 1, 1, 1], [0, 0, 0, 4]])
    ops = [
        _compare("x", "b"),
        _dense("b", "count", whole, np.array([1.0, 0, -2, 0])),
        _dense("b", "half", whole * 0.5, None),
        _dense("b", "shifted", whole, np.array([0.5, 0, 0, 0])),
        _dense("x", "of_input", whole, None),
        Mul("both", "count", "b", "both", (1, 4)),
        Mul("mixed", "count", "half", "mixed", (1, 4)),
        Relu("r", "count", "r"),
        Reshape("flat", "r", "flat", (4,)),
        Unary("tab", "count", "tab", "table", (-2.0, 3.0, 1.0, 7.0), (1, 4)),
        Unary("frac", "count", "frac", "table", (-2.0, 0.5, 1.0, 7.0), (1, 4)),
        Unary("floor", "x", "floor", "floor", (), (1, 4)),
    ]
    assert integral_tensors(ops) == {"b", "count", "both", "r", "flat", "tab", "floor"}


def test_boolean_after_reads_not_and_copies() -> None:
    known = {"b", "c"}.__contains__
    eye = np.eye(4)
    assert boolean_after(_dense("b", "not", -eye, np.ones(4)), known)  # Not
    assert boolean_after(_dense("b", "copy", eye[::-1], None), known)  # a permutation
    assert boolean_after(_dense("b", "const", np.zeros((4, 4)), np.array([0.0, 1, 1, 0])), known)
    assert not boolean_after(_dense("b", "twice", 2 * eye, None), known)
    assert not boolean_after(_dense("b", "sum", np.ones((4, 4)), None), known)
    assert not boolean_after(_dense("b", "half_not", -eye, np.full(4, 0.5)), known)
    assert not boolean_after(_dense("x", "not_x", -eye, np.ones(4)), known)  # x is not 0/1
    assert boolean_after(Mul("and", "b", "c", "and", (1, 4)), known)
    assert not boolean_after(Mul("and_x", "b", "x", "and_x", (1, 4)), known)
    assert boolean_after(_compare("x", "cmp"), known)
    assert not boolean_after(Unary("eq", "x", "eq", "compare", (0.0, 2.0, 0.0, 1.0), (1, 4)), known)

"""Data movement and reductions linear in one activation (Slice, Transpose, Concat, Pad,
ReduceMean, Gather with constant indices, Resize, ConvTranspose with a constant kernel) import
as constant dense layers and prove."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

import int_reference
import zkgrad
from zkgrad import UnsupportedModelError
from zkgrad.compiler import build
from zkgrad.onnx import import_onnx

RNG = np.random.default_rng(16)


def _model(
    tmp_path: Path,
    node: onnx.NodeProto,
    consts: dict[str, np.ndarray],
    shape: list[int],
    out: list[int],
    opset: int = 13,
) -> Path:
    graph = helper.make_graph(
        [node],
        "linear_map",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out)],
        [numpy_helper.from_array(v, k) for k, v in consts.items()],
    )
    path = tmp_path / "map.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), path)
    return path


def i64(*v: int) -> np.ndarray:
    return np.array(v, dtype=np.int64)


CASES = {
    "slice": (
        helper.make_node("Slice", ["x", "s", "e", "a"], ["y"]),
        {"s": i64(1), "e": i64(3), "a": i64(1)},
        [1, 4, 3],
        [1, 2, 3],
    ),
    "transpose": (
        helper.make_node("Transpose", ["x"], ["y"], perm=[0, 2, 1]),
        {},
        [1, 2, 3],
        [1, 3, 2],
    ),
    "concat_self": (helper.make_node("Concat", ["x", "x"], ["y"], axis=1), {}, [1, 3], [1, 6]),
    "pad": (
        helper.make_node("Pad", ["x", "p"], ["y"]),
        {"p": i64(0, 1, 0, 1)},
        [1, 3],
        [1, 5],
    ),
    "mean": (helper.make_node("ReduceMean", ["x"], ["y"], axes=[1], keepdims=0), {}, [1, 8], [1]),
    "gather": (
        helper.make_node("Gather", ["x", "i"], ["y"], axis=1),
        {"i": i64(2, 0, 2)},
        [1, 4],
        [1, 3],
    ),
    "resize_nearest": (
        helper.make_node("Resize", ["x", "", "s"], ["y"], mode="nearest"),
        {"s": np.array([1, 1, 2, 2], dtype=np.float32)},
        [1, 2, 3, 3],
        [1, 2, 6, 6],
    ),
    "resize_linear": (
        helper.make_node("Resize", ["x", "", "s"], ["y"], mode="linear"),
        {"s": np.array([1, 1, 2, 2], dtype=np.float32)},
        [1, 1, 3, 3],
        [1, 1, 6, 6],
    ),
    "conv_transpose": (
        helper.make_node(
            "ConvTranspose", ["x", "w", "b"], ["y"], strides=[2, 2], pads=[1, 1, 1, 1]
        ),
        {
            "w": RNG.normal(0, 0.5, (2, 2, 3, 3)).astype(np.float32),
            "b": np.array([0.1, -0.2], dtype=np.float32),
        },
        [1, 2, 3, 3],
        [1, 2, 5, 5],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_linear_map_proves_and_matches_onnx(tmp_path: Path, case: str) -> None:
    node, consts, shape, out = CASES[case]
    path = _model(tmp_path, node, consts, shape, out)
    samples = RNG.normal(0, 1, (6, *shape[1:]))
    model = zkgrad.compile(path, calibration=samples)
    quantized = build(path, samples)
    reference = ReferenceEvaluator(onnx.load(path))
    for x in samples[:2]:
        proof = model.prove(x)
        verified = zkgrad.verify(model, proof)
        ref = int_reference.run_output(quantized.ir, quantized.tensors, model.quantize(x))
        np.testing.assert_array_equal(proof.output_q.reshape(-1), ref)
        (want,) = reference.run(None, {"x": x[None].astype(np.float32)})
        np.testing.assert_allclose(verified.reshape(-1), want.reshape(-1), atol=0.01)


def test_an_old_opset_node_runs_under_its_own_opset(tmp_path: Path) -> None:
    # Opset 10's Pad takes its pads as an attribute (Pad-18 as an input): the node is evaluated
    # under the model's opset, as in EZKL's 1l_average example.
    node = helper.make_node("Pad", ["x"], ["y"], mode="constant", pads=[0, 1, 0, 2], value=0.0)
    path = _model(tmp_path, node, {}, [1, 3], [1, 6], opset=10)
    samples = RNG.normal(0, 1, (6, 3))
    model = zkgrad.compile(path, calibration=samples)
    verified = zkgrad.verify(model, model.prove(samples[0]))
    want = np.concatenate([[0.0], samples[0], [0.0, 0.0]])
    np.testing.assert_allclose(verified.reshape(-1), want, atol=0.01)


def test_a_concat_of_two_activations_imports_and_a_large_map_is_refused(tmp_path: Path) -> None:
    node = helper.make_node("Concat", ["x", "y0"], ["y"], axis=1, name="join")
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y0"]), node],
        "two",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6])],
    )
    path = tmp_path / "two.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    graph, _ = zkgrad.onnx.import_onnx(path)  # placed by 0/1 layers, joined by an Add
    assert any(op.name == "join:join_1" for op in graph.ops)
    big = helper.make_node("Transpose", ["x"], ["y"], perm=[0, 2, 1], name="big")
    path = _model(tmp_path, big, {}, [1, 300, 300], [1, 300, 300])
    with pytest.raises(UnsupportedModelError, match=r"(?s)big.*more than 65536"):
        zkgrad.onnx.import_onnx(path)


def test_every_linear_map_op_has_the_handler() -> None:
    from zkgrad.onnx import _LINEAR_MAP_OPS, _Importer

    for op in _LINEAR_MAP_OPS:
        assert getattr(_Importer, f"_op_{op.lower()}") is _Importer._linear_map, op


def _generator(tmp_path: Path, read_twice: bool = False) -> Path:
    """Gemm → Elu → Reshape to NHWC → Transpose to NCHW (a Keras generator's first layers), on
    300 values: as a wiring layer the Transpose would have 300² weights."""
    nodes = [
        helper.make_node("Gemm", ["x", "w", "b"], ["h"]),
        helper.make_node("Elu", ["h"], ["e"]),
        helper.make_node("Reshape", ["e", "nhwc"], ["r"]),
        helper.make_node("Transpose", ["r"], ["t"], perm=[0, 3, 1, 2], name="to_nchw"),
    ]
    if read_twice:  # the Elu's output also read by the end: the rows cannot be permuted
        nodes += [
            helper.make_node("Reshape", ["e", "nchw"], ["s"]),
            helper.make_node("Add", ["t", "s"], ["y"]),
        ]
    else:
        nodes += [helper.make_node("Identity", ["t"], ["y"])]
    consts = {
        "w": RNG.normal(0, 0.5, (4, 300)).astype(np.float32),
        "b": RNG.normal(0, 0.5, 300).astype(np.float32),
        "nhwc": np.array([1, 5, 6, 10], np.int64),
        "nchw": np.array([1, 10, 5, 6], np.int64),
    }
    graph = helper.make_graph(
        nodes,
        "generator",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10, 5, 6])],
        [numpy_helper.from_array(v, k) for k, v in consts.items()],
    )
    path = tmp_path / "generator.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


def test_a_large_transpose_permutes_the_dense_rows_before_it(tmp_path: Path) -> None:
    import onnxruntime as ort

    path = _generator(tmp_path)
    graph, _ = zkgrad.onnx.import_onnx(path)
    assert [type(op).__name__ for op in graph.ops] == ["Dense", "Unary", "Reshape", "Reshape"]
    samples = RNG.normal(0, 1, (8, 4)).astype(np.float32)
    model = zkgrad.compile(path, calibration=samples)
    session = ort.InferenceSession(str(path))
    for x in samples[:2]:
        verified = np.asarray(zkgrad.verify(model, model.prove(x))).reshape(-1)
        expected = session.run(None, {"x": x[None]})[0].reshape(-1)
        assert np.max(np.abs(verified - expected)) < 0.01 * np.abs(expected).max()


def test_a_large_transpose_of_a_tensor_read_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedModelError, match=r"(?s)to_nchw.*more than 65536"):
        zkgrad.onnx.import_onnx(_generator(tmp_path, read_twice=True))


def test_a_slice_with_an_empty_output_names_the_node(tmp_path: Path) -> None:
    # ONNX's test_slice_start_out_of_bounds: a start past the end selects nothing; calibration
    # once failed with a numpy "zero-size array" error.
    node = helper.make_node("Slice", ["x", "s", "e", "a"], ["y"], name="nothing")
    path = _model(tmp_path, node, {"s": i64(9), "e": i64(12), "a": i64(1)}, [1, 4, 3], [1, 0, 3])
    with pytest.raises(zkgrad.UnsupportedModelError, match=r"(?s)nothing.*is empty") as info:
        import_onnx(path)
    assert [n.name for n in info.value.nodes] == ["nothing"]

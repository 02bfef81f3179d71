"""ONNX import: supported graphs become the right float graph; everything else is a clear error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import models
from zkgrad import ModelError, UnsupportedModelError
from zkgrad.graph import Dense, FloatGraph, Relu, Reshape
from zkgrad.onnx import import_onnx
from zkgrad.reference import run_float


def float_forward(graph: FloatGraph, x: np.ndarray) -> np.ndarray:
    """The imported graph's float semantics in numpy (an independent check of the import)."""
    value = np.asarray(x, dtype=np.float64).reshape(-1)
    for op in graph.ops:
        if isinstance(op, Dense):
            value = op.weight @ value + (0.0 if op.bias is None else op.bias)
        elif isinstance(op, Relu):
            value = np.maximum(value, 0.0)
    return value.reshape(graph.output_shape)


@pytest.mark.parametrize("name", sorted(models.BUILDERS))
def test_import_matches_onnxruntime(name: str, onnx_path: Callable[[str], Path]) -> None:
    graph, model = import_onnx(onnx_path(name))
    samples = models.sample_inputs(graph.input_shape, 4)
    reference = run_float(model, samples, [graph.onnx_output])[graph.onnx_output]
    for sample, expected in zip(samples, reference, strict=True):
        np.testing.assert_allclose(float_forward(graph, sample), expected, rtol=1e-4, atol=1e-5)


def test_mlp_784_128_10_layout(onnx_path: Callable[[str], Path]) -> None:
    graph, _ = import_onnx(onnx_path("mlp_784_128_10"))
    assert graph.input_shape == (1, 784)  # dynamic batch fixed to 1
    assert graph.output_shape == (1, 10)
    assert [type(op).__name__ for op in graph.ops] == ["Dense", "Relu", "Dense"]
    first = graph.ops[0]
    assert isinstance(first, Dense) and first.weight.shape == (128, 784)
    assert graph.num_params() == 784 * 128 + 128 + 128 * 10 + 10


def test_matmul_add_fuses_bias_and_drops_identity(onnx_path: Callable[[str], Path]) -> None:
    graph, _ = import_onnx(onnx_path("matmul_add"))
    kinds = [type(op).__name__ for op in graph.ops]
    assert kinds == ["Dense", "Relu", "Dense"]
    dense = graph.ops[0]
    assert isinstance(dense, Dense)
    assert dense.input == "input" and dense.output == "fc1" and dense.bias is not None
    assert graph.output == "logits"


def test_flatten_reshape_shapes(onnx_path: Callable[[str], Path]) -> None:
    graph, _ = import_onnx(onnx_path("flatten_reshape"))
    reshapes = [op for op in graph.ops if isinstance(op, Reshape)]
    assert [op.shape for op in reshapes] == [(1, 144), (1, 3, 4)]
    assert graph.output_shape == (1, 3, 4)


def test_dynamic_reshape_is_folded_and_relu_moves_before_reshape(
    onnx_path: Callable[[str], Path],
) -> None:
    graph, _ = import_onnx(onnx_path("dynamic_reshape"))
    kinds = [type(op).__name__ for op in graph.ops]
    assert kinds == ["Reshape", "Dense", "Relu", "Reshape", "Reshape", "Dense"]
    assert graph.input_shape == (1, 2, 25)


def test_unsupported_ops_are_all_listed(onnx_path: Callable[[str], Path]) -> None:
    with pytest.raises(UnsupportedModelError) as info:
        import_onnx(onnx_path("unsupported"))
    found = {(node.name, node.op_type) for node in info.value.nodes}
    assert found == {
        ("/conv/Conv", "Conv"),
        ("/act/Hardmax", "Hardmax"),
        ("/norm/LpNormalization", "LpNormalization"),
    }
    message = str(info.value)
    for name in ("/conv/Conv", "/act/Hardmax", "/norm/LpNormalization"):
        assert name in message
    assert isinstance(info.value, ModelError)


#: What :func:`models.many_unsupported` must be refused for: (name, op type, reason fragment).
MANY_UNSUPPORTED = [
    ("/act1/Hardmax", "Hardmax", ""),
    ("/conv2/Conv", "Conv", "dilated convolution (dilations=[2, 2]) is not supported"),
    ("/asinh/Asinh", "Asinh", ""),
    (
        "/pool/MaxPool",
        "MaxPool",
        "padding (pads=[2, 2, 2, 2]) as wide as the kernel [2, 2]",
    ),
    ("/act2/Hardmax", "Hardmax", ""),
    ("/fc/Gemm", "Gemm", "transA=1 is not supported"),
    ("/out/Atanh", "Atanh", ""),
]


def test_nodes_behind_an_unsupported_node_are_listed_with_their_own_reason(
    tmp_path: Path,
) -> None:
    with pytest.raises(UnsupportedModelError) as info:
        import_onnx(models.many_unsupported(tmp_path / "many.onnx"))
    nodes = info.value.nodes
    assert [(node.name, node.op_type) for node in nodes] == [
        (name, op) for name, op, _ in MANY_UNSUPPORTED
    ]
    for node, (_, _, reason) in zip(nodes, MANY_UNSUPPORTED, strict=True):
        assert reason in node.reason


def test_unsupported_message_is_grouped_by_op_type_and_wrapped(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedModelError) as info:
        import_onnx(models.many_unsupported(tmp_path / "many.onnx"))
    lines = str(info.value).splitlines()
    assert lines[0] == (
        "model is not supported: 7 unsupported nodes "
        "(Hardmax ×2, Conv, Asinh, MaxPool, Gemm, Atanh)"
    )
    assert lines[1:] == [
        "  Hardmax ×2: '/act1/Hardmax', '/act2/Hardmax'",
        "  Conv ×1: '/conv2/Conv': dilated convolution (dilations=[2, 2]) is not supported",
        "  Asinh ×1: '/asinh/Asinh'",
        "  MaxPool ×1: '/pool/MaxPool': padding (pads=[2, 2, 2, 2]) as wide as the kernel [2, 2]",
        "  Gemm ×1: '/fc/Gemm': transA=1 is not supported",
        "  Atanh ×1: '/out/Atanh'",
    ]


def test_long_unsupported_message_wraps_between_names_and_keeps_reasons_whole() -> None:
    from zkgrad.errors import MESSAGE_WIDTH, UnsupportedNode

    sigmoids = [UnsupportedNode(f"/block{i}/mlp/Sigmoid", "Sigmoid") for i in range(60)]
    reasons = ["grouped convolution (group=4) is not supported", "weight of rank 3; only 2-D"]
    convs = [UnsupportedNode(f"/conv{i}", "Conv", reasons[i % 2]) for i in range(5)]
    problem = "the model has 2 inputs ('x', 'y'); zkgrad supports one"
    error = UnsupportedModelError([*convs, *sigmoids], [problem])
    message = str(error)
    lines = message.splitlines()
    assert lines[0] == (
        "model is not supported: 65 unsupported nodes (Sigmoid ×60, Conv ×5), 1 graph-level problem"
    )
    assert lines[1] == f"  {problem}"
    assert error.summary == lines[0]
    assert all(len(line) <= MESSAGE_WIDTH for line in lines)
    for node in sigmoids:
        assert message.count(f"'{node.name}'") == 1
    assert "  Conv ×5:" in lines
    assert f"    '/conv0', '/conv2', '/conv4': {reasons[0]}" in lines
    assert f"    '/conv1', '/conv3': {reasons[1]}" in lines
    # the Sigmoid group comes first (more nodes) and its continuation lines are indented
    sigmoid_lines = lines[2 : lines.index("  Conv ×5:")]
    assert sigmoid_lines[0].startswith("  Sigmoid ×60: '/block0/mlp/Sigmoid',")
    assert all(line.startswith("      '/block") for line in sigmoid_lines[1:])


def test_unnamed_node_is_reported_and_a_residual_add_imports(tmp_path: Path) -> None:
    path = models.residual_add(tmp_path / "residual.onnx")
    with pytest.raises(UnsupportedModelError) as info:
        import_onnx(path)
    names = [(node.name, node.op_type) for node in info.value.nodes]
    # h + h is a skip connection (tests/test_residual.py); only the Atanh is unsupported.
    assert names == [("Atanh_3", "Atanh")]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        import_onnx(tmp_path / "nope.onnx")


def test_not_onnx(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_text("this is not a protobuf\n")
    with pytest.raises(ModelError, match="not an ONNX model"):
        import_onnx(path)


def _two_input_model(path: Path) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((4, 3), dtype=np.float32), "w")
    nodes = [
        helper.make_node("Cast", ["x"], ["xf"], name="/cast", to=TensorProto.FLOAT),
        helper.make_node("MatMul", ["xf", "w"], ["h"], name="/mm"),
        helper.make_node("Mul", ["h", "y"], ["out"], name="/mul"),
        helper.make_node("Cast", ["h"], ["hi"], name="/to_int", to=TensorProto.INT64),
    ]
    graph = helper.make_graph(
        nodes,
        "two_inputs",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4]),
            # Not static: the inputs are not merged into one, so /mul reads a second input.
            helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "k"]),
        ],
        [
            helper.make_tensor_value_info("out", TensorProto.FLOAT, ["batch", 3]),
            helper.make_tensor_value_info("hi", TensorProto.INT64, ["batch", 3]),
        ],
        [w],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, str(path))
    return path


def test_graph_level_problems_and_nodes_are_reported_together(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedModelError) as info:
        import_onnx(_two_input_model(tmp_path / "two.onnx"))
    error = info.value
    assert "input 'y' dimension 1 is not static" in error.problems
    named = {(node.name, node.op_type) for node in error.nodes}
    assert named == {("/mul", "Mul"), ("/to_int", "Cast")}
    assert "would truncate them" in str(error)
    assert str(error).startswith("model is not supported: ")


def test_a_model_of_pure_wiring_imports_with_a_copy_block(onnx_path: Callable[[str], Path]) -> None:
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Flatten", ["x"], ["y"], name="/flatten")],
        "flat",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6])],
    )
    path = onnx_path("mlp_784_128_10").parent / "flatten_only.onnx"
    onnx.save(helper.make_model(graph), str(path))
    # Nothing computes: a copy block (y = x, tests/test_residual.py) gives the proof a relation.
    imported, _ = import_onnx(path)
    assert [type(op).__name__ for op in imported.ops] == ["Reshape", "Copy"]
    assert imported.output == "y"


def test_summary_of_many_op_types_wraps_in_the_message_but_not_in_summary() -> None:
    from zkgrad.errors import MESSAGE_WIDTH, UnsupportedNode

    kinds = [f"CustomOperation{i}" for i in range(12)]
    error = UnsupportedModelError([UnsupportedNode(f"/n{i}", op) for i, op in enumerate(kinds)])
    expected = f"model is not supported: 12 unsupported nodes ({', '.join(kinds)})"
    assert error.summary == expected
    lines = str(error).splitlines()
    assert all(len(line) <= MESSAGE_WIDTH for line in lines)
    assert len(lines) > 12 + 1  # the first sentence took more than one line
    assert str(error).replace("\n    ", " ").startswith(expected)


def test_a_sequence_input_is_named_as_such(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("SequenceAt", ["x", "i"], ["y"], name="/at")],
        "seq",
        [helper.make_tensor_sequence_value_info("x", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])],
        [helper.make_tensor("i", TensorProto.INT64, [], [0])],
    )
    path = tmp_path / "seq.onnx"
    onnx.save(helper.make_model(graph), str(path))
    with pytest.raises(UnsupportedModelError, match="input 'x' is a sequence, not a tensor"):
        import_onnx(path)

"""CNNs: import (Conv, pooling, BatchNorm folding), quantisation, accuracy, and the proof."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper

import cnn_models
import int_reference
import zkgrad
from zkgrad import _native
from zkgrad.compiler import build
from zkgrad.graph import AvgPool, Conv
from zkgrad.inputs import quantize_input
from zkgrad.onnx import import_onnx
from zkgrad.quantize import Quantized, calibrated_max, quantize
from zkgrad.reference import run_float
from zkgrad.report import compared_tensors

CALIBRATION = 32
TRIALS = 1000
MIN_AGREEMENT = 0.99
MODELS = ("lenet", "gap_cnn")


@pytest.fixture(scope="module")
def cnn_path(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    folder = tmp_path_factory.mktemp("cnn")

    def build(name: str) -> Path:
        path = folder / f"{name}.onnx"
        if not path.exists():
            getattr(cnn_models, name)(path)
        return path

    return build


def _inputs(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((count, 1, 1, 12, 12))


def _build(path: Path) -> Quantized:
    """Import and quantise with calibration (and measure the report, natively)."""
    return build(path, calibration=_inputs(CALIBRATION, 1))


def _compile(path: Path) -> zkgrad.Model:
    quantized = _build(path)
    return zkgrad.Model(_native.NativeModel.from_ir(quantized.ir_json(), quantized.tensors))


def test_lenet_imports_with_batchnorm_folded(cnn_path: Callable[[str], Path]) -> None:
    graph, onnx_model = import_onnx(cnn_path("lenet"))
    kinds = [type(op).__name__ for op in graph.ops]
    assert kinds == ["Conv", "Relu", "MaxPool", "Conv", "Relu", "AvgPool", "Reshape", "Dense"]
    conv = graph.ops[0]
    assert isinstance(conv, Conv) and conv.output == "n1" and conv.pads == (1, 1, 1, 1)
    assert graph.ops[2].out_shape == (1, 4, 6, 6)
    assert graph.ops[-2].shape == (1, 32)
    # The folded conv computes what onnxruntime's conv + batch norm does.
    x = _inputs(1, 3)
    expected = run_float(onnx_model, x, ["n1"])["n1"][0, 0]
    image = np.pad(x[0, 0, 0], 1)
    windows = np.lib.stride_tricks.sliding_window_view(image, (3, 3))
    got = np.einsum("ijkl,okl->oij", windows, conv.weight[:, 0])
    assert conv.bias is not None
    np.testing.assert_allclose(got + conv.bias[:, None, None], expected, atol=1e-5)


def test_relu_moves_before_max_pool_and_global_pool_is_a_window(
    cnn_path: Callable[[str], Path],
) -> None:
    graph, _ = import_onnx(cnn_path("gap_cnn"))
    kinds = [type(op).__name__ for op in graph.ops]
    assert kinds == ["Conv", "Relu", "MaxPool", "Conv", "Relu", "AvgPool", "Reshape", "Dense"]
    pool = graph.ops[2]
    assert pool.input.endswith(":pre_maxpool") and pool.output == "r1"
    gap = graph.ops[5]
    assert isinstance(gap, AvgPool) and gap.kernel == (5, 5) and gap.out_shape == (1, 6, 1, 1)
    assert graph.ops[0].bias is not None  # the Add after the conv became its bias


@pytest.mark.parametrize("name", MODELS)
def test_avgpool_requant_approximates_the_mean(name: str, cnn_path: Callable[[str], Path]) -> None:
    graph, _ = import_onnx(cnn_path(name))
    q = quantize(graph)
    pool = next(op for op in graph.ops if isinstance(op, AvgPool))
    node = next(n for n in q.ir["nodes"] if n["name"] == pool.name)
    requant = next(n for n in q.ir["nodes"] if n["name"] == f"{pool.name}:requant")
    assert node["op"] == "conv" and node["bias"] is None
    weight = q.tensors[node["weight"]]
    channels = pool.in_shape[1]
    assert weight.shape == (channels, channels, *pool.kernel)
    assert np.array_equal(weight[:, :, 0, 0], np.eye(channels, dtype=np.int64))
    scale = 2.0 ** (q.scales[pool.output] - q.scales[pool.input]) / pool.divisor
    assert requant["mult"] / 2.0 ** requant["shift"] == pytest.approx(scale, rel=1e-3)


def _agreement(path: Path, run: Callable[[np.ndarray], np.ndarray]) -> float:
    graph, onnx_model = import_onnx(path)
    xs = _inputs(TRIALS, 2)
    floats = run_float(onnx_model, xs, [graph.onnx_output])[graph.onnx_output]
    got = run(xs)
    return float(np.mean(floats.reshape(TRIALS, -1).argmax(1) == got.reshape(TRIALS, -1).argmax(1)))


@pytest.mark.parametrize("name", MODELS)
def test_quantised_argmax_agrees_with_onnxruntime(
    name: str, cnn_path: Callable[[str], Path]
) -> None:
    model = _compile(cnn_path(name))
    agreement = _agreement(cnn_path(name), model.run)
    assert agreement >= MIN_AGREEMENT, agreement
    assert model.report["argmax_agreement"] >= MIN_AGREEMENT


@pytest.mark.parametrize("name", MODELS)
def test_integer_reference_argmax_agrees_with_onnxruntime(
    name: str, cnn_path: Callable[[str], Path]
) -> None:
    """The same bound on the independent numpy integer semantics (no native module)."""
    graph, onnx_model = import_onnx(cnn_path(name))
    names = compared_tensors(graph)
    floats = run_float(onnx_model, _inputs(CALIBRATION, 1), names)
    q = quantize(graph, calibrated_max(floats))
    s_in, s_out = q.scales[graph.input], q.scales[graph.output]

    def run(xs: np.ndarray) -> np.ndarray:
        outs = [
            int_reference.run_output(q.ir, q.tensors, quantize_input(x, s_in, graph.input))
            for x in xs
        ]
        return np.stack(outs) / 2.0**s_out

    assert _agreement(cnn_path(name), run) >= MIN_AGREEMENT


@pytest.mark.parametrize("name", MODELS)
def test_native_run_matches_integer_reference(name: str, cnn_path: Callable[[str], Path]) -> None:
    quantized = _build(cnn_path(name))
    native = _native.NativeModel.from_ir(quantized.ir_json(), quantized.tensors)
    model = zkgrad.Model(native)
    for x in _inputs(4, 5):
        x_q = model.quantize(x)
        expected = int_reference.run_ir(quantized.ir, quantized.tensors, x_q)
        np.testing.assert_array_equal(np.asarray(native.run(x_q)), expected[model.output_name])
        trace = native.run_trace(x_q)
        for tensor, values in expected.items():
            np.testing.assert_array_equal(np.asarray(trace[tensor]), values, err_msg=tensor)


def test_lenet_proves_and_verifies(cnn_path: Callable[[str], Path]) -> None:
    model = _compile(cnn_path("lenet"))
    x = _inputs(1, 7)[0]
    proof = model.prove(x)
    np.testing.assert_array_equal(zkgrad.verify(model, proof), proof.output)
    np.testing.assert_allclose(proof.output.reshape(-1), model.run(x).reshape(-1))


def test_cnn_compiles_with_zero_knowledge_by_default_and_tampering_is_rejected(
    cnn_path: Callable[[str], Path],
) -> None:
    """Zero knowledge (always on) proves CNNs; a changed proof, or one of another model, does not
    verify."""
    model = zkgrad.compile(cnn_path("gap_cnn"), _inputs(CALIBRATION, 1))
    assert model.zk is True
    x = _inputs(1, 8)[0]
    proof = model.prove(x)
    np.testing.assert_array_equal(zkgrad.verify(model, proof), model.run(x))
    data = proof.data
    for position in (len(data) // 3, len(data) // 2, len(data) - 1):
        flipped = bytearray(data)
        flipped[position] ^= 0x01
        with pytest.raises(zkgrad.InvalidProof):
            zkgrad.verify(model, bytes(flipped))
    with pytest.raises(zkgrad.InvalidProof):
        zkgrad.verify(_compile(cnn_path("lenet")), proof)


def test_conv_with_one_output_channel_proves(tmp_path: Path) -> None:
    """A convolution to one output channel is proved as the kernel twice and a dense layer that
    keeps the first channel (tests/test_single_channel_conv.py); inspect calls it supported."""
    path = cnn_models.one_channel_conv(tmp_path / "one.onnx")
    samples = np.random.default_rng(3).random((4, 1, 2, 6, 6))
    model = zkgrad.compile(path, samples)
    proof = model.prove(samples[0])
    np.testing.assert_array_equal(zkgrad.verify(model, proof), proof.output)
    np.testing.assert_array_equal(proof.output, model.run(samples[0]))
    assert zkgrad.inspect(path).supported


def _single_node_model(
    path: Path, node: onnx.NodeProto, in_shape: list[int], inits: dict[str, np.ndarray]
) -> Path:
    """input -> node -> Flatten -> Gemm: one node under test before a supported tail."""
    tail_in = int(np.prod(_out_shape(node, in_shape, inits)))
    weights = {**inits, "fc.w": np.full((tail_in, 2), 0.1, dtype=np.float32)}
    nodes = [
        node,
        helper.make_node("Flatten", [node.output[0]], ["flat"], name="/flatten"),
        helper.make_node("MatMul", ["flat", "fc.w"], ["logits"], name="/fc/MatMul"),
    ]
    return cnn_models.save(path, nodes, weights, in_shape, [1, 2])


def _out_shape(
    node: onnx.NodeProto, in_shape: list[int], inits: dict[str, np.ndarray]
) -> tuple[int, ...]:
    from onnx.reference import ReferenceEvaluator

    feeds = {"input": np.zeros(in_shape, dtype=np.float32), **inits}
    return ReferenceEvaluator(node).run(None, feeds)[0].shape  # type: ignore[no-any-return]


KERNEL = np.full((2, 2, 3, 3), 0.1, dtype=np.float32)
UNSUPPORTED = {
    "dilated_conv": (
        helper.make_node("Conv", ["input", "k"], ["y"], name="/dilated/Conv", dilations=[2, 2]),
        {"k": KERNEL},
        "dilated convolution",
    ),
    "grouped_conv": (
        helper.make_node("Conv", ["input", "k"], ["y"], name="/grouped/Conv", group=2),
        {"k": KERNEL[:, :1]},
        "grouped convolution",
    ),
    "same_conv": (
        helper.make_node("Conv", ["input", "k"], ["y"], name="/same/Conv", auto_pad="SAME_UPPER"),
        {"k": KERNEL},
        "auto_pad=SAME_UPPER",
    ),
    # Padding as wide as the kernel (windows of padding only): tests/test_onnx_import.py.
    "ceil_maxpool": (
        helper.make_node(
            "MaxPool",
            ["input"],
            ["y"],
            name="/ceil/MaxPool",
            kernel_shape=[2, 2],
            strides=[2, 2],
            ceil_mode=1,
        ),
        {},
        "ceil_mode=1",
    ),
    "avgpool_excluding_pads": (
        helper.make_node(
            "AveragePool",
            ["input"],
            ["y"],
            name="/excl/AveragePool",
            kernel_shape=[3, 3],
            pads=[1] * 4,
        ),
        {},
        "count_include_pad=0",
    ),
    # A BatchNormalization on the input is supported now: a per-channel 1×1 convolution
    # (tests/test_constant_ops.py).
}


@pytest.mark.parametrize("case", sorted(UNSUPPORTED))
def test_unsupported_variant_names_the_node(case: str, tmp_path: Path) -> None:
    node, inits, reason = UNSUPPORTED[case]
    path = _single_node_model(tmp_path / f"{case}.onnx", node, [1, 2, 7, 7], inits)
    with pytest.raises(zkgrad.UnsupportedModelError) as info:
        import_onnx(path)
    [entry] = info.value.nodes
    assert entry.name == node.name and entry.op_type == node.op_type
    assert reason in entry.reason
    assert node.name in str(info.value)


def test_padded_average_pool_counting_the_padding_matches_onnxruntime(tmp_path: Path) -> None:
    node = helper.make_node(
        "AveragePool",
        ["input"],
        ["y"],
        name="/pool/AveragePool",
        kernel_shape=[3, 3],
        strides=[2, 2],
        pads=[1, 1, 1, 1],
        count_include_pad=1,
    )
    path = _single_node_model(tmp_path / "avg.onnx", node, [1, 2, 7, 7], {})
    graph, onnx_model = import_onnx(path)
    q = quantize(graph, {"input": 1.0, "y": 1.0})
    xs = np.random.default_rng(4).random((8, 1, 2, 7, 7))
    expected = run_float(onnx_model, xs, ["y"])["y"]
    for x, want in zip(xs, expected, strict=True):
        x_q = quantize_input(x, q.scales["input"], "input")
        got = int_reference.run_ir(q.ir, q.tensors, x_q)["y"] / 2.0 ** q.scales["y"]
        np.testing.assert_allclose(got, want.reshape(-1), atol=2.0 ** -(q.scales["y"] - 1))


def test_padded_max_pool_matches_onnxruntime_and_proves(tmp_path: Path) -> None:
    """Padding narrower than the kernel is ONNX's −∞ padding: the importer replicates the edge
    (a constant dense layer), which leaves every window's maximum unchanged; negative inputs
    show the difference from zero padding."""
    node = helper.make_node(
        "MaxPool", ["input"], ["y"], name="/pool/MaxPool", kernel_shape=[3, 3], pads=[1] * 4
    )
    path = _single_node_model(tmp_path / "padmax.onnx", node, [1, 2, 6, 6], {})
    graph, onnx_model = import_onnx(path)
    xs = np.random.default_rng(5).random((8, 1, 2, 6, 6)) - 1.0  # all negative
    model = zkgrad.compile(path, xs)
    expected = run_float(onnx_model, xs, [graph.onnx_output])[graph.onnx_output]
    proof = model.prove(xs[0])
    verified = zkgrad.verify(model, proof)
    np.testing.assert_allclose(verified.reshape(-1), expected[0].reshape(-1), atol=0.02)
    # Two channels of 7×7 after padding: not a power-of-two size, refused by name.
    odd = helper.make_node(
        "MaxPool", ["input"], ["y"], name="/odd/MaxPool", kernel_shape=[2, 2], pads=[1, 1, 0, 0]
    )
    with pytest.raises(zkgrad.UnsupportedModelError, match="power-of-two padded size") as info:
        import_onnx(_single_node_model(tmp_path / "odd.onnx", odd, [1, 2, 6, 6], {}))
    assert [n.name for n in info.value.nodes] == ["/odd/MaxPool"]


POOLS = {
    "max": helper.make_node(
        "MaxPool", ["input"], ["y"], name="/pool/MaxPool", kernel_shape=[2, 2], strides=[2, 2]
    ),
    "average": helper.make_node(
        "AveragePool", ["input"], ["y"], name="/pool/AveragePool", kernel_shape=[2, 2]
    ),
}


@pytest.mark.parametrize("kind", sorted(POOLS))
def test_pooling_proves(kind: str, tmp_path: Path) -> None:
    """An average pool is imported as a convolution (two channels: zero knowledge proves it)."""
    node = POOLS[kind]
    path = _single_node_model(tmp_path / f"{kind}.onnx", node, [1, 2, 6, 6], {})
    samples = np.random.default_rng(3).random((4, 1, 2, 6, 6))
    model = zkgrad.compile(path, samples)
    proof = model.prove(samples[0])
    np.testing.assert_array_equal(zkgrad.verify(model, proof), proof.output)
    np.testing.assert_array_equal(proof.output, model.run(samples[0]))


def test_average_pool_over_one_channel_proves(tmp_path: Path) -> None:
    """A constant convolution of one output channel, proved as two and a layer keeping one."""
    node = POOLS["average"]
    path = _single_node_model(tmp_path / "avg1.onnx", node, [1, 1, 6, 6], {})
    samples = np.random.default_rng(3).random((4, 1, 1, 6, 6))
    model = zkgrad.compile(path, samples)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    want = session.run(None, {session.get_inputs()[0].name: samples[0].astype(np.float32)})[0]
    got = zkgrad.verify(model, model.prove(samples[0]))
    assert np.abs(np.asarray(got).reshape(-1) - want.reshape(-1)).max() < 0.01

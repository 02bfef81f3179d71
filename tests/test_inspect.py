"""``zkgrad inspect``: ops, parameters and shapes of ONNX files; scales, digest, cost of .zkg."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from typer.testing import CliRunner

import cnn_models
import zkgrad
from zkgrad import Model, UnsupportedModelError
from zkgrad.cli import app
from zkgrad.describe import circuit_cost, describe

runner = CliRunner()
Compiled = Callable[[str], tuple[Model, np.ndarray]]


def test_onnx_mlp_is_described(onnx_path: Callable[[str], Path]) -> None:
    info = zkgrad.inspect(onnx_path("mlp_784_128_10"))
    assert info.kind == "onnx" and info.supported
    assert [(row.op_type, row.count, row.status) for row in info.ops] == [
        ("Gemm", 2, "supported"),
        ("Relu", 1, "supported"),
    ]
    assert info.params == 784 * 128 + 128 + 128 * 10 + 10
    assert [(t.name, t.shape, t.dtype) for t in info.inputs] == [("input", ("batch", 784), "float")]
    assert [(t.name, t.shape) for t in info.outputs] == [("logits", ("batch", 10))]


def test_folded_and_removed_nodes_are_labelled(onnx_path: Callable[[str], Path]) -> None:
    rows = {row.op_type: row.status for row in zkgrad.inspect(onnx_path("dynamic_reshape")).ops}
    assert rows["Shape"] == rows["Gather"] == rows["Concat"] == "folded (constant)"
    assert rows["Reshape"] == "supported"
    rows = {row.op_type: row.status for row in zkgrad.inspect(onnx_path("matmul_add")).ops}
    assert rows["Identity"] == rows["Dropout"] == "removed (no-op)"


def test_unsupported_onnx_raises_with_the_description(onnx_path: Callable[[str], Path]) -> None:
    with pytest.raises(UnsupportedModelError) as info:
        zkgrad.inspect(onnx_path("unsupported"))
    description = info.value.description  # type: ignore[attr-defined]
    rows = {row.op_type: row for row in description.ops}
    assert not rows["Conv"].supported and rows["Conv"].status == "unsupported"
    assert rows["Gemm"].status == "after unsupported"
    assert describe(onnx_path("unsupported")).error is not None


def test_compiled_model_shows_scales_digest_soundness_and_cost(
    compiled: Compiled, onnx_path: Callable[[str], Path], tmp_path: Path
) -> None:
    model, samples = compiled("mlp_784_128_10")
    model.save(tmp_path / "m.zkg")
    info = zkgrad.inspect(tmp_path / "m.zkg")
    assert info.kind == "model"
    assert info.digest == model.digest
    assert info.soundness_bits == pytest.approx(model.soundness_bits)
    assert info.params == model.num_params
    assert info.scales == model.ir["meta"]["scales"]
    assert set(info.const_scales) == {
        "/fc1/Gemm.weight",
        "/fc1/Gemm.bias",
        "/fc2/Gemm.weight",
        "/fc2/Gemm.bias",
    }
    assert {(row.op_type, row.count) for row in info.ops} == {
        ("dense", 2),
        ("requant", 2),
        ("relu", 1),
    }
    assert info.inputs[0].shape == (1, 784) and info.inputs[0].scale_bits is not None
    cost = info.cost
    assert cost is not None and cost.blocks == 2
    assert cost.multiply_adds == 784 * 128 + 128 * 10
    # The witness plan's columns (the masks the protocol adds to each table are not counted).
    model = zkgrad.compile(onnx_path("mlp_784_128_10"), samples)
    cost = circuit_cost(model.native)
    # Range checks: the input, then t, q, a and a − q of the ReLU block, then t and q of the
    # last one; looked up through two 8-bit limbs each (they are few next to the 2^16 table).
    checked = 1024 + 4 * 128 + 2 * 16
    # Witness: input 1024 + 3·128 (q, t, relu) + 2·16, two limb columns per range check and one
    # 2^8 multiplicity column = 4832 -> 2^13.
    assert 1024 + 3 * 128 + 2 * 16 + 2 * checked + 2**8 == 4832
    assert cost.witness_elements == 2**13
    # Weights: the 784 inputs as kernel pieces of 512, 256 and 16 slots, ·128 rows, + 128 bias,
    # then 128·16 + 16 = 102544 -> 2^17.
    assert cost.weight_elements == 2**17
    assert cost.lookups == 2 * checked


def test_cost_without_relu_or_bias_has_one_table_and_no_bias_params(tmp_path: Path) -> None:
    weight = np.random.default_rng(3).normal(0.0, 0.5, (3, 5)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["input", "w"], ["logits"], name="/fc/MatMul")],
        "fc",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 5])],
        [numpy_helper.from_array(weight, "w")],
    )
    model_proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model_proto.ir_version = 8
    onnx.save(model_proto, str(tmp_path / "fc.onnx"))
    samples = np.random.default_rng(1).random((8, 1, 3))
    model = zkgrad.compile(tmp_path / "fc.onnx", samples)
    model.save(tmp_path / "fc.zkg")
    model.export_vk(tmp_path / "fc.vk")
    for file in ("fc.zkg", "fc.vk"):
        info = zkgrad.inspect(tmp_path / file)
        assert info.params == 3 * 5  # no bias: the committed zeros are not parameters
        cost = info.cost
        assert cost is not None and cost.table_bits == 16
        # Witness: input 8 (every activation column has at least 2^3 entries, MIN_COLUMN_VARS)
        # + q, t 8 each, two 8-bit limbs per range check (2·24) and a 2^8 multiplicity column
        # = 328 -> 2^9; weights 4·8 + 8 = 40 -> 64.
        assert (cost.witness_elements, cost.weight_elements) == (2**9, 64)
        assert (cost.multiply_adds, cost.lookups) == (15, 2 * (8 + 8 + 8))


def test_cnn_model_and_key_report_conv_parameters_and_cost(tmp_path: Path) -> None:
    path = cnn_models.lenet(tmp_path / "lenet.onnx")
    samples = np.random.default_rng(1).random((16, 1, 1, 12, 12))
    model = zkgrad.compile(path, samples)
    model.save(tmp_path / "lenet.zkg")
    model.export_vk(tmp_path / "lenet.vk")
    # conv1 4×(1·3·3) + 4 (BatchNorm folded in), max pool none, conv2 8×(4·3·3) + 8, the
    # average pool as a conv 8×(8·2·2) without bias, fc 10×32 + 10.
    params = (4 * 9 + 4) + (8 * 36 + 8) + 8 * 32 + (10 * 32 + 10)
    # Positions: conv1 12·12 (padded), conv2 4·4, average pool 2·2.
    multiply_adds = 4 * 9 * 144 + 8 * 36 * 16 + 8 * 32 * 4 + 10 * 32
    for file, kind in (("lenet.zkg", "model"), ("lenet.vk", "key")):
        info = zkgrad.inspect(tmp_path / file)
        assert info.kind == kind
        assert info.params == params == model.num_params
        cost = info.cost
        assert cost is not None and cost.blocks == 5
        assert cost.multiply_adds == multiply_adds
        # Range checks: input 256 + per conv block 2 columns (t, q) and 2 more with a ReLU (a,
        # a − q), per max-pool window element one, all padded: conv1 4·256, pool1 4·64, conv2
        # 8·16, pool2 8·4, fc 16; each looked up through two 8-bit limbs.
        checked = 256 + 4 * 4 * 256 + 4 * 4 * 64 + 4 * 8 * 16 + 2 * 8 * 4 + 2 * 16
        assert cost.lookups == 2 * checked
        # Witness: the columns (input 256, conv1 3·1024, pool1 5·256, conv2 3·128, pool2 2·32,
        # fc 2·16 = 5088), two limb columns per range check and a 2^8 multiplicity column =
        # 17312 -> 2^15. Weights: conv1 32 + 8 + 4 (its 9-slot kernel as pieces of 8 and 2),
        # pool1 1 + 1, conv2 256 + 32 + 8, pool2 256 + 8, fc 512 + 16 = 1134 -> 2^11.
        assert 5088 + 2 * checked + 2**8 == 17312
        assert cost.weight_elements == 2048 and cost.witness_elements == 2**15


def test_cli_inspect_onnx_and_zkg(
    onnx_path: Callable[[str], Path], compiled: Compiled, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["inspect", str(onnx_path("flatten_reshape"))])
    assert result.exit_code == 0, result.output
    assert "Gemm" in result.output and "supported: yes" in result.output
    assert "zero knowledge" not in result.output
    assert "[1, 1, 12, 12]" in result.output
    result = runner.invoke(app, ["inspect", str(onnx_path("unsupported"))])
    assert result.exit_code == 0, result.output
    assert "supported: no" in result.output and "/conv/Conv" in result.output
    assert "zero knowledge" not in result.output
    model, _ = compiled("matmul_add")
    model.save(tmp_path / "m.zkg")
    result = runner.invoke(app, ["inspect", str(tmp_path / "m.zkg")])
    assert result.exit_code == 0, result.output
    for text in ("model digest: " + model.digest, "soundness:", "rough estimate", "scales"):
        assert text in result.output


@pytest.mark.parametrize(
    "content", [None, b"", b"not a model at all", b"ZKGM\x01\x00junk", b"ZKGM\x02\x00junk"]
)
def test_cli_inspect_bad_file_exits_2_with_one_line(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "model.bin"
    if content is not None:
        path.write_bytes(content)
    result = runner.invoke(app, ["inspect", str(path)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output


def test_cli_inspect_onnx_cnn_is_supported(tmp_path: Path) -> None:
    path = cnn_models.lenet(tmp_path / "lenet.onnx")
    info = zkgrad.inspect(path)
    assert info.supported and info.error is None
    result = runner.invoke(app, ["inspect", str(path)])
    assert result.exit_code == 0, result.output
    assert "supported: yes" in result.output
    assert "zero knowledge" not in result.output and "--no-zk" not in result.output


def test_cli_inspect_onnx_one_channel_conv_says_it_is_supported(tmp_path: Path) -> None:
    """A convolution with one output channel is proved as two (a dense layer keeps the first):
    inspect says the model is supported."""
    path = cnn_models.one_channel_conv(tmp_path / "one.onnx")
    assert zkgrad.inspect(path).supported
    result = runner.invoke(app, ["inspect", str(path)])
    assert result.exit_code == 0, result.output
    assert "supported: yes" in result.output, result.output

"""Verifying keys: a key holder verifies honest proofs and rejects other weights and digests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper
from typer.testing import CliRunner

import models
import zkgrad
from zkgrad import InvalidProof, Model, ModelError, Proof, VerifyingKey, _native
from zkgrad.cli import app
from zkgrad.compiler import build
from zkgrad.quantize import Quantized

runner = CliRunner()
SEED = bytes(range(32))
WEIGHT = "/fc1/MatMul.weight"


def _compile(path: Path, samples: np.ndarray) -> tuple[Model, Quantized]:
    quantized = build(path, calibration=samples)
    native = _native.NativeModel.from_ir(quantized.ir_json(), quantized.tensors, seed=SEED)
    return Model(native), quantized


@pytest.fixture(scope="module")
def pair(
    tmp_path_factory: pytest.TempPathFactory, onnx_path: Callable[[str], Path]
) -> dict[str, object]:
    """Model A, model B (one quantised weight one unit higher), both with the same seed."""
    work = tmp_path_factory.mktemp("vk")
    path_a = onnx_path("matmul_add")
    samples = models.sample_inputs((1, 64), 16, seed=1)
    model_a, quant_a = _compile(path_a, samples)
    weight_a = quant_a.tensors[WEIGHT]  # [out, in]; ONNX stores the MatMul weight as [in, out]
    out, inp = np.unravel_index(int(np.argmin(np.abs(weight_a))), weight_a.shape)
    bits = model_a.ir["meta"]["weight_scales"][WEIGHT]
    onnx_model = onnx.load(str(path_a))
    for init in onnx_model.graph.initializer:
        if init.name == "w1":
            values = numpy_helper.to_array(init).copy()
            values[inp, out] += np.float32(2.0**-bits)
            init.CopyFrom(numpy_helper.from_array(values, "w1"))
    path_b = work / "matmul_add_changed.onnx"
    onnx.save(onnx_model, str(path_b))
    model_b, quant_b = _compile(path_b, samples)
    model_a.save(work / "a.zkg")
    model_a.export_vk(work / "a.vk")
    x = samples[3]
    model_a.prove(x).save(work / "honest.zkp")
    model_b.prove(x).save(work / "other_weights.zkp")
    return {
        "work": work,
        "a": model_a,
        "b": model_b,
        "quant_a": quant_a,
        "quant_b": quant_b,
        "x": x,
    }


def test_the_changed_model_differs_in_one_weight_by_one_unit(pair: dict[str, object]) -> None:
    quant_a, quant_b = pair["quant_a"], pair["quant_b"]
    assert isinstance(quant_a, Quantized) and isinstance(quant_b, Quantized)
    assert quant_a.ir["nodes"] == quant_b.ir["nodes"]
    assert quant_a.scales == quant_b.scales
    for name, tensor in quant_a.tensors.items():
        diff = quant_b.tensors[name] - tensor
        if name == WEIGHT:
            assert sorted(np.abs(diff).reshape(-1).tolist())[-2:] == [0, 1], name
        else:
            assert not diff.any(), name
    a, b = pair["a"], pair["b"]
    assert isinstance(a, Model) and isinstance(b, Model)
    assert a.circuit_digest == b.circuit_digest
    assert a.digest != b.digest


def test_same_weights_and_seed_give_the_same_digest(pair: dict[str, object]) -> None:
    quant_a = pair["quant_a"]
    assert isinstance(quant_a, Quantized)
    again = _native.NativeModel.from_ir(quant_a.ir_json(), quant_a.tensors, seed=SEED)
    a = pair["a"]
    assert isinstance(a, Model)
    assert again.digest() == a.digest
    with pytest.raises(ValueError, match="32 bytes"):
        _native.NativeModel.from_ir(quant_a.ir_json(), quant_a.tensors, seed=b"short")


def test_key_holder_accepts_an_honest_proof(pair: dict[str, object]) -> None:
    work, a = pair["work"], pair["a"]
    assert isinstance(work, Path) and isinstance(a, Model)
    key = VerifyingKey.load(work / "a.vk")
    assert key.digest == a.digest and key.circuit_digest == a.circuit_digest
    assert key.input_shape == a.input_shape and key.output_shape == a.output_shape
    proof = Proof.load(work / "honest.zkp", key)
    output = zkgrad.verify(key, proof, commitment=a.digest)
    np.testing.assert_array_equal(output, a.run(pair["x"]))
    np.testing.assert_array_equal(output, proof.output)
    np.testing.assert_array_equal(zkgrad.verify(a, proof, commitment=a.digest.upper()), output)
    result = runner.invoke(app, ["verify", str(work / "a.vk"), str(work / "honest.zkp")])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output and a.digest in result.output


def test_key_holder_rejects_a_proof_made_with_other_weights(pair: dict[str, object]) -> None:
    work = pair["work"]
    assert isinstance(work, Path)
    key = VerifyingKey.load(work / "a.vk")
    with pytest.raises(InvalidProof):
        zkgrad.verify(key, Proof.load(work / "other_weights.zkp"))
    for verifier in ("a.vk", "a.zkg"):
        result = runner.invoke(
            app, ["verify", str(work / verifier), str(work / "other_weights.zkp")]
        )
        assert result.exit_code == 1, result.output
        assert "invalid proof" in result.output


def test_verify_rejects_another_pinned_digest(pair: dict[str, object]) -> None:
    work, a, b = pair["work"], pair["a"], pair["b"]
    assert isinstance(work, Path) and isinstance(a, Model) and isinstance(b, Model)
    with pytest.raises(InvalidProof, match="pinned commitment"):
        zkgrad.verify(VerifyingKey.load(work / "a.vk"), Proof.load(work / "honest.zkp"), b.digest)
    args = ["verify", str(work / "a.vk"), str(work / "honest.zkp"), "--commitment"]
    result = runner.invoke(app, [*args, b.digest])
    assert result.exit_code == 1, result.output
    assert "pinned commitment" in result.output
    assert runner.invoke(app, [*args, a.digest]).exit_code == 0
    result = runner.invoke(app, [*args, "not-hex"])
    assert result.exit_code == 2 and "64 hex digits" in result.output


def _bincode_varint(values: np.ndarray) -> bytes:
    """bincode's standard encoding of i64 values: zigzag, then a variable-length integer."""
    out = bytearray()
    for value in values.reshape(-1).tolist():
        zig = (value << 1) ^ (value >> 63)
        if zig < 251:
            out.append(zig)
        elif zig < 2**16:
            out += b"\xfb" + zig.to_bytes(2, "little")
        elif zig < 2**32:
            out += b"\xfc" + zig.to_bytes(4, "little")
        else:
            out += b"\xfd" + zig.to_bytes(8, "little")
    return bytes(out)


def test_key_file_holds_no_weights(pair: dict[str, object]) -> None:
    work, quant_a = pair["work"], pair["quant_a"]
    assert isinstance(work, Path) and isinstance(quant_a, Quantized)
    key_bytes = (work / "a.vk").read_bytes()
    model_bytes = (work / "a.zkg").read_bytes()
    assert key_bytes[:4] == b"ZKGV" and model_bytes[:4] == b"ZKGM"
    for name, tensor in quant_a.tensors.items():
        window = tensor.reshape(-1)[:16]
        encoded = _bincode_varint(window)
        assert encoded in model_bytes, f"{name}: the check cannot find weights even in the .zkg"
        assert encoded not in key_bytes, name
        for dtype in ("<i8", "<i4", "<i2"):
            assert window.astype(dtype).tobytes() not in key_bytes, (name, dtype)
    assert SEED not in key_bytes and SEED in model_bytes
    meta = json.loads(VerifyingKey.load(work / "a.vk").native.ir_json())["meta"]
    assert "report" not in meta and "scales" in meta


def test_commit_and_export_vk_commands(pair: dict[str, object], tmp_path: Path) -> None:
    work, a = pair["work"], pair["a"]
    assert isinstance(work, Path) and isinstance(a, Model)
    for source in ("a.zkg", "a.vk"):
        result = runner.invoke(app, ["commit", str(work / source)])
        assert result.exit_code == 0, result.output
        assert result.output.strip() == a.digest
    result = runner.invoke(app, ["export-vk", str(work / "a.zkg"), "-o", str(tmp_path / "k.vk")])
    assert result.exit_code == 0, result.output
    assert VerifyingKey.load(tmp_path / "k.vk").digest == a.digest
    result = runner.invoke(app, ["inspect", str(tmp_path / "k.vk")])
    assert result.exit_code == 0, result.output
    assert "verifying key" in result.output and a.digest in result.output


def test_bad_key_files_are_clear_errors(pair: dict[str, object], tmp_path: Path) -> None:
    work = pair["work"]
    assert isinstance(work, Path)
    with pytest.raises(ModelError, match="not a zkgrad verifying key"):
        VerifyingKey.load(work / "a.zkg")
    (tmp_path / "cut.vk").write_bytes((work / "a.vk").read_bytes()[:40])
    result = runner.invoke(app, ["verify", str(tmp_path / "cut.vk"), str(work / "honest.zkp")])
    assert result.exit_code == 2, result.output
    (tmp_path / "junk.vk").write_bytes(b"junk")
    for command in ("verify", "commit"):
        args = [command, str(tmp_path / "junk.vk")]
        args += [str(work / "honest.zkp")] if command == "verify" else []
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert len(result.output.strip().splitlines()) == 1

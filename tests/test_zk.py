"""Zero knowledge is always on (proof format 6): ``zk=False`` / ``--no-zk`` are refused with
one clear error, and what needed them (a narrow convolution) is refused by name."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import cnn_models
import zkgrad
from zkgrad import Model, Proof, VerifyingKey, _native
from zkgrad.cli import app
from zkgrad.compiler import build

NO_ZK = "zero knowledge is always on since proof format 6"

runner = CliRunner()
Compiled = Callable[[str], tuple[Model, np.ndarray]]


def test_default_compile_is_zero_knowledge_and_proves(compiled: Compiled, tmp_path: Path) -> None:
    model, samples = compiled("mlp_784_128_10")
    assert model.zk is True and "zk" not in model.ir
    proof = model.prove(samples[0])
    np.testing.assert_array_equal(zkgrad.verify(model, proof), model.run(samples[0]))
    model.save(tmp_path / "m.zkg")
    assert Model.load(tmp_path / "m.zkg").zk is True
    assert zkgrad.inspect(tmp_path / "m.zkg").details["zero knowledge"] is True
    result = runner.invoke(app, ["inspect", str(tmp_path / "m.zkg")])
    assert result.exit_code == 0, result.output
    assert "zero knowledge: on" in result.output


def test_zk_proof_verifies_from_an_exported_key(compiled: Compiled, tmp_path: Path) -> None:
    model, samples = compiled("matmul_add")
    model.prove(samples[2]).save(tmp_path / "p.zkp")
    model.export_vk(tmp_path / "m.vk")
    key = VerifyingKey.load(tmp_path / "m.vk")
    assert key.zk is True
    proof = Proof.load(tmp_path / "p.zkp", key)
    verified = zkgrad.verify(key, proof, commitment=model.digest)
    np.testing.assert_array_equal(verified, model.run(samples[2]))
    result = runner.invoke(app, ["verify", str(tmp_path / "m.vk"), str(tmp_path / "p.zkp")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["inspect", str(tmp_path / "m.vk")])
    assert result.exit_code == 0 and "zero knowledge: on" in result.output, result.output


def test_no_zk_is_refused_with_one_clear_error(
    onnx_path: Callable[[str], Path], tmp_path: Path
) -> None:
    """``zk=False`` (Python) and ``--no-zk`` (CLI) were removed: a one-sentence error, no file."""
    path = onnx_path("matmul_add")
    with pytest.raises(zkgrad.ModelError, match=f"^{NO_ZK}; zk=False was removed$"):
        zkgrad.compile(path, zk=False)
    zkg = tmp_path / "m.zkg"
    result = runner.invoke(app, ["compile", str(path), "-o", str(zkg), "--no-zk"])
    assert result.exit_code == 2, result.output
    assert f"{NO_ZK}; --no-zk was removed" in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert not zkg.exists()
    assert "--no-zk" not in runner.invoke(app, ["compile", "--help"]).output


def test_model_zk_is_a_read_only_true(compiled: Compiled) -> None:
    model, _ = compiled("matmul_add")
    assert model.zk is True
    with pytest.raises(AttributeError):
        model.zk = False  # type: ignore[misc]


def test_ir_zk_field_true_is_accepted_and_false_refused(onnx_path: Callable[[str], Path]) -> None:
    """IRs from front ends before proof format 6 carry ``"zk"``: true passes, false is refused."""
    quantized = build(onnx_path("matmul_add"))
    assert "zk" not in quantized.ir
    quantized.ir["zk"] = True
    model = Model(_native.NativeModel.from_ir(quantized.ir_json(), quantized.tensors))
    assert model.zk is True
    quantized.ir["zk"] = False
    with pytest.raises(zkgrad.ModelError, match=NO_ZK):
        _native.NativeModel.from_ir(quantized.ir_json(), quantized.tensors)


def test_cli_cnn_compiles_proves_and_verifies_with_zero_knowledge(tmp_path: Path) -> None:
    path = cnn_models.lenet(tmp_path / "lenet.onnx")
    rng = np.random.default_rng(0)
    (tmp_path / "x.json").write_text(json.dumps({"input_data": [rng.random(144).tolist()]}))
    zkg, zkp = tmp_path / "l.zkg", tmp_path / "p.zkp"
    result = runner.invoke(app, ["compile", str(path), "-o", str(zkg)])
    assert result.exit_code == 0, result.output
    assert "zero knowledge: off" not in result.output
    assert Model.load(zkg).zk is True
    result = runner.invoke(app, ["prove", str(zkg), str(tmp_path / "x.json"), "-o", str(zkp)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["verify", str(zkg), str(zkp)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["inspect", str(zkg)])
    assert result.exit_code == 0 and "zero knowledge: on" in result.output, result.output


def test_cli_compile_of_a_one_value_patch_conv_is_refused_by_name(tmp_path: Path) -> None:
    """A refusal left: a convolution with a single value per patch, named (until narrow columns
    get masks of their own); --no-zk is no way around it any more. (A single output channel is
    proved as two: tests/test_single_channel_conv.py.)"""
    path = cnn_models.one_value_patch_conv(tmp_path / "point.onnx")
    result = runner.invoke(app, ["compile", str(path), "-o", str(tmp_path / "o.zkg")])
    assert result.exit_code == 2, result.output
    assert "/point/Conv" in result.output and "single value per patch" in result.output
    assert "--no-zk" not in result.output and "zero knowledge off" not in result.output
    assert not (tmp_path / "o.zkg").exists()

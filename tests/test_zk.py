"""Zero knowledge: on by default; ``zk=False`` / ``--no-zk`` (benchmarking only) turns it off."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import cnn_models
import models
import zkgrad
from zkgrad import InvalidProof, Model, Proof, VerifyingKey, _native
from zkgrad.cli import app
from zkgrad.compiler import build

runner = CliRunner()
Compiled = Callable[[str], tuple[Model, np.ndarray]]


def test_default_compile_is_zero_knowledge_and_proves(compiled: Compiled, tmp_path: Path) -> None:
    model, samples = compiled("mlp_784_128_10")
    assert model.zk is True and model.ir["zk"] is True
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


def test_cli_no_zk_compile_proves_verifies_and_inspect_says_off(
    onnx_path: Callable[[str], Path], tmp_path: Path
) -> None:
    rng = np.random.default_rng(0)
    np.save(tmp_path / "cal.npy", rng.random((8, 1, 64)))
    (tmp_path / "x.json").write_text(json.dumps({"input_data": [rng.random(64).tolist()]}))
    zkg, zkp, vk = tmp_path / "m.zkg", tmp_path / "p.zkp", tmp_path / "m.vk"
    args = [
        "compile",
        str(onnx_path("matmul_add")),
        "-o",
        str(zkg),
        "-c",
        str(tmp_path / "cal.npy"),
    ]
    result = runner.invoke(app, [*args, "--no-zk"])
    assert result.exit_code == 0, result.output
    assert "zero knowledge: off" in result.output
    assert Model.load(zkg).zk is False
    result = runner.invoke(app, ["prove", str(zkg), str(tmp_path / "x.json"), "-o", str(zkp)])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["export-vk", str(zkg), "-o", str(vk)]).exit_code == 0
    for verifier in (zkg, vk):
        result = runner.invoke(app, ["verify", str(verifier), str(zkp)])
        assert result.exit_code == 0, result.output
        result = runner.invoke(app, ["inspect", str(verifier)])
        assert result.exit_code == 0, result.output
        assert "zero knowledge: off" in result.output
    assert VerifyingKey.load(vk).zk is False


def test_a_proof_of_the_other_protocol_is_rejected(onnx_path: Callable[[str], Path]) -> None:
    """The same weights and seed with zk on and off: each rejects the other's proofs."""
    path = onnx_path("matmul_add")
    samples = models.sample_inputs((1, 64), 8, seed=1)
    pair = {}
    for zk in (True, False):
        quantized = build(path, calibration=samples, zk=zk)
        native = _native.NativeModel.from_ir(quantized.ir_json(), quantized.tensors, seed=b"s" * 32)
        pair[zk] = Model(native)
    assert pair[True].circuit_digest != pair[False].circuit_digest
    for zk in (True, False):
        proof = pair[zk].prove(samples[0])
        zkgrad.verify(pair[zk], proof)
        with pytest.raises(InvalidProof):
            zkgrad.verify(pair[not zk], proof)


def test_ir_without_a_zk_field_is_zero_knowledge(onnx_path: Callable[[str], Path]) -> None:
    quantized = build(onnx_path("matmul_add"), zk=False)
    del quantized.ir["zk"]
    model = Model(_native.NativeModel.from_ir(quantized.ir_json(), quantized.tensors))
    assert model.zk is True and model.ir["zk"] is True


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


def test_cli_compile_of_a_one_channel_conv_says_how(tmp_path: Path) -> None:
    """The one refusal left: a convolution with a single output channel, named, with --no-zk."""
    path = cnn_models.one_channel_conv(tmp_path / "one.onnx")
    result = runner.invoke(app, ["compile", str(path), "-o", str(tmp_path / "o.zkg")])
    assert result.exit_code == 2, result.output
    assert "/one/Conv" in result.output and "two output channels" in result.output
    assert "--no-zk" in result.output
    assert not (tmp_path / "o.zkg").exists()
    result = runner.invoke(app, ["compile", str(path), "-o", str(tmp_path / "o.zkg"), "--no-zk"])
    assert result.exit_code == 0, result.output
    assert Model.load(tmp_path / "o.zkg").zk is False

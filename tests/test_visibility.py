"""Input visibility: a public input is stated in the proof and bound to it; a private one is not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import models
import zkgrad
from zkgrad import InvalidProof, ModelError
from zkgrad.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def public_model(onnx_path: Callable[[str], Path]) -> zkgrad.Model:
    samples = models.sample_inputs((1, 64), 16, seed=3)
    return zkgrad.compile(onnx_path("matmul_add"), samples, input_visibility="public")


def test_a_public_input_is_stated_and_checked(public_model: zkgrad.Model) -> None:
    x = models.sample_inputs((1, 64), 1, seed=4)[0]
    proof = public_model.prove(x)
    assert public_model.input_visibility == "public"
    assert np.array_equal(proof.input_q, public_model.quantize(x))
    key = public_model.verifying_key()
    zkgrad.verify(key, proof, input=x)
    other = x.copy()
    other.flat[0] += 1.0
    with pytest.raises(InvalidProof, match="another input"):
        zkgrad.verify(key, proof, input=other)


def test_a_private_input_is_not_in_the_proof(onnx_path: Callable[[str], Path]) -> None:
    samples = models.sample_inputs((1, 64), 16, seed=3)
    model = zkgrad.compile(onnx_path("matmul_add"), samples)
    x = samples[0]
    proof = model.prove(x)
    assert model.input_visibility == "private"
    assert proof.input_q is None
    with pytest.raises(ModelError, match="private"):
        zkgrad.verify(model, proof, input=x)


def test_unknown_visibility_is_a_clear_error(onnx_path: Callable[[str], Path]) -> None:
    with pytest.raises(ModelError, match="private, public, committed"):
        zkgrad.compile(onnx_path("matmul_add"), input_visibility="secret")


def test_cli_public_input_round_trip(tmp_path: Path, onnx_path: Callable[[str], Path]) -> None:
    samples = models.sample_inputs((1, 64), 16, seed=6)
    np.save(tmp_path / "cal.npy", samples)
    np.save(tmp_path / "x.npy", samples[:1])
    other = samples[1:2]
    np.save(tmp_path / "other.npy", other)
    model = tmp_path / "m.zkg"
    args = ["compile", str(onnx_path("matmul_add")), "-c", str(tmp_path / "cal.npy")]
    assert runner.invoke(app, [*args, "-o", str(model), "--input", "public"]).exit_code == 0
    proof = tmp_path / "p.zkp"
    assert (
        runner.invoke(
            app, ["prove", str(model), str(tmp_path / "x.npy"), "-o", str(proof)]
        ).exit_code
        == 0
    )
    ok = runner.invoke(app, ["verify", str(model), str(proof), "--input", str(tmp_path / "x.npy")])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(
        app, ["verify", str(model), str(proof), "--input", str(tmp_path / "other.npy")]
    )
    assert bad.exit_code == 1, bad.output
    described = runner.invoke(app, ["inspect", str(model)])
    assert "input visibility: public" in described.output

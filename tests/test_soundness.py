"""The provable soundness line: `zkgrad inspect`, `compile` and `prove --verbose` print it, and
``proof.soundness_bits`` is the computed figure (>= 100 bits, Johnson bound)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

import zkgrad
from zkgrad import Model
from zkgrad.cli import app

runner = CliRunner()
Compiled = Callable[[str], tuple[Model, np.ndarray]]
LINE = re.compile(r"^soundness: (\d+) bits, provable \(Johnson bound\); weakest: (\S.*)$", re.M)


def _bits(text: str) -> tuple[int, str]:
    match = LINE.search(text)
    assert match is not None, text
    return int(match.group(1)), match.group(2)


def test_model_and_proof_report_the_computed_figure(compiled: Compiled) -> None:
    model, samples = compiled("mlp_784_128_10")
    bits, weakest = _bits(model.soundness_line())
    assert bits >= 100 and weakest
    assert model.soundness_bits == bits
    proof = model.prove(samples[0])
    assert proof.soundness_bits == bits
    assert proof.soundness_line == model.soundness_line()


def test_inspect_prints_the_line(compiled: Compiled, tmp_path: Path) -> None:
    model, _ = compiled("mlp_784_128_10")
    model.save(tmp_path / "m.zkg")
    info = zkgrad.inspect(tmp_path / "m.zkg")
    assert info.soundness_line == model.soundness_line()
    result = runner.invoke(app, ["inspect", str(tmp_path / "m.zkg")])
    assert result.exit_code == 0, result.output
    bits, _ = _bits(result.output)
    assert bits >= 100


def test_compile_and_prove_verbose_print_the_line(
    onnx_path: Callable[[str], Path], tmp_path: Path
) -> None:
    rng = np.random.default_rng(0)
    np.save(tmp_path / "calibration.npy", rng.random((8, 1, 64)))
    np.save(tmp_path / "x.npy", rng.random((1, 64)))
    model = tmp_path / "m.zkg"
    result = runner.invoke(
        app,
        [
            "compile",
            str(onnx_path("matmul_add")),
            "-o",
            str(model),
            "--calibration",
            str(tmp_path / "calibration.npy"),
        ],
    )
    assert result.exit_code == 0, result.output
    compiled_bits, _ = _bits(result.output)
    assert compiled_bits >= 100
    result = runner.invoke(
        app, ["prove", str(model), str(tmp_path / "x.npy"), "-o", str(tmp_path / "p.zkp"), "-v"]
    )
    assert result.exit_code == 0, result.output
    assert _bits(result.output)[0] == compiled_bits
    result = runner.invoke(
        app, ["prove", str(model), str(tmp_path / "x.npy"), "-o", str(tmp_path / "q.zkp")]
    )
    assert result.exit_code == 0, result.output
    assert LINE.search(result.output) is None

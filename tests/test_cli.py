"""The command line: exit codes 0 (ok / valid), 1 (invalid proof), 2 (bad usage, files or input)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import models
from zkgrad.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, onnx_path: Callable[[str], Path]) -> Path:
    """A compiled model, an input and a proof made through the CLI."""
    work = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    np.save(work / "calibration.npy", rng.random((8, 1, 64)))
    (work / "input.json").write_text(json.dumps({"input_data": [rng.random(64).tolist()]}))
    onnx_file = onnx_path("matmul_add")
    result = runner.invoke(
        app,
        [
            "compile",
            str(onnx_file),
            "-o",
            str(work / "model.zkg"),
            "--calibration",
            str(work / "calibration.npy"),
        ],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app,
        ["prove", str(work / "model.zkg"), str(work / "input.json"), "-o", str(work / "proof.zkp")],
    )
    assert result.exit_code == 0, result.output
    return work


def test_compile_prints_digest_report_and_time(
    onnx_path: Callable[[str], Path], tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["compile", str(onnx_path("mlp_784_128_10")), "-o", str(tmp_path / "m.zkg")]
    )
    assert result.exit_code == 0, result.output
    assert "model digest:" in result.output
    assert "compile:" in result.output
    assert "argmax agreement" in result.output
    assert (tmp_path / "m.zkg").stat().st_size > 0


def test_prove_prints_size_and_soundness(workdir: Path) -> None:
    result = runner.invoke(
        app,
        [
            "prove",
            str(workdir / "model.zkg"),
            str(workdir / "input.json"),
            "-o",
            str(workdir / "again.zkp"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "proof size" in result.output and "soundness" in result.output
    assert "prove:" in result.output


def test_verify_valid_proof(workdir: Path) -> None:
    result = runner.invoke(app, ["verify", str(workdir / "model.zkg"), str(workdir / "proof.zkp")])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output and "verified output" in result.output


def test_verify_flipped_byte_exits_1(workdir: Path) -> None:
    data = bytearray((workdir / "proof.zkp").read_bytes())
    data[len(data) // 2] ^= 0x10
    (workdir / "bad.zkp").write_bytes(bytes(data))
    result = runner.invoke(app, ["verify", str(workdir / "model.zkg"), str(workdir / "bad.zkp")])
    assert result.exit_code == 1, result.output
    assert "invalid proof" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["verify", "{w}/model.zkg", "{w}/missing.zkp"],
        ["verify", "{w}/missing.zkg", "{w}/proof.zkp"],
        ["prove", "{w}/model.zkg", "{w}/missing.json"],
        ["compile", "{w}/missing.onnx"],
        ["compile", "{w}/input.json"],
        ["verify", "{w}/proof.zkp", "{w}/proof.zkp"],
    ],
)
def test_missing_or_unreadable_files_exit_2(workdir: Path, args: list[str]) -> None:
    result = runner.invoke(app, [arg.format(w=workdir) for arg in args])
    assert result.exit_code == 2, result.output
    assert "error:" in result.output
    assert "Traceback" not in result.output


def test_wrong_input_shape_exits_2(workdir: Path) -> None:
    (workdir / "short.json").write_text(json.dumps([0.5] * 63))
    result = runner.invoke(app, ["prove", str(workdir / "model.zkg"), str(workdir / "short.json")])
    assert result.exit_code == 2
    assert "expects [1, 64]" in result.output


def test_unsupported_model_lists_every_node(onnx_path: Callable[[str], Path]) -> None:
    result = runner.invoke(app, ["compile", str(onnx_path("unsupported"))])
    assert result.exit_code == 2
    for name in ("/conv/Conv", "/act/Hardmax", "/norm/LpNormalization"):
        assert name in result.output


def test_cli_lists_every_unsupported_node_grouped(tmp_path: Path) -> None:
    path = models.many_unsupported(tmp_path / "many.onnx")
    done = subprocess.run(
        [sys.executable, "-m", "zkgrad", "compile", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines[0].startswith("error: model is not supported: 7 unsupported nodes (Hardmax ×2")
    assert "  Hardmax ×2: '/act1/Hardmax', '/act2/Hardmax'" in lines
    assert "  Gemm ×1: '/fc/Gemm': transA=1 is not supported" in lines
    assert "Traceback" not in done.stderr


def test_bad_usage_exits_2() -> None:
    assert runner.invoke(app, ["prove"]).exit_code == 2
    assert runner.invoke(app, ["no-such-command"]).exit_code == 2


def test_module_entry_point_exit_code(tmp_path: Path) -> None:
    args = ["verify", str(tmp_path / "a.zkg"), str(tmp_path / "b.zkp")]
    done = subprocess.run(
        [sys.executable, "-m", "zkgrad", *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error:")
    assert len(done.stderr.strip().splitlines()) == 1

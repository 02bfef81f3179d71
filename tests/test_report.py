"""The accuracy report: per output and per layer against onnxruntime, printed and plotted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import zkgrad
from zkgrad import Model
from zkgrad.cli import app
from zkgrad.onnx import import_onnx
from zkgrad.reference import run_float
from zkgrad.report import plot

runner = CliRunner()
Compiled = Callable[[str], tuple[Model, np.ndarray]]


def test_report_has_per_output_and_per_layer_errors(compiled: Compiled) -> None:
    model, _ = compiled("mlp_784_128_10")
    report = model.report
    per_output = report["per_output"]
    assert len(per_output["max_abs_error"]) == len(per_output["mean_abs_error"]) == 10
    assert max(per_output["max_abs_error"]) == pytest.approx(report["max_abs_error"], abs=1e-6)
    layers = report["layers"]
    assert [layer["op"] for layer in layers] == ["Input", "Dense", "Relu", "Dense"]
    assert [layer["node"] for layer in layers[1:]] == ["/fc1/Gemm", "/relu/Relu", "/fc2/Gemm"]
    assert layers[-1]["tensor"] == "logits"
    assert layers[-1]["max_abs_error"] == pytest.approx(report["max_abs_error"], abs=1e-6)
    assert report["worst_layer"]["tensor"] in {layer["tensor"] for layer in layers}
    added = {layer["tensor"]: layer["added_relative_error"] for layer in layers}
    assert added[report["worst_layer"]["tensor"]] == max(added.values())
    points = report["points"]
    assert len(points["float"]) == len(points["quantized"]) == report["samples"] * 10


def test_layer_error_matches_an_independent_measurement(
    compiled: Compiled, onnx_path: Callable[[str], Path]
) -> None:
    model, samples = compiled("matmul_add")
    _, onnx_model = import_onnx(onnx_path("matmul_add"))
    floats = run_float(onnx_model, samples, ["fc1"])["fc1"].reshape(len(samples), -1)
    scale = 2.0 ** model.ir["meta"]["scales"]["fc1"]
    quantised = np.stack(
        [np.asarray(model.native.run_trace(model.quantize(x))["fc1"]) / scale for x in samples]
    )
    (layer,) = [layer for layer in model.report["layers"] if layer["tensor"] == "fc1"]
    diff = np.abs(quantised - floats)
    assert layer["max_abs_error"] == pytest.approx(diff.max(), abs=1e-6)
    assert layer["mean_abs_error"] == pytest.approx(diff.mean(), abs=1e-6)
    assert layer["node"] == "/fc1/MatMul"


def test_compile_prints_the_per_layer_report(
    onnx_path: Callable[[str], Path], tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["compile", str(onnx_path("flatten_reshape")), "-o", str(tmp_path / "m.zkg")]
    )
    assert result.exit_code == 0, result.output
    for text in ("/fc1/Gemm", "/fc2/Gemm", "(input quantisation)", "most error added by", "#11"):
        assert text in result.output


def test_report_command_writes_the_plot(compiled: Compiled, tmp_path: Path) -> None:
    model, _ = compiled("dynamic_reshape")
    model.save(tmp_path / "m.zkg")
    target = tmp_path / "error.png"
    result = runner.invoke(app, ["report", str(tmp_path / "m.zkg"), "--plot", str(target)])
    assert result.exit_code == 0, result.output
    assert "argmax agreement" in result.output and "most error added by" in result.output
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert target.stat().st_size > 10_000


def test_plot_without_measurements_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(zkgrad.ModelError, match="no measurements"):
        plot({"source": "x", "samples": 0, "error": "out of range"}, tmp_path / "e.png")
    assert not (tmp_path / "e.png").exists()

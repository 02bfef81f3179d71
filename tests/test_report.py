"""The accuracy report: per output and per layer against onnxruntime, printed and plotted."""

from __future__ import annotations

import json
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
from zkgrad.report import WORST_COLOUR as WORST
from zkgrad.report import CompileReport, figure, plot, plot_data

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


def _row(tensor: str, op: str, relative: float, added: float) -> dict[str, object]:
    return {
        "tensor": tensor,
        "node": f"/{tensor}",
        "op": op,
        "max_abs_error": relative * 3,
        "mean_abs_error": relative,
        "float_mean_abs": 1.0,
        "relative_error": relative,
        "added_relative_error": added,
    }


# The layer with the largest relative error ("c") is not the one that adds the most ("b"); the
# input's error is exactly 0 (no fake floor may replace it).
SYNTHETIC = {
    "source": "calibration data",
    "samples": 2,
    "output": "d",
    "max_abs_error": 0.5,
    "mean_abs_error": 0.2,
    "float_max_abs": 4.0,
    "relative_error": 0.03,
    "layers": [
        _row("x", "Input", 0.0, 0.0),
        _row("b", "Dense", 0.04, 0.04),
        _row("c", "Dense", 0.07, 0.03),
        _row("d", "Relu", 0.03, -0.04),
    ],
    "worst_layer": {"node": "/b", "op": "Dense", "tensor": "b"},
    "points": {"float": [1.0, -2.0, 0.5, 3.0], "quantized": [1.25, -2.0, 0.0, 3.5]},
}


def test_plot_data_highlights_the_tallest_bar_which_is_the_worst_layer() -> None:
    data = plot_data(SYNTHETIC, model_name="m.onnx", digest="ab" * 32)
    assert data.layer_labels == ["/x", "/b", "/c", "/d"]
    assert data.added_percent == pytest.approx([0.0, 4.0, 3.0, -4.0])
    assert data.relative_percent == pytest.approx([0.0, 4.0, 7.0, 3.0])
    assert data.highlighted == 1 == data.added_percent.index(max(data.added_percent))
    assert data.layer_labels[data.highlighted] == SYNTHETIC["worst_layer"]["node"]
    assert data.added_percent[0] == 0.0  # no 1e-12 floor
    np.testing.assert_allclose(data.output_errors, [0.25, 0.0, -0.5, 0.5])
    assert data.title == f"quantisation error of m.onnx, model digest {'ab' * 8}…"


def test_figure_draws_the_plot_data_on_linear_axes() -> None:
    from matplotlib import pyplot as plt

    data = plot_data(SYNTHETIC, model_name="m.onnx", digest="cd" * 32)
    fig = figure(data)
    try:
        bars, histogram = fig.axes
        assert fig.get_suptitle() == data.title
        assert bars.get_xscale() == "linear" and histogram.get_xscale() == "linear"
        widths = [patch.get_width() for patch in bars.patches]
        assert widths == pytest.approx(data.added_percent)
        red = [i for i, patch in enumerate(bars.patches) if patch.get_facecolor() == _rgba(WORST)]
        assert red == [data.highlighted]
        counts = sum(patch.get_height() for patch in histogram.patches)
        assert counts == len(data.output_errors)
    finally:
        plt.close(fig)


def _rgba(colour: str) -> tuple[float, float, float, float]:
    from matplotlib.colors import to_rgba

    return to_rgba(colour)


def test_model_report_prints_a_table_and_keeps_the_data(compiled: Compiled) -> None:
    model, _ = compiled("mlp_784_128_10")
    report = model.report
    text = str(report)
    assert repr(report) == text
    assert len(text.splitlines()) < 15 and "[" not in text  # no raw list of floats
    assert f"digest {model.digest[:16]}" in text and "mlp_784_128_10.onnx" in text
    for layer in report.layers:
        assert layer.node in text
    worst = report.worst_layer
    assert worst is not None and worst.tensor == report["worst_layer"]["tensor"]
    assert f"worst layer: '{worst.node}'" in text
    assert report.relative_error == pytest.approx(report.layers[-1].relative_error, abs=1e-6)
    assert report.max_abs_error == report["max_abs_error"]
    assert report.output_errors.size == report.samples * 10
    assert json.loads(json.dumps(report)) == dict(report)  # still the stored dict


def test_unmeasured_report_says_why() -> None:
    report = CompileReport({"source": "synthetic", "samples": 0, "error": "out of range"})
    assert str(report) == "accuracy report: not measured (out of range)"
    assert report.layers == [] and report.worst_layer is None and report.relative_error is None

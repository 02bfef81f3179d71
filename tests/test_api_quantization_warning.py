"""A compiled model far from its float model says so: a QuantizationWarning naming the layer,
kept in the report; a well-quantised model compiles without it."""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import models
import zkgrad
from zkgrad.report import RELATIVE_ERROR_WARNING, accuracy_warning

FEATURES = 8
# Feature i has magnitude 10^(i-4): a standardiser folded into the weights divides by it.
MAGNITUDES = 10.0 ** (np.arange(FEATURES) - 4)


def _folded_scaler(path: Path) -> Path:
    """One Gemm whose weights undo wildly different input magnitudes (a folded StandardScaler)."""
    rng = np.random.default_rng(5)
    weight = (rng.standard_normal((FEATURES, 3)) / MAGNITUDES[:, None]).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["input", "w"], ["scores"], name="/scaled/Gemm")],
        "folded_scaler",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", FEATURES])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", 3])],
        [numpy_helper.from_array(weight, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_large_error_warns_and_names_the_layer(tmp_path: Path) -> None:
    samples = np.random.default_rng(6).random((32, FEATURES)) * MAGNITUDES
    with pytest.warns(zkgrad.QuantizationWarning) as caught:
        model = zkgrad.compile(_folded_scaler(tmp_path / "m.onnx"), samples)
    (message,) = [str(w.message) for w in caught]
    report = model.report
    assert report.relative_error is not None and report.relative_error > RELATIVE_ERROR_WARNING
    assert f"off by {report.relative_error:.1%}" in message
    assert "layer '/scaled/Gemm' (Dense, tensor 'scores')" in message
    assert "standardise the input before the model" in message  # the cause, from the data
    assert report.warning == message
    assert f"warning: {message}" in str(report)


def test_a_well_quantised_model_compiles_without_warning(
    onnx_path: Callable[[str], Path],
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", zkgrad.QuantizationWarning)
        model = zkgrad.compile(onnx_path("matmul_add"), models.sample_inputs((1, 64), 16, seed=1))
    assert model.report.warning is None
    assert "warning" not in str(model.report)


def test_threshold_is_applied_to_the_output_relative_error() -> None:
    report = {"relative_error": RELATIVE_ERROR_WARNING, "samples": 4, "source": "x"}
    assert accuracy_warning(report) is None
    report["relative_error"] = RELATIVE_ERROR_WARNING * 1.5
    report["worst_layer"] = {"node": "fc9", "op": "Dense", "tensor": "t"}
    text = accuracy_warning(report, table_bits=12)
    assert text is not None and "'fc9' (Dense, tensor 't')" in text and "target='size'" in text


def test_cli_compile_prints_the_warning_as_one_line(tmp_path: Path) -> None:
    np.save(tmp_path / "cal.npy", np.random.default_rng(6).random((32, FEATURES)) * MAGNITUDES)
    onnx_file = _folded_scaler(tmp_path / "m.onnx")
    args = [str(onnx_file), "-c", str(tmp_path / "cal.npy"), "-o", str(tmp_path / "m.zkg")]
    for command in (["compile", *args], ["report", str(tmp_path / "m.zkg")]):
        done = subprocess.run(
            [sys.executable, "-m", "zkgrad", *command], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("warning: the quantised model's output")
        assert "layer '/scaled/Gemm'" in lines[0]

"""Scale choice, the IR the native module receives, and the integer reference it computes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import int_reference
import models
import zkgrad
from zkgrad import _native
from zkgrad.compiler import build
from zkgrad.graph import Dense
from zkgrad.onnx import import_onnx
from zkgrad.quantize import (
    DEFAULT_ACT_MAX,
    DEFAULT_TABLE_BITS,
    act_bits,
    quantize,
    quantize_dense,
)
from zkgrad.reference import run_float

# With the default 16-bit tables: 2x headroom below the range, scales capped 4 bits lower.
ACT_RANGE_BITS = DEFAULT_TABLE_BITS - 2
MAX_ACT_BITS = DEFAULT_TABLE_BITS - 4

Compiled = Callable[[str], tuple[zkgrad.Model, np.ndarray]]


@pytest.mark.parametrize(
    ("max_abs", "bits"),
    [
        (None, 11),
        (DEFAULT_ACT_MAX, 11),
        (1.0, MAX_ACT_BITS),
        (0.0, MAX_ACT_BITS),
        (16.0, 10),
        (17.0, 9),
        (100.0, 7),
        (2.0**15, -1),
    ],
)
def test_act_bits(max_abs: float | None, bits: int) -> None:
    assert act_bits(max_abs) == bits
    if max_abs:
        assert max_abs * 2.0**bits <= 2.0**ACT_RANGE_BITS


def _dense(weight: np.ndarray, bias: np.ndarray | None = None) -> Dense:
    return Dense("d", "x", "y", weight, bias, (1, weight.shape[0]))


def test_dense_shift_stays_in_range_for_tiny_weights() -> None:
    weight, _, shift, s_y = quantize_dense(_dense(np.full((2, 3), 1e-6)), 12, 12)
    assert shift == 16 and s_y == 12
    assert np.all(weight == 0)  # too small to represent at shift 16: honest rounding


def test_dense_shift_stays_in_range_for_huge_weights() -> None:
    weight, _, shift, _ = quantize_dense(_dense(np.full((2, 3), 5000.0)), 0, 12)
    assert shift == 1
    assert int(np.max(np.abs(weight))) == 5000 * 2**13


def test_dense_bias_is_at_accumulator_scale() -> None:
    weight, bias, shift, s_y = quantize_dense(
        _dense(np.array([[0.5, -0.25]]), np.array([0.75])), 8, 8
    )
    s_w = shift + s_y - 8
    assert int(weight[0, 0]) == round(0.5 * 2**s_w)
    assert bias is not None and int(bias[0]) == round(0.75 * 2 ** (8 + s_w))


@pytest.mark.parametrize("name", sorted(models.BUILDERS))
def test_ir_respects_the_native_limits(name: str, compiled: Compiled) -> None:
    model, _ = compiled(name)
    ir = model.ir
    assert ir["version"] == 1
    for node in ir["nodes"]:
        if node["op"] == "requant":
            assert 1 <= node["shift"] <= 16
            assert node["mult"] == 1
    scales = ir["meta"]["scales"]
    assert ir["input"]["scale_bits"] == scales[ir["input"]["name"]]
    assert ir["output"]["scale_bits"] == scales[ir["output"]["name"]]
    assert all(bits <= MAX_ACT_BITS for bits in scales.values())


def test_calibrated_scales_leave_headroom(onnx_path: Callable[[str], Path]) -> None:
    graph, onnx_model = import_onnx(onnx_path("mlp_784_128_10"))
    samples = models.sample_inputs(graph.input_shape, 8)
    names = [graph.input, *(op.output for op in graph.ops if isinstance(op, Dense))]
    floats = run_float(onnx_model, samples, names)
    q = quantize(graph, {name: float(np.abs(v).max()) for name, v in floats.items()})
    for name, values in floats.items():
        peak = float(np.abs(values).max()) * 2.0 ** q.scales[name]
        assert peak <= 2.0**ACT_RANGE_BITS
        assert peak > 2.0 ** (ACT_RANGE_BITS - 1) or q.scales[name] == MAX_ACT_BITS
    weights = [v for k, v in q.tensors.items() if k.endswith(".weight")]
    assert all(int(np.abs(w).max()) <= 2**13 for w in weights)


def test_uncalibrated_compile_uses_defaults(onnx_path: Callable[[str], Path]) -> None:
    model = zkgrad.compile(onnx_path("matmul_add"))
    assert set(model.ir["meta"]["scales"].values()) == {act_bits(None)}
    assert model.report["source"].startswith("synthetic")
    assert model.ir["meta"]["calibration"]["samples"] == 0


@pytest.mark.parametrize("name", sorted(models.BUILDERS))
def test_native_run_matches_independent_reference(
    name: str, onnx_path: Callable[[str], Path]
) -> None:
    path = onnx_path(name)
    graph, _ = import_onnx(path)
    samples = models.sample_inputs(graph.input_shape, 4, seed=3)
    quantized = build(path, calibration=samples)
    native = _native.NativeModel.from_ir(quantized.ir_json(), quantized.tensors)
    model = zkgrad.Model(native)
    for sample in samples:
        x_q = model.quantize(sample)
        got = np.asarray(native.run(x_q))
        expected = int_reference.run_ir(quantized.ir, quantized.tensors, x_q)
        np.testing.assert_array_equal(got, expected[model.output_name])
        trace = native.run_trace(x_q)
        for tensor, values in expected.items():
            np.testing.assert_array_equal(np.asarray(trace[tensor]), values, err_msg=tensor)


@pytest.mark.parametrize("name", sorted(models.BUILDERS))
def test_quantised_argmax_agrees_with_onnxruntime(name: str, compiled: Compiled) -> None:
    model, _ = compiled(name)
    report = model.report
    assert report["source"] == "calibration data"
    assert report["samples"] > 0
    assert report["argmax_agreement"] >= 0.9
    assert report["max_abs_error"] < 0.05 * max(report["float_max_abs"], 1.0)


def test_ir_json_round_trips_through_native(compiled: Compiled) -> None:
    model, _ = compiled("matmul_add")
    again = _native.NativeModel.from_bytes(model.native.to_bytes())
    assert json.loads(again.ir_json()) == model.ir
    assert again.digest() == model.digest


def test_large_bias_stays_in_i32() -> None:
    weight, bias, shift, s_y = quantize_dense(
        _dense(np.array([[0.5, 0.5]]), np.array([5000.0])), 12, 4
    )
    assert bias is not None and int(np.abs(bias).max()) < 2**31
    assert int(np.abs(weight).max()) < 2**31
    assert 1 <= shift <= 16
    s_w = shift + s_y - 12
    assert int(bias[0]) == round(5000.0 * 2 ** (12 + s_w))

"""``compile``: ONNX file -> calibrated, quantised, committed :class:`~zkgrad.model.Model`.

Example::

    model = zkgrad.compile("mlp.onnx", calibration=np.random.rand(16, 784))
    print(model.report["argmax_agreement"])
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from zkgrad import __version__, _native
from zkgrad.errors import ModelError
from zkgrad.graph import Dense, FloatGraph
from zkgrad.inputs import as_batch, quantize_input, read_array
from zkgrad.model import Model
from zkgrad.onnx import import_onnx
from zkgrad.quantize import (
    DEFAULT_ACT_MAX,
    Quantized,
    calibrated_max,
    error_report,
    quantize,
)
from zkgrad.reference import run_float

SYNTHETIC_SAMPLES = 16

Calibration = str | os.PathLike[str] | np.ndarray | list[Any] | None


def compile(path: str | os.PathLike[str], calibration: Calibration = None) -> Model:
    """Import, quantise and commit an ONNX model.

    ``calibration``: sample inputs (array ``[N, ...]`` or a ``.npy``/``.npz``/``.json``
    file) used to choose activation scales and to measure the accuracy lost. Without
    it, default scales are used (|activations| ≤ 8 assumed) and the report is
    measured on standard-normal synthetic inputs.
    """
    quantized = build(path, calibration)
    return Model(_native.NativeModel.from_ir(quantized.ir_json(), quantized.tensors))


def build(path: str | os.PathLike[str], calibration: Calibration = None) -> Quantized:
    """Everything :func:`compile` does except the final commitment: the IR and its tensors."""
    graph, onnx_model = import_onnx(path)
    if calibration is None:
        rng = np.random.default_rng(0)
        samples = rng.standard_normal((SYNTHETIC_SAMPLES, *graph.input_shape))
        source = "synthetic N(0,1) inputs; no calibration data"
    else:
        if isinstance(calibration, (str, os.PathLike)):
            data: object = read_array(calibration)
        else:
            data = calibration
        samples = as_batch(data, graph.input_shape, "calibration data")
        source = "calibration data"
    names = [graph.input, *(op.output for op in graph.ops if isinstance(op, Dense))]
    floats = run_float(onnx_model, samples, [*names, graph.onnx_output])
    limits = None
    if calibration is not None:
        limits = calibrated_max({name: floats[name] for name in names})
    quantized = quantize(graph, limits)
    meta = quantized.ir["meta"]
    meta["zkgrad_version"] = __version__
    meta["source"] = Path(path).name
    meta["calibration"] = {
        "samples": int(samples.shape[0]) if calibration is not None else 0,
        "default_max_abs": None if calibration is not None else DEFAULT_ACT_MAX,
    }
    draft = _native.NativeModel.from_ir(quantized.ir_json(), quantized.tensors)
    meta["report"] = _report(draft, graph, quantized, samples, floats[graph.onnx_output], source)
    return quantized


def _report(
    native: _native.NativeModel,
    graph: FloatGraph,
    quantized: Quantized,
    samples: np.ndarray,
    reference: np.ndarray,
    source: str,
) -> dict[str, Any]:
    s_in = quantized.scales[graph.input]
    s_out = quantized.scales[graph.output]
    outputs = []
    try:
        for sample in samples:
            x_q = quantize_input(sample, s_in, graph.input).reshape(-1)
            outputs.append(np.asarray(native.run(x_q), dtype=np.float64) / 2.0**s_out)
    except ModelError as exc:
        if source == "calibration data":
            raise
        return {"source": source, "samples": 0, "error": str(exc)}
    return error_report(reference, np.stack(outputs), source, graph.onnx_output)

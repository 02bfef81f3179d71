"""The accuracy report: how far the quantised model is from the float model, and where.

At compile time every sample runs through onnxruntime (the float reference, with every imported
activation as an extra output) and through the integer forward pass (``run_trace``), and this
module compares them:

* per output element and overall: max and mean absolute error, argmax agreement;
* per layer (each imported activation that is also an ONNX tensor): max and mean absolute error,
  and the *relative* error (mean |Δ| / mean |float|). The layer that adds the most relative error
  over the tensor before it is named as the largest contributor. This is a heuristic (errors
  partly cancel or grow through later layers), not an exact attribution.

The report is a JSON-ready dict stored in the model's ``meta``, with a capped sample of (float,
quantised) output pairs so that :func:`plot` can draw it later from the ``.zkg`` alone.

Example::

    model = zkgrad.compile("mlp.onnx", calibration=samples)
    print(model.report["worst_layer"])
    zkgrad.report.plot(model.report, "error.png")
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from zkgrad import _native
from zkgrad.errors import ModelError
from zkgrad.graph import FloatGraph
from zkgrad.inputs import quantize_input

#: At most this many (float, quantised) output pairs are kept for the plot.
MAX_POINTS = 2000
#: Per-output statistics are kept for at most this many output elements.
MAX_OUTPUTS = 1024
_DIGITS = 6


def _r(value: float) -> float:
    return round(float(value), _DIGITS)


def compared_tensors(graph: FloatGraph) -> list[str]:
    """The activations the report compares: the ones that are also ONNX tensors."""
    return [name for name in graph.activations() if ":" not in name]


def measure(
    native: _native.NativeModel,
    graph: FloatGraph,
    scales: Mapping[str, int],
    samples: np.ndarray,
    floats: Mapping[str, np.ndarray],
    source: str,
) -> dict[str, Any]:
    """Run every sample through ``native`` and compare with the float tensors ``floats``.

    ``floats`` maps ONNX tensor names (at least :func:`compared_tensors` and
    ``graph.onnx_output``) to arrays ``[N, ...]``. A sample that leaves the provable range is
    an error for calibration data and turns the report into ``{"error": ...}`` otherwise.
    """
    names = [name for name in compared_tensors(graph) if name in floats and name in scales]
    traces: dict[str, list[np.ndarray]] = {name: [] for name in names}
    try:
        for sample in samples:
            x_q = quantize_input(sample, scales[graph.input], graph.input).reshape(-1)
            trace = native.run_trace(x_q)
            for name in names:
                traces[name].append(np.asarray(trace[name], dtype=np.float64))
    except ModelError as exc:
        if source == "calibration data":
            raise
        return {"source": source, "samples": 0, "error": str(exc)}
    dequantised = {name: np.stack(rows) / 2.0 ** scales[name] for name, rows in traces.items()}
    report = error_report(
        floats[graph.onnx_output], dequantised[graph.output], source, graph.onnx_output
    )
    report["layers"] = _layers(graph, names, dequantised, floats)
    if report["layers"]:
        worst = max(report["layers"], key=lambda layer: layer["added_relative_error"])
        report["worst_layer"] = {key: worst[key] for key in ("node", "op", "tensor")}
    reference = np.asarray(floats[graph.onnx_output], dtype=np.float64)
    report["points"] = _points(reference, dequantised[graph.output])
    return report


def error_report(
    reference: np.ndarray, quantized: np.ndarray, source: str, output: str
) -> dict[str, Any]:
    """Float (onnxruntime) vs dequantised integer outputs, both shaped [N, ...]."""
    ref = np.asarray(reference, dtype=np.float64).reshape(len(reference), -1)
    got = np.asarray(quantized, dtype=np.float64).reshape(len(quantized), -1)
    diff = np.abs(ref - got)
    report: dict[str, Any] = {
        "source": source,
        "samples": int(ref.shape[0]),
        "output": output,
        "max_abs_error": _r(diff.max()),
        "mean_abs_error": _r(diff.mean()),
        "float_max_abs": _r(np.abs(ref).max()),
    }
    if ref.shape[1] > 1:
        agree = np.argmax(ref, axis=1) == np.argmax(got, axis=1)
        report["argmax_agreement"] = _r(agree.mean())
    kept = diff[:, :MAX_OUTPUTS]
    report["per_output"] = {
        "max_abs_error": [_r(v) for v in kept.max(axis=0)],
        "mean_abs_error": [_r(v) for v in kept.mean(axis=0)],
        "truncated": bool(diff.shape[1] > MAX_OUTPUTS),
    }
    return report


def _layers(
    graph: FloatGraph,
    names: list[str],
    dequantised: Mapping[str, np.ndarray],
    floats: Mapping[str, np.ndarray],
) -> list[dict[str, Any]]:
    producers = {op.output: op for op in graph.ops}
    layers = []
    previous = 0.0
    for name in names:
        got = dequantised[name].reshape(len(dequantised[name]), -1)
        ref = np.asarray(floats[name], dtype=np.float64).reshape(got.shape)
        diff = np.abs(got - ref)
        scale = float(np.abs(ref).mean())
        relative = float(diff.mean()) / scale if scale > 0 else 0.0
        op = producers.get(name)
        layers.append(
            {
                "tensor": name,
                "node": op.name if op is not None else "(input quantisation)",
                "op": type(op).__name__ if op is not None else "Input",
                "max_abs_error": _r(diff.max()),
                "mean_abs_error": _r(diff.mean()),
                "float_mean_abs": _r(scale),
                "relative_error": _r(relative),
                "added_relative_error": _r(relative - previous),
            }
        )
        previous = relative
    return layers


def _points(reference: np.ndarray, quantised: np.ndarray) -> dict[str, list[float]]:
    ref = reference.reshape(len(reference), -1).reshape(-1)[:MAX_POINTS]
    got = quantised.reshape(len(quantised), -1).reshape(-1)[:MAX_POINTS]
    return {"float": [_r(v) for v in ref], "quantized": [_r(v) for v in got]}


def plot(report: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Draw float vs quantised outputs and the per-layer error to an image file (PNG, SVG...).

    Raises :class:`ModelError` if the report has no measurements (e.g. a model compiled by an
    older zkgrad, or one whose synthetic inputs left the provable range).
    """
    if "points" not in report or "layers" not in report:
        raise ModelError("the model's accuracy report has no measurements to plot")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import NullFormatter

    layers = report["layers"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    ref = np.asarray(report["points"]["float"])
    got = np.asarray(report["points"]["quantized"])
    left.scatter(ref, got, s=8, alpha=0.6, label="outputs")
    if ref.size:
        low, high = float(min(ref.min(), got.min())), float(max(ref.max(), got.max()))
        left.plot([low, high], [low, high], color="grey", linewidth=1, label="y = x")
    left.set_xlabel("float output (onnxruntime)")
    left.set_ylabel("quantised output (zkgrad)")
    left.set_title(
        f"outputs on {report['samples']} samples: max |Δ| {report['max_abs_error']:.3g}, "
        f"mean |Δ| {report['mean_abs_error']:.3g}"
    )
    left.legend()
    worst = (report.get("worst_layer") or {}).get("tensor")
    labels = [_short(layer["node"]) for layer in layers]
    values = [max(layer["relative_error"], 1e-12) for layer in layers]
    colours = ["tab:red" if layer["tensor"] == worst else "tab:blue" for layer in layers]
    positions = np.arange(len(layers))
    right.barh(positions, values, color=colours)
    right.set_yticks(positions, labels)
    right.invert_yaxis()
    right.set_xscale("log")
    right.xaxis.set_minor_formatter(NullFormatter())
    right.set_xlabel("relative error (mean |Δ| / mean |float|), log scale")
    right.set_title("per-layer error (red: adds the most)")
    target = Path(path)
    fig.savefig(target, dpi=100)
    plt.close(fig)
    return target


def _short(name: str, width: int = 32) -> str:
    return name if len(name) <= width else "…" + name[-(width - 1) :]

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
``model.report`` wraps it in a :class:`CompileReport` (still a dict) that prints as a table.
When the relative output error exceeds :data:`RELATIVE_ERROR_WARNING`, compiling warns
(:class:`~zkgrad.errors.QuantizationWarning`) and the report keeps the text as ``warning``.

Example::

    model = zkgrad.compile("mlp.onnx", calibration=samples)
    print(model.report)                       # a table: output error, per-layer error, worst layer
    model.report.worst_layer.node             # the layer that adds the most relative error
    zkgrad.report.plot(model.report, "error.png")
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
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
#: Compiling warns when the output's relative error (mean |Δ| / mean |float|) exceeds this.
#: The test models stay below 0.8 % even with 12-bit activations (``target="size"``).
RELATIVE_ERROR_WARNING = 0.02
#: Input elements whose mean magnitudes differ by more than this factor share one fixed-point
#: scale badly: the small ones keep only a few bits (the hint for a folded StandardScaler).
INPUT_SPREAD_HINT = 2.0**8


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
    table_bits: int | None = None,
) -> dict[str, Any]:
    """Run every sample through ``native`` and compare with the float tensors ``floats``.

    ``floats`` maps ONNX tensor names (at least :func:`compared_tensors` and every ONNX
    output) to arrays ``[N, ...]``. A sample that leaves the provable range is
    an error for calibration data and turns the report into ``{"error": ...}`` otherwise.
    A relative output error above :data:`RELATIVE_ERROR_WARNING` adds ``warning``
    (:func:`accuracy_warning`; ``table_bits`` is the activation width, for its hint).
    """
    names = [name for name in compared_tensors(graph) if name in floats and name in scales]
    # Every output's tensor, even one the importer made (an output that is the input's copy).
    outputs = graph.named_outputs or [(graph.onnx_output, graph.output)]
    traced = list(dict.fromkeys([*names, *(tensor for _, tensor in outputs)]))
    traces: dict[str, list[np.ndarray]] = {name: [] for name in traced}
    try:
        for sample in samples:
            x_q = quantize_input(sample, scales[graph.input], graph.input).reshape(-1)
            trace = native.run_trace(x_q)
            for name in traced:
                traces[name].append(np.asarray(trace[name], dtype=np.float64))
    except ModelError as exc:
        if source == "calibration data":
            raise
        return {"source": source, "samples": 0, "error": str(exc)}
    dequantised = {name: np.stack(rows) / 2.0 ** scales[name] for name, rows in traces.items()}
    # Several outputs are measured together, as the proof states them (flattened, side by side).
    reference = np.concatenate(
        [np.asarray(floats[o], dtype=np.float64).reshape(len(samples), -1) for o, _ in outputs], 1
    )
    quantised = np.concatenate([dequantised[t].reshape(len(samples), -1) for _, t in outputs], 1)
    label = ", ".join(o for o, _ in outputs)
    report = error_report(reference, quantised, source, label)
    if graph.named_outputs:  # an argmax across different outputs means nothing
        report.pop("argmax_agreement", None)
    report["layers"] = _layers(graph, names, dequantised, floats)
    if report["layers"]:
        worst = max(report["layers"], key=lambda layer: layer["added_relative_error"])
        report["worst_layer"] = {key: worst[key] for key in ("node", "op", "tensor")}
    report["points"] = _points(reference, quantised)
    warning = accuracy_warning(report, samples, table_bits)
    if warning is not None:
        report["warning"] = warning
    return report


def accuracy_warning(
    report: Mapping[str, Any], samples: np.ndarray | None = None, table_bits: int | None = None
) -> str | None:
    """One sentence when the relative output error exceeds :data:`RELATIVE_ERROR_WARNING`.

    It names the layer that adds the most relative error and, where the data shows a likely
    cause, what to do: input elements of very different magnitudes (e.g. raw features with a
    StandardScaler folded into the first layer) share one fixed-point scale, so the small ones
    lose their bits; 12-bit activations (``target="size"``); no calibration data.
    """
    relative = float(report.get("relative_error", 0.0))
    if relative <= RELATIVE_ERROR_WARNING:
        return None
    text = (
        f"the quantised model's output is off by {relative:.1%} of its magnitude "
        f"(mean |Δ| / mean |float| on {report.get('samples')} samples of "
        f"{report.get('source')}), above the {RELATIVE_ERROR_WARNING:.0%} warning threshold"
    )
    worst = report.get("worst_layer")
    if worst:
        text += (
            f"; most of it is added by layer '{worst['node']}' ({worst['op']}, tensor "
            f"'{worst['tensor']}')"
        )
    return text + _hint(report, samples, table_bits)


def _hint(report: Mapping[str, Any], samples: np.ndarray | None, table_bits: int | None) -> str:
    if samples is not None and samples.shape[0] > 0:
        flat = np.abs(np.asarray(samples, dtype=np.float64).reshape(samples.shape[0], -1))
        magnitudes = flat.mean(axis=0)
        magnitudes = magnitudes[magnitudes > 0]
        if magnitudes.size > 1 and magnitudes.max() > INPUT_SPREAD_HINT * magnitudes.min():
            return (
                f": the input's elements range in mean magnitude from {magnitudes.min():.3g} "
                f"to {magnitudes.max():.3g} but share one fixed-point scale, so the small ones "
                "keep few bits; standardise the input before the model instead of inside it "
                "(scikit-learn: apply the StandardScaler yourself and convert only the "
                "estimator after it)"
            )
    if table_bits is not None and table_bits < 16:
        return f": {table_bits}-bit activations (target='size'); target='accuracy' uses 16"
    if str(report.get("source", "")).startswith("synthetic"):
        return ": the scales were guessed without calibration data; pass calibration samples"
    return ""


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
        "relative_error": _r(_relative(diff, ref)),
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
        relative = _relative(diff, ref)
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


def _relative(diff: np.ndarray, reference: np.ndarray) -> float:
    """mean |Δ| / mean |float| (0 for an all-zero reference)."""
    scale = float(np.abs(reference).mean())
    return float(diff.mean()) / scale if scale > 0 else 0.0


def _points(reference: np.ndarray, quantised: np.ndarray) -> dict[str, list[float]]:
    ref = reference.reshape(len(reference), -1).reshape(-1)[:MAX_POINTS]
    got = quantised.reshape(len(quantised), -1).reshape(-1)[:MAX_POINTS]
    return {"float": [_r(v) for v in ref], "quantized": [_r(v) for v in got]}


@dataclass(frozen=True)
class LayerError:
    """One row of the per-layer report: the error of one activation against onnxruntime."""

    tensor: str
    node: str
    op: str
    max_abs_error: float
    mean_abs_error: float
    float_mean_abs: float
    relative_error: float
    added_relative_error: float

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> LayerError:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


class CompileReport(dict[str, Any]):
    """The accuracy report of a compiled model (``model.report``): prints as a table.

    It is the JSON-ready dict stored in the model (so ``report["layers"]`` still works and
    ``json.dumps(report)`` writes it), with the measurements as attributes too:
    ``relative_error``, ``max_abs_error``, ``layers`` (:class:`LayerError` rows),
    ``worst_layer``, ``output_errors`` (signed quantised − float over the stored outputs),
    ``warning``, and the ``model_name`` and ``digest`` it belongs to.
    """

    def __init__(
        self, data: Mapping[str, Any], model_name: str | None = None, digest: str | None = None
    ) -> None:
        super().__init__(data)
        self.model_name = model_name
        self.digest = digest

    @property
    def measured(self) -> bool:
        """False when nothing was measured (see ``error``)."""
        return "max_abs_error" in self

    @property
    def error(self) -> str | None:
        """Why nothing was measured (synthetic inputs out of range), or None."""
        return self.get("error")

    @property
    def source(self) -> str:
        return str(self.get("source", ""))

    @property
    def samples(self) -> int:
        return int(self.get("samples", 0))

    @property
    def max_abs_error(self) -> float | None:
        return self.get("max_abs_error")

    @property
    def mean_abs_error(self) -> float | None:
        return self.get("mean_abs_error")

    @property
    def argmax_agreement(self) -> float | None:
        return self.get("argmax_agreement")

    @property
    def relative_error(self) -> float | None:
        """The output's mean |Δ| / mean |float| (from its layer row in older reports)."""
        if "relative_error" in self:
            return float(self["relative_error"])
        layers = self.layers
        return layers[-1].relative_error if layers else None

    @property
    def layers(self) -> list[LayerError]:
        return [LayerError.from_dict(row) for row in self.get("layers") or []]

    @property
    def worst_layer(self) -> LayerError | None:
        """The layer that adds the most relative error over the one before it (a heuristic)."""
        worst = self.get("worst_layer")
        if not worst:
            return None
        return next((row for row in self.layers if row.tensor == worst["tensor"]), None)

    @property
    def output_errors(self) -> np.ndarray:
        """Quantised − float for the stored outputs (at most :data:`MAX_POINTS` values)."""
        points = self.get("points") or {"float": [], "quantized": []}
        return np.asarray(points["quantized"], dtype=np.float64) - np.asarray(
            points["float"], dtype=np.float64
        )

    @property
    def warning(self) -> str | None:
        return self.get("warning")

    def __str__(self) -> str:
        title = "accuracy report" + (f" of {self.model_name}" if self.model_name else "")
        if self.digest:
            title += f" (digest {self.digest[:16]}…)"
        if not self.measured:
            return f"{title}: not measured ({self.error or 'no report'})"
        lines = [f"{title}: {self.samples} samples of {self.source}"]
        output = (
            f"output '{self.get('output', '?')}': relative error {_pct(self.relative_error)}, "
            f"max |Δ| {self.max_abs_error:.4g}, mean |Δ| {self.mean_abs_error:.4g} "
            f"(float outputs up to {self.get('float_max_abs', 0.0):.4g})"
        )
        if self.argmax_agreement is not None:
            output += f", argmax agreement {self.argmax_agreement * 100:.1f} %"
        lines.append(output)
        lines.extend(self._output_lines())
        lines.extend(self._layer_table())
        worst = self.worst_layer
        if worst is not None:
            lines.append(
                f"worst layer: '{worst.node}' ({worst.op}, tensor '{worst.tensor}') adds "
                f"{_pct(worst.added_relative_error, signed=True)} relative error "
                "(attribution is a heuristic)"
            )
        if self.warning:
            lines.append(f"warning: {self.warning}")
        return "\n".join(lines)

    __repr__ = __str__

    def _output_lines(self) -> list[str]:
        per_output = self.get("per_output") or {}
        maxes = list(per_output.get("max_abs_error") or [])
        if len(maxes) < 2:
            return []
        index = max(range(len(maxes)), key=maxes.__getitem__)
        return [f"worst output element: #{index} of {len(maxes)}, max |Δ| {maxes[index]:.4g}"]

    def _layer_table(self) -> list[str]:
        layers = self.layers
        if not layers:
            return []
        worst = self.worst_layer
        header = ("layer", "op", "max |Δ|", "mean |Δ|", "relative", "added")
        rows = [
            (
                ("* " if row == worst else "  ") + _short(row.node, 40),
                row.op,
                f"{row.max_abs_error:.4g}",
                f"{row.mean_abs_error:.4g}",
                _pct(row.relative_error),
                _pct(row.added_relative_error, signed=True),
            )
            for row in layers
        ]
        widths = [
            max(len(r[i]) for r in [("  " + header[0], *header[1:]), *rows]) for i in range(6)
        ]

        def line(cells: tuple[str, ...]) -> str:
            left = [cells[0].ljust(widths[0]), cells[1].ljust(widths[1])]
            right = [cell.rjust(width) for cell, width in zip(cells[2:], widths[2:], strict=True)]
            return "  ".join(left + right).rstrip()

        return [line(("  " + header[0], *header[1:])), *(line(row) for row in rows)]


def _pct(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "?"
    return f"{value * 100:+.3g} %" if signed else f"{value * 100:.3g} %"


@dataclass(frozen=True)
class PlotData:
    """What :func:`plot` draws, computed from a report alone (so it can be tested).

    Left: per layer, the relative error it adds (bars; negative when a layer lowers it, e.g. a
    ReLU zeroing noisy negatives) and the relative error after it (markers), in percent on a
    linear axis; the highlighted bar is the tallest, the report's worst layer. Right: the
    distribution of the signed output error, quantised − float.
    """

    title: str
    layer_labels: list[str]
    added_percent: list[float]
    relative_percent: list[float]
    highlighted: int | None
    output_errors: np.ndarray
    output_summary: str


def plot_data(
    report: Mapping[str, Any], model_name: str | None = None, digest: str | None = None
) -> PlotData:
    """The data of the plot (see :class:`PlotData`); raises :class:`ModelError` without it."""
    if "points" not in report or "layers" not in report:
        raise ModelError("the model's accuracy report has no measurements to plot")
    wrapped = report if isinstance(report, CompileReport) else CompileReport(report)
    name = model_name or wrapped.model_name
    digest = digest or wrapped.digest
    layers = wrapped.layers
    added = [row.added_relative_error * 100 for row in layers]
    highlighted = int(np.argmax(added)) if added else None
    title = "quantisation error" + (f" of {name}" if name else "")
    if digest:
        title += f", model digest {digest[:16]}…"
    errors = wrapped.output_errors
    summary = (
        f"{errors.size} values, {wrapped.samples} samples: mean |Δ| "
        f"{wrapped.mean_abs_error:.3g}, max |Δ| {wrapped.max_abs_error:.3g}, relative "
        f"{_pct(wrapped.relative_error)}"
    )
    return PlotData(
        title=title,
        layer_labels=[_short(row.node) for row in layers],
        added_percent=added,
        relative_percent=[row.relative_error * 100 for row in layers],
        highlighted=highlighted,
        output_errors=errors,
        output_summary=summary,
    )


#: Bar colours: the highlighted (worst) layer and the others.
WORST_COLOUR, LAYER_COLOUR = "tab:red", "tab:blue"


def figure(data: PlotData) -> Any:
    """A matplotlib ``Figure`` of :class:`PlotData` (``plot`` saves it)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5), constrained_layout=True)
    fig.suptitle(data.title)
    positions = np.arange(len(data.layer_labels))
    colours = [WORST_COLOUR if i == data.highlighted else LAYER_COLOUR for i in positions]
    left.barh(positions, data.added_percent, color=colours, label="added by the layer")
    left.scatter(data.relative_percent, positions, color="black", zorder=3, label="after the layer")
    left.axvline(0.0, color="grey", linewidth=0.8)
    left.set_yticks(positions, data.layer_labels)
    left.invert_yaxis()
    left.set_xlabel("relative error, % (mean |Δ| / mean |float|)")
    left.set_title("per-layer relative error\n(red: the layer that adds the most)")
    left.legend(loc="best")
    errors = data.output_errors
    right.hist(errors, bins=min(50, max(10, errors.size // 20)), color=LAYER_COLOUR)
    right.axvline(0.0, color="grey", linewidth=0.8)
    right.set_xlabel("output error: quantised − float")
    right.set_ylabel("output values")
    right.set_title(f"distribution of the output error\n{data.output_summary}", fontsize="medium")
    return fig


def plot(
    report: Mapping[str, Any],
    path: str | os.PathLike[str],
    *,
    model_name: str | None = None,
    digest: str | None = None,
) -> Path:
    """Draw the per-layer relative error and the output error distribution to an image file.

    The title names the model and its digest (taken from a :class:`CompileReport`, or given).
    Raises :class:`ModelError` if the report has no measurements (e.g. a model compiled by an
    older zkgrad, or one whose synthetic inputs left the provable range).
    """
    fig = figure(plot_data(report, model_name, digest))
    from matplotlib import pyplot as plt

    target = Path(path)
    fig.savefig(target, dpi=100)
    plt.close(fig)
    return target


def _short(name: str, width: int = 32) -> str:
    return name if len(name) <= width else "…" + name[-(width - 1) :]

"""``compile``: ONNX file -> calibrated, quantised, committed :class:`~zkgrad.model.Model`.

Example::

    model = zkgrad.compile("mlp.onnx", calibration=np.random.rand(16, 784))
    print(model.report)                  # float-vs-quantised error, per layer
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from zkgrad import __version__, _native
from zkgrad.errors import ModelError, QuantizationWarning
from zkgrad.float_run import synthetic_max
from zkgrad.input_layout import InputLayout, as_samples
from zkgrad.inputs import read_inputs
from zkgrad.model import Model, parse_seed
from zkgrad.onnx import import_onnx
from zkgrad.onnx_inputs import layout_of
from zkgrad.public_inputs import add_statements, check_scales, pin_scales, split_visibility
from zkgrad.quantize import DEFAULT_ACT_MAX, Quantized, calibrated_max, quantize, table_bits_for
from zkgrad.reference import run_float
from zkgrad.report import compared_tensors, measure

SYNTHETIC_SAMPLES = 16

Calibration = str | os.PathLike[str] | np.ndarray | list[Any] | Mapping[str, Any] | None
Progress = Callable[[str], None]


def _quiet(step: str) -> None:
    del step


#: Who may see the model input: hidden in the witness, stated in every proof, or hidden behind
#: a commitment whose digest every proof states (deterministic given the owner's input seed).


#: The one error for callers that still ask for proofs without zero knowledge.
NO_ZK_REMOVED = "zero knowledge is always on since proof format 6; {what} was removed"


def check_zk(zk: bool, what: str = "zk=False") -> None:
    """Refuses ``zk=False`` (``what`` names how the caller asked for it) with one clear sentence."""
    if not zk:
        raise ModelError(NO_ZK_REMOVED.format(what=what))


def compile(
    path: str | os.PathLike[str],
    calibration: Calibration = None,
    *,
    target: str = "accuracy",
    progress: Progress | None = None,
    input_visibility: str | Mapping[str, str] = "private",
    zk: bool = True,
    seed: bytes | str | None = None,
) -> Model:
    """Import, quantise and commit an ONNX model.

    ``calibration``: sample inputs (array ``[N, ...]`` or a ``.npy``/``.npz``/``.json``
    file; for a model with several inputs, a dict ``{name: [N, ...]}`` or such a file) used
    to choose activation scales and to measure the accuracy lost. Without it, default scales
    are used (|activations| ≤ 8 assumed) and the report is
    measured on standard-normal synthetic inputs. ``target``: ``"accuracy"`` (16-bit
    activations) or ``"size"`` (12-bit activations: 16× smaller lookup tables, smaller and
    faster proofs, more rounding error — the report shows how much). ``progress`` is called
    with a short description of each step as it starts. ``input_visibility``: ``"private"``
    (default: the input stays hidden in the witness) or ``"public"`` (every proof states its
    quantised input, bound by Fiat–Shamir, so a verifier can check which input was used) or
    ``"committed"`` (the input stays hidden, and every proof carries a commitment to it whose
    digest is part of the statement; the commitment is derived from the input and a secret
    32-byte ``input_seed`` the data owner passes to :meth:`~zkgrad.Model.prove`, so two proofs
    of the same input with the same seed carry the same ``proof.input_commitment``). For a
    model with several inputs, the visibility is that of all of them (the circuit proves their
    concatenation); a dict ``{input name: visibility}`` is accepted when its values are equal.
    Proofs are always zero-knowledge; ``zk`` is kept only so that old callers get a clear
    error: ``zk=False`` raises :class:`~zkgrad.ModelError`. CNNs (convolution, max and average
    pooling, 1-D or 2-D) are proved too, except a convolution with a single value per patch
    (C_in·kh·kw < 2), which raises :class:`~zkgrad.ModelError` naming the node.

    **Why the digest changes on every compile.** The weight commitment is hiding: it is
    blinded with random masks drawn from a secret seed at compile time (kept in the ``.zkg``),
    so the published digest reveals nothing about the weights. The masks must be secret and
    fresh, so by default every compile draws a new seed and the same ONNX file gets a new
    digest. ``seed`` (32 bytes, or 64 hex digits) fixes it for a reproducible build: the same
    file, calibration data, ``target`` and ``seed`` give the same digest. Keep such a seed as
    secret as the weights (whoever knows it can test a guess of the weights against the
    digest) and never reuse a well-known one for a model you publish.

    A relative output error above :data:`zkgrad.report.RELATIVE_ERROR_WARNING` is reported
    with a :class:`~zkgrad.QuantizationWarning` naming the layer that adds the most of it (the
    same text is kept in ``model.report.warning``).
    """
    check_zk(zk)
    split_visibility(input_visibility)  # a bad value is an error before any work
    commitment_seed = None if seed is None else parse_seed(seed, "seed")
    report = progress or _quiet
    quantized = build(
        path, calibration, target=target, progress=report, input_visibility=input_visibility
    )
    warning = quantized.ir["meta"]["report"].get("warning")
    if warning:
        warnings.warn(warning, QuantizationWarning, stacklevel=2)
    report("committing to the weights")
    native = _native.NativeModel.from_ir(quantized.ir_json(), quantized.tensors, commitment_seed)
    return Model(native)


def build(
    path: str | os.PathLike[str],
    calibration: Calibration = None,
    *,
    target: str = "accuracy",
    progress: Progress | None = None,
    input_visibility: str | Mapping[str, str] = "private",
) -> Quantized:
    """Everything :func:`compile` does except the final commitment: the IR and its tensors.

    The native module refuses a convolution the protocol cannot prove (fewer than two output
    channels or values per patch) here already, naming the node, before the accuracy is measured.
    """
    table_bits = table_bits_for(target)
    report = progress or _quiet
    report("importing the ONNX model")
    graph, onnx_model = import_onnx(path)
    found = layout_of(onnx_model)
    layout = None if found is None else InputLayout(found)
    # A dict's names are known to be the model's inputs only now, after the import.
    visibility, public = split_visibility(
        input_visibility, layout.names if layout else [graph.onnx_input]
    )
    cuts = add_statements(graph, public)
    if calibration is None:
        rng = np.random.default_rng(0)
        samples = rng.standard_normal((SYNTHETIC_SAMPLES, *graph.input_shape))
        source = "synthetic N(0,1) inputs; no calibration data"
    else:
        names = [graph.onnx_input] if layout is None else layout.names
        if isinstance(calibration, (str, os.PathLike)):
            data: object = read_inputs(calibration, names)
        else:
            data = calibration
        samples, _ = as_samples(data, graph.input_shape, layout, "calibration data")
        source = "calibration data"
    names = compared_tensors(graph)
    report(f"running onnxruntime on {samples.shape[0]} samples")
    outputs = [name for name, _ in graph.named_outputs] or [graph.onnx_output]
    floats = run_float(onnx_model, samples, [*names, *outputs])
    for name, values in floats.items():
        bad = ~np.isfinite(np.asarray(values, dtype=np.float64).reshape(len(values), -1))
        if bad.any():
            sample = int(np.argmax(bad.any(axis=1)))
            node = next((op.name for op in graph.ops if op.output == name), None)
            where = f"node '{node}' (tensor '{name}')" if node else f"tensor '{name}'"
            raise ModelError(
                f"on {source} sample {sample}, onnxruntime computes a non-finite value (inf or "
                f"NaN, e.g. a division by zero) in {where}; use samples the float model maps "
                "to finite values"
            )
    limits = None
    if calibration is not None:
        limits = calibrated_max({name: floats[name] for name in names})
        # Tensors the importer made itself (a softmax's sum, a norm's variance) have no ONNX
        # tensor: the float graph gives their ranges.
        limits.update(synthetic_max(graph, samples))
    if public:
        limits = {} if limits is None else limits
        pin_scales(limits, graph, cuts)
    report("quantising")
    quantized = quantize(graph, limits, table_bits)
    check_scales(quantized.scales, graph)
    if visibility != "private":
        quantized.ir["input"]["visibility"] = visibility
    meta = quantized.ir["meta"]
    meta["zkgrad_version"] = __version__
    if layout is not None:
        meta["onnx"]["inputs"] = layout.to_meta()
    meta["source"] = Path(path).name
    meta["calibration"] = {
        "samples": int(samples.shape[0]) if calibration is not None else 0,
        "default_max_abs": None if calibration is not None else DEFAULT_ACT_MAX,
    }
    report(f"measuring the accuracy on {samples.shape[0]} samples")
    draft = _native.NativeModel.from_ir(quantized.ir_json(), quantized.tensors)
    meta["report"] = measure(draft, graph, quantized.scales, samples, floats, source, table_bits)
    return quantized

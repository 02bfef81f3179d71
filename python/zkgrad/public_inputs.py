"""Inputs of mixed visibility: some of a model's inputs public, the others hidden.

The circuit has one input vector with one visibility (``zkgrad.onnx_inputs`` concatenates a
graph's inputs). With ``input_visibility={"x": "public", "y": "private"}`` the vector is hidden
(private, or committed when the hidden inputs are committed) and every public input is *stated*
instead: the 0/1 layer that cuts it out of the vector is an extra output of the circuit
(``CircuitSpec::extra_outputs``), so every proof carries its values, bound by Fiat–Shamir like
any output, and the proof shows that the hidden vector holds exactly them. Its quantisation is
exact: the layer's output scale is pinned to the input's (:func:`pin_scales`) and its weights
are 1. The verifier reads the stated values (:func:`stated`) and, given
the public inputs, checks them (:func:`check`).

What is hidden: the hidden inputs' values, as with a private input; the public ones are in the
statement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zkgrad.errors import InvalidProof, ModelError
from zkgrad.graph import Dense, FloatGraph, Reshape
from zkgrad.inputs import read_inputs

#: The visibilities an input may have.
VISIBILITIES = ("private", "public", "committed")


def split_visibility(
    visibility: str | Mapping[str, str], names: Sequence[str] | None = None
) -> tuple[str, list[str]]:
    """The circuit input's visibility and the names of the inputs stated as public outputs.

    ``visibility`` is one visibility for every input, or ``{input name: visibility}``. Equal
    values are that one visibility; mixed ones make the vector hidden (the hidden inputs'
    visibility, which they must share) and list the public inputs. ``names`` (the model's
    inputs, once known) are checked against the dict's keys.
    """
    if not isinstance(visibility, Mapping):
        _check_known(str(visibility))
        return str(visibility), []
    if not visibility:
        raise ModelError("input visibility: the dict names no input")
    for value in visibility.values():
        _check_known(str(value))
    if names is not None:
        for name in visibility:
            if name not in names:
                listed = ", ".join(f"'{n}'" for n in names)
                raise ModelError(
                    f"input visibility names '{name}', which is not an input of the model "
                    f"(its inputs are {listed})"
                )
        for name in names:
            if name not in visibility:
                raise ModelError(f"input visibility: input '{name}' is not given a visibility")
    values = {str(v) for v in visibility.values()}
    if len(values) == 1:
        return values.pop(), []
    hidden = values - {"public"}
    if len(hidden) > 1:
        raise ModelError(
            "input visibility: the inputs that are not public must share one visibility "
            f"(private or committed), not {' and '.join(sorted(hidden))}"
        )
    return hidden.pop(), [name for name, v in visibility.items() if v == "public"]


def _check_known(value: str) -> None:
    if value not in VISIBILITIES:
        raise ModelError(f"input visibility {value!r} is not one of {', '.join(VISIBILITIES)}")


def _slice_of(graph: FloatGraph, name: str) -> Dense:
    """The 0/1 layer that cuts input ``name`` out of the concatenated input (under reshapes)."""
    producers = {op.output: op for op in graph.ops}
    tensor = name
    while isinstance(producers.get(tensor), Reshape):
        tensor = producers[tensor].input
    op = producers.get(tensor)
    if not isinstance(op, Dense) or op.input != graph.input or op.bias is not None:
        raise ModelError(
            f"public input '{name}' is not cut out of the model's inputs by a layer of its own "
            "(the importer merged it into another layer), so it cannot be stated on its own; "
            "make every input public or none"
        )
    return op


def add_statements(graph: FloatGraph, names: Sequence[str]) -> dict[str, str]:
    """Make each public input an extra output of ``graph``: the output of the layer that cuts
    it out of the concatenated input (a block of its own; its column becomes public). Returns
    {input name: that layer's output} (whose scales :func:`pin_scales` pins)."""
    cuts = {}
    for name in names:
        cut = _slice_of(graph, name)
        if cut.output == graph.output or cut.output in graph.extra_outputs:
            raise ModelError(
                f"public input '{name}' is also a model output; state it once, as an output"
            )
        graph.extra_outputs.append(cut.output)
        graph.public_inputs.append((name, cut.output))
        cuts[name] = cut.output
    if names and not graph.named_outputs:
        graph.named_outputs = [(graph.onnx_output, graph.output)]
    return cuts


def pin_scales(limits: dict[str, float], graph: FloatGraph, cuts: Mapping[str, str]) -> None:
    """Give each public input's cut the input's calibrated range, so its scale is the input's
    and the cut is exact (weights 1, no rounding): the stated values are the quantised input."""
    for tensor in cuts.values():
        if graph.input in limits:
            limits[tensor] = limits[graph.input]
        else:
            limits.pop(tensor, None)


def check_scales(scales: Mapping[str, int], graph: FloatGraph) -> None:
    """Refuse a build whose statements would not be the quantised inputs exactly."""
    for name, stated in graph.public_inputs:
        if scales[stated] != scales[graph.input]:
            raise ModelError(
                f"public input '{name}' would be stated at scale 2^{scales[stated]}, not the "
                f"input's 2^{scales[graph.input]}"
            )


def stated(meta: Mapping[str, Any], output_q: np.ndarray, scale_bits: int) -> dict[str, np.ndarray]:
    """The public inputs a proof states, by name, as floats (one sample: each input's shape;
    a batch of N: ``[N, *shape]``)."""
    entries = meta.get("public_inputs") or []
    if not entries:
        return {}
    shapes = {e["name"]: tuple(e["shape"]) for e in (meta.get("onnx") or {}).get("inputs", [])}
    rows = np.asarray(output_q).reshape(-1, int(meta["statement_size"]))
    out = {}
    for e in entries:
        part = rows[:, e["offset"] : e["offset"] + e["size"]] / 2.0**scale_bits
        shape = shapes.get(e["name"], (e["size"],))
        out[e["name"]] = part.reshape(shape if rows.shape[0] == 1 else (rows.shape[0], *shape))
    return out


def check(
    meta: Mapping[str, Any], output_q: np.ndarray, quantized: Mapping[str, np.ndarray]
) -> None:
    """Raise InvalidProof unless the proof states exactly the quantised public inputs given
    (``quantized``: each input's int64 values, one sample or a batch, in the proof's order)."""
    entries = meta.get("public_inputs") or []
    rows = np.asarray(output_q).reshape(-1, int(meta["statement_size"]))
    for e in entries:
        want = np.asarray(quantized[e["name"]], dtype=np.int64).reshape(-1, e["size"])
        got = rows[:, e["offset"] : e["offset"] + e["size"]]
        if got.shape != want.shape or not np.array_equal(got, want):
            raise InvalidProof(f"the proof states another value of public input '{e['name']}'")


def parse_visibility(text: str) -> str | dict[str, str]:
    """The CLI's ``--input``: one visibility, or ``NAME=VIS`` pairs separated by commas."""
    if "=" not in text:
        return text.strip()
    pairs = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise ModelError(f"--input {text!r}: write one visibility or NAME=VIS,NAME=VIS")
        pairs[name.strip()] = value.strip()
    return pairs


def read_expected(path: Path, verifier: Any) -> object:
    """The input file ``zkgrad verify --input`` checks a proof against: for a model of mixed
    input visibility its public inputs (a dict by name), else every input."""
    names = verifier.public_inputs or verifier.input_names
    read = read_inputs(path, names)
    if verifier.public_inputs and not isinstance(read, dict):
        return {names[0]: read}
    return read

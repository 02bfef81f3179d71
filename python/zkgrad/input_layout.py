"""What a user passes as a model's input, made into the one input vector the circuit takes.

A model whose ONNX graph has several inputs is compiled to take their concatenation
(``zkgrad.onnx_inputs``); its ``meta["onnx"]["inputs"]`` keeps each input's name, shape and
offset (an :class:`InputLayout`). :func:`as_samples` is the one place where an input given
to the API (``Model.run``, ``prove``, ``quantize``, ``commit_input``, ``zkgrad.verify``,
``compile(calibration=...)``) becomes ``[N, *input_shape]``:

* a single-input model takes one sample or a batch ``[N, ...]`` (``zkgrad.inputs.as_batch``);
* a multi-input model takes a dict ``{input name: array}`` or a list/tuple in the graph's input
  order, each array one sample of that input's shape or a batch ``[N, *shape]`` (the same N for
  all), or a NumPy array holding the concatenation itself (as proofs state it).

Example::

    batch, single = as_samples({"x": x, "y": y}, (1, 8), layout, "input")   # -> [1, 1, 8]
    model.split_inputs(proof.input_q)                                        # -> {"x":, "y":}
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from zkgrad.errors import ModelError
from zkgrad.inputs import as_batch, quantize_input, to_float_array


@dataclass(frozen=True)
class InputSpec:
    """One original input: its name, shape and first position in the concatenation."""

    name: str
    shape: tuple[int, ...]
    offset: int

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def __str__(self) -> str:
        return f"'{self.name}' {list(self.shape)}"


class InputLayout:
    """The original inputs of a model compiled from a graph with several, in graph order."""

    def __init__(self, inputs: Sequence[tuple[str, Sequence[int]]]) -> None:
        specs, offset = [], 0
        for name, shape in inputs:
            specs.append(InputSpec(str(name), tuple(int(d) for d in shape), offset))
            offset += specs[-1].size
        self.specs: list[InputSpec] = specs
        self.size = offset

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> InputLayout | None:
        """The layout a compiled model's ``meta`` keeps, or None for a single-input model."""
        entries = (meta.get("onnx") or {}).get("inputs")
        if not entries:
            return None
        return cls([(entry["name"], entry["shape"]) for entry in entries])

    def to_meta(self) -> list[dict[str, Any]]:
        """The entries of ``meta["onnx"]["inputs"]``."""
        return [{"name": s.name, "shape": list(s.shape), "offset": s.offset} for s in self.specs]

    @property
    def names(self) -> list[str]:
        return [spec.name for spec in self.specs]

    def describe(self) -> str:
        """``'x' [1, 4], 'y' [1, 4]``, for messages."""
        return ", ".join(str(spec) for spec in self.specs)

    def per_input(self, x: object) -> list[object]:
        """A dict or list/tuple of inputs -> one entry per input, in order; names what is wrong."""
        if isinstance(x, Mapping):
            extra = [name for name in x if name not in self.names]
            if extra:
                raise ModelError(
                    f"'{extra[0]}' is not an input of this model; its inputs are {self.describe()}"
                )
            for spec in self.specs:
                if spec.name not in x:
                    raise ModelError(
                        f"input '{spec.name}' is missing: expected an array of shape "
                        f"{list(spec.shape)} (the model's inputs are {self.describe()})"
                    )
            return [x[name] for name in self.names]
        if len(x) != len(self.specs):  # type: ignore[arg-type]
            raise ModelError(
                f"the model takes {len(self.specs)} inputs ({self.describe()}), not "
                f"{len(x)}: pass a dict {{name: array}} or one array per input in this order"  # type: ignore[arg-type]
            )
        return list(x)  # type: ignore[call-overload]

    def concatenate(self, x: object) -> tuple[np.ndarray, bool]:
        """Per-input arrays (:meth:`per_input`) -> ``[N, size]`` float64, and whether each
        was given as one sample (rather than a batch)."""
        parts, single, counts = [], True, []
        for spec, value in zip(self.specs, self.per_input(x), strict=True):
            what = f"input '{spec.name}'"
            array = to_float_array(value, what)
            batch = as_batch(array, spec.shape, what)
            counts.append(batch.shape[0])
            if counts[-1] != counts[0]:
                raise ModelError(
                    f"input '{spec.name}' holds {counts[-1]} samples but input "
                    f"'{self.specs[0].name}' holds {counts[0]}; give every input the same number"
                )
            single = single and counts[0] == 1 and is_single(array.shape, spec.shape)
            parts.append(batch.reshape(batch.shape[0], -1))
        return np.concatenate(parts, axis=1), single

    def split(self, flat: object) -> dict[str, np.ndarray]:
        """The concatenation (one sample, or a batch of N one after another) -> each input by
        name, shaped like the input (one sample) or ``[N, *shape]``."""
        values = np.asarray(flat)
        if values.size == 0 or values.size % self.size:
            raise ModelError(
                f"{values.size} values are not a whole number of this model's concatenated "
                f"inputs ({self.size} values: {self.describe()})"
            )
        rows = values.reshape(-1, self.size)
        out = {}
        for spec in self.specs:
            part = rows[:, spec.offset : spec.offset + spec.size]
            shape = spec.shape if rows.shape[0] == 1 else (rows.shape[0], *spec.shape)
            out[spec.name] = part.reshape(shape)
        return out

    def quantize(self, sample: np.ndarray, scale_bits: int) -> np.ndarray:
        """One concatenated float sample -> int64, an out-of-range value naming its input."""
        flat = np.asarray(sample, dtype=np.float64).reshape(-1)
        return np.concatenate(
            [
                quantize_input(flat[s.offset : s.offset + s.size], scale_bits, s.name)
                for s in self.specs
            ]
        )


def as_samples(
    x: object, shape: Sequence[int], layout: InputLayout | None, what: str
) -> tuple[np.ndarray, bool]:
    """A model input as the user gives it -> ``[N, *shape]`` float64 (``shape`` the circuit's
    input shape), and whether it was one sample rather than a batch (see the module doc)."""
    shape = tuple(int(d) for d in shape)
    if layout is not None and isinstance(x, (Mapping, list, tuple)):
        rows, single = layout.concatenate(x)
        return rows.reshape(rows.shape[0], *shape), single
    if layout is not None:
        what = f"{what} (the concatenation of {layout.describe()}; or pass a dict {{name: array}})"
    array = to_float_array(x, what)
    batch = as_batch(array, shape, what)
    return batch, batch.shape[0] == 1 and is_single(array.shape, shape)


def is_single(array_shape: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    """Whether an array of ``array_shape`` is one sample of an input of ``shape``."""
    features = shape[1:] if len(shape) > 1 and shape[0] == 1 else shape
    return array_shape in (shape, features) or (
        len(array_shape) == 1 and array_shape[0] == math.prod(shape)
    )

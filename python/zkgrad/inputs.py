"""Reading inputs: .npy/.npz files, JSON lists and EZKL's ``input.json``.

Example::

    batch = as_batch(read_array("input.json"), (1, 784))   # -> shape [N, 1, 784]
    x = read_inputs("inputs.npz", ["x", "y"])               # -> {"x": ..., "y": ...}
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zkgrad.errors import ModelError

ACT_MIN, ACT_MAX = -32768, 32767


def read_array(path: str | os.PathLike[str], input_name: str | None = None) -> np.ndarray:
    """Load numbers from ``.npy``, ``.npz`` or ``.json``.

    JSON may be a (nested) list or EZKL's ``{"input_data": [[...]]}``, whose one entry is the
    flattened model input. An ``.npz`` may hold one array, or several of which the one named
    ``input_name`` (the model's input name) is read. zkgrad models have one input, so a file
    holding several inputs without one of that name is refused, naming what it holds: taking
    the first one would silently prove something the user did not mean.
    """
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{file}: no such file")
    suffix = file.suffix.lower()
    try:
        if suffix == ".npy":
            data = np.load(file, allow_pickle=False)
        elif suffix == ".npz":
            with np.load(file, allow_pickle=False) as archive:
                data = archive[_pick_array(file, archive.files, input_name)]
        else:
            data = json.loads(file.read_text())
            if isinstance(data, dict):
                data = _ezkl_input(file, data, input_name)
    except (ValueError, OSError, IndexError, KeyError) as exc:
        if isinstance(exc, ModelError):
            raise
        raise ModelError(f"{file}: cannot read an array ({type(exc).__name__}: {exc})") from None
    return to_float_array(data, str(file))


def read_inputs(
    path: str | os.PathLike[str], names: Sequence[str]
) -> np.ndarray | dict[str, np.ndarray]:
    """The input file of a model whose inputs are ``names``: :func:`read_array` for one input;
    for several, ``{name: array}`` from an ``.npz`` holding one array per name, EZKL's
    ``{"input_data": [...]}`` with one flattened entry per input in graph order, or a JSON
    object ``{name: nested list}``. Any other file (``.npy``, a JSON list) is read as the
    inputs' concatenation, as the circuit takes it.
    """
    if len(names) <= 1:
        return read_array(path, names[0] if names else None)
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{file}: no such file")
    suffix = file.suffix.lower()
    listed = ", ".join(f"'{n}'" for n in names)
    try:
        if suffix == ".npy":
            return read_array(file)
        if suffix == ".npz":
            with np.load(file, allow_pickle=False) as archive:
                held = list(archive.files)
                if sorted(held) != sorted(names):
                    odd = [n for n in names if n not in held] or [n for n in held if n not in names]
                    raise ModelError(
                        f"{file} holds arrays ({', '.join(repr(n) for n in held)}) but the model's "
                        f"inputs are {listed}: save one array per input under its name "
                        f"('{odd[0]}' is {'missing' if odd[0] in names else 'not an input'})"
                    )
                raw: dict[str, Any] = {name: archive[name] for name in names}
        else:
            data = json.loads(file.read_text())
            if not isinstance(data, dict):
                return to_float_array(data, str(file))
            raw = _named_entries(file, data, names)
    except (ValueError, OSError, IndexError, KeyError) as exc:
        if isinstance(exc, ModelError):
            raise
        raise ModelError(f"{file}: cannot read an array ({type(exc).__name__}: {exc})") from None
    return {name: to_float_array(value, f"{file}: input '{name}'") for name, value in raw.items()}


def _named_entries(file: Path, data: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """EZKL's ``input_data`` (one entry per input, in graph order) or ``{name: values}``."""
    if "input_data" not in data:
        return data  # the model's input layout names what is missing or extra
    entries = data["input_data"]
    if not isinstance(entries, list) or len(entries) != len(names):
        count = len(entries) if isinstance(entries, list) else "no"
        raise ModelError(
            f"{file}: 'input_data' holds {count} entries but the model has {len(names)} inputs "
            f"({', '.join(repr(n) for n in names)}): give one flattened entry per input, in order"
        )
    return dict(zip(names, entries, strict=True))


def _pick_array(file: Path, names: list[str], input_name: str | None) -> str:
    """The one array of an ``.npz`` to read: the only one, or the one named like the input."""
    if len(names) == 1:
        return names[0]
    if input_name is not None and input_name in names:
        return input_name
    if not names:
        raise ModelError(f"{file}: the archive holds no array")
    wanted = f"an array named '{input_name}'" if input_name else "exactly one array"
    raise ModelError(
        f"{file} holds {len(names)} arrays ({', '.join(repr(n) for n in names)}) but the model "
        f"has one input: save only its array, or {wanted}"
    )


def _ezkl_input(file: Path, data: dict[str, object], input_name: str | None) -> object:
    """The one entry of EZKL's ``{"input_data": [...]}``; several entries are several inputs."""
    if "input_data" not in data:
        raise ModelError(f"{file}: JSON object without an 'input_data' entry")
    entries = data["input_data"]
    if not isinstance(entries, list) or not entries:
        raise ModelError(f"{file}: 'input_data' must be a non-empty list of model inputs")
    if len(entries) > 1:
        which = f" ('{input_name}')" if input_name else ""
        raise ModelError(
            f"{file}: 'input_data' holds {len(entries)} inputs but the model has one input"
            f"{which}: keep only its entry"
        )
    return entries[0]


def to_float_array(data: object, what: str = "input") -> np.ndarray:
    """Convert to a finite float64 array, or raise a clear error naming ``what``.

    Refused: ``None``, strings, and complex numbers (casting would silently drop the
    imaginary part), besides non-numbers, empty arrays, NaN and infinities.
    """
    if data is None:
        raise ModelError(f"{what}: no data given (None); expected an array of numbers")
    try:
        raw = np.asarray(data)
    except (TypeError, ValueError):
        raise ModelError(f"{what}: not a numeric array") from None
    if raw.dtype.kind == "c" or (raw.dtype == object and _has_complex(raw)):
        raise ModelError(
            f"{what}: complex values are not supported (the model takes real numbers; pass "
            "the real part explicitly if that is what is meant)"
        )
    if raw.dtype.kind in "USV":
        raise ModelError(f"{what}: not a numeric array (it holds text or raw bytes)")
    try:
        array = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        raise ModelError(f"{what}: not a numeric array") from None
    if array.size == 0:
        raise ModelError(f"{what}: empty array")
    if not np.all(np.isfinite(array)):
        raise ModelError(f"{what}: contains NaN or infinite values")
    return array


def _has_complex(array: np.ndarray) -> bool:
    return any(isinstance(value, complex) for value in array.reshape(-1))


def as_batch(data: object, shape: Sequence[int], what: str = "input") -> np.ndarray:
    """Reshape one sample or a batch of samples to ``[N, *shape]``.

    Accepted: ``shape`` itself, ``shape`` without a leading batch 1, a batch of
    either, or a flat array whose length is a multiple of the sample size.
    """
    array = to_float_array(data, what)
    shape = tuple(int(d) for d in shape)
    size = int(np.prod(shape))
    features = shape[1:] if len(shape) > 1 and shape[0] == 1 else shape
    if array.shape in (shape, features):
        count = 1
    elif array.shape[1:] in (shape, features):
        count = array.shape[0]
    elif array.ndim == 1 and array.size % size == 0:
        count = array.size // size
    else:
        raise ModelError(
            f"{what} has shape {list(array.shape)}; the model expects {list(shape)} "
            f"({size} values per sample)"
        )
    return array.reshape(count, *shape)


def as_single(data: object, shape: Sequence[int], what: str = "input") -> np.ndarray:
    """Like :func:`as_batch`, but exactly one sample, returned with ``shape``."""
    batch = as_batch(data, shape, what)
    if batch.shape[0] != 1:
        raise ModelError(f"{what} holds {batch.shape[0]} samples; expected exactly one")
    return batch[0]


def quantize_input(x: np.ndarray, scale_bits: int, name: str) -> np.ndarray:
    """round(x · 2^scale_bits) as int64, checked against the 16-bit activation range."""
    q = np.floor(np.asarray(x, dtype=np.float64) * 2.0**scale_bits + 0.5)
    low, high = float(q.min()), float(q.max())
    if low < ACT_MIN or high > ACT_MAX:
        limit = ACT_MAX / 2.0**scale_bits
        worst = float(np.max(np.abs(x)))
        raise ModelError(
            f"input '{name}': value {worst:g} is out of range for this model "
            f"(|x| must be at most {limit:g} with {scale_bits} fractional bits); "
            "recompile with calibration data that covers it"
        )
    return q.astype(np.int64)

"""Reading inputs: .npy/.npz files, JSON lists and EZKL's ``input.json``.

Example::

    batch = as_batch(read_array("input.json"), (1, 784))   # -> shape [N, 1, 784]
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from zkgrad.errors import ModelError

ACT_MIN, ACT_MAX = -32768, 32767


def read_array(path: str | os.PathLike[str]) -> np.ndarray:
    """Load numbers from ``.npy``, ``.npz`` (first array), or ``.json``.

    JSON may be a (nested) list or EZKL's ``{"input_data": [[...]]}``, whose
    first entry is the flattened model input.
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
                data = archive[archive.files[0]]
        else:
            data = json.loads(file.read_text())
            if isinstance(data, dict):
                if "input_data" not in data:
                    raise ModelError(f"{file}: JSON object without an 'input_data' entry")
                data = data["input_data"][0]
    except (ValueError, OSError, IndexError, KeyError) as exc:
        if isinstance(exc, ModelError):
            raise
        raise ModelError(f"{file}: cannot read an array ({type(exc).__name__}: {exc})") from None
    return to_float_array(data, str(file))


def to_float_array(data: object, what: str = "input") -> np.ndarray:
    """Convert to a finite float64 array, or raise a clear error."""
    try:
        array = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError):
        raise ModelError(f"{what}: not a numeric array") from None
    if array.size == 0:
        raise ModelError(f"{what}: empty array")
    if not np.all(np.isfinite(array)):
        raise ModelError(f"{what}: contains NaN or infinite values")
    return array


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

"""Checking a request's input before anything is queued: numbers only, finite, a regular
shape the model takes, within the quantised input range.

Every failure is an :class:`InputError` naming the JSON field (``input[2][7]``), so the server
can answer 422 with one sentence and the client can raise the same sentence locally.

Example::

    batch, single = check_input([[0.1] * 30], key)       # batch: [1, 1, 30]; single: True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zkgrad.errors import ModelError
from zkgrad.inputs import as_batch
from zkgrad.model import VerifyingKey

FIELD = "input"


class InputError(ValueError):
    """A request input the model cannot take; ``field`` names where (``input[0][3]``)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def check_input(
    value: Any, key: VerifyingKey, max_samples: int | None = None
) -> tuple[np.ndarray, bool]:
    """``value`` (JSON: nested lists of numbers) -> (``[N, *key.input_shape]`` float64, whether
    it was one sample rather than a batch). Raises :class:`InputError`."""
    array = _numeric_array(value, FIELD)
    try:
        batch = as_batch(array, key.input_shape, FIELD)
    except ModelError as exc:
        raise InputError(FIELD, str(exc)) from None
    if max_samples is not None and batch.shape[0] > max_samples:
        raise InputError(
            FIELD,
            f"{FIELD} holds {batch.shape[0]} samples; this server proves at most {max_samples} "
            "per request (--max-batch): split the batch",
        )
    for index, sample in enumerate(batch):
        try:
            key.quantize(sample)  # the 16-bit range check the prover would make
        except ModelError as exc:
            where = FIELD if batch.shape[0] == 1 else f"{FIELD}[{index}]"
            raise InputError(where, f"{where}: {exc}") from None
    return batch, is_single(array.shape, key.input_shape)


def trailing_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """One sample's shape in a batch: ``shape`` without a leading batch dimension of 1."""
    return shape[1:] if len(shape) > 1 and shape[0] == 1 else shape


def is_single(array_shape: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    """Whether an array of ``array_shape`` is one sample of a model with input ``shape``."""
    return array_shape in (shape, trailing_shape(shape)) or (
        len(array_shape) == 1 and array_shape[0] == math.prod(shape)
    )


def _numeric_array(value: Any, field: str) -> np.ndarray:
    """Nested JSON lists of numbers -> float64 array; names the first bad element."""
    if not isinstance(value, list):
        raise InputError(field, f"{field}: expected a list of numbers, got {_kind(value)}")
    flat: list[float] = []
    shape = _walk(value, field, flat)
    return np.asarray(flat, dtype=np.float64).reshape(shape)


def _walk(value: list[Any], field: str, flat: list[float]) -> tuple[int, ...]:
    if not value:
        raise InputError(field, f"{field}: empty list")
    if all(isinstance(item, list) for item in value):
        shapes = [_walk(item, f"{field}[{i}]", flat) for i, item in enumerate(value)]
        for index, shape in enumerate(shapes[1:], start=1):
            if shape != shapes[0]:
                raise InputError(
                    f"{field}[{index}]",
                    f"{field}[{index}] has shape {list(shape)} but {field}[0] has "
                    f"{list(shapes[0])}: rows must have the same length",
                )
        return (len(value), *shapes[0])
    for index, item in enumerate(value):
        where = f"{field}[{index}]"
        if isinstance(item, list):
            raise InputError(where, f"{where} is a list where {field}[0] is a number")
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            raise InputError(where, f"{where}: expected a number, got {_kind(item)}")
        try:
            number = float(item)
        except OverflowError:  # an integer past float range
            number = math.inf
        if not math.isfinite(number):
            raise InputError(where, f"{where} is {number}; the model takes finite numbers")
        flat.append(number)
    return (len(value),)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        shown = value if len(value) <= 20 else value[:20] + "…"
        return f"a string ({shown!r})"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__

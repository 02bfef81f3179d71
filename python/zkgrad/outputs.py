"""The outputs of a model with several: each ONNX output's part of the proof's output vector.

A proof states one integer vector per input: the main (last computed) output, then the
others (``CircuitSpec::extra_outputs``). The IR's ``meta["outputs"]`` says, in ONNX order,
where each output lies in that vector and its scale; :func:`split` turns the vector back into
named float arrays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def statement_size(outputs: Sequence[Mapping[str, Any]]) -> int:
    """Values per input in the proof's output vector."""
    return sum(int(np.prod(o["shape"])) for o in outputs)


def split(
    outputs: Sequence[Mapping[str, Any]], y_q: object, total: int | None = None
) -> dict[str, np.ndarray]:
    """The float value of every output, by ONNX name, from the integer output vector of one
    input (each shaped as declared) or of a batch of N (each ``[N, *shape[1:]]`` for a batch-1
    output, else ``[N, *shape]``); ``total`` is the vector's size per input when it states
    more than the outputs (public inputs, ``zkgrad.public_inputs``)."""
    values = np.asarray(y_q, dtype=np.float64).reshape(-1)
    total = statement_size(outputs) if total is None else total
    items = max(values.size // max(total, 1), 1)
    rows = values.reshape(items, total) if values.size == items * total else None
    result = {}
    for o in outputs:
        shape = tuple(int(d) for d in o["shape"])
        size = int(np.prod(shape))
        if rows is None:
            raise ValueError(f"{values.size} output values do not hold outputs of {total} values")
        part = rows[:, o["offset"] : o["offset"] + size] / 2.0 ** int(o["scale_bits"])
        if items == 1:
            result[o["name"]] = part.reshape(shape)
        else:
            trailing = shape[1:] if shape[:1] == (1,) else shape
            result[o["name"]] = part.reshape(items, *trailing)
    return result

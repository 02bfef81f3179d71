"""Which activations of a float graph hold only integers, and which only 0 and 1.

Read from the ops alone, never from data: a comparison's output is 0 or 1; a layer with whole
weights and bias over integers gives integers; a table of whole values gives integers; sums and
products of integers are integers; Floor, Ceil, Round and Sign give integers. Decision trees
carry their node indices and leaf counts this way (ONNX ``Cast`` to an integer type, ``Gather``
from a constant by an index, ``ArgMax``, ``OneHot``).

Quantisation holds an integral activation at scale 2^0 (``zkgrad.quantize``): its integers are
then exact, so a later equality test or table read by it sees exactly the float graph's value,
and the tables it reads are as small as its range.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from zkgrad.graph import Add, Conv, Copy, Dense, MaxPool, Mul, Op, Product, Relu, Reshape, Unary

#: Table functions whose every output is an integer, whatever the input.
_WHOLE_FUNCS = {"floor", "ceil", "round", "sign"}
_PASSING = (Reshape, Copy, Relu, MaxPool)


def _whole(values: np.ndarray | Iterable[float] | None) -> bool:
    if values is None:
        return True
    a = np.asarray(values, dtype=np.float64)
    return bool(np.all(np.isfinite(a)) and np.all(a == np.rint(a)))


def _as_matrix(op: Dense | Conv) -> np.ndarray | None:
    """The layer as a [out, in] matrix when it acts on each value alone or is a dense layer (a
    1×1 unpadded convolution: how a diagonal layer on an image is written); else None."""
    if isinstance(op, Dense):
        return op.weight
    if op.weight.shape[2:] == (1, 1) and op.strides == (1, 1) and not any(op.pads):
        return op.weight[:, :, 0, 0]
    return None


def integral_after(op: Op, integral: Callable[[str], bool]) -> bool:
    """Whether every value ``op`` outputs is an integer, given which of its inputs are."""
    if isinstance(op, Unary):
        if op.func == "compare":
            return _whole(op.params[1:])
        if op.func == "table":
            return _whole(op.params[1:])
        return op.func in _WHOLE_FUNCS
    if isinstance(op, (Dense, Conv)):
        return integral(op.input) and _whole(op.weight) and _whole(op.bias)
    if isinstance(op, (Add, Mul, Product)):
        return integral(op.input) and integral(op.other)
    if isinstance(op, _PASSING):
        return integral(op.input)
    return False


def boolean_after(op: Op, boolean: Callable[[str], bool]) -> bool:
    """Whether every value ``op`` outputs is 0 or 1, given which of its inputs are: a
    comparison, a table of 0s and 1s, a product of booleans, and a layer each of whose outputs
    is a constant 0 or 1, one input (weight 1), or one input negated (weight −1, bias 1)."""
    if isinstance(op, Unary):
        if op.func == "compare":
            return set(op.params[1:]) <= {0.0, 1.0}
        return op.func == "table" and set(op.params[1:]) <= {0.0, 1.0}
    if isinstance(op, Mul):
        return boolean(op.input) and boolean(op.other)
    if isinstance(op, _PASSING):
        return boolean(op.input)
    if isinstance(op, (Dense, Conv)) and boolean(op.input):
        matrix = _as_matrix(op)
        if matrix is None:
            return False
        bias = np.zeros(matrix.shape[0]) if op.bias is None else np.asarray(op.bias)
        if bias.size != matrix.shape[0]:
            return False
        nonzero = matrix != 0
        count = nonzero.sum(axis=1)
        picked = np.where(count == 1, matrix[np.arange(matrix.shape[0]), nonzero.argmax(axis=1)], 0)
        constant = (count == 0) & np.isin(bias, (0.0, 1.0))
        copy = (count == 1) & (picked == 1.0) & (bias == 0.0)
        negated = (count == 1) & (picked == -1.0) & (bias == 1.0)
        return bool(np.all(constant | copy | negated))
    return False


Interval = tuple[float, float]


def interval_after(op: Op, interval: Callable[[str], Interval | None]) -> Interval | None:
    """The range [lo, hi] every value ``op`` outputs lies in, given its inputs' (None: not
    known from the ops, e.g. anything computed from the model input without a table)."""
    if isinstance(op, Unary):
        if op.func in ("compare", "table"):
            return float(min(op.params[1:])), float(max(op.params[1:]))
        return (-1.0, 1.0) if op.func == "sign" else None
    if isinstance(op, _PASSING):
        inner = interval(op.input)
        if inner is None or not isinstance(op, Relu):
            return inner
        return max(inner[0], 0.0), max(inner[1], 0.0)
    if isinstance(op, (Dense, Conv)):
        inner = interval(op.input)
        matrix = op.weight.reshape(op.weight.shape[0], -1)
        if inner is None:
            return None
        lo, hi = inner
        if isinstance(op, Conv) and any(op.pads):
            lo, hi = min(lo, 0.0), max(hi, 0.0)  # the zero padding
        bias = 0.0 if op.bias is None else np.asarray(op.bias, dtype=np.float64)
        positive, negative = np.clip(matrix, 0, None), np.clip(matrix, None, 0)
        low = bias + positive.sum(axis=1) * lo + negative.sum(axis=1) * hi
        high = bias + positive.sum(axis=1) * hi + negative.sum(axis=1) * lo
        return float(np.min(low)), float(np.max(high))
    if isinstance(op, (Add, Mul, Product)):
        a, b = interval(op.input), interval(op.other)
        if a is None or b is None:
            return None
        if isinstance(op, Add):
            return (a[0] + b[0], a[1] + b[1]) if op.sign > 0 else (a[0] - b[1], a[1] - b[0])
        corners = [x * y for x in a for y in b]
        terms = op.inner if isinstance(op, Product) else 1
        return terms * min(corners), terms * max(corners)
    return None


def integral_tensors(ops: Iterable[Op]) -> set[str]:
    """The outputs of ``ops`` (in execution order) that hold only integers; the graph input is
    not counted as one (its values are the user's)."""
    found: set[str] = set()
    for op in ops:
        if integral_after(op, found.__contains__):
            found.add(op.output)
    return found

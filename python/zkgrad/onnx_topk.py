"""ONNX TopK (its values) as a sorting network of ops that are already proved.

Odd–even transposition sort of each row of n values along the last axis: n rounds, each
comparing disjoint neighbouring pairs (even pairs, then odd pairs) at once. A pair (a, b) becomes
(max, min) = (b + r, a − r) with r = relu(a − b) — (min, max) = (a − r, b + r) for the
smallest — so a round is the differences (a constant layer with a ReLU), and the pairs swapped
plus ± r (two constant layers and an ``Add``). After n rounds each row is sorted; the first k
values are the output (a constant layer). Exact: a comparison of quantised values, and maxima
and minima are values of the input. The Indices output is not supported.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from onnx import helper

from zkgrad.graph import Add, Relu
from zkgrad.onnx_integers import linear

if TYPE_CHECKING:
    import onnx

    from zkgrad.onnx import _Importer

SUPPORTED = {
    "TopK": (
        "its values along the last axis (a constant k; largest or smallest, sorted): an "
        "odd–even transposition sort of each row, n rounds of ReLU compare-exchanges; its "
        "Indices output unused"
    )
}


def top_k(importer: _Importer, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
    """TopK's values output (see the module docstring); ValueError says why not."""
    if len(node.output) > 1 and node.output[1] and importer.uses[node.output[1]]:
        raise ValueError("its Indices output is used (only the values are supported)")
    x = importer._activation(inputs[0], name)
    shape = tuple(importer.shapes[x])
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    axis = int(attrs.get("axis", -1))  # type: ignore[call-overload]
    if axis not in (-1, len(shape) - 1):
        raise ValueError(f"axis {axis}: only the last axis is supported")
    k = int(importer._const(inputs[1], "k").reshape(-1)[0])
    count = shape[-1]
    if not 1 <= k <= count:
        raise ValueError(f"k = {k} is outside 1..{count}")
    rows = math.prod(shape) // count
    largest = bool(attrs.get("largest", 1))
    out = node.output[0]
    current = importer._reshaped(f"{name}:rows", x, (1, rows * count))
    for round_ in range(count):
        pairs = [(i, i + 1) for i in range(round_ % 2, count - 1, 2)]
        if not pairs:
            continue
        current = _compare_exchange(
            importer, f"{name}:round{round_}", current, rows, count, pairs, largest
        )
    keep = np.zeros((rows * k, rows * count))
    for row in range(rows):
        keep[row * k + np.arange(k), row * count + np.arange(k)] = 1.0
    linear(importer, name, current, out, keep, None, (*shape[:-1], k))


def _compare_exchange(
    importer: _Importer,
    name: str,
    x: str,
    rows: int,
    count: int,
    pairs: list[tuple[int, int]],
    largest: bool,
) -> str:
    """One round: every pair (a, b) of each row to (max, min) (or (min, max))."""
    n, m = rows * count, rows * len(pairs)
    difference, swap, spread = np.zeros((m, n)), np.eye(n), np.zeros((n, m))
    for row in range(rows):
        for p, (i, j) in enumerate(pairs):
            a, b, d = row * count + i, row * count + j, row * len(pairs) + p
            difference[d, a], difference[d, b] = 1.0, -1.0  # a − b
            if largest:  # (b + r, a − r)
                swap[a, a], swap[a, b], swap[b, b], swap[b, a] = 0.0, 1.0, 0.0, 1.0
                spread[a, d], spread[b, d] = 1.0, -1.0
            else:  # (a − r, b + r)
                spread[a, d], spread[b, d] = -1.0, 1.0
    gap = linear(importer, f"{name}:difference", x, f"{name}:difference", difference, None, (1, m))
    excess = f"{name}:excess"
    importer._emit(Relu(f"{name}:excess", gap, excess), (1, m))
    moved = linear(importer, f"{name}:moved", x, f"{name}:moved", swap, None, (1, n))
    shifted = linear(importer, f"{name}:shifted", excess, f"{name}:shifted", spread, None, (1, n))
    out = f"{name}:sorted"
    importer._emit(Add(out, moved, shifted, out, 1, (1, n)), (1, n))
    return out

"""ONNX ``Softmax`` as a chain of ops that are already proved, so it needs no relation of its own.

Over trailing axes (a ``kept × count`` grid of rows), with every step a block of the one
protocol::

    m  = max over each row                 a max-pooling block (``ReduceMax``)
    d  = x − m, m broadcast along the row  a constant dense layer (−1 per copy), then an ``Add``
                                           of two activations (x is read a second time)
    e  = exp(d)                            a table lookup; d ≤ 0, so e ∈ (0, 1]
    s  = Σ e over each row                 a constant dense layer of ones (s ≥ 1: the maximum
                                           contributes exp(0))
    r  = 1 / s                             a table lookup over [1, count]
    y  = e ⊙ r, r broadcast along the row  a constant dense layer, then a ``Mul`` of two
                                           activations (e is read a second time)

Subtracting the maximum keeps every table small and the values well scaled, as float
implementations do; the result equals softmax(x) up to the stated quantisation error. Several
rows (attention's [1, n, n]) are normalised each on its own: one pooling window per row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from onnx import helper

from zkgrad.graph import Dense, Reshape

if TYPE_CHECKING:
    import onnx

    from zkgrad.onnx import _Importer


def reduced_axes(node: onnx.NodeProto, rank: int, opset: int) -> int:
    """The first of the trailing axes Softmax normalises over: from opset 13 the one ``axis``
    (default −1), which must then be the last one (or followed by size-1 axes only: checked by
    the caller); before it, every axis from ``axis`` (default 1) on, as one flattened row."""
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    axis = int(attrs.get("axis", -1 if opset >= 13 else 1))
    if not -rank <= axis < rank:
        raise ValueError(f"axis {axis} is out of range for rank {rank}")
    return axis + rank if axis < 0 else axis


def lower_softmax(importer: _Importer, node: onnx.NodeProto, name: str, x: str, opset: int) -> None:
    """Emit the chain above for ``node`` reading activation ``x``. ValueError says what is not
    supported."""
    shape = tuple(importer.shapes[x])
    rank = len(shape)
    first = reduced_axes(node, rank, opset)
    if opset >= 13 and any(d != 1 for d in shape[first + 1 :]):
        raise ValueError(
            f"softmax over axis {first} of {list(shape)}: only the last axis is supported"
        )
    if first == 0:
        raise ValueError("softmax over the batch axis is not supported")
    kept, count = int(np.prod(shape[1:first])), int(np.prod(shape[first:]))
    out = node.output[0]
    flat = (1, kept * count)
    rows = (1, kept)
    if count == 1:
        raise ValueError("softmax over a single value (the constant 1) is not supported")

    m = f"{out}:max"
    reduce = helper.make_node(
        "ReduceMax", [x], [m], name=f"{name}:max", axes=list(range(first, rank)), keepdims=1
    )
    importer._reduce_extreme(reduce, f"{name}:max", [x], negate=False)
    spread = np.kron(np.eye(kept), np.ones((count, 1)))  # [kept·count, kept]: copy each row's value

    m_rows = importer._reshaped(f"{name}:max_rows", m, rows)
    minus_m = f"{out}:minus_max"
    importer._emit(Dense(f"{name}:minus_max", m_rows, f"{minus_m}:flat", -spread, None, flat), flat)
    importer._emit(Reshape(f"{name}:minus_max_shape", f"{minus_m}:flat", minus_m, shape), shape)
    d = f"{out}:shifted"
    add = helper.make_node("Add", [minus_m, x], [d], name=f"{name}:shift")
    importer._skip_connection(add, f"{name}:shift", [minus_m, x], 1)

    e = f"{out}:exp"
    importer._op_unary(helper.make_node("Exp", [d], [e], name=f"{name}:exp"), f"{name}:exp", [d])
    e_flat = importer._reshaped(f"{name}:exp_flat", e, flat)
    s = f"{out}:sum"
    importer._emit(Dense(f"{name}:sum", e_flat, s, spread.T.copy(), None, rows), rows)
    r = f"{out}:reciprocal"
    recip = helper.make_node("Reciprocal", [s], [r], name=f"{name}:reciprocal")
    importer._op_unary(recip, f"{name}:reciprocal", [s])
    spread_r = f"{out}:spread"
    importer._emit(Dense(f"{name}:spread", r, f"{spread_r}:flat", spread, None, flat), flat)
    importer._emit(Reshape(f"{name}:spread_shape", f"{spread_r}:flat", spread_r, shape), shape)
    mul = helper.make_node("Mul", [spread_r, e], [out], name=name)
    importer._skip_connection(mul, name, [spread_r, e], 0)

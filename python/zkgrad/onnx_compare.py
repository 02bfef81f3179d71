"""ONNX comparisons with a constant, ``Not`` and ``Where`` with constant branches: booleans as
the values 0 and 1 of ops that are already proved.

    Less(x, c), Greater, LessOrEqual, GreaterOrEqual, Equal   a table lookup of the step
        ``compare`` (one value below c, one at c, one above), so the output is exactly 0 or 1;
        with one c per value, x − c (a diagonal layer) compared with 0; of two activations
        x and y, x − y (an ``Add`` of two activations) compared with 0
    Not(b) = 1 − b                                         a diagonal layer
    Where(b, p, q) = q + b·(p − q)                          a diagonal layer (p, q constants)
    Gather(t, b) = t[0] + b·(t[1] − t[0])                  a diagonal layer (t a constant list)

The comparison is made on the quantised input, as every table reads it: an input within one
quantisation step of c can compare otherwise than in float (never for integral inputs and an
integral c). ``Not`` and ``Where`` take their boolean from a comparison, a ``Not`` or a BOOL
model input (whose given values the proof does not check to be 0 or 1); a Gather only from an
activation known to hold 0 and 1 (``zkgrad.onnx_integers.is_boolean``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from onnx import helper

from zkgrad.graph import Unary
from zkgrad.onnx_integers import is_boolean

if TYPE_CHECKING:
    import onnx

    from zkgrad.onnx import _Importer

#: Comparison → its value (below, at, above) the constant it compares the activation with.
STEPS = {
    "Less": (1.0, 0.0, 0.0),
    "LessOrEqual": (1.0, 1.0, 0.0),
    "Greater": (0.0, 0.0, 1.0),
    "GreaterOrEqual": (0.0, 1.0, 1.0),
    "Equal": (0.0, 1.0, 0.0),
}

#: What the importer accepts for each op (merged into ``zkgrad.onnx.SUPPORTED_OPS``).
SUPPORTED: dict[str, str] = {
    **{
        op: "an activation and a constant (either side), as 0/1 by a table lookup of the step "
        "at a scalar constant; with one constant per value, the difference (a diagonal layer) "
        "compared with 0; two activations, their difference compared with 0"
        for op in STEPS
    },
    "Not": "a boolean activation b, as 1 − b (a diagonal layer)",
    "Where": "a boolean activation b and two constants p, q, as q + b·(p − q) (a diagonal layer)",
}


def compare(importer: _Importer, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
    """Emit a comparison of one activation with a constant scalar, or of two activations (their
    difference, an ``Add`` with sign −1, compared with 0); ValueError says why not."""
    a, b = inputs[:2]
    if a in importer.consts and b in importer.consts:
        raise ValueError("comparing two constants is folded, not imported")
    below, at, above = STEPS[node.op_type]
    if a not in importer.consts and b not in importer.consts:
        difference = f"{node.output[0]}:difference"
        sub = helper.make_node("Sub", [a, b], [difference], name=f"{name}:difference")
        importer._skip_connection(sub, f"{name}:difference", [a, b], -1)
        shape = tuple(importer.shapes[difference])
        params = (0.0, below, at, above)
        importer._emit(Unary(name, difference, node.output[0], "compare", params, shape), shape)
        return
    if a in importer.consts:  # c ? x: the same step seen from x
        a, b, below, above = b, a, above, below
    x = importer._activation(a, name)
    c = importer._const(b, "the compared value")
    shape = tuple(importer.shapes[x])
    try:
        grown = np.broadcast_shapes(c.shape, shape) != shape
    except ValueError:
        grown = True
    if c.size == 0 or grown:
        raise ValueError(f"the compared value of shape {list(c.shape)} does not fit {list(shape)}")
    if not np.all(np.isfinite(c)):
        raise ValueError("the compared values must be finite")
    threshold = float(c.reshape(-1)[0])
    if not np.all(c == threshold):
        # One threshold per value: x − c (a diagonal layer), compared with 0.
        shifted = f"{node.output[0]}:difference"
        importer._affine(f"{name}:difference", x, shifted, None, -c)
        x, threshold = shifted, 0.0
    params = (threshold, below, at, above)
    importer._emit(Unary(name, x, node.output[0], "compare", params, shape), shape)


def logical_not(importer: _Importer, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
    """Not(b) = 1 − b."""
    importer._affine(name, inputs[0], node.output[0], np.array(-1.0), np.array(1.0))


def where(importer: _Importer, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
    """Where(b, p, q) = q + b·(p − q) for a boolean activation b and constants p, q."""
    cond, p, q = inputs[:3]
    if cond in importer.consts or p not in importer.consts or q not in importer.consts:
        raise ValueError(
            "only a condition that is an activation and two constant branches are supported"
        )
    yes = importer._const(p, "the value where true")
    no = importer._const(q, "the value where false")
    importer._affine(name, cond, node.output[0], yes - no, np.broadcast_to(no, (yes - no).shape))


def gather_by_boolean(
    importer: _Importer, node: onnx.NodeProto, name: str, inputs: list[str]
) -> bool:
    """Gather(t, b) of a constant list t by a 0/1 activation b (a class label picked by a
    decision, as sklearn's converted classifiers end): t[0] + b·(t[1] − t[0]); False, emitting
    nothing, for any other data or index."""
    table, index = inputs[:2]
    data = importer._const(table, "the gathered data")
    if data.ndim != 1 or data.size < 2 or not is_boolean(importer, index):
        return False
    importer._affine(name, index, node.output[0], np.array(data[1] - data[0]), np.array(data[0]))
    return True

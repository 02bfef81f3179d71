"""ONNX nodes that combine or give several activations, imported as blocks of two operands.

    Concat(x₁, x₂, …)       each xₖ placed by a constant 0/1 layer, summed by ``Add`` blocks
    Split(x)                one constant ``Slice`` (a linear map) per used output
    s ⊙ x + k on many values constants as activations (:func:`constant_activation`), then a
                            product and a sum of two activations

Each function raises ``ValueError`` with the reason a node cannot be imported; the importer
(:mod:`zkgrad.onnx`) turns it into an unsupported-node entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from onnx import helper

from zkgrad.graph import Add, Dense, Mul, Reshape
from zkgrad.onnx_compose import MAX_LINEAR_MAP

if TYPE_CHECKING:
    import onnx

    from zkgrad.onnx import _Importer


def concat_activations(imp: _Importer, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
    """Concat of several activations: y = Σ_k M_k·x_k, each M_k a constant 0/1 layer that
    places x_k (the others' places zero), summed by ``Add`` blocks of two activations."""
    acts = [imp._activation(i, name) if i not in imp.consts else i for i in inputs]
    axis = int({a.name: helper.get_attribute_value(a) for a in node.attribute}.get("axis", 0))
    parts = [imp.consts[i] if i in imp.consts else np.zeros(imp.shapes[i]) for i in acts]
    try:
        whole = np.concatenate(parts, axis=axis)
    except ValueError as exc:
        raise ValueError(f"its operands do not concatenate ({exc})") from None
    m, out = whole.size, node.output[0]
    flat = (1, m)
    index = np.arange(m, dtype=np.float64).reshape(whole.shape)
    pieces = np.split(index, np.cumsum([p.shape[axis] for p in parts])[:-1], axis=axis)
    base = np.zeros(m)
    placed: list[str] = []
    for k, (x, piece) in enumerate(zip(acts, pieces, strict=True)):
        where = piece.reshape(-1).astype(np.int64)
        if x in imp.consts:
            base[where] = parts[k].reshape(-1)
            continue
        n = where.size
        if n * m > MAX_LINEAR_MAP:
            raise ValueError(
                f"placing operand '{x}' would be a constant dense layer of {n}·{m} weights "
                f"(more than {MAX_LINEAR_MAP}); not supported yet"
            )
        matrix = np.zeros((m, n))
        matrix[where, np.arange(n)] = 1.0
        source = imp._reshaped(f"{name}:flat_{k}", x, (1, n))
        part = f"{out}:part_{k}"
        imp._emit(Dense(f"{name}:place_{k}", source, part, matrix, None, flat), flat)
        placed.append(part)
    if np.any(base):
        imp._add_bias(imp.producer[placed[0]], base.reshape(flat))
    total = placed[0]
    for k, part in enumerate(placed[1:], start=1):
        last = k == len(placed) - 1 and whole.shape == flat
        joined = out if last else f"{out}:sum_{k}"
        imp._emit(Add(f"{name}:join_{k}", total, part, joined, 1, flat), flat)
        total = joined
    if total != out:
        shape = tuple(int(d) for d in whole.shape)
        imp._emit(Reshape(f"{name}:shape", total, out, shape), shape)


def split(imp: _Importer, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
    """Split: one ``Slice`` (a constant linear map) per output that is used."""
    x = imp._activation(inputs[0], name)
    shape = imp.shapes[x]
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    axis = int(attrs.get("axis", 0))
    axis = axis + len(shape) if axis < 0 else axis
    if not 0 <= axis < len(shape):
        raise ValueError(f"axis {attrs.get('axis')} is out of range for {list(shape)}")
    if len(inputs) > 1 and inputs[1]:
        sizes = [int(v) for v in imp._const(inputs[1], "the split sizes").reshape(-1)]
    elif "split" in attrs:
        sizes = [int(v) for v in attrs["split"]]  # type: ignore[union-attr]
    else:
        parts = int(attrs.get("num_outputs", len(node.output)))
        step = -(-shape[axis] // parts)
        sizes = [min(step, shape[axis] - k * step) for k in range(parts)]
    if len(sizes) != len(node.output) or sum(sizes) != shape[axis] or min(sizes) < 0:
        raise ValueError(f"split sizes {sizes} do not divide axis {axis} of {list(shape)}")
    start = 0
    for k, (out, size) in enumerate(zip(node.output, sizes, strict=True)):
        bounds = []
        for what, value in (("starts", start), ("ends", start + size), ("axes", axis)):
            key = f"{name}:{k}:{what}"
            imp.consts[key] = np.array([value], dtype=np.int64)
            bounds.append(key)
        start += size
        if not out or not imp.uses[out]:
            continue
        piece = helper.make_node("Slice", [x, *bounds], [out], name=f"{name}:{k}")
        imp._linear_map(piece, f"{name}:{k}", [x, *bounds])


def constant_operands(
    imp: _Importer, name: str, x: str, out: str, scale: np.ndarray, shift: np.ndarray
) -> None:
    """y = scale ⊙ x + shift on more values than a diagonal layer takes (a layer norm's
    per-feature γ and β over every token): each constant becomes an activation — a dense
    layer of zero weights whose bias is the constant, reading the smallest tensor computed
    so far — then a product and a sum of two activations."""
    shape = tuple(imp.shapes[x])

    def constant(tag: str, value: np.ndarray) -> str:
        made = constant_activation(imp, f"{name}:{tag}", x, value.reshape(1, -1))
        return imp._reshaped(f"{name}:{tag}_shape", made, shape)

    current = x
    if not np.all(scale == 1.0):
        scaled = out if not np.any(shift) else f"{out}:scaled"
        factor = constant("scale", scale)
        imp._emit(Mul(f"{name}:scale_mul", current, factor, scaled, shape), shape)
        current = scaled
    if np.any(shift) or current == x:
        addend = constant("shift", shift)
        imp._emit(Add(f"{name}:shift_add", current, addend, out, 1, shape), shape)


def constant_activation(imp: _Importer, name: str, reader: str, value: np.ndarray) -> str:
    """A constant as an activation (a weight to multiply another activation by): a dense
    layer of zero weights from ``reader`` to one value, then one of zero weights from that
    value whose bias is the constant — n + 1 + size weights, and the constant committed
    (hidden) like any weight. Returns the tensor, shaped ``value.shape``."""
    source = imp._reshaped(f"{name}:reader", reader, (1, int(np.prod(imp.shapes[reader]))))
    n = int(np.prod(imp.shapes[source]))
    zero = f"{name}:zero"
    imp._emit(Dense(f"{name}:zero", source, zero, np.zeros((1, n)), None, (1, 1)), (1, 1))
    size = int(value.size)
    flat = (1, size)
    made = f"{name}:value"
    bias = np.asarray(value, dtype=np.float64).reshape(-1).copy()
    imp._emit(Dense(f"{name}:value", zero, made, np.zeros((size, 1)), bias, flat), flat)
    return imp._reshaped(f"{name}:shaped", made, tuple(int(d) for d in value.shape))

"""ONNX ``LayerNormalization`` and ``InstanceNormalization`` as a chain of ops that are already
proved, so they need no relation of their own.

Over a ``kept × count`` grid of rows (the trailing axes from ``axis`` for LayerNormalization,
each channel's H·W values for InstanceNormalization)::

    d = x − mean(x) per row        one constant dense layer (I − averaging)
    q = d ⊙ d                       a product of two activations (d read twice)
    v = mean(q) + ε per row         a constant dense layer with a constant bias
    s = v^(−1/2)                    a table lookup (``Pow`` with a constant exponent)
    z = d ⊙ s, s copied per row     a constant dense layer, then a product (d read again)
    y = γ·z + β                     a diagonal layer (γ, β broadcast over the rows)

The table of s spans v's calibrated range, so the quantisation error depends on how far the
rows' variances spread (the compile report states it).

d is read three times (twice by the square, once by the scaling), and the core hides a column of
at most 8 values from two readers only (`circuit.rs`). So few values are widened instead: the
centring layer writes d followed by zeros into a column of 9 (padded to 16, so its mask has
room for the third reader's claim), the later layers carry the zeros along, and the last one,
a dense layer [diag(γ) | 0] with bias β, drops them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from onnx import helper

from zkgrad.graph import Dense, Reshape

if TYPE_CHECKING:
    from zkgrad.onnx import _Importer

#: Largest row grid (kept·count values) normalised: the centring layer has (kept·count)²
#: weights.
MAX_VALUES = 256
#: Widest column that hides its values from only two readers (the core's rule, `circuit.rs`).
MAX_NARROW = 8


def lower_normalization(
    importer: _Importer,
    name: str,
    x: str,
    out: str,
    first: int,
    gamma: np.ndarray,
    beta: np.ndarray,
    eps: float,
) -> None:
    """Emit the chain above normalising activation ``x`` over its axes from ``first`` on (each
    position of the axes before it a row); ``gamma``/``beta`` broadcast to ``x``'s shape.
    ValueError says what is not supported."""
    shape = tuple(importer.shapes[x])
    if first < 1:
        raise ValueError("normalising over the batch axis is not supported")
    kept, count = int(np.prod(shape[1:first])), int(np.prod(shape[first:]))
    n = kept * count
    if n > MAX_VALUES:
        raise ValueError(
            f"normalising {n} values is not supported yet (at most {MAX_VALUES}: its centring "
            f"is a dense layer of {n}² weights)"
        )
    if count < 2:
        raise ValueError("normalising rows of a single value is not supported")
    # A column read three times needs more than MAX_NARROW values to stay hidden: so few are
    # carried with zeros after them.
    wide = max(n, MAX_NARROW + 1)
    rows = (1, kept)
    flat = (1, n)
    column = (1, wide)
    spread = np.zeros((wide, kept))  # copy each row's value (zero on the padding)
    spread[:n] = np.kron(np.eye(kept), np.ones((count, 1)))
    average = spread.T / count  # [kept, wide]: each row's mean
    centring = np.zeros((wide, n))
    centring[:n] = np.eye(n) - spread[:n] @ average[:, :n]

    source = importer._reshaped(f"{name}:flat", x, flat)
    centred = f"{out}:centred"
    importer._emit(Dense(f"{name}:centre", source, centred, centring, None, column), column)
    squared = f"{out}:squared"
    product = helper.make_node("Mul", [centred, centred], [squared], name=f"{name}:square")
    importer._skip_connection(product, f"{name}:square", [centred, centred], 0)
    variance = f"{out}:variance"
    importer._emit(
        Dense(f"{name}:variance", squared, variance, average, np.full(kept, eps), rows), rows
    )
    exponent = f"{out}:exponent"
    importer.consts[exponent] = np.array(-0.5)
    inverse = f"{out}:inverse_std"
    power = helper.make_node("Pow", [variance, exponent], [inverse], name=f"{name}:inverse_std")
    importer._op_unary(power, f"{name}:inverse_std", [variance, exponent])
    copies = f"{out}:inverse_std_copies"
    importer._emit(Dense(f"{name}:copies", inverse, copies, spread, None, column), column)
    normalised = f"{out}:normalised"
    product = helper.make_node("Mul", [copies, centred], [normalised], name=f"{name}:scale")
    importer._skip_connection(product, f"{name}:scale", [copies, centred], 0)
    # γ and β per value of the flat rows (on an image, a per-channel 1×1 convolution would have
    # to regroup the dense layers' single channel).
    scale = np.broadcast_to(gamma, shape).reshape(flat)
    shift = None if beta is None else np.broadcast_to(beta, shape).reshape(flat)
    scaled = f"{out}:flat" if shape != flat else out
    if wide == n:
        importer._affine(name, normalised, scaled, scale, shift)
    else:
        # The padding dropped by the scale layer: [diag(γ) | 0].
        weight = np.zeros((n, wide))
        weight[:, :n] = np.diag(scale.reshape(n))
        bias = None if shift is None else shift.reshape(n)
        importer._emit(Dense(f"{name}:affine", normalised, scaled, weight, bias, flat), flat)
    if scaled != out:
        importer._emit(Reshape(f"{name}:shape", scaled, out, shape), shape)

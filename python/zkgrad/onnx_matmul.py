"""ONNX ``MatMul`` of an activation by itself (y = x·x, as in EZKL's large_op_graph) as a chain
of ops that are already proved, so it needs no relation of its own.

Every term x[…, i, k]·x[…, k, j] of the product is a difference of squares,
ab = ((a + b)² − (a − b)²)/4, which the chain computes for all T terms at once::

    u = [a + b ; a − b]        one constant dense layer (x → 2T values, weights 0 and ±1)
    v = u ⊙ u                  a table lookup (``Pow`` with exponent 2)
    y = Σ_k (v⁺ − v⁻)/4        a constant dense layer (2T → the output), then the output shape

So the chain reads x once (a product of two activations would read it twice, through two
layers that both start from x). The table of squares spans u's calibrated range; the
difference of two rounded squares is what the compile report's error measures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from onnx import helper

from zkgrad.graph import Dense, Reshape
from zkgrad.onnx_compose import MAX_LINEAR_MAP

if TYPE_CHECKING:
    import onnx

    from zkgrad.onnx import _Importer

#: Why a MatMul of two different activations (attention's Q·Kᵀ) does not import.
TWO_ACTIVATIONS = (
    "a MatMul of two different activations is not supported yet (only x·x of one activation, "
    "or a constant second operand)"
)


def _term_indices(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """For x of ``shape`` (…, m, k) times itself: the flat index of a and of b in each term,
    as arrays of shape (…, m, n, k), and the product's shape (…, m, n)."""
    index = np.arange(int(np.prod(shape))).reshape(shape)
    left = index[..., :, None, :]  # a = x[…, i, k]: (…, m, 1, k)
    right = np.swapaxes(index, -1, -2)[..., None, :, :]  # b = x[…, k, j]: (…, 1, n, k)
    terms = np.broadcast_shapes(left.shape, right.shape)
    return np.broadcast_to(left, terms), np.broadcast_to(right, terms), terms[:-1]


def lower_self_matmul(
    importer: _Importer, node: onnx.NodeProto, name: str, inputs: list[str]
) -> None:
    """Emit the chain above for ``MatMul(x, x)``; ValueError says what is not supported."""
    a, b = inputs[:2]
    if importer.resolve(a) != importer.resolve(b):
        raise ValueError(TWO_ACTIVATIONS)
    x = importer._activation(a, name)
    shape = tuple(int(d) for d in importer.shapes[x])
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(f"x·x needs x square in its last two axes, not of shape {list(shape)}")
    left, right, out_shape = _term_indices(shape)
    n, terms, m = int(np.prod(shape)), left.size, int(np.prod(out_shape))
    if 2 * terms * max(n, m) > MAX_LINEAR_MAP:
        raise ValueError(
            f"as x·x its {terms} products would need dense layers of {2 * terms}·{max(n, m)} "
            f"weights (more than {MAX_LINEAR_MAP}); not supported yet"
        )
    rows = np.arange(terms)
    pairs = np.zeros((2 * terms, n))  # [a + b ; a − b] (a + a = 2a on the diagonal)
    np.add.at(pairs, (rows, left.reshape(-1)), 1.0)
    np.add.at(pairs, (rows, right.reshape(-1)), 1.0)
    np.add.at(pairs, (terms + rows, left.reshape(-1)), 1.0)
    np.add.at(pairs, (terms + rows, right.reshape(-1)), -1.0)
    combine = np.zeros((m, 2 * terms))  # Σ_k over each output's K terms
    combine[rows // shape[-1], rows] = 0.25
    combine[rows // shape[-1], terms + rows] = -0.25

    out = node.output[0]
    source = importer._reshaped(f"{name}:flat", x, (1, n))
    both = f"{out}:sums_and_differences"
    importer._emit(
        Dense(f"{name}:pairs", source, both, pairs, None, (1, 2 * terms)), (1, 2 * terms)
    )
    exponent = f"{out}:exponent"
    importer.consts[exponent] = np.array(2.0)
    squares = f"{out}:squares"
    power = helper.make_node("Pow", [both, exponent], [squares], name=f"{name}:squares")
    importer._op_unary(power, f"{name}:squares", [both, exponent])
    flat = (1, m)
    summed = out if out_shape == flat else f"{out}:flat"
    importer._emit(Dense(f"{name}:sum", squares, summed, combine, None, flat), flat)
    if summed != out:
        importer._emit(Reshape(f"{name}:shape", summed, out, out_shape), out_shape)

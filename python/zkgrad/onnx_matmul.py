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

from zkgrad.graph import Copy, Dense, Product, Reshape
from zkgrad.onnx_compose import MAX_LINEAR_MAP

if TYPE_CHECKING:
    import onnx

    from zkgrad.onnx import _Importer

#: Why x·x does not import the second way.
TWO_ACTIVATIONS = "x·x as a difference of squares reads one activation twice"


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


def _pow2(n: int) -> int:
    return 1 << max(n - 1, 0).bit_length()


def _placement(heads: int, rows: int, cols: int, rows_p: int, cols_p: int) -> np.ndarray:
    """The 0/1 map of ``heads`` stacked row-major ``rows × cols`` matrices into stacked
    ``rows_p × cols_p`` ones (rows and columns beyond the originals are zero)."""
    place = np.zeros((heads * rows_p * cols_p, heads * rows * cols))
    h, i, j = np.meshgrid(np.arange(heads), np.arange(rows), np.arange(cols), indexing="ij")
    target = (h * rows_p + i) * cols_p + j
    place[target.reshape(-1), ((h * rows + i) * cols + j).reshape(-1)] = 1.0
    return place


def _is_model_input(importer: _Importer, tensor: str) -> bool:
    """Whether ``tensor`` is the model input under reshapes (which are not blocks)."""
    while isinstance(importer.producer.get(tensor), Reshape):
        tensor = importer.producer[tensor].input
    return tensor == importer.input


def _padded(
    importer: _Importer, name: str, x: str, dims: tuple[int, int, int], padded: tuple[int, int]
) -> str:
    """``x`` (heads stacked rows × cols, flat) with its rows and columns padded to ``padded``
    by a constant 0/1 layer, or ``x`` itself when nothing is padded."""
    heads, rows, cols = dims
    if padded == (rows, cols):
        return x
    out = f"{name}:padded"
    size = (1, heads * padded[0] * padded[1])
    place = _placement(heads, rows, cols, *padded)
    importer._emit(Dense(out, x, out, place, None, size), size)
    return out


def lower_product(importer: _Importer, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
    """``MatMul(A, B)`` of two activations as one product block (:class:`zkgrad.graph.Product`).

    The block reads each operand stored as its rows, which a flat tensor is when its row length
    is a power of two (and, for stacked matrices, its rows per matrix too): otherwise the
    operands are padded with zeros by constant 0/1 layers, and the product's padding dropped by
    another. Stacked matrices (``[…, H, M, K]`` by ``[…, H, K, N]``, attention heads) are one
    block of H products. ValueError says what is not supported.
    """
    a = importer._activation(inputs[0], name)
    b = importer._activation(inputs[1], name)
    shape_a = tuple(int(d) for d in importer.shapes[a])
    shape_b = tuple(int(d) for d in importer.shapes[b])
    if len(shape_a) < 2 or len(shape_b) < 2:
        raise ValueError(
            f"a MatMul of two activations needs matrices, not shapes {list(shape_a)} and "
            f"{list(shape_b)}"
        )
    if shape_a[:-2] != shape_b[:-2] and not (
        int(np.prod(shape_a[:-2])) == 1 and int(np.prod(shape_b[:-2])) == 1
    ):
        raise ValueError(
            f"a MatMul of two activations whose stacks differ ({list(shape_a)} by "
            f"{list(shape_b)}, a broadcast) is not supported yet"
        )
    heads = int(np.prod(shape_a[:-2]))
    (rows, inner), (inner_b, cols) = shape_a[-2:], shape_b[-2:]
    if inner != inner_b or inner < 2:
        raise ValueError(f"operands {list(shape_a)} and {list(shape_b)} do not multiply")
    rows_p = rows if heads == 1 else _pow2(rows)
    inner_p, cols_p = _pow2(inner), _pow2(cols)
    sizes = [
        (heads * rows * inner, heads * rows_p * inner_p),
        (heads * inner * cols, heads * inner_p * cols_p),
        (heads * rows * cols, heads * rows_p * cols_p),
    ]
    worst = max((m * n for m, n in sizes if m != n), default=0)
    if worst > MAX_LINEAR_MAP:
        raise ValueError(
            f"its {heads}×{rows}×{inner} by {inner}×{cols} product would be padded to powers of "
            f"two by dense layers of up to {worst} weights (more than {MAX_LINEAR_MAP}); not "
            "supported"
        )
    out = node.output[0]
    out_shape = (*shape_a[:-2], rows, cols)
    a_flat = importer._reshaped(f"{name}:a_flat", a, (1, sizes[0][0]))
    b_flat = a_flat if b == a else importer._reshaped(f"{name}:b_flat", b, (1, sizes[1][0]))
    a_in = _padded(importer, f"{out}:a", a_flat, (heads, rows, inner), (rows_p, inner_p))
    b_in = _padded(importer, f"{out}:b", b_flat, (heads, inner, cols), (inner_p, cols_p))
    if _is_model_input(importer, b_in):
        # B read straight from the model input: the relation reads B without a selector, so it
        # must be a block's output (whose padding its own relation makes zero): a copy block.
        copied = f"{out}:b_copy"
        importer._emit(Copy(f"{name}:b_copy", b_in, copied, (1, sizes[1][1])), (1, sizes[1][1]))
        b_in = copied
    flat = (1, sizes[2][1])
    product = out if sizes[2][0] == sizes[2][1] and flat == out_shape else f"{out}:product"
    importer._emit(
        Product(name, a_in, b_in, product, rows_p, inner_p, cols_p, flat, heads), flat
    )
    if sizes[2][0] != sizes[2][1]:
        cut = _placement(heads, rows, cols, rows_p, cols_p).T
        kept = out if (1, sizes[2][0]) == out_shape else f"{out}:flat"
        importer._emit(
            Dense(f"{name}:unpad", product, kept, cut, None, (1, sizes[2][0])), (1, sizes[2][0])
        )
        product = kept
    if product != out:
        importer._emit(Reshape(f"{name}:shape", product, out, out_shape), out_shape)

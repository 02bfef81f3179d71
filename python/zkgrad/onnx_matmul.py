"""ONNX ``MatMul`` of two activations (attention's Q·Kᵀ and scores·V, or x·x) as one product
block (:class:`zkgrad.graph.Product`, proved by ``zk/matmul.rs``).

The block reads each operand stored as its rows; a flat tensor is stored that way when its row
length is a power of two (and, for stacked matrices, its rows per matrix too). Otherwise constant
0/1 dense layers pad the operands with zeros and drop the product's padding again; they are
public constants, committed like any weight, so their size is limited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from zkgrad.graph import Copy, Dense, Product, Reshape
from zkgrad.onnx_compose import MAX_LINEAR_MAP

if TYPE_CHECKING:
    import onnx

    from zkgrad.onnx import _Importer


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
    importer._emit(Product(name, a_in, b_in, product, rows_p, inner_p, cols_p, flat, heads), flat)
    if sizes[2][0] != sizes[2][1]:
        cut = _placement(heads, rows, cols, rows_p, cols_p).T
        kept = out if (1, sizes[2][0]) == out_shape else f"{out}:flat"
        importer._emit(
            Dense(f"{name}:unpad", product, kept, cut, None, (1, sizes[2][0])), (1, sizes[2][0])
        )
        product = kept
    if product != out:
        importer._emit(Reshape(f"{name}:shape", product, out, out_shape), out_shape)

"""ONNX ops on integer and boolean activations, as ops that are already proved: what decision
trees converted to ONNX (Hummingbird, skl2onnx) are made of.

    Cast to an integer type       removed, for an activation that holds integers
                                  (:func:`zkgrad.integers.integral_after`); a fractional one
                                  is refused (the cast would truncate)
    Cast to BOOL                  removed for 0/1; else x ≠ 0, a comparison with 0
    Cast to DOUBLE, FLOAT16       removed (values are quantised anyway)
    a BOOL or integer input       read as float32 (``zkgrad.onnx_input_type``); where ops
                                  read it, x ≠ 0 or x rounded by a table lookup
    And(a, b), Or, Xor            a·b; a + b compared with 1 (≥ 1; = 1), for 0/1 activations
    ArgMax(x), ArgMin             e = [x = max x] (skipped when x is 0/1); f = a constant layer
                                  per row, f_k = e_k − Σ_{j<k} e_j − 1 (k > 0), f_0 = K·e_0 −
                                  Σ_{j>0} e_j; the one-hot o = [f ≥ 0] marks the first maximum
                                  (the last with select_last_index); index = Σ_k k·o_k
    Gather(T, i), T constant      after an ArgMax: Σ_k o_k·T[k], a constant layer of the one-hot;
                                  of any other integer activation i: a table lookup of T at i
                                  (one table over every column of T, each column's indices
                                  offset by a constant)
    OneHot(i, depth, values)      a table lookup of i − k per output position (on at 0 and at
                                  −depth, ONNX's negative indices)
    GatherElements(x, i)          a one-hot of i by table lookup, times x's values copied to
                                  every index, summed over the indexed axis

An index outside what its table holds (ONNX's Gather and OneHot would refuse it or write
zeros) is an error at proving that names the node. Every function takes the importer and
emits ops through it; a ValueError says why a node cannot be imported.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from onnx import TensorProto, helper

from zkgrad.graph import Dense, Mul, Reshape, Unary
from zkgrad.integers import boolean_after, integral_after, interval_after

if TYPE_CHECKING:
    import onnx

    from zkgrad.onnx import _Importer

#: What the importer accepts for each op (merged into ``zkgrad.onnx.SUPPORTED_OPS``).
SUPPORTED: dict[str, str] = {
    "And": "two 0/1 activations, as their product",
    "Or": "two 0/1 activations, as their sum compared with 1 (at least 1)",
    "Xor": "two 0/1 activations, as their sum compared with 1 (exactly 1)",
    "ArgMax": (
        "any axis, keepdims, select_last_index: the maxima marked by an equality test with "
        "`ReduceMax` (skipped for 0/1 values), the first (or last) kept by a constant layer and "
        "a comparison, the index by a constant layer"
    ),
    "ArgMin": "as `ArgMax`, of −x (of 1 − x for 0/1 values)",
    "OneHot": (
        "an integer activation, constant depth and values: a table lookup of index − k per "
        "output (negative indices wrap as in ONNX)"
    ),
    "GatherElements": (
        "constant indices (a linear map); or an integer activation's indices into an "
        "activation: their one-hot by table lookup times the values, summed"
    ),
}

#: Table lookups of an index are made on activations of at most this magnitude (16-bit ones).
MAX_INDEX = (1 << 15) - 1
#: Most weights of a constant layer these rules emit (as a layer applied to every row).
MAX_WEIGHTS = 1 << 22

_FLOATS = {TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BFLOAT16}


def is_integral(importer: _Importer, x: str) -> bool:
    """Whether activation ``x`` holds only integers (read from the ops that compute it)."""
    return _ask(importer, x, integral_after)


def is_boolean(importer: _Importer, x: str) -> bool:
    """Whether activation ``x`` holds only 0 and 1 (read from the ops that compute it)."""
    return _ask(importer, x, boolean_after)


def _ask(importer: _Importer, x: str, rule: object) -> bool:
    memo: dict[str, bool] = {}

    def known(t: str) -> bool:
        if t not in memo:
            op = importer.producer.get(t)
            memo[t] = op is not None and rule(op, known)  # type: ignore[operator]
        return memo[t]

    return known(x)


def value_range(importer: _Importer, x: str) -> tuple[float, float] | None:
    """The range activation ``x``'s values lie in, from the ops that compute it (None: not
    known)."""
    memo: dict[str, tuple[float, float] | None] = {}

    def known(t: str) -> tuple[float, float] | None:
        if t not in memo:
            op = importer.producer.get(t)
            memo[t] = None if op is None else interval_after(op, known)
        return memo[t]

    return known(x)


#: The integer types' ranges; ONNX wraps a value outside them around.
INTEGER_RANGES = {
    TensorProto.INT8: (-(2**7), 2**7 - 1),
    TensorProto.UINT8: (0, 2**8 - 1),
    TensorProto.INT16: (-(2**15), 2**15 - 1),
    TensorProto.UINT16: (0, 2**16 - 1),
    TensorProto.INT32: (-(2**31), 2**31 - 1),
    TensorProto.UINT32: (0, 2**32 - 1),
    TensorProto.INT64: (-(2**63), 2**63 - 1),
    TensorProto.UINT64: (0, 2**64 - 1),
}
#: An integer activation at scale 2^0 is a 16-bit integer at most (the widest tables').
_ACTIVATION_RANGE = (-(2**15), 2**15 - 1)


def check_fits(importer: _Importer, x: str, elem_type: int) -> None:
    """ValueError unless every value of the integer activation ``x`` fits ``elem_type`` (ONNX
    would wrap it around; the proof carries the value itself)."""
    low, high = INTEGER_RANGES[elem_type]
    bounds = value_range(importer, x) or _ACTIVATION_RANGE
    if bounds[0] < low or bounds[1] > high:
        name = TensorProto.DataType.Name(elem_type)
        raise ValueError(
            f"'{x}' may take values in [{bounds[0]:g}, {bounds[1]:g}], beyond {name}'s "
            f"[{low}, {high}], which ONNX wraps around and the proof does not"
        )


def cast(importer: _Importer, node: onnx.NodeProto, name: str, x: str) -> None:
    """A Cast of activation ``x``: an alias where the values stay what they are, a comparison
    with 0 for a BOOL of other values; ValueError for a truncating one."""
    to = next((a.i for a in node.attribute if a.name == "to"), TensorProto.FLOAT)
    target = TensorProto.DataType.Name(to)
    if to in _FLOATS or (to == TensorProto.BOOL and is_boolean(importer, x)):
        importer.alias[node.output[0]] = x
        return
    if to == TensorProto.BOOL:
        _compare(importer, name, importer._activation(x, name), node.output[0], 0.0, (1, 0, 1))
        return
    if to not in INTEGER_RANGES or not is_integral(importer, x):
        raise ValueError(
            f"Cast to {target} of '{x}', whose values are not known to be integers, would "
            "truncate them; only integers (comparisons, counts, indices) are cast to an "
            "integer type"
        )
    check_fits(importer, x, to)
    importer.alias[node.output[0]] = x


def declared_type(importer: _Importer, node: onnx.NodeProto, name: str, x: str) -> None:
    """A BOOL or integer model input that ops read, read as float32: made what its declared
    type holds, x ≠ 0 for BOOL and x rounded for an integer type, by a table lookup (so every
    later op reads exactly 0/1 or integers, whatever a prover gives)."""
    to = next((a.i for a in node.attribute if a.name == "to"), TensorProto.FLOAT)
    shape = tuple(importer.shapes[x])
    if to == TensorProto.BOOL:
        _compare(importer, name, x, node.output[0], 0.0, (1, 0, 1))
    else:
        importer._emit(Unary(name, x, node.output[0], "round", (), shape), shape)


def logical(importer: _Importer, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
    """And(a, b) = a·b; Or = [a + b ≥ 1]; Xor = [a + b = 1], for 0/1 activations."""
    a, b = inputs[:2]
    for operand in (a, b):
        if operand in importer.consts or not is_boolean(importer, operand):
            raise ValueError(
                f"'{operand}' is not an activation known to hold 0 and 1 (a comparison, Not, "
                "And, Or or Xor)"
            )
    if node.op_type == "And":
        importer._skip_connection(node, name, [a, b], 0)
        return
    total = f"{node.output[0]}:sum"
    add = helper.make_node("Add", [a, b], [total], name=f"{name}:sum")
    importer._skip_connection(add, f"{name}:sum", [a, b], 1)
    steps = (0, 1, 1) if node.op_type == "Or" else (0, 1, 0)
    _compare(importer, name, total, node.output[0], 1.0, steps)


def argmax(importer: _Importer, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
    """ArgMax/ArgMin along one axis (see the module docstring); the one-hot is kept for a
    Gather by the index."""
    x = importer._activation(inputs[0], name)
    shape = tuple(importer.shapes[x])
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    rank = len(shape)
    axis = int(attrs.get("axis", 0))  # type: ignore[call-overload]
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank:
        raise ValueError(f"axis {attrs.get('axis')} is out of range for rank {rank}")
    if axis == 0 and shape[0] == 1:
        raise ValueError(f"{node.op_type} over the batch axis (axis 0) is not supported")
    count, n = shape[axis], math.prod(shape)
    rows = n // count
    out = node.output[0]
    boolean = is_boolean(importer, x)
    # Rows of `count` values, the reduced axis last: [1, rows, count].
    order = np.moveaxis(np.arange(n).reshape(shape), axis, -1).reshape(-1)
    grid = (1, rows, count)
    if node.op_type == "ArgMin":  # argmin x = argmax −x (= argmax 1 − x for 0/1 values)
        scale, shift = -np.eye(n)[order], (np.ones(n) if boolean else None)
        values = linear(importer, f"{name}:negated", x, f"{out}:negated", scale, shift, grid)
    elif axis != rank - 1:
        values = linear(importer, f"{name}:rows", x, f"{out}:rows", np.eye(n)[order], None, grid)
    else:
        values = importer._reshaped(f"{name}:rows", x, grid)
    if boolean:
        marked = values
    else:
        maximum = f"{out}:max"
        reduce = helper.make_node("ReduceMax", [values], [maximum], axes=[2], keepdims=1)
        importer._reduce_extreme(reduce, f"{name}:max", [values], negate=False)
        gap = f"{out}:below_max"
        sub = helper.make_node("Sub", [values, maximum], [gap], name=f"{name}:below_max")
        importer._skip_connection(sub, f"{name}:below_max", [values, maximum], -1)
        marked = f"{out}:at_max"
        _compare(importer, f"{name}:at_max", gap, marked, 0.0, (0, 1, 0))
    first, bias = _first_marked(count, bool(attrs.get("select_last_index", 0)))
    flags = linear(
        importer,
        f"{name}:first",
        marked,
        f"{out}:first",
        np.kron(np.eye(rows), first),
        np.tile(bias, rows),
        grid,
    )
    one_hot = f"{out}:one_hot"
    _compare(importer, f"{name}:one_hot", flags, one_hot, 0.0, (0, 1, 1))
    kept = list(shape)
    if attrs.get("keepdims", 1):
        kept[axis] = 1
    else:
        del kept[axis]
    index = np.kron(np.eye(rows), np.arange(count, dtype=np.float64)[None, :])
    linear(importer, name, one_hot, out, index, None, tuple(kept))
    importer.one_hots[out] = (one_hot, rows, count)


def _first_marked(count: int, last: bool) -> tuple[np.ndarray, np.ndarray]:
    """The constant layer f (per row) whose f ≥ 0 keeps the first marked value of a row with
    at least one mark, or the first value of a row of 0/1 values with none (the last with
    ``last``): f_0 = K·e_0 − Σ_{j>0} e_j, f_k = e_k − Σ_{j<k} e_j − 1."""
    order = list(range(count))[::-1] if last else list(range(count))
    matrix, bias = np.zeros((count, count)), np.zeros(count)
    for position, k in enumerate(order):
        if position == 0:
            matrix[k, :] = -1.0
            matrix[k, k] = float(count)
        else:
            matrix[k, order[:position]] = -1.0
            matrix[k, k] = 1.0
            bias[k] = -1.0
    return matrix, bias


def gather(importer: _Importer, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
    """Gather from constant data by an integer activation (see the module docstring)."""
    table, index = inputs[:2]
    data = importer._const(table, "the gathered data")
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    axis = int(attrs.get("axis", 0))  # type: ignore[call-overload]
    axis = axis + data.ndim if axis < 0 else axis
    if data.ndim == 0 or not 0 <= axis < data.ndim:
        raise ValueError(f"axis {attrs.get('axis', 0)} does not fit data of rank {data.ndim}")
    index = importer._activation(index, name)
    indices = tuple(importer.shapes[index])
    out_shape = (*data.shape[:axis], *indices, *data.shape[axis + 1 :])
    if index in importer.one_hots:
        one_hot, rows, count = importer.one_hots[index]
        if count != data.shape[axis]:
            raise ValueError(
                f"the index runs over {count} values but the data has {data.shape[axis]}"
            )
        matrix = _gather_matrix(data, axis, rows)
        linear(importer, name, one_hot, node.output[0], matrix, None, out_shape)
        return
    if not is_integral(importer, index):
        raise ValueError(
            f"gathering from a constant by '{index}' needs integer indices (a comparison, an "
            "ArgMax, a count or an index computed from them)"
        )
    if axis != 0:
        raise ValueError("gathering by an activation index is supported along axis 0 only")
    count = data.shape[0]
    columns = data.reshape(count, -1)
    width = columns.shape[1]
    rows = math.prod(indices)
    if 2 * count * width - count - 1 > MAX_INDEX:
        raise ValueError(
            f"a table of {count}·{width} values read at an index is larger than the "
            f"{MAX_INDEX + 1}-entry tables of 16-bit activations"
        )
    # Indices −K..K−1 of column c at c·2K + index: one table holds every column.
    listed = np.concatenate([np.concatenate([columns[:, c], columns[:, c]]) for c in range(width)])
    source = index
    if width > 1:
        spread = np.kron(np.eye(rows), np.ones((width, 1)))
        offsets = np.tile(np.arange(width, dtype=np.float64) * 2 * count, rows)
        source = linear(
            importer,
            f"{name}:columns",
            index,
            f"{node.output[0]}:at",
            spread,
            offsets,
            (1, rows * width),
        )
    looked = f"{node.output[0]}:looked_up"
    flat = tuple(importer.shapes[source])
    params = (float(-count), *map(float, listed))
    importer._emit(Unary(f"{name}:table", source, looked, "table", params, flat), flat)
    _reshape_to(importer, f"{name}:shape", looked, node.output[0], out_shape)


def _gather_matrix(data: np.ndarray, axis: int, rows: int) -> np.ndarray:
    """The layer from a one-hot [rows, K] to Gather(data, index) (rows indices, data's axis K)."""
    moved = np.moveaxis(data, axis, 0)
    count = moved.shape[0]
    pre, post = data.shape[:axis], data.shape[axis + 1 :]
    if rows * count * rows * moved[0].size > MAX_WEIGHTS:
        raise ValueError(
            f"a gather of {rows} indices from {list(data.shape)} would be a constant layer of "
            f"more than {MAX_WEIGHTS} weights"
        )
    columns = []
    for r in range(rows):
        for k in range(count):
            picked = np.zeros((*pre, rows, *post))
            picked[(slice(None),) * len(pre) + (r,)] = moved[k]
            columns.append(picked.reshape(-1))
    return np.stack(columns, axis=1)


def one_hot(importer: _Importer, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
    """OneHot(indices, depth, values) of an integer activation."""
    index = importer._activation(inputs[0], name)
    if not is_integral(importer, index):
        raise ValueError(f"the indices '{index}' are not known to be integers")
    depth_value = importer._const(inputs[1], "the depth")
    values = importer._const(inputs[2], "the values").reshape(-1)
    if depth_value.size != 1 or values.size != 2:
        raise ValueError("the depth must be one constant and the values two (off, on)")
    depth = int(depth_value.reshape(-1)[0])
    if depth < 1 or 3 * depth > MAX_INDEX:
        raise ValueError(f"depth {depth} is outside 1..{MAX_INDEX // 3}")
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    shape = tuple(importer.shapes[index])
    axis = int(attrs.get("axis", -1))  # type: ignore[call-overload]
    axis = axis + len(shape) + 1 if axis < 0 else axis
    out_shape = (*shape[:axis], depth, *shape[axis:])
    off, on = (float(v) for v in values)
    _index_minus_k(importer, name, index, node.output[0], out_shape, axis, (off, on))


def _index_minus_k(
    importer: _Importer,
    name: str,
    index: str,
    out: str,
    out_shape: tuple[int, ...],
    axis: int,
    values: tuple[float, float],
) -> None:
    """out[..., k, ...] = on where index = k (or k − depth), else off: index − k per output
    position (a constant layer), then a table that is `on` at 0 and at −depth."""
    depth = out_shape[axis]
    n = math.prod(importer.shapes[index])
    k = np.indices(out_shape)[axis].reshape(-1).astype(np.float64)
    reads = np.expand_dims(np.arange(n).reshape(importer.shapes[index]), axis)
    picked = np.broadcast_to(reads, out_shape).reshape(-1)
    matrix = np.zeros((picked.size, n))
    matrix[np.arange(picked.size), picked] = 1.0
    shifted = linear(importer, f"{name}:minus_k", index, f"{out}:minus_k", matrix, -k, out_shape)
    off, on = values
    first = -2 * depth + 1
    listed = np.full(3 * depth - 1, off)
    listed[[-depth - first, -first]] = on
    params = (float(first), *map(float, listed))
    importer._emit(Unary(name, shifted, out, "table", params, out_shape), out_shape)


def gather_elements(
    importer: _Importer, node: onnx.NodeProto, name: str, inputs: list[str]
) -> None:
    """GatherElements(x, i) with x an activation and i an integer activation of x's rank."""
    data, index = (importer._activation(t, name) for t in inputs[:2])
    if not is_integral(importer, index):
        raise ValueError(f"the indices '{index}' are not known to be integers")
    shape, indices = tuple(importer.shapes[data]), tuple(importer.shapes[index])
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    axis = int(attrs.get("axis", 0))  # type: ignore[call-overload]
    axis = axis + len(shape) if axis < 0 else axis
    if len(indices) != len(shape) or not 0 <= axis < len(shape):
        raise ValueError(f"indices of shape {list(indices)} do not fit data {list(shape)}")
    if any(i > d for a, (i, d) in enumerate(zip(indices, shape, strict=True)) if a != axis):
        raise ValueError(f"indices of shape {list(indices)} reach past data {list(shape)}")
    depth = shape[axis]
    out = node.output[0]
    wide = (*indices, depth)  # every index position, then every value it may pick
    hot = f"{out}:one_hot"
    _index_minus_k(importer, f"{name}:one_hot", index, hot, wide, len(indices), (0.0, 1.0))
    # x's value at each (index position, candidate): a constant 0/1 layer.
    grid = np.indices(wide)
    coords = [grid[a] for a in range(len(indices))]
    coords[axis] = grid[len(indices)]
    picked = np.ravel_multi_index(tuple(coords), shape).reshape(-1)
    n = math.prod(shape)
    matrix = np.zeros((picked.size, n))
    matrix[np.arange(picked.size), picked] = 1.0
    candidates = linear(
        importer, f"{name}:candidates", data, f"{out}:candidates", matrix, None, wide
    )
    chosen = f"{out}:chosen"
    importer._emit(Mul(f"{name}:chosen", hot, candidates, chosen, wide), wide)
    total = math.prod(indices)
    linear(importer, name, chosen, out, np.kron(np.eye(total), np.ones((1, depth))), None, indices)


def linear(
    importer: _Importer,
    name: str,
    x: str,
    out: str,
    matrix: np.ndarray,
    bias: np.ndarray | None,
    out_shape: tuple[int, ...],
) -> str:
    """out = matrix·x + bias over the flattened values, as a constant dense layer; returns out."""
    n, m = math.prod(importer.shapes[x]), math.prod(out_shape)
    if matrix.shape != (m, n):
        raise ValueError(f"a layer of shape {list(matrix.shape)} does not map {n} values to {m}")
    if matrix.size > MAX_WEIGHTS:
        raise ValueError(
            f"it would need a constant layer of {n}·{m} weights (more than {MAX_WEIGHTS})"
        )
    flat_in = importer._reshaped(f"{name}:flat_in", x, (1, n))
    flat = (1, m)
    dense_out = out if tuple(out_shape) == flat else f"{out}:flat"
    values = None if bias is None else np.asarray(bias, dtype=np.float64).reshape(-1).copy()
    weight = np.ascontiguousarray(matrix, dtype=np.float64)
    importer._emit(Dense(name, flat_in, dense_out, weight, values, flat), flat)
    if dense_out != out:
        _reshape_to(importer, f"{name}:shape", dense_out, out, tuple(out_shape))
    return out


def _reshape_to(importer: _Importer, name: str, x: str, out: str, shape: tuple[int, ...]) -> None:
    importer._emit(Reshape(name, x, out, shape), shape)


def _compare(
    importer: _Importer, name: str, x: str, out: str, threshold: float, steps: tuple[int, int, int]
) -> None:
    """out = (below, at, above)[sign(x − threshold)] by a table lookup."""
    shape = tuple(importer.shapes[x])
    params = (threshold, *map(float, steps))
    importer._emit(Unary(name, x, out, "compare", params, shape), shape)

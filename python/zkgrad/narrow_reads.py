"""Copies of a small tensor read by many ops, so each copy is read by at most two.

A tensor of at most 8 values (a tabular model's input, a tree's few features) is a column of
3 variables in the proof: its zero-knowledge masks have room for its producer's claim and two
readers' (``zkgrad-core``'s ``MAX_NARROW_READERS``), and the circuit refuses a third reader
rather than reveal it. A model whose small input feeds 30 trees would be refused; instead each
reader past the first takes its own copy of the tensor, the copies chained (x → c₁ → c₂ …,
each read by one op and the next copy). A copy is a dense layer of identity weights (one read;
``Copy``, x + x, would read it twice), exact at the tensor's own scale, so the model computes
the same integers, for one small block per extra reader.
"""

from __future__ import annotations

import numpy as np

from zkgrad.graph import Copy, Dense, FloatGraph, Op, Relu, Reshape, reads

#: A tensor of at most this many values is a narrow column (3 variables).
NARROW_VALUES = 8
#: How many blocks may read a narrow column.
MAX_NARROW_READERS = 2


def spread_narrow_reads(graph: FloatGraph) -> None:
    """Give each reader past the second of a narrow tensor its own chained copy (in place)."""
    shapes, root = _columns(graph)
    crowded = {c for c, users in _readers(graph, root).items() if _over(users, shapes[c])}
    if not crowded:
        return
    # A Copy (x + x) reads its input twice: of a crowded tensor, it becomes an identity layer.
    ops: list[Op] = []
    for op in graph.ops:
        if isinstance(op, Copy) and root[op.input] in crowded:
            ops.extend(_identity(op.output, op.input, shapes[op.output]))
        else:
            ops.append(op)
    graph.ops = ops
    shapes, root = _columns(graph)
    inserted: dict[int, list[Op]] = {}
    made: set[str] = set()
    for column, users in _readers(graph, root).items():
        if not _over(users, shapes[column]):
            continue
        previous = column
        for n, (index, slot, tensor) in enumerate(users[1:], start=1):
            if n == len(users) - 1:
                copy = previous  # the last reader shares the last copy with nobody
            else:
                copy = f"{column}:copy{n}"
                inserted.setdefault(index, []).extend(_identity(copy, previous, shapes[column]))
                previous = copy
            if copy == column:
                continue
            target = copy
            if tensor != column:  # the reader reads a reshape of the column: reshape the copy
                target = f"{tensor}:from_{copy}"
                if target not in made:  # the last two readers may share one
                    made.add(target)
                    reshape = Reshape(target, copy, target, shapes[tensor])
                    inserted.setdefault(index, []).append(reshape)
            setattr(graph.ops[index], slot, target)
    if inserted:
        ops: list[Op] = []
        for index, op in enumerate(graph.ops):
            ops.extend(inserted.get(index, []))
            ops.append(op)
        graph.ops = ops


def _readers(graph: FloatGraph, root: dict[str, str]) -> dict[str, list[tuple[int, str, str]]]:
    """Each column's reads, in order, as (op index, operand slot, tensor read): every slot is
    one read (x·x, and a Copy's x + x, read x twice)."""
    readers: dict[str, list[tuple[int, str, str]]] = {}
    for index, op in enumerate(graph.ops):
        if isinstance(op, (Reshape, Relu)):
            continue  # no block of its own (a ReLU fuses with the block before it)
        slots = [("input", op.input), ("input", op.input)] if isinstance(op, Copy) else []
        slots = slots or list(zip(("input", "other"), reads(op), strict=False))
        for slot, tensor in slots:
            readers.setdefault(root[tensor], []).append((index, slot, tensor))
    return readers


def _over(users: list[tuple[int, str, str]], shape: tuple[int, ...]) -> bool:
    return len(users) > MAX_NARROW_READERS and _size(shape) <= NARROW_VALUES


def _columns(graph: FloatGraph) -> tuple[dict[str, tuple[int, ...]], dict[str, str]]:
    """Every tensor's shape, and the column it is stored in (a reshape is free: it and its
    input are one column)."""
    shapes = {graph.input: tuple(graph.input_shape)}
    root = {graph.input: graph.input}
    for op in graph.ops:
        shapes[op.output] = tuple(op.shape) if isinstance(op, Reshape) else _shape(op, shapes)
        root[op.output] = root[op.input] if isinstance(op, Reshape) else op.output
    return shapes, root


def _shape(op: Op, shapes: dict[str, tuple[int, ...]]) -> tuple[int, ...]:
    return shapes[op.input] if isinstance(op, Relu) else tuple(op.out_shape)  # type: ignore[union-attr]


def _size(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return 1 << max(0, (n - 1).bit_length())


def _identity(name: str, x: str, shape: tuple[int, ...]) -> list[Op]:
    """y = x by a dense layer of identity weights (flattened around it when x is not flat)."""
    n = 1
    for d in shape:
        n *= d
    flat = (1, n)
    if shape == flat:
        return [Dense(name, x, name, np.eye(n), None, flat)]
    return [
        Reshape(f"{name}:flat_in", x, f"{name}:flat_in", flat),
        Dense(f"{name}:flat", f"{name}:flat_in", f"{name}:flat", np.eye(n), None, flat),
        Reshape(name, f"{name}:flat", name, shape),
    ]

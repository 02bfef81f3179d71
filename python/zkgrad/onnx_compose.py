"""ONNX nodes the importer writes as several ops that are already proved (the rules too long for
``zkgrad.onnx``'s importer class): broadcasting between two activations, elementwise Max/Min,
a convolution to one output channel, max pooling padded by less than its kernel, a constant
factor folded into the layer before it, and a permutation folded into the rows of a dense layer
before it.

Each function takes the importer and emits ops through it; a ValueError says, in one sentence,
why the node cannot be imported (the importer names the node).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from onnx import helper

from zkgrad import onnx_unary
from zkgrad.graph import Conv, Dense, Relu, Reshape, Unary

if TYPE_CHECKING:
    from zkgrad.graph import Op

if TYPE_CHECKING:
    import onnx

    from zkgrad.onnx import _Importer

#: Largest constant dense layer the importer emits for wiring (a linear map, a broadcast copy,
#: an edge padding): at most this many weights, committed like any other.
MAX_LINEAR_MAP = 1 << 16
#: The most weights of the layer that broadcasts an operand (or reduces rows): one value per
#: row of the other operand, as large as a dense layer applied to every row.
MAX_BROADCAST = 1 << 22


def fold_scale(layer: Dense | Conv, factor: np.ndarray) -> bool:
    """Fold y = factor ⊙ (W·x + b) into ``layer`` as (factor ⊙ W)·x + factor ⊙ b, with one
    factor per output of a dense layer or per output channel of a convolution (what a
    ``Mul`` right after ``Gemm``/``Conv``, e.g. an exported batch normalisation, multiplies by).
    False, leaving the layer as it is, when ``factor`` does not have that form."""
    shape = tuple(layer.out_shape)
    try:
        if np.broadcast_shapes(factor.shape, shape) != shape:
            return False
    except ValueError:
        return False
    full = np.broadcast_to(factor, shape)
    if isinstance(layer, Dense):
        per_output = full.reshape(-1)
        if per_output.size != layer.weight.shape[0]:
            return False
    else:
        per_output = full[0, :, 0, 0]
        if not np.array_equal(full, np.broadcast_to(per_output[None, :, None, None], shape)):
            return False
    per_output = per_output.astype(np.float64)
    grid = per_output.reshape(-1, *[1] * (layer.weight.ndim - 1))
    layer.weight = np.ascontiguousarray(layer.weight * grid)
    if layer.bias is not None:
        layer.bias = layer.bias * per_output
    return True


def permute_into_layer(
    importer: _Importer, x: str, source: np.ndarray, out: str, out_shape: tuple[int, ...]
) -> bool:
    """y = x permuted (``y.flat[i] = x.flat[source[i]]``, a Transpose) folded into the dense layer
    that computes x through ops that act on each value alone (table lookups, ReLUs, reshapes):
    its rows and bias are permuted instead, so no n² wiring layer is needed (a Keras generator's
    Dense → activation → Reshape → NHWC-to-NCHW Transpose). False, changing nothing, when x is
    not computed so, or a tensor on the way has another reader."""
    chain: list[Op] = []
    tensor = x
    while isinstance(importer.producer.get(tensor), (Unary, Relu, Reshape)):
        op = importer.producer[tensor]
        if importer.uses[tensor] != 1 or tensor == importer.resolve(importer.output):
            return False
        chain.append(op)
        tensor = op.input
    layer = importer.producer.get(tensor)
    if (
        not isinstance(layer, Dense)
        or importer.uses[tensor] != 1
        or layer.weight.shape[0] != source.size
        or importer.shapes[tensor] != (1, source.size)
    ):
        return False
    layer.weight = np.ascontiguousarray(layer.weight[source])
    if layer.bias is not None:
        layer.bias = layer.bias[source]
    # The permuted tensors hold no ONNX tensor's values any more: new names (the report compares
    # only ONNX tensors; calibration takes their ranges from the float graph).
    renamed = {}
    for op in [layer, *reversed(chain)]:
        if op is not layer:
            op.input = renamed[op.input]
        renamed[op.output] = f"{op.output}:permuted"
        importer._rename_output(op, renamed[op.output])
    importer._emit(Reshape(f"{out}:order", renamed[x], out, out_shape), out_shape)
    return True


def elementwise_extreme(
    importer: _Importer, node: onnx.NodeProto, name: str, inputs: list[str], minimum: bool
) -> None:
    """Max/Min of an activation and a scalar constant: a clip by table lookup. Of two
    activations a (the previous output) and b: max = b + relu(a − b) and
    min = −(relu(a − b) − a), each step a block already proved."""
    out = node.output[0]
    acts = [i for i in dict.fromkeys(inputs) if i and i not in importer.consts]
    consts = [i for i in inputs if i and i in importer.consts]
    if len(acts) == 1 and not consts:  # Max(x) or Max(x, x)
        importer.alias[out] = importer._activation(acts[0], name)
        return
    if len(acts) == 1 and len(consts) == 1:
        x = importer._activation(acts[0], name)
        bound = importer._const(consts[0], "the constant bound")
        if bound.size != 1:
            raise ValueError("a constant operand must be one scalar for every value")
        c = float(bound.reshape(-1)[0])
        if not math.isfinite(c):
            raise ValueError(f"the constant operand {c} must be finite")
        limits = (-onnx_unary.NO_BOUND, c) if minimum else (c, onnx_unary.NO_BOUND)
        importer._emit(Unary(name, x, out, "clip", limits, importer.shapes[x]), importer.shapes[x])
        return
    if len(acts) != 2 or consts:
        raise ValueError(
            f"{len(inputs)} operands: two activations, or one and a scalar constant, only"
        )
    a, b = (importer._activation(i, name) for i in acts)
    last = importer.ops[-1].output if importer.ops else importer.input
    first, other = (a, b) if a == last else (b, a)
    if first != last:
        raise ValueError("neither operand is the previous node's output")
    difference = f"{out}:difference"
    subtract = [first, other]
    if minimum and importer.shapes[first] != importer.shapes[other]:
        # first is broadcast for the difference and cannot be read again afterwards:
        # min = other − relu(other − first).
        subtract, first = [other, first], other
    sub = helper.make_node("Sub", subtract, [difference], name=f"{name}:difference")
    importer._skip_connection(sub, f"{name}:difference", subtract, -1)
    shape = importer.shapes[difference]
    positive = f"{out}:positive"
    importer._emit(Relu(f"{name}:positive", difference, positive), shape)
    if not minimum:
        add = helper.make_node("Add", [positive, other], [out], name=name)
        importer._skip_connection(add, name, [positive, other], 1)
        return
    negated = f"{out}:negated"
    sub = helper.make_node("Sub", [positive, first], [negated], name=f"{name}:negated")
    importer._skip_connection(sub, f"{name}:negated", [positive, first], -1)
    importer._affine(name, negated, out, np.array(-1.0), None)


def broadcast_smaller(
    importer: _Importer, name: str, a: str, b: str, sign: int
) -> tuple[str, str, int]:
    """Broadcast the smaller operand to the other's shape by a constant dense layer (each value
    copied; negated for a subtrahend, so the result is an ``Add``) that reads it wherever it was
    computed; returns the new operands and sign."""
    count = {x: int(np.prod(importer.shapes[x])) for x in (a, b)}
    small, big = (a, b) if count[a] < count[b] else (b, a)
    differ = (
        f"its operands '{a}' {list(importer.shapes[a])} and '{b}' {list(importer.shapes[b])} "
        "differ in shape"
    )
    try:
        fits = (
            np.broadcast_shapes(importer.shapes[small], importer.shapes[big])
            == importer.shapes[big]
        )
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{differ} and '{small}' does not broadcast to the other")
    n_small, n_big = int(np.prod(importer.shapes[small])), int(np.prod(importer.shapes[big]))
    # One value copied along a row per kept value (a layer norm's mean back over its token):
    # allowed as large as a layer applied to every row.
    if n_small * n_big > MAX_BROADCAST:
        raise ValueError(
            f"{differ}; broadcasting '{small}' would be a dense layer of {n_small}·{n_big} "
            f"weights (more than {MAX_BROADCAST})"
        )
    source_of = np.broadcast_to(
        np.arange(n_small).reshape(importer.shapes[small]), importer.shapes[big]
    ).reshape(-1)
    factor = -1.0 if sign < 0 and small == b else 1.0
    spread = np.zeros((n_big, n_small))
    spread[np.arange(n_big), source_of] = factor
    flat_in = importer._reshaped(f"{name}:broadcast_in", small, (1, n_small))
    wide = f"{small}:broadcast"
    importer._emit(
        Dense(f"{name}:broadcast", flat_in, f"{wide}:flat", spread, None, (1, n_big)),
        (1, n_big),
    )
    importer._emit(
        Reshape(f"{name}:broadcast_shape", f"{wide}:flat", wide, importer.shapes[big]),
        importer.shapes[big],
    )
    new_sign = 1 if factor < 0 else sign
    return (wide, big, new_sign) if small == a else (big, wide, new_sign)


def single_channel_conv(importer: _Importer, conv: Conv) -> None:
    """A convolution to one output channel: its kernel column would have no variable to
    carry a zero-knowledge mask, so it is proved as the same kernel twice (two channels)
    and a constant dense layer that keeps the first."""
    _, _, h, w = conv.out_shape
    n = h * w
    if 2 * n * n > MAX_LINEAR_MAP:
        raise ValueError(
            f"a convolution with a single output channel of {n} values is not supported yet "
            f"(the channel is kept by a dense layer of 2·{n}² weights, more than "
            f"{MAX_LINEAR_MAP})"
        )
    name, out = conv.name, conv.output
    two = np.concatenate([conv.weight, conv.weight])
    bias_two = None if conv.bias is None else np.concatenate([conv.bias, conv.bias])
    doubled = f"{out}:two_channels"
    two_shape = (1, 2, h, w)
    op = Conv(
        name,
        conv.input,
        doubled,
        two,
        bias_two,
        conv.strides,
        conv.pads,
        conv.in_shape,
        two_shape,
    )
    importer._emit(op, two_shape)
    flat = f"{out}:flat"
    importer._emit(Reshape(f"{name}:flat", doubled, flat, (1, 2 * n)), (1, 2 * n))
    first = f"{out}:first"
    keep = np.hstack([np.eye(n), np.zeros((n, n))])
    importer._emit(Dense(f"{name}:first", flat, first, keep, None, (1, n)), (1, n))
    importer._emit(Reshape(f"{name}:shape", first, out, (1, 1, h, w)), (1, 1, h, w))


def edge_padded(importer: _Importer, name: str, x: str, pads: tuple[int, int, int, int]) -> str:
    """``x`` padded by repeating its edge values, as a constant dense layer. Every pooling
    window holds at least one real value (padding narrower than the kernel), and the
    nearest edge value of a padded position in a window is in the window too, so each
    window's maximum is the maximum of its real values: ONNX's padding by −∞."""
    _, channels, height, width = importer.shapes[x]
    top, left, bottom, right = pads
    rows = np.clip(np.arange(-top, height + bottom), 0, height - 1)
    cols = np.clip(np.arange(-left, width + right), 0, width - 1)
    index = np.arange(channels * height * width).reshape(channels, height, width)
    source = index[:, rows][:, :, cols].reshape(-1)
    n_in, n_out = index.size, source.size
    if n_in * n_out > MAX_LINEAR_MAP:
        raise ValueError(
            f"padded max pooling of {n_in} values would pad by a dense layer of "
            f"{n_in}·{n_out} weights (more than {MAX_LINEAR_MAP}); not supported yet"
        )
    size = len(rows) * len(cols)
    if channels > 1 and size & (size - 1):
        # The dense layer stores one channel; a pooling block reads channels of a
        # power-of-two size only from it (the same slots).
        raise ValueError(
            f"padded max pooling of {channels} channels pads each to {len(rows)}×{len(cols)} "
            "values; only a power-of-two padded size is supported yet with several channels"
        )
    replicate = np.zeros((n_out, n_in))
    replicate[np.arange(n_out), source] = 1.0
    flat = importer._reshaped(f"{name}:edge_in", x, (1, n_in))
    padded_shape = (1, channels, len(rows), len(cols))
    padded = f"{name}:edge_padded"
    importer._emit(
        Dense(f"{name}:edge_pad", flat, f"{padded}:flat", replicate, None, (1, n_out)),
        (1, n_out),
    )
    importer._emit(
        Reshape(f"{name}:edge_shape", f"{padded}:flat", padded, padded_shape), padded_shape
    )
    return padded

"""Power-of-two fixed-point quantisation and the integer IR.

A tensor with ``scale_bits`` s holds ``round(x · 2^s)``. Per dense layer with
input scale s_x, weight scale s_w and output scale s_y:

* weights ``round(W · 2^s_w)``, with s_w the largest scale keeping ``|W| · 2^s_w ≤ 2^13``;
* bias ``round(b · 2^(s_x + s_w))``, i.e. at the accumulator's scale;
* ``requant`` with ``mult = 1`` and ``shift = s_x + s_w − s_y``, kept in 1..b by
  moving s_w (and, only if the accumulator bound |z|·2^(b−shift) < 2^62 or the
  i32 range of weights and biases needs it, s_y).

A convolution is quantised exactly like a dense layer whose rows are its
[C_in·kh·kw] kernels. An average pooling becomes a convolution with weight 1 from
each channel to itself (0 elsewhere, no bias: the window sum at scale s_x) and a
requant whose ``mult / 2^shift`` approximates ``2^(s_y − s_x) / (kh·kw)``, with
shift = b. Max pooling keeps its input's scale and has no requant.

A ``Copy`` (y = x) is the add x + x read at scale s_x + 1. An ``Add`` (y = a ± b, a skip
connection) of operands at scales s_a, s_b becomes
``add`` with integer coefficients 2^(s_hi − s_a) and ±2^(s_hi − s_b) (s_hi the larger
scale: exact, no rounding) and a requant from s_hi to the output's calibrated scale.

Activations are b-bit integers, b = ``table_bits`` (16 for ``target="accuracy"``,
12 for ``target="size"``: the proof's lookup tables have 2^b entries). Activation
scales come from calibration: the largest s with ``max |value| · 2^s ≤ 2^(b−2)``
(2× headroom below the activation range), capped at b − 4 bits. Without calibration
every activation is assumed to satisfy ``|x| ≤ 8``. An activation that holds only integers
(``zkgrad.integers``: comparisons, counts, indices) is held at scale 2^0 at most, exactly.
ReLU and reshape keep their input's scale.

The integer semantics of each op live in Rust; this module only picks numbers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zkgrad.graph import (
    Add,
    AvgPool,
    Conv,
    Copy,
    Dense,
    FloatGraph,
    MaxPool,
    Mul,
    Product,
    Relu,
    Reshape,
    Unary,
)
from zkgrad.integers import integral_tensors
from zkgrad.onnx_unary import quantize_unary

IR_VERSION = 1
MIN_ACT_BITS = -16
DEFAULT_ACT_MAX = 8.0
WEIGHT_RANGE_BITS = 13
DEFAULT_WEIGHT_BITS = 12
MIN_SHIFT = 1
TARGETS = {"accuracy": 16, "size": 12}  # table bits per --target
DEFAULT_TABLE_BITS = TARGETS["accuracy"]
ACC_LIMIT = 2**62
CONST_MAX = 2**31 - 1  # weights and biases are i32 in the IR
MAX_MULT = 2**24  # the requant multiplier's range is 1..=MAX_MULT
MAX_COEF_BITS = 16  # an add's coefficients are at most 2^16 in magnitude


@dataclass
class Quantized:
    """An integer IR (JSON-ready dict) plus its integer constants."""

    ir: dict[str, Any]
    tensors: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def scales(self) -> dict[str, int]:
        """scale_bits of every activation tensor."""
        return dict(self.ir["meta"]["scales"])

    def ir_json(self) -> str:
        """The IR as the JSON text the native module takes."""
        return json.dumps(self.ir)


def table_bits_for(target: str) -> int:
    """Table bits for a ``--target`` name; a clear error for an unknown one."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")
    return TARGETS[target]


def act_bits(max_abs: float | None, table_bits: int = DEFAULT_TABLE_BITS) -> int:
    """Scale for an activation whose largest magnitude is ``max_abs`` (None: the default)."""
    cap = table_bits - 4
    value = DEFAULT_ACT_MAX if max_abs is None else float(max_abs)
    if value <= 0.0 or not math.isfinite(value):
        return cap
    bits = math.floor(table_bits - 2 - math.log2(value))
    return max(MIN_ACT_BITS, min(cap, bits))


def _rint(values: np.ndarray, bits: int) -> np.ndarray:
    scaled = np.rint(np.asarray(values, dtype=np.float64) * 2.0**bits)
    return np.clip(scaled, -(2.0**62), 2.0**62).astype(np.int64)  # clipped values fail CONST_MAX


def quantize_dense(
    op: Dense | Conv, s_x: int, s_y: int, table_bits: int = DEFAULT_TABLE_BITS
) -> tuple[np.ndarray, np.ndarray | None, int, int]:
    """Quantise one dense or conv layer: returns (weight_q, bias_q, shift, s_y).

    ``weight_q`` has the float weight's shape; a conv is treated as a dense layer whose rows
    are its kernels (zero padding only lowers the accumulator bound used here).
    """
    rows = op.weight.reshape(op.weight.shape[0], -1)
    weight, bias, shift, s_y = _quantize_rows(rows, op.bias, s_x, s_y, table_bits)
    return weight.reshape(op.weight.shape), bias, shift, s_y


def _quantize_rows(
    matrix: np.ndarray, float_bias: np.ndarray | None, s_x: int, s_y: int, table_bits: int
) -> tuple[np.ndarray, np.ndarray | None, int, int]:
    max_shift = table_bits
    w_max = float(np.max(np.abs(matrix))) if matrix.size else 0.0
    if w_max > 0.0:
        s_w = math.floor(WEIGHT_RANGE_BITS - math.log2(w_max))
    else:
        s_w = DEFAULT_WEIGHT_BITS
    s_w = min(s_w, max_shift + s_y - s_x)
    s_w = max(s_w, MIN_SHIFT + s_y - s_x)
    while True:
        shift = s_x + s_w - s_y
        weight = _rint(matrix, s_w)
        bias = None if float_bias is None else _rint(float_bias, s_x + s_w)
        w_peak = int(np.max(np.abs(weight))) if weight.size else 0
        b_peak = 0 if bias is None or not bias.size else int(np.max(np.abs(bias)))
        rows = int(np.max(np.sum(np.abs(weight), axis=1))) if weight.size else 0
        bound = rows * 2 ** (table_bits - 1) + b_peak
        fits = max(w_peak, b_peak) <= CONST_MAX
        if fits and bound * 2 ** (max_shift - shift) < ACC_LIMIT:
            return weight, bias, shift, s_y
        s_w -= 1
        if s_x + s_w - s_y < MIN_SHIFT:
            s_y -= 1


def quantize_avgpool(
    op: AvgPool, s_x: int, s_y: int, table_bits: int = DEFAULT_TABLE_BITS
) -> tuple[np.ndarray, int, int, int]:
    """Quantise an average pooling: returns (weight_q, mult, shift, s_y).

    The weight [C, C, kh, kw] is 1 from each channel to itself; the requant's
    ``mult / 2^shift`` approximates ``2^(s_y − s_x) / (kh·kw)``.
    """
    channels = op.in_shape[1]
    weight = np.zeros((channels, channels, *op.kernel), dtype=np.int64)
    weight[np.arange(channels), np.arange(channels)] = 1
    shift = table_bits
    while True:
        mult = round(2.0 ** (shift + s_y - s_x) / op.divisor)
        if mult > MAX_MULT:
            s_y -= 1
        elif mult < 1:
            s_y += 1  # only for a huge window: at least the output is not always 0
        else:
            return weight, int(mult), shift, s_y


def quantize_add(
    op: Add, s_a: int, s_b: int, s_y: int, table_bits: int = DEFAULT_TABLE_BITS
) -> tuple[list[int], int, int, int]:
    """Quantise a skip connection: returns (coef, mult, shift, s_y).

    The sum c_a·a + c_b·b is exact at the larger operand scale; the requant moves it to s_y
    (lowered until the accumulator bound (|c_a| + |c_b|)·2^(b−1)·mult·2^(b−shift) < 2^62 holds).
    """
    s_hi = max(s_a, s_b)
    if s_hi - min(s_a, s_b) > MAX_COEF_BITS:
        raise ValueError(
            f"node '{op.name}': its operands' scales 2^{s_a} and 2^{s_b} are more than "
            f"2^{MAX_COEF_BITS} apart"
        )
    coef = [2 ** (s_hi - s_a), op.sign * 2 ** (s_hi - s_b)]
    while True:
        shift = max(MIN_SHIFT, s_hi - s_y)
        mult = 2 ** (s_y - s_hi + shift)
        bound = (abs(coef[0]) + abs(coef[1])) * 2 ** (table_bits - 1)
        if mult <= MAX_MULT and bound * mult * 2 ** (table_bits - shift) < ACC_LIMIT:
            return coef, mult, shift, s_y
        s_y -= 1


def quantize_mul(
    s_a: int, s_b: int, s_y: int, table_bits: int = DEFAULT_TABLE_BITS, terms: int = 1
) -> tuple[int, int, int]:
    """Quantise an elementwise product, or a matrix product's dot products of ``terms``
    products: returns (mult, shift, s_y). a·b is exact at scale s_a + s_b; the requant moves it
    to s_y (lowered until terms·2^(2b−2)·mult·2^(b−shift) < 2^62)."""
    while True:
        shift = max(MIN_SHIFT, s_a + s_b - s_y)
        mult = 2 ** (s_y - s_a - s_b + shift)
        bound = terms * 2 ** (2 * table_bits - 2) * mult * 2 ** (table_bits - shift)
        if mult <= MAX_MULT and bound < ACC_LIMIT:
            return mult, shift, s_y
        s_y -= 1


def _limit(limits: Mapping[str, float], name: str) -> float | None:
    """The calibrated magnitude of ``name``; a ``:flat`` view (a layer the importer flattened
    and reshapes back) has its ONNX tensor's values."""
    return limits.get(name, limits.get(name.removesuffix(":flat")))


def _requant(name: str, acc: str, output: str, mult: int, shift: int) -> dict[str, Any]:
    return {
        "name": f"{name}:requant",
        "op": "requant",
        "inputs": [acc],
        "output": output,
        "mult": mult,
        "shift": shift,
    }


def quantize(
    graph: FloatGraph,
    max_abs: Mapping[str, float] | None = None,
    table_bits: int = DEFAULT_TABLE_BITS,
) -> Quantized:
    """Build the integer IR for ``graph``; ``max_abs`` holds calibrated magnitudes per tensor."""
    limits = max_abs or {}
    scales = {graph.input: act_bits(limits.get(graph.input), table_bits)}
    integral = integral_tensors(graph.ops)

    def out_bits(tensor: str) -> int:
        # An activation of integers is held at scale 2^0 (or coarser, if it is that large):
        # its values stay exact, and the tables that read it are as small as its range.
        bits = act_bits(_limit(limits, tensor), table_bits)
        return min(bits, 0) if tensor in integral else bits

    nodes: list[dict[str, Any]] = []
    tensors: dict[str, np.ndarray] = {}
    const_scales: dict[str, int] = {}
    for op in graph.ops:
        s_x = scales[op.input]
        if isinstance(op, (Dense, Conv, AvgPool)):
            s_out = out_bits(op.output)
            mult = 1
            if isinstance(op, AvgPool):
                weight, mult, shift, s_y = quantize_avgpool(op, s_x, s_out, table_bits)
                bias = None
                s_w = 0
            else:
                weight, bias, shift, s_y = quantize_dense(op, s_x, s_out, table_bits)
                s_w = shift + s_y - s_x
            acc = f"{op.output}:acc"
            weight_key, bias_key = f"{op.name}.weight", f"{op.name}.bias"
            tensors[weight_key] = weight
            const_scales[weight_key] = s_w
            if bias is not None:
                tensors[bias_key] = bias
                const_scales[bias_key] = s_w + s_x
            node: dict[str, Any] = {
                "name": op.name,
                "op": "dense" if isinstance(op, Dense) else "conv",
                "inputs": [op.input],
                "output": acc,
                "weight": weight_key,
                "bias": None if bias is None else bias_key,
            }
            if not isinstance(op, Dense):
                node["strides"] = list(op.strides)
                node["pads"] = list(op.pads)
            nodes.append(node)
            nodes.append(_requant(op.name, acc, op.output, mult, shift))
            scales[op.output] = s_y
        elif isinstance(op, Add):
            s_out = out_bits(op.output)
            coef, mult, shift, s_y = quantize_add(op, s_x, scales[op.other], s_out, table_bits)
            acc = f"{op.output}:acc"
            nodes.append(
                {
                    "name": op.name,
                    "op": "add",
                    "inputs": [op.input, op.other],
                    "output": acc,
                    "coef": coef,
                }
            )
            nodes.append(_requant(op.name, acc, op.output, mult, shift))
            scales[op.output] = s_y
        elif isinstance(op, Mul):
            s_out = out_bits(op.output)
            mult, shift, s_y = quantize_mul(s_x, scales[op.other], s_out, table_bits)
            acc = f"{op.output}:acc"
            nodes.append(
                {
                    "name": op.name,
                    "op": "mul",
                    "inputs": [op.input, op.other],
                    "output": acc,
                    "coef": 1,
                }
            )
            nodes.append(_requant(op.name, acc, op.output, mult, shift))
            scales[op.output] = s_y
        elif isinstance(op, Product):
            s_out = out_bits(op.output)
            mult, shift, s_y = quantize_mul(
                s_x, scales[op.other], s_out, table_bits, terms=op.inner
            )
            acc = f"{op.output}:acc"
            nodes.append(
                {
                    "name": op.name,
                    "op": "matmul",
                    "inputs": [op.input, op.other],
                    "output": acc,
                    "heads": op.heads,
                    "rows": op.rows,
                    "inner": op.inner,
                    "cols": op.cols,
                }
            )
            nodes.append(_requant(op.name, acc, op.output, mult, shift))
            scales[op.output] = s_y
        elif isinstance(op, Copy):
            # x + x at scale s_x is x at scale s_x + 1; requantised back to s_x it is x, exactly.
            twice = Add(op.name, op.input, op.input, op.output, 1, op.out_shape)
            coef, mult, shift, s_y = quantize_add(twice, s_x + 1, s_x + 1, s_x, table_bits)
            acc = f"{op.output}:acc"
            nodes.append(
                {
                    "name": op.name,
                    "op": "add",
                    "inputs": [op.input, op.input],
                    "output": acc,
                    "coef": coef,
                }
            )
            nodes.append(_requant(op.name, acc, op.output, mult, shift))
            scales[op.output] = s_y
        elif isinstance(op, MaxPool):
            nodes.append(
                {
                    "name": op.name,
                    "op": "maxpool",
                    "inputs": [op.input],
                    "output": op.output,
                    "kernel": list(op.kernel),
                    "strides": list(op.strides),
                }
            )
            scales[op.output] = s_x
        elif isinstance(op, Unary):
            # A graph of table ops alone writes its output through a copy (``y:wired`` → y).
            known = {t: _limit(limits, t.removesuffix(":wired")) for t in (op.input, op.output)}
            node, scales[op.output] = quantize_unary(
                op, s_x, known, table_bits, act_bits, DEFAULT_ACT_MAX, op.output in integral
            )
            nodes.append(node)
        elif isinstance(op, Relu):
            nodes.append({"name": op.name, "op": "relu", "inputs": [op.input], "output": op.output})
            scales[op.output] = s_x
        elif isinstance(op, Reshape):
            nodes.append(
                {
                    "name": op.name,
                    "op": "reshape",
                    "inputs": [op.input],
                    "output": op.output,
                    "shape": list(op.shape),
                }
            )
            scales[op.output] = s_x
    several = _several_outputs(graph, scales)
    ir = {
        "version": IR_VERSION,
        "input": {
            "name": graph.input,
            "shape": list(graph.input_shape),
            "scale_bits": scales[graph.input],
        },
        "output": {
            "name": graph.output,
            "shape": list(graph.output_shape),
            "scale_bits": scales[graph.output],
        },
        "nodes": nodes,
        "act_bits": table_bits,
        "meta": {
            "onnx": {
                "input": graph.onnx_input,
                "output": graph.onnx_output,
                "input_shape": list(graph.input_shape),
                "output_shape": list(graph.output_shape),
            },
            "scales": scales,
            "weight_scales": const_scales,
        },
    }
    if several:
        ir["extra_outputs"] = several["extra_outputs"]
        ir["meta"]["outputs"] = several["outputs"]
        ir["meta"]["statement_size"] = several["statement_size"]
        if several["public_inputs"]:
            ir["meta"]["public_inputs"] = several["public_inputs"]
    return Quantized(ir, tensors)


def _several_outputs(graph: FloatGraph, scales: Mapping[str, int]) -> dict[str, Any]:
    """A graph with several outputs: the IR's outputs after the main one (``extra_outputs``), and
    for ``meta`` where each ONNX output lies in the statement's output vector (main output first,
    then the extra ones) and its scale (``outputs``, in ONNX order)."""
    if not graph.named_outputs:
        return {}
    shapes = tensor_shapes(graph)
    offsets, at = {}, 0
    for t in [graph.output, *graph.extra_outputs]:
        offsets[t] = at
        at += int(np.prod(shapes[t]))
    return {
        "statement_size": at,
        "public_inputs": [
            {"name": name, "offset": offsets[t], "size": int(np.prod(shapes[t]))}
            for name, t in graph.public_inputs
        ],
        "extra_outputs": [
            {"name": t, "shape": list(shapes[t]), "scale_bits": scales[t]}
            for t in graph.extra_outputs
        ],
        "outputs": [
            {"name": name, "shape": list(shapes[t]), "scale_bits": scales[t], "offset": offsets[t]}
            for name, t in graph.named_outputs
        ],
    }


def tensor_shapes(graph: FloatGraph) -> dict[str, tuple[int, ...]]:
    """The shape of every tensor of ``graph``."""
    shapes = {graph.input: tuple(graph.input_shape)}
    for op in graph.ops:
        if isinstance(op, Relu):
            shapes[op.output] = shapes[op.input]
        elif isinstance(op, Reshape):
            shapes[op.output] = tuple(op.shape)
        else:
            shapes[op.output] = tuple(op.out_shape)
    return shapes


def calibrated_max(values: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Largest magnitude of each float tensor over all calibration samples."""
    return {name: float(np.max(np.abs(v))) for name, v in values.items()}

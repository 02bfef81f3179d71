"""Nonlinear elementwise ops proved by a table lookup: import and quantisation rules.

An ONNX Sigmoid, Tanh, Exp, Log, Sqrt, Reciprocal, Pow (constant exponent), Erf, Gelu,
Softplus, Softsign, HardSigmoid, HardSwish, LeakyRelu, PRelu (one constant slope), Elu, Selu,
Sin, Cos, Tan, Asin, Acos, Atan, Sinh, Cosh, Abs, Sign, Ceil, Floor or Round becomes a
:class:`Unary` op, and in the integer IR a ``unary`` node::

    {"op": "unary", "func": "sigmoid", "in_scale": 8, "out_scale": 12, "range": [lo, hi]}

whose integer semantics live in Rust (``zkgrad-model``'s ``exec::unary_value``:
``round(f(x / 2^in_scale) · 2^out_scale)``, saturated to the activation range). The proof
looks every (input, output) pair up in the table of that function over ``range``, so the table
has ``hi − lo + 2`` entries (padded to a power of two): its size comes from calibration.

Range: twice the calibrated magnitude of the input (the same headroom the activation scales
keep), clipped to the activation range and to the function's domain (Sqrt, Log and fractional
Pow start at 0, Asin and Acos cover [−1, 1]). Without calibration data the table covers every
activation. An input outside the range at proof time is an error naming the node and the range
(no clamping).

Output scale: from the calibrated magnitude of the output, or without calibration from the
largest |f| over the table's range, at most the default activation magnitude (8; larger values
saturate, as every uncalibrated activation is assumed to satisfy |x| ≤ 8).

Example::

    graph, _ = zkgrad.onnx.import_onnx("gemm_sigmoid_gemm.onnx")
    [op for op in graph.ops if isinstance(op, Unary)][0].func  # 'sigmoid'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from zkgrad.graph import Unary

if TYPE_CHECKING:  # onnx is imported where a graph is read: `zkgrad inspect` does not need it
    import onnx

#: ONNX op type → (IR function, attribute names with their ONNX defaults, in IR order).
_RULES: dict[str, tuple[str, tuple[tuple[str, float], ...]]] = {
    "Sigmoid": ("sigmoid", ()),
    "Tanh": ("tanh", ()),
    "Exp": ("exp", ()),
    "Log": ("log", ()),
    "Sqrt": ("sqrt", ()),
    "Reciprocal": ("reciprocal", ()),
    "Erf": ("erf", ()),
    "Softplus": ("softplus", ()),
    "Softsign": ("softsign", ()),
    "HardSwish": ("hardswish", ()),
    **{
        op: (op.lower(), ()) for op in ("Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh")
    },
    **{op: (op.lower(), ()) for op in ("Abs", "Sign", "Ceil", "Floor", "Round")},
    "HardSigmoid": ("hardsigmoid", (("alpha", 0.2), ("beta", 0.5))),
    "LeakyRelu": ("leakyrelu", (("alpha", 0.01),)),
    "Elu": ("elu", (("alpha", 1.0),)),
    "Selu": ("selu", (("alpha", 1.67326319217681884765625), ("gamma", 1.05070102214813232421875))),
    "Celu": ("celu", (("alpha", 1.0),)),
    "ThresholdedRelu": ("thresholdedrelu", (("alpha", 1.0),)),
    "Shrink": ("shrink", (("bias", 0.0), ("lambd", 0.5))),
    "Mish": ("mish", ()),
}

#: Ops whose parameter is a constant second input, not an attribute.
_CONST_INPUT = {"Pow": "the exponent", "PRelu": "the slope"}

#: Functions defined only for inputs ≥ 0 (Pow: with a fractional exponent).
_NONNEGATIVE = {"sqrt", "log"}
#: Functions defined only on [−1, 1].
_UNIT = {"asin", "acos"}

#: What the importer accepts for each op (merged into ``zkgrad.onnx.SUPPORTED_OPS``).
SUPPORTED: dict[str, str] = {
    **{op: "proved by a lookup in its table over the calibrated input range" for op in _RULES},
    "Gelu": "`approximate` `none` or `tanh`; proved by a lookup as for `Sigmoid`",
    "Pow": "a constant scalar exponent; proved by a lookup as for `Sigmoid`",
    "PRelu": "one constant slope for every value; proved by a lookup as for `Sigmoid`",
    "Clip": "constant bounds (inputs or, before opset 11, attributes); proved by a lookup",
}
UNARY_OPS = frozenset(SUPPORTED)


def parse(
    node: onnx.NodeProto,
    name: str,
    x: str,
    shape: tuple[int, ...],
    const: Callable[[str, str], np.ndarray],
) -> Unary:
    """The :class:`Unary` op of an ONNX node reading activation ``x`` of ``shape``;
    ``const(name, what)`` returns a constant input. A ValueError says what is unsupported."""
    op = node.op_type
    from onnx import helper

    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if op in _RULES:
        func, defaults = _RULES[op]
        params = tuple(float(attrs.get(key, default)) for key, default in defaults)  # type: ignore[arg-type]
        if func == "celu" and params[0] == 0.0:
            raise ValueError("alpha=0 is not supported (Celu divides by alpha)")
    elif op == "Gelu":
        approximate = attrs.get("approximate", b"none")
        approximate = approximate.decode() if isinstance(approximate, bytes) else approximate
        if approximate not in ("none", "tanh"):
            raise ValueError(f"approximate={approximate!r} is not supported (none or tanh)")
        func, params = ("gelu" if approximate == "none" else "gelu_tanh"), ()
    elif op == "Clip":
        func, params = "clip", _clip_bounds(node, attrs, const)
    elif op in _CONST_INPUT:
        if len(node.input) < 2 or not node.input[1]:
            raise ValueError(f"{_CONST_INPUT[op]} input is missing")
        value = const(node.input[1], _CONST_INPUT[op])
        if value.size == 0 or not np.all(value == value.reshape(-1)[0]):
            raise ValueError(f"{_CONST_INPUT[op]} must be one constant for every value")
        func, params = op.lower(), (float(value.reshape(-1)[0]),)
        if value.size > 1 and value.ndim > len(shape):
            raise ValueError(f"{_CONST_INPUT[op]} of shape {list(value.shape)} grows the output")
    else:
        raise ValueError(f"{op} is not a table function")
    if not all(math.isfinite(p) for p in params):
        raise ValueError(f"parameters {list(params)} must be finite")
    return Unary(name, x, node.output[0], func, params, shape)


#: Stands for an absent Clip bound (finite: table parameters are).
NO_BOUND = 1e30


def _clip_bounds(
    node: onnx.NodeProto, attrs: Mapping[str, Any], const: Callable[[str, str], np.ndarray]
) -> tuple[float, float]:
    """Clip's (min, max): constant inputs 1 and 2 (opset 11 on), else attributes; absent ones
    unbounded."""
    bounds = []
    for index, key, default in ((1, "min", -NO_BOUND), (2, "max", NO_BOUND)):
        if len(node.input) > index and node.input[index]:
            value = const(node.input[index], f"the {key} bound")
            if value.size != 1:
                raise ValueError(f"the {key} bound must be one constant")
            bounds.append(float(value.reshape(-1)[0]))
        else:
            bounds.append(float(attrs.get(key, default)))  # type: ignore[arg-type]
    return bounds[0], bounds[1]


def real(func: str, x: np.ndarray, params: tuple[float, ...]) -> np.ndarray:
    """f over the reals in numpy (float64), NaN outside its domain: used to size the output
    scale without calibration and by tests; the proved values come from Rust."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        erf = np.vectorize(math.erf, otypes=[np.float64])
        table: dict[str, Callable[[], np.ndarray]] = {
            "sigmoid": lambda: 1.0 / (1.0 + np.exp(-x)),
            "tanh": lambda: np.tanh(x),
            "exp": lambda: np.exp(x),
            "log": lambda: np.log(x),
            "sqrt": lambda: np.sqrt(x),
            "reciprocal": lambda: 1.0 / x,
            "pow": lambda: np.power(x, params[0]),
            "erf": lambda: erf(x),
            "gelu": lambda: 0.5 * x * (1.0 + erf(x / math.sqrt(2.0))),
            "gelu_tanh": lambda: (
                0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))
            ),
            "softplus": lambda: np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))),
            "softsign": lambda: x / (1.0 + np.abs(x)),
            "hardsigmoid": lambda: np.clip(params[0] * x + params[1], 0.0, 1.0),
            "hardswish": lambda: x * np.clip(x / 6.0 + 0.5, 0.0, 1.0),
            "leakyrelu": lambda: np.where(x < 0, params[0] * x, x),
            "prelu": lambda: np.where(x < 0, params[0] * x, x),
            "elu": lambda: np.where(x < 0, params[0] * np.expm1(x), x),
            "selu": lambda: params[1] * np.where(x <= 0, params[0] * np.expm1(x), x),
            "sin": lambda: np.sin(x),
            "cos": lambda: np.cos(x),
            "tan": lambda: np.tan(x),
            "asin": lambda: np.arcsin(x),
            "acos": lambda: np.arccos(x),
            "atan": lambda: np.arctan(x),
            "sinh": lambda: np.sinh(x),
            "cosh": lambda: np.cosh(x),
            "abs": lambda: np.abs(x),
            "sign": lambda: np.sign(x),
            "ceil": lambda: np.ceil(x),
            "floor": lambda: np.floor(x),
            "round": lambda: np.rint(x),
            "clip": lambda: np.minimum(np.maximum(x, params[0]), params[1]),
            "celu": lambda: (
                np.maximum(x, 0.0) + np.minimum(0.0, params[0] * np.expm1(x / params[0]))
            ),
            "thresholdedrelu": lambda: np.where(x > params[0], x, 0.0),
            "shrink": lambda: np.where(
                x < -params[1], x + params[0], np.where(x > params[1], x - params[0], 0.0)
            ),
            "mish": lambda: x * np.tanh(np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))),
            "compare": lambda: np.where(
                x < params[0], params[1], np.where(x == params[0], params[2], params[3])
            ),
            "table": lambda: _table_real(x, params),
        }
        return table[func]()


def _table_real(x: np.ndarray, params: tuple[float, ...]) -> np.ndarray:
    """A constant list read at the rounded index (half away from zero, as Rust rounds): the
    first index is ``params[0]``, the values follow; NaN at an index the list lacks."""
    values = np.asarray(params[1:], dtype=np.float64)
    k = np.trunc(x + np.copysign(0.5, x)) - params[0]
    inside = (k >= 0) & (k < values.size)
    return np.where(inside, values[np.clip(k, 0, values.size - 1).astype(np.int64)], np.nan)


def input_range(op: Unary, s_x: int, max_abs: float | None, table_bits: int) -> tuple[int, int]:
    """The table's integer input range (see the module docstring); a constant list read at an
    integer index covers exactly its indices (an index outside it fails at proving, as ONNX's
    Gather refuses it)."""
    top = 2 ** (table_bits - 1) - 1
    if op.func == "table":
        first, last = op.params[0], op.params[0] + len(op.params) - 2
        step = 2.0**s_x
        # Rounding half away from zero: x = k ± 0.5 belongs to the index farther from 0.
        lo = math.ceil((first - 0.5) * step) if first > 0 else math.floor((first - 0.5) * step) + 1
        hi = math.ceil((last + 0.5) * step) - 1 if last >= 0 else math.floor((last + 0.5) * step)
        return max(lo, -top - 1), min(hi, top)
    if max_abs is None or not math.isfinite(max_abs) or max_abs <= 0.0:
        bound = top
    else:
        bound = min(top, max(1, math.ceil(2.0 * max_abs * 2.0**s_x)))
    fractional_pow = op.func == "pow" and not float(op.params[0]).is_integer()
    lo = 0 if op.func in _NONNEGATIVE or fractional_pow else -bound
    if op.func in _UNIT:
        one = 2**s_x if s_x >= 0 else 0
        return max(lo, -one), min(bound, one)
    return lo, bound


def quantize_unary(
    op: Unary,
    s_x: int,
    limits: Mapping[str, float | None],
    table_bits: int,
    act_bits: Callable[[float | None, int], int],
    default_max: float = 8.0,
    integral: bool = False,
) -> tuple[dict[str, Any], int]:
    """The IR node for ``op`` and its output scale; ``limits`` holds the calibrated magnitude
    of ``op.input`` and ``op.output`` when known, ``act_bits`` picks a scale from one. An
    ``integral`` output (every value an integer) is held at scale 2^0 at most, exactly."""
    lo, hi = input_range(op, s_x, limits.get(op.input), table_bits)
    out_max = limits.get(op.output)
    if op.func == "table":  # every value it can take is listed
        out_max = float(np.max(np.abs(op.params[1:])))
    if out_max is None:
        values = real(op.func, np.arange(lo, hi + 1) * 2.0**-s_x, op.params)
        finite = np.abs(values[np.isfinite(values)])
        out_max = min(float(finite.max()), default_max) if finite.size else None
    s_y = act_bits(out_max, table_bits)
    if integral:
        s_y = min(s_y, 0)
    node: dict[str, Any] = {
        "name": op.name,
        "op": "unary",
        "inputs": [op.input],
        "output": op.output,
        "func": op.func,
        "in_scale": s_x,
        "out_scale": s_y,
        "range": [lo, hi],
    }
    if op.params:
        node["params"] = list(op.params)
    return node, s_y

"""ONNX RNN, GRU and LSTM, unrolled over their fixed sequence length into ops that are already
proved.

Each step t reads x_t = X[t] (a reshape for one step, a constant 0/1 layer otherwise) and the
previous hidden state h (and cell state c); per gate, a dense layer of x_t (W, with both biases)
plus one of h (R) — folded into the first layer's bias at t = 0, where h is the constant
initial state — then the gate's activation by table lookup (Sigmoid, Tanh) or a ReLU:

    RNN    h' = f(W x + R h + b)
    GRU    z = σ(…), r = σ(…); h̃ = g(W_h x + (r ⊙ h) R_hᵀ + b) (linear_before_reset = 0) or
           g(W_h x + r ⊙ (R_h h + Rb_h) + Wb_h) (= 1); h' = h̃ + z ⊙ (h − h̃)
    LSTM   i, o, f = σ(…), c̃ = g(…); c' = f ⊙ c + i ⊙ c̃; h' = o ⊙ h(c')

the products of two activations ``Mul`` blocks, the sums ``Add`` blocks. Y stacks every h (one
constant 0/1 layer per step, summed), Y_h is the last h and Y_c the last c. Supported: one
direction (forward or reverse), layout 0 or 1 with batch 1, constant weights and initial states,
default or Sigmoid/Tanh/Relu activations; refused with one sentence: bidirectional, peepholes,
``clip``, ``input_forget``, a ``sequence_lens`` input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from onnx import helper

from zkgrad.graph import Add, Copy, Mul, Relu, Reshape, Unary
from zkgrad.onnx_integers import linear

if TYPE_CHECKING:
    import onnx

    from zkgrad.onnx import _Importer

#: What the importer accepts for each op (merged into ``zkgrad.onnx.SUPPORTED_OPS``).
SUPPORTED: dict[str, str] = {
    op: (
        "one direction, batch 1, constant weights and initial states, Sigmoid/Tanh/Relu "
        "activations: unrolled over the sequence into dense layers, lookups, products and sums"
    )
    for op in ("RNN", "GRU", "LSTM")
}

#: Gates per op, in ONNX's weight order, and each gate's default activation (f, g, h).
_GATES = {"RNN": "h", "GRU": "zrh", "LSTM": "iofc"}
_DEFAULTS = {"RNN": ["Tanh"], "GRU": ["Sigmoid", "Tanh"], "LSTM": ["Sigmoid", "Tanh", "Tanh"]}
_FUNCS = {"Sigmoid": "sigmoid", "Tanh": "tanh", "Relu": "relu"}


class _Unroll:
    def __init__(self, importer: _Importer, node: onnx.NodeProto, name: str) -> None:
        self.imp, self.node, self.name = importer, node, name
        self.count = 0

    def fresh(self, what: str) -> str:
        self.count += 1
        return f"{self.node.output[0] or self.name}:{what}{self.count}"

    def act(self, func: str, x: str) -> str:
        out = self.fresh(func)
        shape = tuple(self.imp.shapes[x])
        if func == "relu":
            self.imp._emit(Relu(out, x, out), shape)
        else:
            self.imp._emit(Unary(out, x, out, func, (), shape), shape)
        return out

    def add(self, a: str, b: str, sign: int = 1) -> str:
        out = self.fresh("sum")
        shape = tuple(self.imp.shapes[a])
        self.imp._emit(Add(out, a, b, out, sign, shape), shape)
        return out

    def mul(self, a: str, b: str) -> str:
        out = self.fresh("product")
        shape = tuple(self.imp.shapes[a])
        self.imp._emit(Mul(out, a, b, out, shape), shape)
        return out

    def dense(self, x: str, weight: np.ndarray, bias: np.ndarray | None) -> str:
        out = self.fresh("layer")
        return linear(self.imp, out, x, out, weight, bias, (1, weight.shape[0]))

    def affine(
        self, x: str, weight: np.ndarray, h: str | np.ndarray, r: np.ndarray, b: np.ndarray
    ) -> str:
        """W·x + R·h + b, with h an activation or a constant (folded into the bias)."""
        if isinstance(h, np.ndarray):
            return self.dense(x, weight, b + r @ h)
        return self.add(self.dense(x, weight, b), self.dense(h, r, None))


def recurrent(importer: _Importer, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
    """Unroll one RNN, GRU or LSTM node (see the module docstring); ValueError says why not."""
    op = node.op_type
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    for key in ("clip", "input_forget"):
        if attrs.get(key):
            raise ValueError(f"the attribute {key} is not supported")
    direction = attrs.get("direction", b"forward")
    direction = direction.decode() if isinstance(direction, bytes) else str(direction)
    if direction not in ("forward", "reverse"):
        raise ValueError(f"direction {direction} is not supported (one direction only)")
    names = [a.decode() if isinstance(a, bytes) else str(a) for a in attrs.get("activations", [])]
    names = names or _DEFAULTS[op]
    if any(a not in _FUNCS for a in names) or attrs.get("activation_alpha"):
        raise ValueError(f"activations {names} are not supported (Sigmoid, Tanh, Relu)")
    f, g, h_act = (_FUNCS[a] for a in [*names, *[names[-1]] * 3][:3])
    operand = [*inputs, *[""] * 8]
    if operand[4] or (op == "LSTM" and operand[7]):
        raise ValueError("a sequence_lens input and peepholes are not supported")
    x = importer._activation(operand[0], name)
    w = importer._const(operand[1], "the input weights W")[0]
    r = importer._const(operand[2], "the recurrence weights R")[0]
    hidden = int(attrs.get("hidden_size", r.shape[-1]))
    gates = len(_GATES[op])
    b = (
        importer._const(operand[3], "the biases B")[0]
        if operand[3]
        else np.zeros(2 * gates * hidden)
    )
    h0 = importer._const(operand[5], "the initial state")[0, 0] if operand[5] else np.zeros(hidden)
    c0 = importer._const(operand[6], "the initial cell") if op == "LSTM" and operand[6] else None
    c0 = np.zeros(hidden) if c0 is None else c0[0, 0]
    shape = tuple(importer.shapes[x])
    layout = int(attrs.get("layout", 0))
    steps, batch = (shape[0], shape[1]) if layout == 0 else (shape[1], shape[0])
    if len(shape) != 3 or batch != 1:
        raise ValueError(f"input of shape {list(shape)}: only a batch of 1 is supported")
    size = shape[2]
    run = _Unroll(importer, node, name)
    wb, rb = b[: gates * hidden], b[gates * hidden :]

    def part(matrix: np.ndarray, gate: str) -> np.ndarray:
        k = _GATES[op].index(gate)
        return matrix[k * hidden : (k + 1) * hidden]

    state: str | np.ndarray = h0
    cell: str | np.ndarray = c0
    outputs: list[tuple[int, str]] = []
    order = range(steps) if direction == "forward" else range(steps - 1, -1, -1)
    for t in order:
        pick = np.zeros((size, steps * size))
        pick[np.arange(size), t * size + np.arange(size)] = 1.0
        x_t = run.dense(x, pick, None) if steps > 1 else importer._reshaped(name, x, (1, size))

        def pre(
            gate: str,
            with_recurrence: bool = True,
            x_t: str = x_t,
            state: str | np.ndarray = state,
        ) -> str:
            """The gate's W·x_t + R·h + biases (this step's x_t and previous h)."""
            bias = part(wb, gate) + (part(rb, gate) if with_recurrence else 0.0)
            if not with_recurrence:
                return run.dense(x_t, part(w, gate), bias)
            return run.affine(x_t, part(w, gate), state, part(r, gate), bias)

        if op == "RNN":
            state = run.act(f, pre("h"))
        elif op == "GRU":
            z, reset = run.act(f, pre("z")), run.act(f, pre("r"))
            if isinstance(state, np.ndarray):
                # A constant previous state h₀: r ⊙ (R_h h₀ + Rb_h), or (r ⊙ h₀) R_hᵀ + Rb_h,
                # is a constant layer of r.
                if attrs.get("linear_before_reset", 0):
                    inner, shift = np.diag(part(r, "h") @ state + part(rb, "h")), None
                else:
                    inner, shift = part(r, "h") @ np.diag(state), part(rb, "h")
                gated = run.dense(reset, inner, shift)
            elif attrs.get("linear_before_reset", 0):
                gated = run.mul(reset, run.dense(state, part(r, "h"), part(rb, "h")))
            else:
                gated = run.dense(run.mul(reset, state), part(r, "h"), part(rb, "h"))
            candidate = run.act(g, run.add(pre("h", with_recurrence=False), gated))
            # h' = (1 − z) ⊙ h̃ + z ⊙ h = h̃ + z ⊙ (h − h̃)
            if isinstance(state, np.ndarray):
                minus = run.dense(candidate, -np.eye(hidden), state)
            else:
                minus = run.add(state, candidate, -1)
            state = run.add(candidate, run.mul(z, minus))
        else:
            i, o, fg = (run.act(f, pre(k)) for k in "iof")
            c_new = run.mul(i, run.act(g, pre("c")))
            if isinstance(cell, np.ndarray):
                if np.any(cell):
                    c_new = run.add(c_new, run.dense(fg, np.diag(cell), None))
            else:
                c_new = run.add(c_new, run.mul(fg, cell))
            cell = c_new
            state = run.mul(o, run.act(h_act, cell))
        outputs.append((t, str(state)))
    _outputs(importer, node, run, outputs, steps, hidden, layout, str(state), cell)


def _outputs(
    importer: _Importer,
    node: onnx.NodeProto,
    run: _Unroll,
    outputs: list[tuple[int, str]],
    steps: int,
    hidden: int,
    layout: int,
    last: str,
    cell: str | np.ndarray,
) -> None:
    """Y (every step's h, stacked), Y_h and Y_c, each only if read."""
    wanted = [out if out and importer.uses[out] else "" for out in [*node.output, "", "", ""][:3]]
    y_shape = (steps, 1, 1, hidden) if layout == 0 else (1, steps, 1, hidden)
    state_shape = (1, 1, hidden)
    if wanted[0]:
        if steps == 1:
            importer._emit(Reshape(wanted[0], last, wanted[0], y_shape), y_shape)
        else:
            total: str | None = None
            for t, h in outputs:
                place = np.zeros((steps * hidden, hidden))
                place[t * hidden + np.arange(hidden), np.arange(hidden)] = 1.0
                placed = run.dense(h, place, None)  # layout 1 has the same order at batch 1
                total = placed if total is None else run.add(total, placed)
            assert total is not None
            importer._emit(Reshape(wanted[0], total, wanted[0], y_shape), y_shape)
    for out, value in ((wanted[1], last), (wanted[2], cell)):
        if not out:
            continue
        if isinstance(value, np.ndarray):
            raise ValueError("the final cell state is a constant")
        if wanted[0] and steps == 1 and value == last:
            copy = run.fresh("copy")  # Y holds this tensor already: an output is stated once
            importer._emit(Copy(copy, value, copy, (1, hidden)), (1, hidden))
            value = copy
        importer._emit(Reshape(out, value, out, state_shape), state_shape)
    if not any(wanted):
        raise ValueError("none of its outputs is used")

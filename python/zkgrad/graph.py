"""The float graph that ONNX import produces and quantisation consumes.

Op kinds, each with one activation input and one output tensor: ``Dense``
(y = W·x + b, weight stored as [out, in]), ``Conv`` (2-D, NCHW, one group, no
dilation), ``AvgPool`` (a window mean, later lowered to a constant convolution),
``MaxPool`` (no padding), ``Relu`` and ``Reshape``; and ``Add`` (y = x ± other, two
activations of one shape: a residual or skip connection, so a tensor may have several
readers and the graph is a DAG). Activations of the 2-D ops have shape [1, C, H, W].
Tensor names are the ONNX tensor names, so float intermediates from onnxruntime line
up with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Shape = tuple[int, ...]


@dataclass
class Dense:
    """y = weight · x + bias, with ``weight`` of shape [out, in]."""

    name: str
    input: str
    output: str
    weight: np.ndarray
    bias: np.ndarray | None
    out_shape: Shape


@dataclass
class Relu:
    """y = max(x, 0)."""

    name: str
    input: str
    output: str


@dataclass
class Reshape:
    """y = x with a new (static) shape; the data order is unchanged."""

    name: str
    input: str
    output: str
    shape: Shape


@dataclass
class Conv:
    """y = conv2d(x, weight) + bias with ``weight`` of shape [C_out, C_in, kh, kw].

    ``pads`` is (top, left, bottom, right) of zeros around the input, ``strides`` (h, w).
    """

    name: str
    input: str
    output: str
    weight: np.ndarray
    bias: np.ndarray | None
    strides: tuple[int, int]
    pads: tuple[int, int, int, int]
    in_shape: Shape
    out_shape: Shape


@dataclass
class AvgPool:
    """y = the sum over each kh × kw window of x (zero padded) divided by ``divisor``.

    ``divisor`` is kh·kw (padding counted, ONNX ``count_include_pad=1`` or no padding).
    """

    name: str
    input: str
    output: str
    kernel: tuple[int, int]
    strides: tuple[int, int]
    pads: tuple[int, int, int, int]
    in_shape: Shape
    out_shape: Shape

    @property
    def divisor(self) -> int:
        return self.kernel[0] * self.kernel[1]


@dataclass
class MaxPool:
    """y = the maximum over each kh × kw window of x (no padding)."""

    name: str
    input: str
    output: str
    kernel: tuple[int, int]
    strides: tuple[int, int]
    in_shape: Shape
    out_shape: Shape


@dataclass
class Add:
    """y = input + sign · other, elementwise, of two activations with the same shape.

    ``input`` and ``other`` are any earlier activations or the graph input (a skip connection,
    or the join of two branches); ``sign`` is 1 (ONNX Add) or −1 (Sub).
    """

    name: str
    input: str
    other: str
    output: str
    sign: int
    out_shape: Shape


@dataclass
class Copy:
    """y = x: gives a ReLU that follows no layer, or a model of pure wiring, a block to prove
    (an elementwise x + x halved by its requantisation, so the value is exact)."""

    name: str
    input: str
    output: str
    out_shape: Shape


@dataclass
class Mul:
    """y = input ⊙ other, elementwise, of two activations with the same shape (read like
    ``Add``'s operands: the previous op's output and an earlier activation)."""

    name: str
    input: str
    other: str
    output: str
    out_shape: Shape


@dataclass
class Unary:
    """y = f(x) elementwise by a table lookup, f named by ``func`` (an IR function name, see
    :mod:`zkgrad.onnx_unary`) with real parameters ``params``."""

    name: str
    input: str
    output: str
    func: str
    params: tuple[float, ...]
    out_shape: Shape


@dataclass
class Product:
    """y = input · other, a matrix product of two activations: ``input`` holds ``heads``
    stacked ``rows × inner`` matrices and ``other`` as many ``inner × cols`` ones, all row-major
    (attention's Q·Kᵀ and scores·V); ``inner`` and ``cols`` are powers of two, and ``rows`` too
    with several heads (each operand is then stored as its rows: the importer pads them)."""

    name: str
    input: str
    other: str
    output: str
    rows: int
    inner: int
    cols: int
    out_shape: Shape
    #: Stacked products (attention heads): ``input`` holds ``heads`` matrices, ``other`` too.
    heads: int = 1


Op = Dense | Conv | AvgPool | MaxPool | Relu | Reshape | Add | Copy | Mul | Unary | Product
#: Ops with weights, followed by a requantisation in the integer IR (a ReLU may follow them).
LINEAR_OPS = (Dense, Conv, AvgPool)
#: Ops followed by a requantisation in the integer IR, so a ReLU may fuse with them.
REQUANT_OPS = (Dense, Conv, AvgPool, Add, Copy, Mul, Product)


def reads(op: Op) -> list[str]:
    """The activations ``op`` reads."""
    return [op.input, op.other] if isinstance(op, (Add, Mul, Product)) else [op.input]


@dataclass
class FloatGraph:
    """A single-input graph of supported ops in execution order: each op reads the input or
    earlier ops' outputs (the graph may fork and join), and every op leads to an output. The
    last op computes ``output``; a graph with several outputs lists the others too."""

    input: str
    input_shape: Shape
    output: str
    output_shape: Shape
    ops: list[Op] = field(default_factory=list)
    onnx_input: str = ""
    onnx_output: str = ""
    #: A graph with several outputs: the outputs other than ``output`` (tensor names), in the
    #: order every proof states them after ``output``.
    extra_outputs: list[str] = field(default_factory=list)
    #: A graph with several outputs: (ONNX output name, tensor that holds it), in ONNX order.
    named_outputs: list[tuple[str, str]] = field(default_factory=list)
    #: Public inputs of a model whose other inputs are hidden (``zkgrad.public_inputs``):
    #: (input name, the extra output that states it).
    public_inputs: list[tuple[str, str]] = field(default_factory=list)

    def activations(self) -> list[str]:
        """Every tensor the graph carries at run time, input first."""
        return [self.input, *(op.output for op in self.ops)]

    def num_params(self) -> int:
        """Number of weights and biases."""
        total = 0
        for op in self.ops:
            if isinstance(op, (Dense, Conv)):
                total += op.weight.size + (0 if op.bias is None else op.bias.size)
        return total

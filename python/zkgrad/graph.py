"""The float graph that ONNX import produces and quantisation consumes.

Three op kinds, each with one activation input and one output tensor:
``Dense`` (y = W·x + b, weight stored as [out, in]), ``Relu`` and ``Reshape``.
Tensor names are the ONNX tensor names, so float intermediates from
onnxruntime line up with them.
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


Op = Dense | Relu | Reshape


@dataclass
class FloatGraph:
    """A single-input, single-output chain of supported ops in execution order."""

    input: str
    input_shape: Shape
    output: str
    output_shape: Shape
    ops: list[Op] = field(default_factory=list)
    onnx_input: str = ""
    onnx_output: str = ""

    def activations(self) -> list[str]:
        """Every tensor the graph carries at run time, input first."""
        return [self.input, *(op.output for op in self.ops)]

    def num_params(self) -> int:
        """Number of weights and biases."""
        total = 0
        for op in self.ops:
            if isinstance(op, Dense):
                total += op.weight.size + (0 if op.bias is None else op.bias.size)
        return total

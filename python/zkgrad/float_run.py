"""The float graph run in numpy, for the calibration of the tensors the importer makes itself.

The importer writes some ONNX nodes as several ops (a softmax's maximum and sum, a layer
norm's centred values and variance, a broadcast copy): their intermediate tensors (named
``<onnx tensor>:<step>``) have no ONNX tensor for onnxruntime to calibrate, so their ranges
come from running the float graph here on the calibration samples. Every op has its float
meaning of ``zkgrad.graph``.
"""

from __future__ import annotations

from collections.abc import Iterable

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
    Op,
    Product,
    Relu,
    Reshape,
    Unary,
)
from zkgrad.onnx_unary import real


def run_graph(graph: FloatGraph, sample: np.ndarray) -> dict[str, np.ndarray]:
    """Every tensor of ``graph`` for one input sample (of the graph's input shape)."""
    values = {graph.input: np.asarray(sample, dtype=np.float64).reshape(graph.input_shape)}
    for op in graph.ops:
        values[op.output] = _run(op, values)
    return values


def synthetic_max(graph: FloatGraph, samples: Iterable[np.ndarray]) -> dict[str, float]:
    """Largest magnitude of each importer-made tensor (a name with ':') over ``samples``."""
    names = [op.output for op in graph.ops if ":" in op.output]
    peaks = dict.fromkeys(names, 0.0)
    if not names:
        return {}
    for sample in samples:
        values = run_graph(graph, sample)
        for name in names:
            peaks[name] = max(peaks[name], float(np.max(np.abs(values[name]))))
    return peaks


def _run(op: Op, values: dict[str, np.ndarray]) -> np.ndarray:
    x = values[op.input]
    if isinstance(op, Dense):
        y = op.weight @ x.reshape(-1)
        if op.bias is not None:
            y = y + op.bias
        return y.reshape(op.out_shape)
    if isinstance(op, Conv):
        return _conv(x, op)
    if isinstance(op, AvgPool):
        channels = op.in_shape[1]
        kernel = np.zeros((channels, channels, *op.kernel))
        kernel[np.arange(channels), np.arange(channels)] = 1.0 / op.divisor
        return _windows(x, kernel.shape[2:], op.strides, op.pads, op.out_shape, kernel)
    if isinstance(op, MaxPool):
        return _max_pool(x, op)
    if isinstance(op, Relu):
        return np.maximum(x, 0.0)
    if isinstance(op, Reshape):
        return x.reshape(op.shape)
    if isinstance(op, Add):
        return x + op.sign * values[op.other]
    if isinstance(op, Mul):
        return x * values[op.other]
    if isinstance(op, Product):
        a = x.reshape(op.heads, op.rows, op.inner)
        b = values[op.other].reshape(op.heads, op.inner, op.cols)
        return (a @ b).reshape(op.out_shape)
    if isinstance(op, Copy):
        return x.copy()
    if isinstance(op, Unary):
        return np.asarray(real(op.func, x, op.params), dtype=np.float64)
    raise TypeError(f"no float meaning for {type(op).__name__}")


def _patches(
    x: np.ndarray, kernel: tuple[int, int], strides: tuple[int, int], pads: tuple[int, ...]
) -> np.ndarray:
    """[C, out_h, out_w, kh, kw] windows of the zero-padded image x [1, C, H, W]."""
    top, left, bottom, right = pads
    padded = np.pad(x[0], ((0, 0), (top, bottom), (left, right)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, kernel, axis=(1, 2))
    return windows[:, :: strides[0], :: strides[1]]


def _conv(x: np.ndarray, op: Conv) -> np.ndarray:
    return _windows(x, op.weight.shape[2:], op.strides, op.pads, op.out_shape, op.weight, op.bias)


def _windows(
    x: np.ndarray,
    kernel: tuple[int, ...],
    strides: tuple[int, int],
    pads: tuple[int, ...],
    out_shape: tuple[int, ...],
    weight: np.ndarray,
    bias: np.ndarray | None = None,
) -> np.ndarray:
    windows = _patches(x, (int(kernel[0]), int(kernel[1])), strides, pads)
    _, out_h, out_w = out_shape[1:]
    windows = windows[:, :out_h, :out_w]
    y = np.einsum("chwij,ocij->ohw", windows, weight)
    if bias is not None:
        y = y + bias[:, None, None]
    return y.reshape(out_shape)


def _max_pool(x: np.ndarray, op: MaxPool) -> np.ndarray:
    windows = _patches(x, op.kernel, op.strides, (0, 0, 0, 0))
    _, out_h, out_w = op.out_shape[1:]
    return windows[:, :out_h, :out_w].max(axis=(3, 4)).reshape(op.out_shape)

"""An independent numpy evaluation of the integer IR, used only to check the Rust one."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

ACT_MIN, ACT_MAX = -32768, 32767


class RangeError(ValueError):
    """An activation left the 16-bit range."""


def _check(name: str, values: np.ndarray) -> None:
    if values.size and (values.min() < ACT_MIN or values.max() > ACT_MAX):
        raise RangeError(f"{name}: activation out of range")


def _image(shape: list[int]) -> tuple[int, int, int]:
    dims = shape[1:] if len(shape) == 4 else shape
    assert len(dims) == 3, f"not an image shape: {shape}"
    return dims[0], dims[1], dims[2]


def _windows(x: np.ndarray, kernel: list[int], strides: list[int]) -> tuple[np.ndarray, int, int]:
    """[C, oh, ow, kh, kw] windows of a [C, H, W] array."""
    (kh, kw), (sh, sw) = kernel, strides
    oh, ow = (x.shape[1] - kh) // sh + 1, (x.shape[2] - kw) // sw + 1
    out = np.empty((x.shape[0], oh, ow, kh, kw), dtype=np.int64)
    for i in range(oh):
        for j in range(ow):
            out[:, i, j] = x[:, i * sh : i * sh + kh, j * sw : j * sw + kw]
    return out, oh, ow


def _conv(
    node: dict[str, Any], tensors: dict[str, np.ndarray], a: np.ndarray, shape: list[int]
) -> tuple[np.ndarray, list[int]]:
    c, h, w = _image(shape)
    weight = np.asarray(tensors[node["weight"]], dtype=np.int64)
    top, left, bottom, right = node["pads"]
    x = np.zeros((c, h + top + bottom, w + left + right), dtype=np.int64)
    x[:, top : top + h, left : left + w] = a.reshape(c, h, w)
    windows, oh, ow = _windows(x, list(weight.shape[2:]), node["strides"])
    out = np.einsum("cijkl,ockl->oij", windows, weight)
    if node.get("bias"):
        out = out + np.asarray(tensors[node["bias"]], dtype=np.int64)[:, None, None]
    return out.reshape(-1), [1, weight.shape[0], oh, ow]


def run_ir(
    ir: dict[str, Any] | str, tensors: dict[str, np.ndarray], x: np.ndarray
) -> dict[str, np.ndarray]:
    """Every tensor of the IR for input ``x`` (flat int64 arrays), by name."""
    graph = json.loads(ir) if isinstance(ir, str) else ir
    values: dict[str, np.ndarray] = {
        graph["input"]["name"]: np.asarray(x, dtype=np.int64).reshape(-1)
    }
    shapes: dict[str, list[int]] = {graph["input"]["name"]: list(graph["input"]["shape"])}
    _check(graph["input"]["name"], values[graph["input"]["name"]])
    for node in graph["nodes"]:
        a = values[node["inputs"][0]]
        shape = shapes[node["inputs"][0]]
        op = node["op"]
        if op == "conv":
            out, shape = _conv(node, tensors, a, shape)
        elif op == "maxpool":
            c, h, w = _image(shape)
            windows, oh, ow = _windows(a.reshape(c, h, w), node["kernel"], node["strides"])
            out = windows.max(axis=(3, 4)).reshape(-1)
            shape = [1, c, oh, ow]
        elif op == "dense":
            w = np.asarray(tensors[node["weight"]], dtype=np.int64)
            out = w @ a
            shape = [1, w.shape[0]]
            if node.get("bias"):
                out = out + np.asarray(tensors[node["bias"]], dtype=np.int64)
        elif op == "requant":
            shift = int(node["shift"])
            out = (a * int(node["mult"]) + (1 << (shift - 1))) >> shift  # floor division
            _check(node["name"], out)
        elif op == "relu":
            out = np.maximum(a, 0)
        elif op == "reshape":
            out = a.copy()
            shape = list(node["shape"])
        elif op == "mul":
            out = int(node["coef"]) * a * values[node["inputs"][1]]
        elif op == "add":
            c0, c1 = (int(c) for c in node["coef"])
            out = c0 * a + c1 * values[node["inputs"][1]]
        else:
            raise ValueError(f"unknown op {op}")
        values[node["output"]] = out
        shapes[node["output"]] = shape
    return values


def run_output(
    ir: dict[str, Any] | str, tensors: dict[str, np.ndarray], x: np.ndarray
) -> np.ndarray:
    """The IR's output for input ``x`` (flat int64)."""
    graph = json.loads(ir) if isinstance(ir, str) else ir
    return run_ir(graph, tensors, x)[graph["output"]["name"]]

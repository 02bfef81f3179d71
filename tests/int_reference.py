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


def run_ir(
    ir: dict[str, Any] | str, tensors: dict[str, np.ndarray], x: np.ndarray
) -> dict[str, np.ndarray]:
    """Every tensor of the IR for input ``x`` (flat int64 arrays), by name."""
    graph = json.loads(ir) if isinstance(ir, str) else ir
    values: dict[str, np.ndarray] = {
        graph["input"]["name"]: np.asarray(x, dtype=np.int64).reshape(-1)
    }
    _check(graph["input"]["name"], values[graph["input"]["name"]])
    for node in graph["nodes"]:
        a = values[node["inputs"][0]]
        op = node["op"]
        if op == "dense":
            w = np.asarray(tensors[node["weight"]], dtype=np.int64)
            out = w @ a
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
        else:
            raise ValueError(f"unknown op {op}")
        values[node["output"]] = out
    return values


def run_output(
    ir: dict[str, Any] | str, tensors: dict[str, np.ndarray], x: np.ndarray
) -> np.ndarray:
    """The IR's output for input ``x`` (flat int64)."""
    graph = json.loads(ir) if isinstance(ir, str) else ir
    return run_ir(graph, tensors, x)[graph["output"]["name"]]

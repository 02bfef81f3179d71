"""Exceptions raised by zkgrad.

``InvalidProof`` and ``ModelError`` come from the native module, so a Rust-side
failure and a Python-side failure of the same kind are caught by one ``except``.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkgrad._native import InvalidProof, ModelError

__all__ = ["InvalidProof", "ModelError", "UnsupportedModelError", "UnsupportedNode"]


@dataclass(frozen=True)
class UnsupportedNode:
    """One ONNX node that zkgrad cannot import, and why."""

    name: str
    op_type: str
    reason: str = ""

    def __str__(self) -> str:
        text = f"'{self.name}' ({self.op_type}"
        return f"{text}: {self.reason})" if self.reason else f"{text})"


class UnsupportedModelError(ModelError):
    """The ONNX model uses operations zkgrad cannot prove yet.

    ``nodes`` lists every offending node, not just the first one found.
    """

    def __init__(self, nodes: list[UnsupportedNode]) -> None:
        self.nodes = list(nodes)
        count = len(self.nodes)
        listed = ", ".join(str(node) for node in self.nodes)
        noun = "node" if count == 1 else "nodes"
        super().__init__(f"model has {count} unsupported {noun}: {listed}")

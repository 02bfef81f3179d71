"""Exceptions raised by zkgrad.

``InvalidProof`` and ``ModelError`` come from the native module, so a Rust-side
failure and a Python-side failure of the same kind are caught by one ``except``.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkgrad._native import InvalidProof, ModelError

__all__ = [
    "InvalidProof",
    "ModelError",
    "QuantizationWarning",
    "UnsupportedModelError",
    "UnsupportedNode",
]


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
    """The ONNX model uses operations or a structure zkgrad cannot prove yet.

    ``nodes`` lists every offending node, not just the first one found; ``problems`` lists the
    graph-level reasons (several inputs or outputs, a non-float input, nothing to prove, ...).
    The message names all of them, on one line.
    """

    def __init__(self, nodes: list[UnsupportedNode], problems: list[str] | None = None) -> None:
        self.nodes = list(nodes)
        self.problems = list(problems or [])
        parts = list(self.problems)
        if self.nodes:
            count = len(self.nodes)
            listed = ", ".join(str(node) for node in self.nodes)
            noun = "node" if count == 1 else "nodes"
            parts.append(f"{count} unsupported {noun}: {listed}")
        if self.problems:
            message = "model is not supported: " + "; ".join(parts)
        else:
            message = f"model has {parts[0]}" if parts else "model is not supported"
        super().__init__(message.replace("\n", " "))


class QuantizationWarning(UserWarning):
    """The compiled model's output is further from the float model than a threshold.

    Raised as a warning by :func:`zkgrad.compile` (and :func:`zkgrad.from_sklearn`) when the
    accuracy report's relative output error exceeds
    :data:`zkgrad.report.RELATIVE_ERROR_WARNING`; the message names the layer that adds the
    most error, and the same text is kept in ``model.report.warning``. Silence it with
    ``warnings.simplefilter("ignore", zkgrad.QuantizationWarning)``.
    """

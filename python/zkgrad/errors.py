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
    The message is one summary sentence, then one line per graph-level problem and the nodes
    grouped by op type (most nodes first), each node with the reason it is refused; lists of
    node names are wrapped at :data:`MESSAGE_WIDTH` characters, a reason is never split.
    ``summary`` is the first sentence on one line (for a table cell or a log line).

    Example message::

        model is not supported: 3 unsupported nodes (Sigmoid ×2, Gemm)
          Sigmoid ×2: '/a/Sigmoid', '/b/Sigmoid'
          Gemm ×1: '/fc/Gemm': transA=1 is not supported
    """

    def __init__(self, nodes: list[UnsupportedNode], problems: list[str] | None = None) -> None:
        self.nodes = list(nodes)
        self.problems = list(problems or [])
        head, kinds, tail = _summary(self.nodes, self.problems)
        self.summary = head + ", ".join(kinds) + tail
        super().__init__(unsupported_message(self.nodes, self.problems))


#: Lines of an :class:`UnsupportedModelError` message are wrapped near this many characters.
MESSAGE_WIDTH = 100


def unsupported_message(nodes: list[UnsupportedNode], problems: list[str]) -> str:
    """The text of an :class:`UnsupportedModelError` (see its docstring for the layout)."""
    problems = [" ".join(p.split()) for p in problems]
    if not nodes and len(problems) <= 1:
        return _summary(nodes, problems)[0]
    # the first sentence's own continuation lines sit deeper than the op-type lines below it
    lines = _wrapped(*_summary(nodes, problems), indent="    ")
    lines.extend(f"  {p}" for p in problems)
    for op, group in _by_op(nodes):
        lines.extend(_op_lines(op, group))
    return "\n".join(lines)


def _by_op(nodes: list[UnsupportedNode]) -> list[tuple[str, list[UnsupportedNode]]]:
    """The nodes grouped by op type, most nodes first (ties keep the model's order)."""
    by_op: dict[str, list[UnsupportedNode]] = {}
    for node in nodes:
        by_op.setdefault(node.op_type, []).append(node)
    return sorted(by_op.items(), key=lambda item: -len(item[1]))


def _summary(nodes: list[UnsupportedNode], problems: list[str]) -> tuple[str, list[str], str]:
    """The first sentence as (head, op kinds, tail), for :func:`_wrapped` or one line."""
    if not nodes:
        if len(problems) == 1:
            return f"model is not supported: {' '.join(problems[0].split())}", [], ""
        count = f": {len(problems)} graph-level problems" if problems else ""
        return f"model is not supported{count}", [], ""
    kinds = [f"{op} ×{len(group)}" if len(group) > 1 else op for op, group in _by_op(nodes)]
    noun = "node" if len(nodes) == 1 else "nodes"
    tail = ")"
    if problems:
        tail += f", {len(problems)} graph-level problem" + ("s" if len(problems) > 1 else "")
    return f"model is not supported: {len(nodes)} unsupported {noun} (", kinds, tail


def _op_lines(op: str, group: list[UnsupportedNode]) -> list[str]:
    """``  Op ×n: 'a', 'b': reason``, or one line per distinct reason below the op's header."""
    by_reason: dict[str, list[str]] = {}
    for node in group:
        by_reason.setdefault(" ".join(node.reason.split()), []).append(f"'{node.name}'")
    header = f"  {op} ×{len(group)}: "
    if len(by_reason) == 1:
        [(reason, names)] = by_reason.items()
        return _wrapped(header, names, f": {reason}" if reason else "", indent="      ")
    lines = [f"  {op} ×{len(group)}:"]
    for reason, names in by_reason.items():
        reason_tail = f": {reason}" if reason else ": (no import rule for this op)"
        lines.extend(_wrapped("    ", names, reason_tail, indent="      "))
    return lines


def _wrapped(head: str, items: list[str], tail: str, indent: str) -> list[str]:
    """``head + ", ".join(items) + tail`` broken between items into lines of at most
    :data:`MESSAGE_WIDTH` characters where it can be (an item or the tail is never split)."""
    lines: list[str] = []
    line = head
    for index, item in enumerate(items):
        piece = item + ("," if index < len(items) - 1 else "")
        fresh = line in (head, indent)
        if not fresh and len(line) + 1 + len(piece) > MESSAGE_WIDTH:
            lines.append(line)
            line = indent
            fresh = True
        line += piece if fresh else " " + piece
    if len(line) + len(tail) > MESSAGE_WIDTH and line.strip() and tail.startswith(": "):
        lines.append(line + ":")
        line = indent + tail[2:]
    else:
        line += tail
    lines.append(line)
    return lines


class QuantizationWarning(UserWarning):
    """The compiled model's output is further from the float model than a threshold.

    Raised as a warning by :func:`zkgrad.compile` (and :func:`zkgrad.from_sklearn`) when the
    accuracy report's relative output error exceeds
    :data:`zkgrad.report.RELATIVE_ERROR_WARNING`; the message names the layer that adds the
    most error, and the same text is kept in ``model.report.warning``. Silence it with
    ``warnings.simplefilter("ignore", zkgrad.QuantizationWarning)``.
    """

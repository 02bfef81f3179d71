"""Graphs with several outputs: each ONNX output is an activation the proof states.

The circuit states the last block's output and, after it, the outputs of any earlier blocks
it lists (``CircuitSpec::extra_outputs`` in the core). So the importer keeps the ops that lead
to any output, makes the last op's output the main one and lists the others; an output that is
the graph input itself gets a copy block, since only a block's output can be stated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zkgrad.graph import Copy, FloatGraph, Op, Reshape

if TYPE_CHECKING:  # the importer imports this module
    from zkgrad.onnx import _Importer


def finish_several(imp: _Importer) -> FloatGraph | None:
    """The float graph of a model with several outputs; None (with a problem recorded on the
    importer) if an output is not computed or two outputs are one tensor."""
    tensors: list[str] = []
    for name in imp.outputs:
        tensor = imp.resolve(name)
        if tensor == imp.input and tensor in imp.shapes:
            # Only a block's output can be stated: copy the input into one, first, so that the
            # main output stays the last op's (an ONNX tensor the report compares).
            tensor = f"{name}:copy"
            shape = imp.shapes[imp.input]
            imp._emit(Copy(tensor, imp.input, tensor, shape), shape)
            imp.ops.insert(0, imp.ops.pop())
        if tensor not in imp.producer:
            imp.problems.append(f"the model output '{name}' is not computed by supported ops")
            return None
        if tensor in tensors:
            other = imp.outputs[tensors.index(tensor)]
            imp.problems.append(
                f"the model outputs '{other}' and '{name}' are the same tensor; a proof states "
                "each output once, so export it once"
            )
            return None
        tensors.append(tensor)
    imp.ops = _last_block_output_last(imp.ops, set(tensors))
    graph = imp._graph(set(tensors))
    if graph is None:
        return None
    graph.extra_outputs = [t for t in tensors if t != graph.output]
    graph.named_outputs = list(zip(imp.outputs, tensors, strict=True))
    graph.onnx_output = imp.outputs[tensors.index(graph.output)]
    return graph


def _last_block_output_last(ops: list[Op], outputs: set[str]) -> list[Op]:
    """The ops with the reshapes that turn the last block's output into a model output moved to
    the end: the main output is the last op's, and must be the last block's (reshapes are free;
    a reshape of an earlier block's output emitted after it would otherwise come last)."""
    blocks = [i for i, op in enumerate(ops) if not isinstance(op, Reshape)]
    if not blocks or blocks[-1] == len(ops) - 1:
        return ops
    last = ops[blocks[-1]].output
    chain: list[int] = []
    for i in range(blocks[-1] + 1, len(ops)):
        source = ops[i].input
        if source == last or any(ops[j].output == source for j in chain):
            chain.append(i)
    if not any(ops[i].output in outputs for i in chain):
        return ops
    # Keep only the chain up to an output at the end.
    moved = [ops[i] for i in chain]
    return [op for i, op in enumerate(ops) if i not in set(chain)] + moved

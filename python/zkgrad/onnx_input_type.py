"""A model input declared DOUBLE, FLOAT16, BOOL or integer, read as float32 values.

zkgrad proves float graphs. A DOUBLE or FLOAT16 input is read as float32 whatever reads it
(the graph's arithmetic is the same; float32's rounding is far below the quantisation's). A
model whose input is declared BOOL (values 0 and 1) or of an integer type imports when every
node reading it only passes the values on (``Identity``) or makes them float32 (``Cast``):
those nodes mean the same on the float values. In each case ``prepare`` then
declares the input float32 and puts a Cast back to the declared type in front of its readers,
so the prepared model (the float reference that onnxruntime runs) computes what the original
does on the same values; the importer removes that Cast (:func:`is_declared_type_cast`) as it
removes a Cast to float32.

The proof does not check that the given values are integers (or 0 and 1): it proves the float
graph on the values given, which on integral values (below 2^24 in magnitude) is the model.

An input of those types that other ops read (a boolean model's And, a GatherElements by an
index input) is declared float32 the same way, but its Cast back is then proved
(:func:`is_proved_type_cast`, ``zkgrad.onnx_integers.declared_type``): a BOOL input becomes
x ≠ 0 and an integer one x rounded, both by a table lookup, so the ops after it read exactly 0/1
or integers whatever values a prover gives.
"""

from __future__ import annotations

import onnx
from onnx import TensorProto, helper

#: Input types read as float32: exact on their values up to 2^24 in magnitude.
INTEGRAL = {
    TensorProto.BOOL,
    TensorProto.INT8,
    TensorProto.INT16,
    TensorProto.INT32,
    TensorProto.INT64,
    TensorProto.UINT8,
    TensorProto.UINT16,
    TensorProto.UINT32,
    TensorProto.UINT64,
}

#: Other floating-point input types, read as float32 whatever reads them.
FLOATING = {TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BFLOAT16}

#: The doc string of the Cast that ``read_as_float`` inserts.
MARKER = "zkgrad: back to the input's declared type (the input is read as float32)"
#: The doc string of that Cast where ops other than Identity and Cast read the input.
PROVED_MARKER = "zkgrad: back to the input's declared type, proved (ops read its values)"


def is_declared_type_cast(node: onnx.NodeProto) -> bool:
    """Whether ``node`` is the Cast that :func:`read_as_float` put after the input (removed)."""
    return node.op_type == "Cast" and node.doc_string == MARKER


def is_proved_type_cast(node: onnx.NodeProto) -> bool:
    """Whether ``node`` is the Cast that :func:`read_as_float` put after an input other ops
    read (proved: ``zkgrad.onnx_integers.declared_type``)."""
    return node.op_type == "Cast" and node.doc_string == PROVED_MARKER


def _blocking_reader(graph: onnx.GraphProto, name: str) -> onnx.NodeProto | None:
    """The first node that reads the integral tensor ``name`` (or an Identity of it) other than
    through Identity or a Cast to float32; None if there is none."""
    integral, seen = [name], {name}
    while integral:
        tensor = integral.pop()
        for node in graph.node:
            if tensor not in node.input:
                continue
            to = {a.name: helper.get_attribute_value(a) for a in node.attribute}.get("to")
            if node.op_type == "Cast" and to == TensorProto.FLOAT:
                continue
            if node.op_type != "Identity":
                return node
            if node.output[0] not in seen:
                seen.add(node.output[0])
                integral.append(node.output[0])
    return None


def read_as_float(graph: onnx.GraphProto, vi: onnx.ValueInfoProto) -> str | None:
    """Declare the input ``vi`` (of a type above) float32, with a Cast back to its type in front
    of its readers. None when done; else, changing nothing, why it cannot be read as float."""
    tensor = vi.type.tensor_type
    declared = onnx.TensorProto.DataType.Name(tensor.elem_type)
    refused = f"input '{vi.name}' has type {declared}; zkgrad imports float32 models"
    if tensor.elem_type not in INTEGRAL | FLOATING:
        return refused
    reader = None if tensor.elem_type in FLOATING else _blocking_reader(graph, vi.name)
    if any(out.name == vi.name for out in graph.output):
        return refused  # the input as the output: nothing for a proof to compute
    typed = f"{vi.name}:declared_type"
    for node in graph.node:
        node.input[:] = [typed if i == vi.name else i for i in node.input]
    marker = MARKER if reader is None else PROVED_MARKER
    cast = helper.make_node(
        "Cast", [vi.name], [typed], name=typed, to=tensor.elem_type, doc_string=marker
    )
    graph.node.insert(0, cast)
    tensor.elem_type = TensorProto.FLOAT
    return None

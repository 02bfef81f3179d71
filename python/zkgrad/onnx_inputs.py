"""A model with several graph inputs, rewritten to take one: their concatenation.

The circuit (``zkgrad-model``) takes one input vector. A model whose graph has k > 1 inputs is
rewritten at load time (``zkgrad.onnx_load.prepare``) to take one float input
:data:`MERGED` of shape ``[1, total]``, ``total`` the sum of the inputs' flattened sizes, and
nodes at the front of the graph rebuild each original input under its own name: a ``Slice``
of its span on axis 1, then a ``Reshape`` to its shape. Every later node, and onnxruntime's
float reference (``zkgrad.reference``, which reads tensors by name), sees the same tensors as
before; the importer imports each Slice and Reshape of an activation as a constant linear map.

The layout (each input's name, shape and offset in the concatenation) is kept in the prepared
model's ``metadata_props`` under :data:`LAYOUT_KEY`, where the compiler reads it
(:func:`layout_of`) to put it in the model's ``meta``.

Example::

    problems = merge(graph, inputs)      # graph now has one input, 'zkgrad:inputs'
"""

from __future__ import annotations

import json
import math

import onnx
from onnx import TensorProto, helper

#: The merged input's name: importer-made tensor names contain ':', ONNX exporters' do not.
MERGED = "zkgrad:inputs"
#: The ``metadata_props`` key of the layout.
LAYOUT_KEY = "zkgrad:input_layout"

Layout = list[tuple[str, tuple[int, ...]]]


def merge(model: onnx.ModelProto, inputs: list[onnx.ValueInfoProto]) -> None:
    """Replace the graph inputs ``inputs`` (float32, static shapes, batch dimension fixed) by
    their concatenation :data:`MERGED`, with a Slice and a Reshape rebuilding each one."""
    graph = model.graph
    opset = next((imp.version for imp in model.opset_import if imp.domain in ("", "ai.onnx")), 1)
    layout: Layout = [
        (vi.name, tuple(int(d.dim_value) for d in vi.type.tensor_type.shape.dim)) for vi in inputs
    ]
    total = sum(math.prod(shape) for _, shape in layout)
    nodes: list[onnx.NodeProto] = []
    offset = 0
    for name, shape in layout:
        size = math.prod(shape)
        nodes += _rebuild(graph, name, shape, offset, size, opset)
        offset += size
    rest = list(graph.node)
    del graph.node[:]
    graph.node.extend([*nodes, *rest])
    names = {vi.name for vi in inputs}
    kept = [vi for vi in graph.input if vi.name not in names]
    del graph.input[:]
    graph.input.append(helper.make_tensor_value_info(MERGED, TensorProto.FLOAT, [1, total]))
    graph.input.extend(kept)
    entry = model.metadata_props.add()
    entry.key = LAYOUT_KEY
    entry.value = json.dumps([[name, list(shape)] for name, shape in layout])


def _rebuild(
    graph: onnx.GraphProto, name: str, shape: tuple[int, ...], offset: int, size: int, opset: int
) -> list[onnx.NodeProto]:
    """Slice ``[offset, offset + size)`` of the merged input on axis 1, reshaped to ``shape``,
    written to ``name``; the constants are initializers (the node forms of the model's opset)."""
    flat = f"{MERGED}:{name}"
    if opset < 10:  # Slice takes its bounds as attributes before opset 10
        cut = helper.make_node(
            "Slice", [MERGED], [flat], name=flat, axes=[1], starts=[offset], ends=[offset + size]
        )
    else:
        bounds = []
        for what, value in (("starts", offset), ("ends", offset + size), ("axes", 1)):
            bounds.append(f"{flat}:{what}")
            graph.initializer.append(
                helper.make_tensor(bounds[-1], TensorProto.INT64, [1], [value])
            )
        cut = helper.make_node("Slice", [MERGED, *bounds], [flat], name=flat)
    if opset < 5:  # Reshape takes its shape as an attribute before opset 5
        return [
            cut,
            helper.make_node("Reshape", [flat], [name], name=f"{flat}:reshape", shape=list(shape)),
        ]
    target = f"{flat}:shape"
    graph.initializer.append(helper.make_tensor(target, TensorProto.INT64, [len(shape)], shape))
    return [cut, helper.make_node("Reshape", [flat, target], [name], name=f"{flat}:reshape")]


def is_input_rebuild(node: onnx.NodeProto) -> bool:
    """Whether ``node`` is one of the Slice and Reshape nodes :func:`merge` put in front."""
    return rebuilt_input(node.name) is not None


def rebuilt_input(node_name: str) -> str | None:
    """The original input that the node named ``node_name`` rebuilds (:func:`merge`), or None
    for a node of the model."""
    if not node_name.startswith(f"{MERGED}:"):
        return None
    return node_name.removeprefix(f"{MERGED}:").removesuffix(":reshape")


def layout_of(model: onnx.ModelProto) -> Layout | None:
    """The original inputs (name, shape) in concatenation order of a model :func:`merge`
    rewrote, or None for a model that has one input."""
    for entry in model.metadata_props:
        if entry.key == LAYOUT_KEY:
            return [
                (str(name), tuple(int(d) for d in shape)) for name, shape in json.loads(entry.value)
            ]
    return None

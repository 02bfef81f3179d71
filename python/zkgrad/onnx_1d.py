"""1-D convolution and pooling (``[1, C, L]`` activations, kernels ``[k]``) as the 2-D ones of
height 1: the input is viewed as ``[1, C, 1, L]`` (a free reshape), every attribute gets a
leading 1 (kernel ``[1, k]``, strides ``[1, s]``, pads ``[0, p₀, 0, p₁]``, dilations ``[1, d]``),
a ``Conv`` weight ``[C_out, C_in, k]`` becomes ``[C_out, C_in, 1, k]``, and the 2-D output is
viewed back as ``[1, C_out, L']``. So a 1-D node is proved exactly as its 2-D twin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from onnx import helper

from zkgrad.graph import Reshape

if TYPE_CHECKING:
    import onnx

    from zkgrad.onnx import _Importer

#: The op types a 1-D node of which is imported as its 2-D twin.
ONE_D_OPS = ("Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool")


def is_one_d(importer: _Importer, node: onnx.NodeProto, inputs: list[str]) -> bool:
    """Whether ``node`` is a 1-D convolution or pooling of a ``[1, C, L]`` activation."""
    if node.op_type not in ONE_D_OPS or not inputs or inputs[0] in importer.consts:
        return False
    shape = importer.shapes.get(inputs[0])
    return shape is not None and len(shape) == 3


def as_two_d(
    importer: _Importer, node: onnx.NodeProto, name: str, inputs: list[str]
) -> tuple[onnx.NodeProto, list[str]]:
    """The 2-D twin of 1-D node ``name`` (its input viewed as ``[1, C, 1, L]``, its output
    named ``<output>:2d``) and its inputs; :func:`finish` views the output back."""
    x = importer._activation(inputs[0], name)
    _, channels, length = importer.shapes[x]
    image = importer._reshaped(f"{name}:as_2d", x, (1, channels, 1, length))
    new_inputs = [image, *inputs[1:]]
    if node.op_type == "Conv" and len(inputs) > 1 and inputs[1] in importer.consts:
        weight = importer.consts[inputs[1]]
        if weight.ndim == 3:
            name = f"{inputs[1]}:2d"
            importer.consts[name] = weight.reshape(weight.shape[0], weight.shape[1], 1, -1)
            new_inputs[1] = name
    attrs = {}
    for a in node.attribute:
        value = helper.get_attribute_value(a)
        if a.name in ("kernel_shape", "strides", "dilations") and len(value) == 1:
            value = [1, int(value[0])]
        elif a.name == "pads" and len(value) == 2:
            value = [0, int(value[0]), 0, int(value[1])]
        attrs[a.name] = value
    twin = helper.make_node(node.op_type, new_inputs, [f"{node.output[0]}:2d"], name=name, **attrs)
    return twin, new_inputs


def finish(importer: _Importer, node: onnx.NodeProto, name: str) -> None:
    """View the 2-D twin's ``[1, C, 1, L']`` output as 1-D node ``name``'s ``[1, C, L']``."""
    twin_out = importer.resolve(f"{node.output[0]}:2d")
    _, channels, _, length = importer.shapes[twin_out]
    shape = (1, channels, length)
    importer._emit(Reshape(f"{name}:as_1d", twin_out, node.output[0], shape), shape)

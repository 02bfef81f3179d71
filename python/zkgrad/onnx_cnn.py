"""ONNX ``Conv`` and pooling attributes -> the geometry zkgrad supports.

Each function checks one node's attributes against what the integer IR can express (2-D, NCHW,
batch 1, one group, no dilation; max pooling without padding) and returns the kernel, strides,
padding and output shape, or raises ``ValueError`` with the reason a user can act on. The
importer (:mod:`zkgrad.onnx`) turns that reason into an unsupported-node entry.

Example::

    strides, pads, out_shape = conv_geometry({"pads": [1, 1, 1, 1]}, (1, 1, 12, 12), (4, 1, 3, 3))
    assert out_shape == (1, 4, 12, 12)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from zkgrad.graph import Shape

Pair = tuple[int, int]
Pads = tuple[int, int, int, int]


def _pair(values: Sequence[int] | None, default: int, what: str) -> Pair:
    if values is None:
        return (default, default)
    if len(values) != 2:
        raise ValueError(f"{what} {list(values)} is not 2-D; only 2-D convolution and pooling")
    return (int(values[0]), int(values[1]))


def _image(shape: Shape) -> tuple[int, int, int]:
    """(C, H, W) of a [1, C, H, W] activation."""
    if len(shape) != 4 or shape[0] != 1:
        raise ValueError(f"input shape {list(shape)} is not [1, C, H, W]")
    return shape[1], shape[2], shape[3]


def _pads(attrs: Mapping[str, Any]) -> Pads:
    pad = attrs.get("auto_pad", b"NOTSET")
    pad = pad.decode() if isinstance(pad, bytes) else str(pad)
    if pad not in ("NOTSET", "VALID"):
        raise ValueError(f"auto_pad={pad} is not supported; export with explicit pads")
    values = attrs.get("pads") if pad == "NOTSET" else None
    if values is None:
        return (0, 0, 0, 0)
    if len(values) != 4:
        raise ValueError(f"pads {list(values)} are not 2-D")
    if any(int(v) < 0 for v in values):
        raise ValueError(f"negative pads {list(values)} are not supported")
    return (int(values[0]), int(values[1]), int(values[2]), int(values[3]))


def _no_dilation(attrs: Mapping[str, Any], what: str) -> None:
    dilations = attrs.get("dilations")
    if dilations is not None and any(int(d) != 1 for d in dilations):
        raise ValueError(f"dilated {what} (dilations={list(dilations)}) is not supported")


def _out_hw(hw: Pair, kernel: Pair, strides: Pair, pads: Pads, ceil_mode: bool) -> Pair:
    out = []
    for i in range(2):
        span = hw[i] + pads[i] + pads[i + 2] - kernel[i]
        if span < 0:
            raise ValueError(f"kernel {list(kernel)} is larger than the padded input")
        if ceil_mode and span % strides[i]:
            raise ValueError("ceil_mode=1 adds partial windows here; export with ceil_mode=0")
        out.append(span // strides[i] + 1)
    return (out[0], out[1])


def check_conv_attributes(attrs: Mapping[str, Any], weight_shape: Shape) -> None:
    """The checks of :func:`conv_geometry` that need no input shape (group, dilation, rank,
    padding, strides): the importer runs them on a Conv even behind an unsupported node."""
    if int(attrs.get("group", 1)) != 1:
        raise ValueError(f"grouped convolution (group={attrs['group']}) is not supported")
    _no_dilation(attrs, "convolution")
    if len(weight_shape) != 4:
        raise ValueError(f"weight of rank {len(weight_shape)}; only 2-D convolution")
    strides = _pair(attrs.get("strides"), 1, "strides")
    if min(strides) < 1:
        raise ValueError(f"strides {list(strides)} must be positive")
    _pads(attrs)


def conv_geometry(
    attrs: Mapping[str, Any], in_shape: Shape, weight_shape: Shape
) -> tuple[Pair, Pads, Shape]:
    """(strides, pads, output shape) of a ``Conv`` with a [C_out, C_in, kh, kw] weight."""
    check_conv_attributes(attrs, weight_shape)
    channels, height, width = _image(in_shape)
    c_out, c_in, kh, kw = (int(d) for d in weight_shape)
    if c_in != channels:
        raise ValueError(f"weight {list(weight_shape)} expects {c_in} channels, got {channels}")
    kernel = _pair(attrs.get("kernel_shape"), 0, "kernel_shape")
    if "kernel_shape" in attrs and kernel != (kh, kw):
        raise ValueError(f"kernel_shape {list(kernel)} differs from the weight's {[kh, kw]}")
    strides = _pair(attrs.get("strides"), 1, "strides")
    pads = _pads(attrs)
    oh, ow = _out_hw((height, width), (kh, kw), strides, pads, ceil_mode=False)
    return strides, pads, (1, c_out, oh, ow)


def pool_geometry(
    op_type: str, attrs: Mapping[str, Any], in_shape: Shape
) -> tuple[Pair, Pair, Pads, Shape]:
    """(kernel, strides, pads, output shape) of a ``MaxPool``, ``AveragePool`` or
    ``GlobalAveragePool``. Max pooling may be padded by less than its kernel (the importer
    replicates the edge, which leaves every window's maximum unchanged); average pooling may be
    zero padded
    only when the padding is counted in the mean (``count_include_pad=1``), as one constant
    divisor then serves every window."""
    channels, height, width = _image(in_shape)
    if op_type == "GlobalAveragePool":
        return (height, width), (1, 1), (0, 0, 0, 0), (1, channels, 1, 1)
    kernel, strides, pads = check_pool_attributes(op_type, attrs)
    ceil_mode = bool(int(attrs.get("ceil_mode", 0)))
    oh, ow = _out_hw((height, width), kernel, strides, pads, ceil_mode)
    return kernel, strides, pads, (1, channels, oh, ow)


def check_pool_attributes(op_type: str, attrs: Mapping[str, Any]) -> tuple[Pair, Pair, Pads]:
    """(kernel, strides, pads) of a ``MaxPool`` or ``AveragePool`` after the checks of
    :func:`pool_geometry` that need no input shape (the importer runs them on a pool even
    behind an unsupported node)."""
    if op_type == "GlobalAveragePool":
        return (0, 0), (1, 1), (0, 0, 0, 0)
    if "kernel_shape" not in attrs:
        raise ValueError("kernel_shape is missing")
    kernel = _pair(attrs["kernel_shape"], 0, "kernel_shape")
    strides = _pair(attrs.get("strides"), 1, "strides")
    if min(kernel) < 1 or min(strides) < 1:
        raise ValueError(f"kernel {list(kernel)} and strides {list(strides)} must be positive")
    _no_dilation(attrs, "pooling")
    pads = _pads(attrs)
    if op_type == "MaxPool" and any(p >= k for p, k in zip(pads, kernel * 2, strict=True)):
        # (top, left, bottom, right) against (kh, kw, kh, kw): a window of padding only.
        raise ValueError(f"padding (pads={list(pads)}) as wide as the kernel {list(kernel)}")
    if any(pads) and op_type == "AveragePool" and not int(attrs.get("count_include_pad", 0)):
        raise ValueError(
            f"padding (pads={list(pads)}) with count_include_pad=0 divides border windows by "
            "fewer elements; export with count_include_pad=1 or without padding"
        )
    return kernel, strides, pads

"""Reading an ONNX file for the importer (:mod:`zkgrad.onnx`): load and check it, fix the
batch dimension to 1, say which graph-level properties rule it out (several inputs, a
non-float input, no static shape, a batch size other than 1), and infer shapes."""

from __future__ import annotations

import os
from pathlib import Path

import onnx
from onnx import shape_inference

from zkgrad.errors import ModelError
from zkgrad.onnx_input_type import read_as_float


def load(path: str | os.PathLike[str]) -> onnx.ModelProto:
    """Read and check an ONNX file; a missing or malformed file is a clear error."""
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{file}: no such file")
    try:
        model = onnx.load(str(file))
    except Exception as exc:  # protobuf raises several unrelated types
        raise ModelError(f"{file}: not an ONNX model ({type(exc).__name__})") from None
    if model.ir_version <= 0 or not model.graph.node:
        raise ModelError(f"{file}: not an ONNX model (no graph found)")
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "check failed"
        raise ModelError(f"{file}: invalid ONNX model: {first}") from None
    return model


def prepare(model: onnx.ModelProto) -> tuple[onnx.ModelProto, str | None, list[str]]:
    """Fix the batch dimension to 1 and re-infer shapes.

    Returns the prepared copy, the name of the input zkgrad imports (the first one, or None if
    the model has none) and the graph-level reasons the model cannot be imported (several
    inputs, a non-float input, no static shape, a batch size other than 1).
    """
    fixed = onnx.ModelProto()
    fixed.CopyFrom(model)
    graph = fixed.graph
    inits = {init.name for init in graph.initializer}
    inputs = [vi for vi in graph.input if vi.name not in inits]
    problems: list[str] = []
    if not inputs:
        problems.append("the model has no input")
    elif len(inputs) > 1:
        names = ", ".join(f"'{vi.name}'" for vi in inputs)
        problems.append(f"the model has {len(inputs)} inputs ({names}); zkgrad supports one")
    if not graph.output:
        problems.append("the model has no output")
    for index, vi in enumerate(inputs):
        problems.extend(_fix_input(graph, vi, main=index == 0))
    for vi in graph.output:
        dims = vi.type.tensor_type.shape.dim
        if len(dims) > 0 and not dims[0].HasField("dim_value"):
            dims[0].Clear()
            dims[0].dim_value = 1
    del graph.value_info[:]
    return _infer_shapes(fixed), (inputs[0].name if inputs else None), problems


def _fix_input(graph: onnx.GraphProto, vi: onnx.ValueInfoProto, main: bool) -> list[str]:
    """Set a dynamic batch dimension to 1; for the main input, read a BOOL or integer one as
    float32 where it can be (`zkgrad.onnx_input_type`) and say what is not importable."""
    tensor = vi.type.tensor_type
    problems = []
    if main and not vi.type.HasField("tensor_type"):
        # A sequence, optional, map or sparse input: there is no tensor type to name.
        kind = vi.type.WhichOneof("value") or "untyped"
        problems.append(f"input '{vi.name}' is a {kind.removesuffix('_type')}, not a tensor")
    elif main and tensor.elem_type != onnx.TensorProto.FLOAT:
        refused = read_as_float(graph, vi)
        if refused:
            problems.append(refused)
    dims = tensor.shape.dim
    if not tensor.HasField("shape") or len(dims) == 0:
        return [*problems, f"input '{vi.name}' has no static shape"] if main else problems
    for i, dim in enumerate(dims):
        if dim.HasField("dim_value") and dim.dim_value > 0:
            if main and i == 0 and dim.dim_value != 1 and len(dims) > 1:
                problems.append(
                    f"input '{vi.name}' has batch size {dim.dim_value}; export with batch 1 "
                    "or a dynamic batch dimension"
                )
            continue
        if i != 0:
            if main:
                problems.append(f"input '{vi.name}' dimension {i} is not static")
            continue
        dim.Clear()
        dim.dim_value = 1
    return problems


def _infer_shapes(model: onnx.ModelProto) -> onnx.ModelProto:
    """Shape inference with constant propagation; less of it where that fails.

    The importer tracks the shapes of the tensors it imports itself; inferred shapes are only
    needed to fold ``Shape`` nodes, so a model whose inference fails is imported without them.
    """
    for data_prop in (True, False):
        try:
            return shape_inference.infer_shapes(model, strict_mode=False, data_prop=data_prop)
        except Exception:  # onnx raises InferenceError, RuntimeError, ...
            continue
    return model

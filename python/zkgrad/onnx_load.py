"""Reading an ONNX file for the importer (:mod:`zkgrad.onnx`): load and check it, fix the
batch dimension to 1, merge several inputs into one (:mod:`zkgrad.onnx_inputs`), say which
graph-level properties rule it out (a non-float input, no static shape, a batch size other
than 1), and infer shapes."""

from __future__ import annotations

import os
from pathlib import Path

import onnx
from onnx import shape_inference

from zkgrad.errors import ModelError
from zkgrad.onnx_input_type import read_as_float
from zkgrad.onnx_inputs import MERGED, merge


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
    """Fix the batch dimension to 1, merge several inputs into one and re-infer shapes.

    Returns the prepared copy, the name of the input zkgrad imports (the only one, the merged
    input :data:`zkgrad.onnx_inputs.MERGED` of a model with several, or None if the model has
    none) and the graph-level reasons the model cannot be imported (a non-float
    input, no static shape, a batch size other than 1).
    """
    fixed = onnx.ModelProto()
    fixed.CopyFrom(model)
    graph = fixed.graph
    inits = {init.name for init in graph.initializer}
    inputs = [vi for vi in graph.input if vi.name not in inits]
    problems: list[str] = []
    if not inputs:
        problems.append("the model has no input")
    if not graph.output:
        problems.append("the model has no output")
    input_problems = [problem for vi in inputs for problem in _fix_input(graph, vi)]
    problems.extend(input_problems)
    for vi in graph.output:
        dims = vi.type.tensor_type.shape.dim
        if len(dims) > 0 and not dims[0].HasField("dim_value"):
            dims[0].Clear()
            dims[0].dim_value = 1
    del graph.value_info[:]
    main = inputs[0].name if inputs else None
    if len(inputs) > 1 and not input_problems:
        # The circuit takes one input vector: the inputs' concatenation (zkgrad.onnx_inputs).
        merge(fixed, inputs)
        main = MERGED
    return _infer_shapes(fixed), main, problems


def _fix_input(graph: onnx.GraphProto, vi: onnx.ValueInfoProto) -> list[str]:
    """Set a dynamic batch dimension to 1, read a BOOL or integer input as float32 where it
    can be (`zkgrad.onnx_input_type`) and say what is not importable."""
    tensor = vi.type.tensor_type
    problems = []
    if not vi.type.HasField("tensor_type"):
        # A sequence, optional, map or sparse input: there is no tensor type to name.
        kind = vi.type.WhichOneof("value") or "untyped"
        problems.append(f"input '{vi.name}' is a {kind.removesuffix('_type')}, not a tensor")
    elif tensor.elem_type != onnx.TensorProto.FLOAT:
        refused = read_as_float(graph, vi)
        if refused:
            problems.append(refused)
    dims = tensor.shape.dim
    if not tensor.HasField("shape") or len(dims) == 0:
        return [*problems, f"input '{vi.name}' has no static shape"]
    for i, dim in enumerate(dims):
        if dim.HasField("dim_value") and dim.dim_value > 0:
            if i == 0 and dim.dim_value != 1 and len(dims) > 1:
                problems.append(
                    f"input '{vi.name}' has batch size {dim.dim_value}; export with batch 1 "
                    "or a dynamic batch dimension"
                )
            continue
        if i != 0:
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

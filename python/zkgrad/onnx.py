"""ONNX import: file -> cleaned float graph of supported ops.

Steps: load and check the file, fix the batch dimension to 1, infer shapes,
drop Identity/Dropout, fold every node whose inputs are constant (including
``Shape`` of a tensor whose shape is static), then turn the remaining nodes
into :mod:`zkgrad.graph` ops. Every unsupported node is collected and reported
in one :class:`~zkgrad.errors.UnsupportedModelError`.

Example::

    graph, model = zkgrad.onnx.import_onnx("mlp.onnx")
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference
from onnx.reference import ReferenceEvaluator

from zkgrad.errors import ModelError, UnsupportedModelError, UnsupportedNode
from zkgrad.graph import Dense, FloatGraph, Op, Relu, Reshape, Shape

#: ONNX op types the importer accepts (Add only as a constant bias after Gemm/MatMul, Cast only
#: to float32, where it is a no-op on the float32 activations).
SUPPORTED_OPS = (
    "Gemm",
    "MatMul",
    "Add",
    "Relu",
    "Reshape",
    "Flatten",
    "Identity",
    "Dropout",
    "Cast",
)
_PASS_THROUGH = {"Identity", "Dropout"}
_RANDOM_OPS = {
    "RandomNormal",
    "RandomUniform",
    "RandomNormalLike",
    "RandomUniformLike",
    "Multinomial",
    "Bernoulli",
}


def _is_no_op(node: onnx.NodeProto) -> bool:
    """Identity, Dropout (inference) and Cast to float32 leave a float32 activation unchanged."""
    if node.op_type in _PASS_THROUGH:
        return True
    if node.op_type == "Cast":
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        return attrs.get("to") == onnx.TensorProto.FLOAT
    return False


class _Skip(Exception):
    """A node cannot be imported; ``reason`` says why."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


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
    the model has none) and the graph-level reasons the model cannot be imported (several inputs
    or outputs, a non-float input, no static shape, a batch size other than 1).
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
    if len(graph.output) != 1:
        names = ", ".join(f"'{vi.name}'" for vi in graph.output)
        problems.append(f"the model has {len(graph.output)} outputs ({names}); zkgrad supports one")
    for index, vi in enumerate(inputs):
        problems.extend(_fix_input(vi, main=index == 0))
    for vi in graph.output:
        dims = vi.type.tensor_type.shape.dim
        if len(dims) > 0 and not dims[0].HasField("dim_value"):
            dims[0].Clear()
            dims[0].dim_value = 1
    del graph.value_info[:]
    return _infer_shapes(fixed), (inputs[0].name if inputs else None), problems


def _fix_input(vi: onnx.ValueInfoProto, main: bool) -> list[str]:
    """Set a dynamic batch dimension to 1; for the main input, say what is not importable."""
    tensor = vi.type.tensor_type
    problems = []
    if main and tensor.elem_type != onnx.TensorProto.FLOAT:
        got = onnx.TensorProto.DataType.Name(tensor.elem_type)
        problems.append(f"input '{vi.name}' has type {got}; zkgrad imports float32 models")
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


@dataclass
class Analysis:
    """What import made of each node, and the float graph if the whole model is supported."""

    model: onnx.ModelProto
    #: One of :data:`NODE_STATUSES` per node of ``model.graph.node``.
    status: list[str]
    graph: FloatGraph | None
    error: UnsupportedModelError | None


#: imported: became part of the float graph; folded: computes a constant; removed: a no-op
#: (Identity, Dropout, Relu of a Relu); unsupported: listed in the error; after-unsupported:
#: a supported op that reads an unsupported node's output.
NODE_STATUSES = ("imported", "folded", "removed", "unsupported", "after-unsupported")


def analyse(path: str | os.PathLike[str]) -> Analysis:
    """Load ``path`` and import it as far as possible: never raises for an unsupported model.

    A missing or unreadable file is still a ``FileNotFoundError`` or :class:`ModelError`.
    """
    model, main, problems = prepare(load(path))
    importer = _Importer(model, main)
    graph = importer.run()
    problems = [*problems, *importer.problems]
    error = None
    if importer.unsupported or problems:
        error = UnsupportedModelError(importer.unsupported, problems)
        graph = None
    return Analysis(model, importer.status, graph, error)


def import_onnx(path: str | os.PathLike[str]) -> tuple[FloatGraph, onnx.ModelProto]:
    """Load ``path`` and return the float graph and the batch-1 ONNX model (the float reference).

    Raises one :class:`UnsupportedModelError` listing every unsupported node and every
    graph-level reason (several inputs, a non-float input, ...).
    """
    result = analyse(path)
    if result.error is not None:
        raise result.error
    assert result.graph is not None
    return result.graph, result.model


def _static_shape(vi: onnx.ValueInfoProto) -> Shape | None:
    tensor = vi.type.tensor_type
    if not tensor.HasField("shape"):
        return None
    dims = tensor.shape.dim
    if any(not d.HasField("dim_value") or d.dim_value <= 0 for d in dims):
        return None
    return tuple(int(d.dim_value) for d in dims)


class _Importer:
    """One pass over the nodes in topological order (ONNX requires that order)."""

    def __init__(self, model: onnx.ModelProto, main_input: str | None) -> None:
        graph = model.graph
        self.opsets = {imp.domain or "": imp.version for imp in model.opset_import}
        self.consts = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
        self.inferred: dict[str, Shape] = {}
        for vi in [*graph.input, *graph.value_info, *graph.output]:
            shape = _static_shape(vi)
            if shape is not None:
                self.inferred[vi.name] = shape
        self.input = main_input or ""
        self.other_inputs = {vi.name for vi in graph.input} - set(self.consts) - {self.input}
        self.output = graph.output[0].name if graph.output else ""
        self.shapes: dict[str, Shape] = {}
        if main_input is not None and main_input in self.inferred:
            self.shapes[main_input] = self.inferred[main_input]
        self.alias: dict[str, str] = {}
        self.producer: dict[str, Op] = {}
        self.consumer: dict[str, str] = {}
        self.ops: list[Op] = []
        self.broken: set[str] = set()
        self.unsupported: list[UnsupportedNode] = []
        self.problems: list[str] = []
        self.status: list[str] = []
        self.nodes = list(graph.node)
        self.uses = self._count_uses()

    def _count_uses(self) -> Counter[str]:
        alias: dict[str, str] = {}
        uses: Counter[str] = Counter()
        for node in self.nodes:
            if _is_no_op(node) and node.input:
                alias[node.output[0]] = alias.get(node.input[0], node.input[0])
            elif node.op_type != "Shape":
                uses.update(alias.get(name, name) for name in node.input if name)
        uses[alias.get(self.output, self.output)] += 1
        return uses

    def resolve(self, name: str) -> str:
        while name in self.alias:
            name = self.alias[name]
        return name

    def run(self) -> FloatGraph | None:
        """Import every node; the float graph, or None if a node or the graph is unsupported."""
        for index, node in enumerate(self.nodes):
            name = node.name or f"{node.op_type}_{index}"
            try:
                self.status.append(self._node(node, name))
            except _Skip as skip:
                self._reject(node, name, skip.reason)
            except Exception as exc:  # a node this importer does not understand is unsupported
                self._reject(node, name, f"cannot import it ({type(exc).__name__}: {exc})")
        if self.unsupported:
            return None
        return self._finish()

    def _reject(self, node: onnx.NodeProto, name: str, reason: str) -> None:
        self.unsupported.append(UnsupportedNode(name, node.op_type, reason))
        self.broken.update(node.output)
        self.status.append("unsupported")

    def _node(self, node: onnx.NodeProto, name: str) -> str:
        """Import one node and return its status (see ``NODE_STATUSES``)."""
        op = node.op_type
        if node.domain not in ("", "ai.onnx"):
            raise _Skip(f"custom domain '{node.domain}'")
        if not node.output:
            raise _Skip("the node has no output")
        inputs = [self.resolve(i) if i else "" for i in node.input]
        if _is_no_op(node) and inputs and inputs[0] and inputs[0] not in self.consts:
            if len(node.output) > 1 and node.output[1] and self.uses[node.output[1]]:
                raise _Skip("the dropout mask output is used")
            self.alias[node.output[0]] = inputs[0]
            return "removed"
        if self._fold(node, inputs):
            return "folded"
        if op == "Cast":
            raise _Skip("only a Cast to float32 is supported")
        handler = getattr(self, f"_op_{op.lower()}", None) if op in SUPPORTED_OPS else None
        if handler is None:
            raise _Skip()
        if any(i in self.broken for i in inputs):
            self.broken.update(node.output)
            return "after-unsupported"
        return handler(node, name, inputs) or "imported"

    def _fold(self, node: onnx.NodeProto, inputs: list[str]) -> bool:
        """Evaluate a node whose inputs are all known constants; True if folded."""
        if node.op_type == "Shape" and inputs[0] in self._known_shapes():
            shape = np.array(self._known_shapes()[inputs[0]], dtype=np.int64)
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            self.consts[node.output[0]] = shape[attrs.get("start", 0) : attrs.get("end", None)]
            return True
        present = [i for i in inputs if i]
        if node.op_type in _RANDOM_OPS or any(i not in self.consts for i in present):
            return False
        renamed = onnx.NodeProto()
        renamed.CopyFrom(node)
        del renamed.input[:]
        renamed.input.extend(inputs)
        try:
            values = ReferenceEvaluator(renamed, opsets=self.opsets).run(
                None, {i: self.consts[i] for i in present}
            )
        except Exception:
            return False
        self.consts.update(
            {out: np.asarray(v) for out, v in zip(node.output, values, strict=False) if out}
        )
        return True

    def _known_shapes(self) -> dict[str, Shape]:
        return {**self.inferred, **self.shapes}

    def _activation(self, name: str, node_name: str) -> str:
        if name in self.other_inputs:
            raise _Skip(f"it reads a second model input, '{name}'")
        if name == self.input and name not in self.shapes:
            raise _Skip(f"the model input '{name}' has no static shape")
        if name not in self.shapes:
            raise _Skip(f"input '{name}' is neither the model input nor a supported op's output")
        if name in self.consumer:
            raise _Skip(
                f"branching graphs are not supported: '{name}' is already used by "
                f"'{self.consumer[name]}'"
            )
        self.consumer[name] = node_name
        return name

    def _const(self, name: str, what: str) -> np.ndarray:
        if name not in self.consts:
            raise _Skip(f"{what} must be a constant")
        return np.asarray(self.consts[name], dtype=np.float64)

    def _emit(self, op: Op, shape: Shape) -> None:
        self.ops.append(op)
        self.producer[op.output] = op
        self.shapes[op.output] = shape

    def _op_gemm(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if attrs.get("transA", 0):
            raise _Skip("transA=1 is not supported")
        a = self._activation(inputs[0], name)
        b = self._const(inputs[1], "the weight (input B)")
        weight = float(attrs.get("alpha", 1.0)) * (b if attrs.get("transB", 0) else b.T)
        self._dense(name, a, node.output[0], weight)
        if len(inputs) > 2 and inputs[2]:
            c = float(attrs.get("beta", 1.0)) * self._const(inputs[2], "the bias (input C)")
            self._add_bias(self.ops[-1], c)

    def _op_matmul(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        b = self._const(inputs[1], "the second MatMul operand (the weight)")
        if b.ndim != 2:
            raise _Skip(f"weight of rank {b.ndim}; expected a matrix")
        self._dense(name, self._activation(inputs[0], name), node.output[0], b.T)

    def _dense(self, name: str, x: str, out: str, weight: np.ndarray) -> None:
        shape = self.shapes[x]
        if weight.ndim != 2 or shape[-1] != weight.shape[1] or any(d != 1 for d in shape[:-1]):
            raise _Skip(
                f"input shape {list(shape)} does not match weight [out, in] = "
                f"{list(weight.shape)} with batch 1"
            )
        out_shape = (*shape[:-1], int(weight.shape[0]))
        self._emit(Dense(name, x, out, np.ascontiguousarray(weight), None, out_shape), out_shape)

    def _add_bias(self, dense: Op, value: np.ndarray) -> None:
        assert isinstance(dense, Dense)
        try:
            full = np.broadcast_to(value, dense.out_shape)
        except ValueError:
            raise _Skip(
                f"bias of shape {list(value.shape)} does not broadcast to {list(dense.out_shape)}"
            ) from None
        bias = full.reshape(-1).astype(np.float64)
        dense.bias = bias if dense.bias is None else dense.bias + bias

    def _op_add(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        acts = [i for i in inputs if i not in self.consts]
        reason = "only a constant bias added right after Gemm/MatMul is supported"
        if len(acts) != 1 or len(inputs) != 2:
            raise _Skip(reason)
        x = acts[0]
        dense = self.producer.get(x)
        if not isinstance(dense, Dense) or self.uses[x] != 1 or x == self.resolve(self.output):
            raise _Skip(reason)
        const = inputs[1] if inputs[0] == x else inputs[0]
        value = self._const(const, "the bias")
        if np.broadcast_shapes(value.shape, dense.out_shape) != dense.out_shape:
            raise _Skip(f"bias of shape {list(value.shape)} changes the output shape")
        self._add_bias(dense, value)
        self.producer.pop(dense.output)
        self.shapes.pop(dense.output)
        dense.output = node.output[0]
        self.producer[dense.output] = dense
        self.shapes[dense.output] = dense.out_shape

    def _op_relu(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> str | None:
        x = inputs[0]
        prev = self.producer.get(x)
        out = node.output[0]
        if isinstance(prev, Relu):  # relu(relu(x)) == relu(x)
            self._activation(x, name)
            self.alias[out] = x
            return "removed"
        if isinstance(prev, Reshape) and isinstance(self.producer.get(prev.input), Dense):
            # relu commutes with reshape; the integer IR wants relu right after requant.
            self._activation(x, name)
            pre = f"{out}:pre_reshape"
            relu = Relu(name, prev.input, pre)
            self.ops.insert(self.ops.index(prev), relu)
            self.producer[pre] = relu
            self.shapes[pre] = self.shapes[prev.input]
            self.consumer[pre] = prev.name
            self.producer.pop(prev.output)
            shape = self.shapes.pop(prev.output)
            prev.input, prev.output = pre, out
            self.producer[out] = prev
            self.shapes[out] = shape
            return None
        if not isinstance(prev, Dense):
            raise _Skip("Relu must follow a Gemm/MatMul")
        self._emit(Relu(name, self._activation(x, name), out), self.shapes[x])
        return None

    def _op_reshape(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        x = self._activation(inputs[0], name)
        target = [int(v) for v in self._const(inputs[1], "the target shape").reshape(-1)]
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        shape = self.shapes[x]
        if not attrs.get("allowzero", 0):
            target = [shape[i] if v == 0 else v for i, v in enumerate(target)]
        size = int(np.prod(shape))
        if target.count(-1) == 1:
            known = int(np.prod([v for v in target if v != -1]))
            target = [size // known if v == -1 and known else v for v in target]
        if int(np.prod(target)) != size or any(v <= 0 for v in target):
            raise _Skip(f"cannot reshape {list(shape)} to {target}")
        self._emit(Reshape(name, x, node.output[0], tuple(target)), tuple(target))

    def _op_flatten(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        x = self._activation(inputs[0], name)
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        shape = self.shapes[x]
        axis = int(attrs.get("axis", 1))
        axis = axis + len(shape) if axis < 0 else axis
        target = (int(np.prod(shape[:axis])), int(np.prod(shape[axis:])))
        self._emit(Reshape(name, x, node.output[0], target), target)

    def _finish(self) -> FloatGraph | None:
        """Check that the imported ops form one chain from input to output."""
        output = self.resolve(self.output)
        if not any(isinstance(op, Dense) for op in self.ops):
            self.problems.append("the model has no Gemm/MatMul layer to prove")
            return None
        if output not in self.producer:
            self.problems.append(
                f"the model output '{self.output}' is not computed by supported ops"
            )
            return None
        expected = self.input
        for op in self.ops:
            if op.input != expected:
                self.problems.append(f"node '{op.name}' is not on the path from input to output")
                return None
            expected = op.output
        if expected != output:
            self.problems.append(
                f"the model output '{self.output}' is not the last computed tensor"
            )
            return None
        return FloatGraph(
            input=self.input,
            input_shape=self.shapes[self.input],
            output=output,
            output_shape=self.shapes[output],
            ops=self.ops,
            onnx_input=self.input,
            onnx_output=self.output,
        )

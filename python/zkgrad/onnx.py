"""ONNX import: file -> cleaned float graph of supported ops.

Steps: load and check the file, fix the batch dimension to 1, infer shapes,
drop Identity/Dropout, fold every node whose inputs are constant (including
``Shape`` of a tensor whose shape is static), then turn the remaining nodes
into :mod:`zkgrad.graph` ops: a BatchNormalization is folded into the Conv or
Gemm/MatMul before it, a constant Add into that layer's bias, an Add or Sub of two
activations becomes a skip connection (the graph is then a DAG: a tensor may be
read by several nodes), Squeeze/Unsqueeze become reshapes (pure wiring), and a Relu
moves before any Reshape/MaxPool between it and its layer (they commute), since the
integer IR wants a ReLU right after a requantisation. Every unsupported node
is collected and reported in one :class:`~zkgrad.errors.UnsupportedModelError`.

Example::

    graph, model = zkgrad.onnx.import_onnx("mlp.onnx")
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from zkgrad import (
    onnx_1d,
    onnx_compare,
    onnx_compose,
    onnx_integers,
    onnx_outputs,
    onnx_recurrent,
    onnx_several,
    onnx_topk,
    onnx_unary,
)
from zkgrad.errors import UnsupportedModelError, UnsupportedNode
from zkgrad.folding import fold_batchnorm
from zkgrad.graph import (
    REQUANT_OPS,
    Add,
    AvgPool,
    Conv,
    Copy,
    Dense,
    FloatGraph,
    MaxPool,
    Mul,
    Op,
    Relu,
    Reshape,
    Shape,
    reads,
)
from zkgrad.narrow_reads import spread_narrow_reads
from zkgrad.onnx_cnn import (
    check_conv_attributes,
    check_pool_attributes,
    conv_geometry,
    pool_geometry,
)
from zkgrad.onnx_compose import MAX_LINEAR_MAP
from zkgrad.onnx_input_type import is_declared_type_cast, is_proved_type_cast
from zkgrad.onnx_inputs import rebuilt_input
from zkgrad.onnx_load import load, prepare
from zkgrad.onnx_matmul import lower_product
from zkgrad.onnx_norm import lower_normalization
from zkgrad.onnx_ops import (  # noqa: F401 (SUPPORTED_OPS is part of this module's API)
    _LINEAR_MAP_OPS,
    _PASS_THROUGH,
    _PERMUTATIONS,
    _RANDOM_OPS,
    MAX_DIAGONAL,
    SUPPORTED_OPS,
)
from zkgrad.onnx_softmax import lower_softmax

#: The most weights of a dense layer that applies one weight to every row of its input.
MAX_ROW_WISE = 1 << 22


def _is_no_op(node: onnx.NodeProto) -> bool:
    """Identity, Dropout (inference) and Cast to float32 leave a float32 activation unchanged."""
    if node.op_type in _PASS_THROUGH:
        return True
    if node.op_type == "Cast":
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        return attrs.get("to") == onnx.TensorProto.FLOAT or is_declared_type_cast(node)
    return False


def _attrs(node: onnx.NodeProto) -> dict[str, object]:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


class _Skip(Exception):
    """A node cannot be imported; ``reason`` says why."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


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
    # A node that rebuilds one of several inputs is zkgrad's, not the model's: name the input.
    for node in [n for n in importer.unsupported if rebuilt_input(n.name) is not None]:
        importer.unsupported.remove(node)
        problems.append(
            f"input '{rebuilt_input(node.name)}' cannot be taken apart from the model's other "
            f"inputs ({node.op_type} of their concatenation: {node.reason})"
        )
    error = None
    if importer.unsupported or problems:
        error = UnsupportedModelError(importer.unsupported, problems)
        graph = None
    if graph is not None:
        spread_narrow_reads(graph)
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
        #: ONNX element types where shape inference found them (integer arithmetic is checked).
        self.elem_types = {
            vi.name: vi.type.tensor_type.elem_type
            for vi in [*graph.input, *graph.value_info, *graph.output]
        }
        for vi in [*graph.input, *graph.value_info, *graph.output]:
            shape = _static_shape(vi)
            if shape is not None:
                self.inferred[vi.name] = shape
        self.input = main_input or ""
        self.other_inputs = {vi.name for vi in graph.input} - set(self.consts) - {self.input}
        #: The graph outputs in ONNX order; ``output`` is the first (the only one of most models).
        self.outputs = [vi.name for vi in graph.output]
        self.output = self.outputs[0] if self.outputs else ""
        self.shapes: dict[str, Shape] = {}
        if main_input is not None and main_input in self.inferred:
            self.shapes[main_input] = self.inferred[main_input]
        self.alias: dict[str, str] = {}
        self.producer: dict[str, Op] = {}
        #: ArgMax outputs → (their one-hot [1, rows, K], rows, K), for a Gather by the index.
        self.one_hots: dict[str, tuple[str, int, int]] = {}
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
            # A Cast is counted as its input read where its output is read (most are removed;
            # a Cast to BOOL that becomes a comparison is then counted conservatively).
            if (_is_no_op(node) or node.op_type == "Cast") and node.input:
                alias[node.output[0]] = alias.get(node.input[0], node.input[0])
            elif node.op_type != "Shape":
                uses.update(alias.get(name, name) for name in node.input if name)
        uses.update(alias.get(out, out) for out in self.outputs)
        return uses

    def _is_output(self, x: str) -> bool:
        return any(x == self.resolve(out) for out in self.outputs)

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
        if is_proved_type_cast(node):
            x = self._activation(inputs[0], name)
            try:
                onnx_integers.declared_type(self, node, name, x)
            except ValueError as exc:
                raise _Skip(str(exc)) from None
            return "imported"
        if op == "Cast":
            if inputs[0] in self.broken:
                self.broken.update(node.output)
                return "after-unsupported"
            emitted = len(self.ops)
            try:
                onnx_integers.cast(self, node, name, self._activation(inputs[0], name))
            except ValueError as exc:
                raise _Skip(str(exc)) from None
            return "removed" if len(self.ops) == emitted else "imported"
        handler = getattr(self, f"_op_{op.lower()}", None) if op in SUPPORTED_OPS else None
        if handler is None:
            raise _Skip()
        one_d = onnx_1d.is_one_d(self, node, inputs)
        if one_d and not any(i in self.broken for i in inputs):
            original, (node, inputs) = node, onnx_1d.as_two_d(self, node, name, inputs)
            self._check_alone(node, inputs)
            status = handler(node, name, inputs) or "imported"
            onnx_1d.finish(self, original, name)
            return status
        self._check_alone(node, inputs)
        if any(i in self.broken for i in inputs):
            self.broken.update(node.output)
            return "after-unsupported"
        status = handler(node, name, inputs) or "imported"
        self._check_integer_outputs(node)
        return status

    def _check_integer_outputs(self, node: onnx.NodeProto) -> None:
        """An output ONNX types as an integer must fit its type: ONNX wraps a value around
        (an int8 sum past 127), the proof carries the value itself."""
        for out in node.output:
            elem = self.elem_types.get(out)
            tensor = self.resolve(out)
            if elem in onnx_integers.INTEGER_RANGES and tensor in self.shapes:
                try:
                    onnx_integers.check_fits(self, tensor, elem)
                except ValueError as exc:
                    raise _Skip(str(exc)) from None

    def _check_alone(self, node: onnx.NodeProto, inputs: list[str]) -> None:
        """Refuse what rules a supported op type out whatever its input: an attribute, an
        operand that must be a constant, an output that must be unused.

        These checks run before the node's input is looked at, so a node behind an unsupported
        one is listed with its own reason too (its place in the chain is judged only once
        every node before it imports).
        """
        op = node.op_type
        attrs = _attrs(node)
        try:
            if op == "Gemm":
                if attrs.get("transA", 0):
                    raise _Skip("transA=1 is not supported")
                self._const(inputs[1], "the weight (input B)")
            elif op == "MatMul" and inputs[1] in self.consts:
                b = self._const(inputs[1], "the second MatMul operand (the weight)")
                if b.ndim != 2:
                    raise _Skip(f"weight of rank {b.ndim}; expected a matrix")
            elif op == "Conv":
                check_conv_attributes(attrs, self._const(inputs[1], "the convolution weight").shape)
            elif op in ("MaxPool", "AveragePool"):
                check_pool_attributes(op, attrs)
                if op == "MaxPool" and len(node.output) > 1 and self.uses[node.output[1]]:
                    raise _Skip("its Indices output is used")
            elif op == "BatchNormalization":
                if attrs.get("training_mode", 0):
                    raise _Skip("training_mode=1 is not supported; export the model in eval mode")
                if any(out and self.uses[out] for out in node.output[1:]):
                    raise _Skip("its running mean/variance outputs are used")
            elif op == "Reshape":
                self._const(inputs[1], "the target shape")
        except ValueError as exc:
            raise _Skip(str(exc)) from None

    def _fold(self, node: onnx.NodeProto, inputs: list[str]) -> bool:
        """Evaluate a node whose inputs are all known constants; True if folded."""
        if node.op_type == "Shape" and inputs[0] in self._known_shapes():
            shape = np.array(self._known_shapes()[inputs[0]], dtype=np.int64)
            attrs = _attrs(node)
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
            values = self._evaluator(renamed).run(None, {i: self.consts[i] for i in present})
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
            # Several inputs are merged into one unless one of them is refused (onnx_load).
            raise _Skip(f"it reads model input '{name}', one of several not imported (see above)")
        if name == self.input and name not in self.shapes:
            raise _Skip(f"the model input '{name}' has no static shape")
        if name not in self.shapes:
            raise _Skip(f"input '{name}' is neither the model input nor a supported op's output")
        # A tensor may have several readers (a skip connection); `_finish` checks the shape of
        # the whole graph once every node imports.
        self.consumer.setdefault(name, node_name)
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
        attrs = _attrs(node)
        a = self._activation(inputs[0], name)
        b = self._const(inputs[1], "the weight (input B)")
        weight = float(attrs.get("alpha", 1.0)) * (b if attrs.get("transB", 0) else b.T)
        self._dense(name, a, node.output[0], weight)
        if len(inputs) > 2 and inputs[2]:
            c = float(attrs.get("beta", 1.0)) * self._const(inputs[2], "the bias (input C)")
            self._add_bias(self.ops[-1], c)

    def _op_matmul(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        if inputs[0] not in self.consts and inputs[1] not in self.consts:
            try:
                lower_product(self, node, name, inputs)
            except ValueError as exc:
                raise _Skip(str(exc)) from None
            return
        b = self._const(inputs[1], "the second MatMul operand (the weight)")
        self._dense(name, self._activation(inputs[0], name), node.output[0], b.T)

    def _dense(self, name: str, x: str, out: str, weight: np.ndarray) -> None:
        shape = self.shapes[x]
        if weight.ndim != 2 or shape[-1] != weight.shape[1]:
            raise _Skip(
                f"input shape {list(shape)} does not match weight [out, in] = {list(weight.shape)}"
            )
        rows = int(np.prod(shape[:-1]))
        if rows > 1:
            # The same weight on every row (a transformer's per-token projection): one dense
            # layer of the block-diagonal weight, committed as it is.
            size = rows * rows * weight.size
            if size > MAX_ROW_WISE:
                raise _Skip(
                    f"{rows} rows of input {list(shape)} times a {list(weight.shape[::-1])} "
                    f"weight would be one dense layer of {size} weights (more than "
                    f"{MAX_ROW_WISE})"
                )
            weight = np.kron(np.eye(rows), weight)
        out_shape = (*shape[:-1], int(weight.shape[0]) // rows)
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
        reason = "only a constant bias added right after Gemm/MatMul/Conv is supported"
        if len(acts) == 2 and len(inputs) == 2:
            self._skip_connection(node, name, inputs, 1)
            return
        if len(acts) != 1 or len(inputs) != 2:
            raise _Skip(reason)
        x = acts[0]
        if not self._foldable(x, (Dense, Conv)):
            const = inputs[1] if inputs[0] == x else inputs[0]
            self._affine(name, x, node.output[0], None, self._const(const, "the addend"))
            return
        x = acts[0]
        layer = self._sole_producer(x, (Dense, Conv), reason)
        const = inputs[1] if inputs[0] == x else inputs[0]
        value = self._const(const, "the bias")
        try:
            grown = np.broadcast_shapes(value.shape, layer.out_shape) != layer.out_shape
        except ValueError:
            grown = True
        if grown:
            raise _Skip(f"bias of shape {list(value.shape)} changes the output shape")
        if isinstance(layer, Dense):
            self._add_bias(layer, value)
        else:
            full = np.broadcast_to(value, layer.out_shape)
            per_channel = full[0, :, 0, 0]
            expanded = np.broadcast_to(per_channel[None, :, None, None], full.shape)
            if not np.array_equal(full, expanded):
                raise _Skip("only a per-channel bias can be added to a Conv")
            layer.bias = per_channel if layer.bias is None else layer.bias + per_channel
        self._rename_output(layer, node.output[0])

    def _op_sub(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        a, b = inputs[:2]
        if a in self.consts:  # c − x
            self._affine(name, b, node.output[0], np.array(-1.0), self._const(a, "the minuend"))
        elif b in self.consts:  # x − c
            self._affine(name, a, node.output[0], None, -self._const(b, "the subtrahend"))
        else:
            self._skip_connection(node, name, inputs, -1)

    def _op_mul(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        a, b = inputs[:2]
        if a not in self.consts and b not in self.consts:
            self._skip_connection(node, name, inputs, 0)
            return
        x, c = (b, a) if a in self.consts else (a, b)
        factor = self._const(c, "the factor")
        layer = self.producer.get(x)
        if self._foldable(x, (Dense, Conv)) and onnx_compose.fold_scale(layer, factor):
            self._rename_output(layer, node.output[0])
            return
        self._affine(name, x, node.output[0], factor, None)

    def _op_div(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        a, b = inputs[:2]
        if self.elem_types.get(node.output[0]) in onnx_integers.INTEGER_RANGES:
            raise _Skip("integer division (rounding toward zero) is not supported")
        if b in self.consts:
            divisor = self._const(b, "the divisor")
            if np.any(divisor == 0):
                raise _Skip("division by a constant that has a zero")
            self._affine(name, a, node.output[0], 1.0 / divisor, None)
            return
        # a / b = a · (1/b): a table lookup of the reciprocal (over b's calibrated range, which
        # must not reach 0), then a product with a constant or with the activation a.
        b = self._activation(b, name)
        r = f"{node.output[0]}:reciprocal"
        recip = helper.make_node("Reciprocal", [b], [r], name=f"{name}:reciprocal")
        self._op_unary(recip, f"{name}:reciprocal", [b])
        if a in self.consts:
            self._affine(name, r, node.output[0], self._const(a, "the dividend"), None)
            return
        product = helper.make_node("Mul", [r, a], [node.output[0]], name=name)
        self._skip_connection(product, name, [r, a], 0)

    def _op_max(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        self._elementwise_extreme(node, name, inputs, minimum=False)

    def _op_min(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        self._elementwise_extreme(node, name, inputs, minimum=True)

    def _elementwise_extreme(
        self, node: onnx.NodeProto, name: str, inputs: list[str], minimum: bool
    ) -> None:
        try:
            onnx_compose.elementwise_extreme(self, node, name, inputs, minimum)
        except ValueError as exc:
            raise _Skip(str(exc)) from None

    def _op_neg(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        self._affine(name, inputs[0], node.output[0], np.array(-1.0), None)

    def _evaluator(self, node: onnx.NodeProto) -> ReferenceEvaluator:
        """onnx's reference runtime for one node under the model's opsets. A bare NodeProto
        would run under the newest opset (an opset-10 Pad with a ``pads`` attribute fails as
        Pad-18), so the node is wrapped in a one-node model that states them."""
        untyped = onnx.TypeProto()
        graph = onnx.helper.make_graph(
            [node],
            "node",
            [onnx.helper.make_value_info(i, untyped) for i in dict.fromkeys(node.input) if i],
            [onnx.helper.make_value_info(o, untyped) for o in node.output if o],
        )
        opsets = [onnx.helper.make_opsetid(domain, v) for domain, v in self.opsets.items()]
        model = onnx.helper.make_model(graph, opset_imports=opsets)
        return ReferenceEvaluator(model)

    def _linear_map(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        """A node linear in its one activation x: y = M·x + b with M, b found by running it."""
        if node.op_type == "Gather" and inputs[0] in self.consts and inputs[1] not in self.consts:
            try:  # not linear in its index: a list picked from by a comparison, or by an index
                if onnx_compare.gather_by_boolean(self, node, name, inputs):
                    return
                onnx_integers.gather(self, node, name, inputs)
            except ValueError as exc:
                raise _Skip(str(exc)) from None
            return
        if node.op_type == "GatherElements" and inputs[1] not in self.consts:
            try:
                onnx_integers.gather_elements(self, node, name, inputs)
            except ValueError as exc:
                raise _Skip(str(exc)) from None
            return
        acts = {i for i in inputs if i and i not in self.consts}
        if len(acts) > 1 and node.op_type == "Concat":
            try:
                onnx_several.concat_activations(self, node, name, inputs)
            except ValueError as exc:
                raise _Skip(str(exc)) from None
            return
        if len(acts) != 1:
            raise _Skip("it must read exactly one activation (the other operands constant)")
        x = self._activation(acts.pop(), name)
        shape = self.shapes[x]
        n = int(np.prod(shape))
        renamed = onnx.NodeProto()
        renamed.CopyFrom(node)
        del renamed.input[:]
        renamed.input.extend(inputs)
        del renamed.output[1:]
        evaluator = self._evaluator(renamed)
        feeds = {i: self.consts[i] for i in inputs if i and i in self.consts}

        def run(v: np.ndarray) -> np.ndarray:
            values = evaluator.run(None, {**feeds, x: v.reshape(shape).astype(np.float32)})
            return np.asarray(values[0], dtype=np.float64)

        base = run(np.zeros(n))
        m = base.size
        if m == 0:
            raise _Skip(f"its output {list(base.shape)} is empty")
        if n * m > MAX_LINEAR_MAP and node.op_type in _PERMUTATIONS and m == n:
            # Too large a wiring layer: where the permutation folds into the layer before x.
            source = np.rint(run(np.arange(n, dtype=np.float64))).astype(np.int64).reshape(-1)
            out_shape = tuple(int(d) for d in base.shape)
            if onnx_compose.permute_into_layer(self, x, source, node.output[0], out_shape):
                return
        # A reduction is a dense layer of one row per kept value (a layer norm's mean over each
        # of a sequence's tokens): allowed as large as a layer applied to every row.
        # So is the slice that takes one of several inputs apart from their concatenation.
        row_wise = node.op_type in ("ReduceSum", "ReduceMean") or rebuilt_input(name) is not None
        limit = MAX_ROW_WISE if row_wise else MAX_LINEAR_MAP
        if n * m > limit:
            raise _Skip(
                f"as a constant dense layer it would have {n}·{m} weights (more than "
                f"{limit}); not supported yet"
            )
        matrix = np.stack([run(e).reshape(-1) - base.reshape(-1) for e in np.eye(n)], axis=1)
        probe = np.random.default_rng(0).standard_normal(n)
        if not np.allclose(run(probe).reshape(-1), matrix @ probe + base.reshape(-1), atol=1e-4):
            raise _Skip("it is not a linear map of its input with these operands")
        out_shape = tuple(int(d) for d in base.shape)
        out = node.output[0]
        source = x
        if len(shape) != 2 or shape[0] != 1:
            source = f"{out}:flat_in"
            self._emit(Reshape(f"{name}:flatten", x, source, (1, n)), (1, n))
        flat_out = (1, m)
        dense_out = out if out_shape == flat_out else f"{out}:flat"
        bias = base.reshape(-1) if np.any(base) else None
        self._emit(Dense(name, source, dense_out, matrix, bias, flat_out), flat_out)
        if dense_out != out:
            self._emit(Reshape(f"{name}:reshape", dense_out, out, out_shape), out_shape)

    def _op_split(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        try:
            onnx_several.split(self, node, name, inputs)
        except ValueError as exc:
            raise _Skip(str(exc)) from None

    # Every op of _LINEAR_MAP_OPS is one linear map (a test keeps the two lists equal).
    _op_slice = _op_gather = _op_transpose = _op_pad = _op_concat = _linear_map
    _op_reducesum = _op_reducemean = _op_expand = _op_tile = _linear_map
    _op_depthtospace = _op_spacetodepth = _op_gatherelements = _linear_map
    _op_resize = _op_upsample = _op_convtranspose = _linear_map

    def _foldable(self, x: str, kinds: tuple[type, ...]) -> bool:
        """Whether ``x`` is the output of a layer of type ``kinds`` read only by this node."""
        layer = self.producer.get(x)
        return isinstance(layer, kinds) and self.uses[x] == 1 and not self._is_output(x)

    def _affine(
        self, name: str, x: str, out: str, scale: np.ndarray | None, shift: np.ndarray | None
    ) -> None:
        """y = scale·x + shift, constants broadcast to x's shape, as a diagonal layer of its
        own: a 1×1 convolution (per-channel constants on an image) or a dense layer."""
        x = self._activation(x, name)
        shape = self.shapes[x]
        parts = []
        for value, default in ((scale, 1.0), (shift, 0.0)):
            c = np.asarray(default if value is None else value, dtype=np.float64)
            try:
                grown = np.broadcast_shapes(c.shape, shape) != tuple(shape)
            except ValueError:
                grown = True
            if grown:
                raise _Skip(
                    f"constant of shape {list(c.shape)} does not broadcast to {list(shape)}"
                )
            parts.append(np.broadcast_to(c, shape))
        s, k = parts
        if len(shape) == 4 and shape[0] == 1 and shape[1] > 1:  # (one channel: no 1×1 conv)
            per_channel = [p[0, :, 0, 0] for p in (s, k)]
            if all(
                np.array_equal(p, np.broadcast_to(c[None, :, None, None], shape))
                for p, c in zip((s, k), per_channel, strict=True)
            ):
                weight = np.zeros((shape[1], shape[1], 1, 1))
                weight[np.arange(shape[1]), np.arange(shape[1]), 0, 0] = per_channel[0]
                op = Conv(name, x, out, weight, per_channel[1], (1, 1), (0, 0, 0, 0), shape, shape)
                self._emit(op, shape)
                return
        n = int(np.prod(shape))
        if n > MAX_DIAGONAL:
            try:
                onnx_several.constant_operands(self, name, x, out, s, k)
            except ValueError as exc:
                raise _Skip(str(exc)) from None
            return
        flat = (1, n)
        source = x
        if tuple(shape) != flat:
            source = f"{out}:flat_in"
            self._emit(Reshape(f"{name}:flatten", x, source, flat), flat)
        dense_out = out if tuple(shape) == flat else f"{out}:flat"
        weight = np.diag(s.reshape(-1))
        self._emit(Dense(name, source, dense_out, weight, k.reshape(-1).copy(), flat), flat)
        if dense_out != out:
            self._emit(Reshape(f"{name}:reshape", dense_out, out, tuple(shape)), tuple(shape))

    def constant_activation(self, name: str, reader: str, value: np.ndarray) -> str:
        """A constant as an activation (:func:`zkgrad.onnx_several.constant_activation`)."""
        return onnx_several.constant_activation(self, name, reader, value)

    def _skip_connection(
        self, node: onnx.NodeProto, name: str, inputs: list[str], sign: int
    ) -> None:
        """y = a + sign·b (sign 0: y = a·b) of two activations computed anywhere before; the
        smaller may broadcast to the other's shape."""
        a, b = (self._activation(i, name) for i in inputs)
        if self.shapes[a] != self.shapes[b]:
            a, b, sign = self._broadcast_smaller(name, a, b, sign)
        if sign == 0:
            self._emit(Mul(name, a, b, node.output[0], self.shapes[a]), self.shapes[a])
        else:
            self._emit(Add(name, a, b, node.output[0], sign, self.shapes[a]), self.shapes[a])

    def _broadcast_smaller(self, name: str, a: str, b: str, sign: int) -> tuple[str, str, int]:
        try:
            return onnx_compose.broadcast_smaller(self, name, a, b, sign)
        except ValueError as exc:
            raise _Skip(str(exc)) from None

    def _reshaped(self, name: str, x: str, shape: tuple[int, ...]) -> str:
        """``x`` as ``shape`` (a reshape op when its shape differs)."""
        if tuple(self.shapes[x]) == shape:
            return x
        out = f"{x}:as{'x'.join(map(str, shape))}"
        if out not in self.producer:  # a second reader of the same reshape shares it
            self._emit(Reshape(name, x, out, shape), shape)
        return out

    def _op_layernormalization(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        x = self._activation(inputs[0], name)
        shape = self.shapes[x]
        attrs = _attrs(node)
        axis = int(attrs.get("axis", -1))  # type: ignore[call-overload]
        first = axis + len(shape) if axis < 0 else axis
        gamma = self._const(inputs[1], "the scale")
        beta = self._const(inputs[2], "the bias") if len(inputs) > 2 and inputs[2] else None
        if any(len(o) and self.uses[o] for o in node.output[1:]):
            raise _Skip("its mean or inverse standard deviation output is used")
        eps = float(attrs.get("epsilon", 1e-5))  # type: ignore[arg-type]
        self._normalize(name, x, node.output[0], first, gamma, beta, eps)

    def _op_instancenormalization(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        x = self._activation(inputs[0], name)
        shape = self.shapes[x]
        if len(shape) < 3:
            raise _Skip(f"input of shape {list(shape)}: expected [N, C, ...]")
        per_channel = (shape[1],) + (1,) * (len(shape) - 2)
        gamma = self._const(inputs[1], "the scale").reshape(per_channel)
        beta = self._const(inputs[2], "the bias").reshape(per_channel)
        eps = float(_attrs(node).get("epsilon", 1e-5))  # type: ignore[arg-type]
        self._normalize(name, x, node.output[0], 2, gamma, beta, eps)

    def _normalize(
        self,
        name: str,
        x: str,
        out: str,
        first: int,
        gamma: np.ndarray,
        beta: np.ndarray | None,
        eps: float,
    ) -> None:
        try:
            lower_normalization(self, name, x, out, first, gamma, beta, eps)
        except ValueError as exc:
            raise _Skip(str(exc)) from None

    def _op_squeeze(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        self._relabel(node, name, inputs, squeeze=True)

    def _op_unsqueeze(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        self._relabel(node, name, inputs, squeeze=False)

    def _relabel(
        self, node: onnx.NodeProto, name: str, inputs: list[str], *, squeeze: bool
    ) -> None:
        """Squeeze/Unsqueeze: a new shape for the same data order, i.e. a reshape."""
        x = self._activation(inputs[0], name)
        shape = list(self.shapes[x])
        if len(inputs) > 1 and inputs[1]:
            axes = [int(v) for v in self._const(inputs[1], "the axes").reshape(-1)]
        else:
            attr = _attrs(node).get("axes")
            axes = [int(v) for v in attr] if isinstance(attr, (list, tuple)) else []
        if squeeze:
            rank = len(shape)
            drop = {a + rank if a < 0 else a for a in axes} or {
                i for i, d in enumerate(shape) if d == 1
            }
            if any(not 0 <= a < rank or shape[a] != 1 for a in drop):
                raise _Skip(f"cannot squeeze axes {axes} of shape {shape}")
            target = [d for i, d in enumerate(shape) if i not in drop]
        else:
            rank = len(shape) + len(axes)
            where = sorted(a + rank if a < 0 else a for a in axes)
            if any(not 0 <= a < rank for a in where) or len(set(where)) != len(where):
                raise _Skip(f"cannot unsqueeze shape {shape} at axes {axes}")
            target = shape
            for a in where:
                target = [*target[:a], 1, *target[a:]]
        self._emit(Reshape(name, x, node.output[0], tuple(target)), tuple(target))

    def _sole_producer(self, x: str, kinds: tuple[type, ...], reason: str) -> Dense | Conv:
        """The layer of type ``kinds`` whose output ``x`` is read only by the current node."""
        layer = self.producer.get(x)
        if not isinstance(layer, kinds) or self.uses[x] != 1 or self._is_output(x):
            raise _Skip(reason)
        assert isinstance(layer, (Dense, Conv))
        return layer

    def _rename_output(self, op: Op, new: str) -> None:
        """Make ``op`` write ``new`` (a node folded into it wrote that tensor)."""
        self.producer.pop(op.output)
        shape = self.shapes.pop(op.output)
        if op.output in self.consumer:
            self.consumer[new] = self.consumer.pop(op.output)
        op.output = new
        self.producer[new] = op
        self.shapes[new] = shape

    def _op_batchnormalization(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        attrs = _attrs(node)
        if not self._foldable(inputs[0], (Dense, Conv)):
            # On its own: a per-channel scale and shift (channels on axis 1).
            what = ("scale", "bias B", "mean", "variance")
            gamma, beta, mean, var = (
                self._const(i, f"the {w}").reshape(-1)
                for i, w in zip(inputs[1:5], what, strict=True)
            )
            scale = gamma / np.sqrt(var + float(attrs.get("epsilon", 1e-5)))
            rank = len(self.shapes.get(inputs[0], ()))
            per_channel = (1, -1, *([1] * max(rank - 2, 0)))
            shift = (beta - mean * scale).reshape(per_channel)
            self._affine(name, inputs[0], node.output[0], scale.reshape(per_channel), shift)
            return
        layer = self._sole_producer(
            inputs[0],
            (Dense, Conv),
            "BatchNormalization is folded into a Conv or Gemm/MatMul(+Add) right before it, "
            f"and '{inputs[0]}' is not the output of one (used only here)",
        )
        what = ("scale", "bias B", "mean", "variance")
        gamma, beta, mean, var = (
            self._const(i, f"the {w}") for i, w in zip(inputs[1:5], what, strict=True)
        )
        channels = layer.out_shape[1] if len(layer.out_shape) > 1 else -1
        if channels != layer.weight.shape[0]:
            raise _Skip(f"cannot fold over the channels of shape {list(layer.out_shape)}")
        bias = layer.bias
        if isinstance(layer, Dense) and bias is not None:
            bias = bias.reshape(layer.weight.shape[0], -1)[:, 0]
        try:
            weight, bias = fold_batchnorm(
                layer.weight, bias, gamma, beta, mean, var, float(attrs.get("epsilon", 1e-5))
            )
        except ValueError as exc:
            raise _Skip(str(exc)) from None
        layer.weight, layer.bias = weight, bias
        self._rename_output(layer, node.output[0])

    def _op_conv(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        x = self._activation(inputs[0], name)
        weight = self._const(inputs[1], "the convolution weight")
        bias = None
        if len(inputs) > 2 and inputs[2]:
            bias = self._const(inputs[2], "the convolution bias").reshape(-1)
            if bias.size != weight.shape[0]:
                raise _Skip(f"bias of {bias.size} values for {weight.shape[0]} output channels")
        try:
            strides, pads, out_shape = conv_geometry(_attrs(node), self.shapes[x], weight.shape)
        except ValueError as exc:
            raise _Skip(str(exc)) from None
        if weight.shape[0] == 1:
            op = Conv(
                name, x, node.output[0], weight, bias, strides, pads, self.shapes[x], out_shape
            )
            self._single_channel_conv(op)
            return
        op = Conv(name, x, node.output[0], weight, bias, strides, pads, self.shapes[x], out_shape)
        self._emit(op, out_shape)

    def _single_channel_conv(self, conv: Conv) -> None:
        try:
            onnx_compose.single_channel_conv(self, conv)
        except ValueError as exc:
            raise _Skip(str(exc)) from None

    def _op_maxpool(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        kernel, strides, pads, out_shape = self._pool(node, name, inputs)
        x = inputs[0]
        if any(pads):
            x = self._edge_padded(name, x, pads)
        op = MaxPool(name, x, node.output[0], kernel, strides, self.shapes[x], out_shape)
        self._emit(op, out_shape)

    def _edge_padded(self, name: str, x: str, pads: tuple[int, int, int, int]) -> str:
        try:
            return onnx_compose.edge_padded(self, name, x, pads)
        except ValueError as exc:
            raise _Skip(str(exc)) from None

    def _op_reducemax(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        self._reduce_extreme(node, name, inputs, negate=False)

    def _op_reducemin(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        # min(x) = −max(−x): the negations are diagonal layers, the max a pooling block.
        self._reduce_extreme(node, name, inputs, negate=True)

    def _reduce_extreme(
        self, node: onnx.NodeProto, name: str, inputs: list[str], negate: bool
    ) -> None:
        """ReduceMax/ReduceMin over trailing axes: one max-pooling window per kept position,
        over a reshape to [1, kept, 1, reduced]."""
        x = self._activation(inputs[0], name)
        shape = self.shapes[x]
        attrs = _attrs(node)
        if len(inputs) > 1 and inputs[1]:
            axes = [int(a) for a in self._const(inputs[1], "the axes").reshape(-1)]
        else:
            axes = [int(a) for a in attrs.get("axes", [])]
        if not axes and attrs.get("noop_with_empty_axes", 0):
            self.alias[node.output[0]] = x
            return
        rank = len(shape)
        reduced = sorted({a + rank if a < 0 else a for a in (axes or range(rank))})
        if any(not 0 <= a < rank for a in reduced):
            raise _Skip(f"axes {axes} out of range for rank {rank}")
        inner = [a for a in reduced if a > 0]  # the batch axis (size 1) reduces to itself
        first = inner[0] if inner else rank
        if inner != list(range(first, rank)):
            raise _Skip(f"reducing axes {axes} of {list(shape)}: only trailing axes for now")
        kept, count = int(np.prod(shape[1:first])), int(np.prod(shape[first:]))
        if attrs.get("keepdims", 1):
            out_shape = tuple(1 if a in reduced else d for a, d in enumerate(shape))
        else:
            out_shape = tuple(d for a, d in enumerate(shape) if a not in reduced)
        out = node.output[0]
        source = x
        if negate:
            source = f"{out}:negated_in"
            self._affine(f"{name}:negate_in", x, source, np.array(-1.0), None)
        rows = kept
        if kept == 1:
            # A pooling block needs two output values to mask: a constant convolution makes
            # copies of the values as channels (kernel [1, 0]: a patch of one value cannot be
            # masked either), enough for at least 8 values (the narrowest column), then a dense
            # layer keeps the first maximum.
            rows = max(2, -(-8 // count))
            flat = f"{out}:flat"
            self._emit(Reshape(f"{name}:flat", source, flat, (1, 1, 1, count)), (1, 1, 1, count))
            source = f"{out}:copies"
            kernel = np.zeros((rows, 1, 1, 2))
            kernel[:, 0, 0, 0] = 1.0
            copies = (1, rows, 1, count)
            op = Conv(
                f"{name}:copies",
                flat,
                source,
                kernel,
                np.zeros(rows),
                (1, 1),
                (0, 0, 0, 1),
                (1, 1, 1, count),
                copies,
            )
            self._emit(op, copies)
        width = count
        if rows > 1 and count & (count - 1):
            # The pooling reads its input as rows of a power-of-two width (how a flat tensor is
            # stored): a constant 0/1 layer spreads the rows apart; each window covers only
            # its row's values, never the zeros between rows.
            width = 1 << (count - 1).bit_length()
            if rows * width * rows * count > MAX_LINEAR_MAP:
                raise _Skip(
                    f"{rows} rows of {count} values would be spread to rows of {width} by a "
                    f"dense layer of {rows * width * rows * count} weights (more than "
                    f"{MAX_LINEAR_MAP})"
                )
            spread = np.zeros((rows * width, rows * count))
            r, c = np.meshgrid(np.arange(rows), np.arange(count), indexing="ij")
            spread[(r * width + c).reshape(-1), (r * count + c).reshape(-1)] = 1.0
            flat_in = self._reshaped(f"{name}:rows_flat", source, (1, rows * count))
            source = f"{out}:spread_rows"
            self._emit(
                Dense(f"{name}:spread_rows", flat_in, source, spread, None, (1, rows * width)),
                (1, rows * width),
            )
        grid = f"{out}:grid"
        self._emit(Reshape(f"{name}:grid", source, grid, (1, rows, 1, width)), (1, rows, 1, width))
        pooled = f"{out}:pooled"
        window = (1, count)
        op = MaxPool(name, grid, pooled, window, (1, width), (1, rows, 1, width), (1, rows, 1, 1))
        self._emit(op, (1, rows, 1, 1))
        if kept == 1:
            maxima, first = f"{out}:maxima", f"{out}:first"
            self._emit(Reshape(f"{name}:maxima", pooled, maxima, (1, rows)), (1, rows))
            pick = np.zeros((1, rows))
            pick[0, 0] = -1.0 if negate else 1.0
            self._emit(Dense(f"{name}:first", maxima, first, pick, None, (1, 1)), (1, 1))
            self._emit(Reshape(f"{name}:shape", first, out, out_shape), out_shape)
            return
        final = f"{out}:negated_out" if negate else out
        self._emit(Reshape(f"{name}:shape", pooled, final, out_shape), out_shape)
        if negate:
            self._affine(f"{name}:negate_out", final, out, np.array(-1.0), None)

    def _op_averagepool(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        kernel, strides, pads, out_shape = self._pool(node, name, inputs)
        x = inputs[0]
        if self.shapes[x][1] == 1:
            # One channel: a constant convolution of one output channel, which is proved as two
            # (the average pool's own block needs two channels to mask).
            weight = np.full((1, 1, *kernel), 1.0 / (kernel[0] * kernel[1]))
            conv = Conv(
                name, x, node.output[0], weight, None, strides, pads, self.shapes[x], out_shape
            )
            self._single_channel_conv(conv)
            return
        op = AvgPool(name, x, node.output[0], kernel, strides, pads, self.shapes[x], out_shape)
        self._emit(op, out_shape)

    _op_globalaveragepool = _op_averagepool

    def _pool(
        self, node: onnx.NodeProto, name: str, inputs: list[str]
    ) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int, int, int], Shape]:
        x = self._activation(inputs[0], name)
        try:
            return pool_geometry(node.op_type, _attrs(node), self.shapes[x])
        except ValueError as exc:
            raise _Skip(str(exc)) from None

    def _op_relu(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> str | None:
        x = inputs[0]
        out = node.output[0]
        chain: list[Reshape | MaxPool] = []  # ops between the layer and x, nearest to x first
        layer = self.producer.get(x)
        while isinstance(layer, (Reshape, MaxPool)):
            chain.append(layer)
            layer = self.producer.get(layer.input)
        if isinstance(layer, Relu):  # relu(relu(x)) == relu(x), also through a reshape/pool
            self.alias[out] = x
            return "removed"
        if not isinstance(layer, REQUANT_OPS):
            # Nothing to fuse with (the model input, a pooling): a copy block carries the ReLU.
            x = self._activation(x, name)
            copy = Copy(f"{name}:copy", x, f"{out}:copy", self.shapes[x])
            self._emit(copy, self.shapes[x])
            self._emit(Relu(name, copy.output, out), self.shapes[x])
            return None
        shared = [t for t in [x, *(op.input for op in chain)] if self.uses[t] > 1]
        if shared:
            raise _Skip(
                f"its input '{shared[0]}' is also read by another node; a skip connection may "
                "read a value after a ReLU but not before it"
            )
        self._activation(x, name)
        if not chain:
            self._emit(Relu(name, x, out), self.shapes[x])
            return None
        # relu commutes with reshape and max pooling; the integer IR wants it right after the
        # requantisation, so it moves before the chain and the chain's last op writes ``out``.
        first = chain[-1]
        pre = f"{out}:pre_{type(first).__name__.lower()}"
        relu = Relu(name, layer.output, pre)
        self.ops.insert(self.ops.index(first), relu)
        self.producer[pre] = relu
        self.shapes[pre] = self.shapes[layer.output]
        self.consumer[pre] = first.name
        first.input = pre
        self.consumer.pop(x)  # x (renamed ``out`` below) is read by the node after this one
        for index in range(len(chain) - 1, -1, -1):
            new = out if index == 0 else f"{chain[index].output}:relu"
            self._rename_output(chain[index], new)
            if index > 0:
                chain[index - 1].input = new
        return None

    def _op_unary(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        x = self._activation(inputs[0], name)
        try:
            op = onnx_unary.parse(node, name, x, self.shapes[x], self._const)
        except ValueError as exc:
            raise _Skip(str(exc)) from None
        self._emit(op, self.shapes[x])

    def _op_compare(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        rule = {"Not": onnx_compare.logical_not, "Where": onnx_compare.where}
        try:
            rule.get(node.op_type, onnx_compare.compare)(self, node, name, inputs)
        except ValueError as exc:
            raise _Skip(str(exc)) from None

    def _op_softmax(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        x = self._activation(inputs[0], name)
        try:
            lower_softmax(self, node, name, x, self.opsets.get("", 13))
        except ValueError as exc:
            raise _Skip(str(exc)) from None

    def _op_reshape(self, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        x = self._activation(inputs[0], name)
        target = [int(v) for v in self._const(inputs[1], "the target shape").reshape(-1)]
        attrs = _attrs(node)
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
        attrs = _attrs(node)
        shape = self.shapes[x]
        axis = int(attrs.get("axis", 1))
        axis = axis + len(shape) if axis < 0 else axis
        target = (int(np.prod(shape[:axis])), int(np.prod(shape[axis:])))
        self._emit(Reshape(name, x, node.output[0], target), target)

    def _copy_to_output(self, output: str) -> str:
        """Ends a graph of pure wiring with a copy block that writes the model output."""
        if output not in self.shapes:
            return output  # reported below: not computed by supported ops
        if output in self.producer:
            self._rename_output(self.producer[output], f"{output}:wired")
            source = f"{output}:wired"
        else:
            source, output = output, self.output  # the output is the input itself
        self._emit(Copy(f"{output}:copy", source, output, self.shapes[source]), self.shapes[source])
        return output

    def _leading_to(self, outputs: set[str]) -> list[Op]:
        """The ops the outputs depend on, in order: a branch that leads nowhere (an exporter's
        leftover) is dropped rather than proved for nothing."""
        needed = set(outputs)
        kept: list[Op] = []
        for op in reversed(self.ops):
            if op.output in needed:
                kept.append(op)
                needed.update(reads(op))
        return kept[::-1]

    def _finish(self) -> FloatGraph | None:
        """Check that the imported ops form a graph from the input to the outputs: each op reads
        the input or earlier ops' outputs (branches may fork and join)."""
        if len(self.outputs) > 1:
            return onnx_outputs.finish_several(self)
        output = self.resolve(self.output)
        if not any(isinstance(op, REQUANT_OPS) for op in self.ops) and self.input:
            # Pure wiring (Identity, Reshape, Flatten, ...): a copy block proves y = x.
            output = self._copy_to_output(output)
        if output not in self.producer:
            self.problems.append(
                f"the model output '{self.output}' is not computed by supported ops"
            )
            return None
        return self._graph({output})

    def _graph(self, outputs: set[str]) -> FloatGraph | None:
        """The float graph of the ops leading to ``outputs``, the last op's output its main
        output; None (with a problem) if an op reads a tensor before it is computed."""
        self.ops = self._leading_to(outputs)
        seen = {self.input}
        for op in self.ops:
            missing = [t for t in reads(op) if t not in seen]
            if missing:
                self.problems.append(f"node '{op.name}' reads '{missing[0]}' before it is computed")
                return None
            seen.add(op.output)
        output = self.ops[-1].output
        return FloatGraph(
            input=self.input,
            input_shape=self.shapes[self.input],
            output=output,
            output_shape=self.shapes[output],
            ops=self.ops,
            onnx_input=self.input,
            onnx_output=self.output,
        )


# Every table op (zkgrad.onnx_unary) imports through the one rule, dispatched like the others.
for _op in onnx_unary.UNARY_OPS:
    setattr(_Importer, f"_op_{_op.lower()}", _Importer._op_unary)
# And the comparisons, Not and Where (zkgrad.onnx_compare).
for _op in onnx_compare.SUPPORTED:
    setattr(_Importer, f"_op_{_op.lower()}", _Importer._op_compare)


def _integer_rule(rule: Callable[..., None]) -> Callable[..., None]:
    def handler(self: _Importer, node: onnx.NodeProto, name: str, inputs: list[str]) -> None:
        try:
            rule(self, node, name, inputs)
        except ValueError as exc:
            raise _Skip(str(exc)) from None

    return handler


# And the ops of integer and boolean activations (zkgrad.onnx_integers).
for _op, _rule in (
    ("And", onnx_integers.logical),
    ("Or", onnx_integers.logical),
    ("Xor", onnx_integers.logical),
    ("ArgMax", onnx_integers.argmax),
    ("ArgMin", onnx_integers.argmax),
    ("OneHot", onnx_integers.one_hot),
    ("RNN", onnx_recurrent.recurrent),
    ("GRU", onnx_recurrent.recurrent),
    ("LSTM", onnx_recurrent.recurrent),
    ("TopK", onnx_topk.top_k),
):
    setattr(_Importer, f"_op_{_op.lower()}", _integer_rule(_rule))

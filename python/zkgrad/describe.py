"""``zkgrad inspect``: what is in an ONNX file, a compiled model (``.zkg``) or a verifying key.

For an ONNX file: the op types with their counts and whether zkgrad imports them, the parameter
count and the input/output shapes. For a compiled model or a key, also the scale of every tensor,
the commitment digest, the soundness in bits and a rough estimate of the proving cost.

Example::

    info = zkgrad.inspect("mlp.onnx")      # raises UnsupportedModelError for unsupported models
    print(info.params, [(row.op_type, row.count, row.status) for row in info.ops])
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zkgrad import _native
from zkgrad.errors import UnsupportedModelError, UnsupportedNode
from zkgrad.graph import AvgPool, Conv, FloatGraph
from zkgrad.model import KEY_MAGIC, MODEL_MAGIC, file_magic
from zkgrad.quantize import DEFAULT_TABLE_BITS

#: Why :func:`narrow_convolutions` are refused (the native module's compile error says the same).
NARROW_REASON = (
    "a convolution with a single output channel or a single value per patch is not supported yet"
)


def narrow_convolutions(graph: FloatGraph) -> list[str]:
    """The nodes a compile refuses for now: their kernel or bias column has no variable to carry
    a zero-knowledge mask (and zero knowledge is always on).

    These are the convolutions with fewer than two output channels or fewer than two values per
    patch (C_in·kh·kw). An average pool is proved as a convolution with as many output channels
    as input channels, so one over a single channel is refused too.
    """
    names = []
    for op in graph.ops:
        if isinstance(op, Conv):
            out_channels, patch = op.weight.shape[0], op.weight[0].size
        elif isinstance(op, AvgPool):
            out_channels = op.in_shape[1]
            patch = out_channels * op.kernel[0] * op.kernel[1]
        else:
            continue
        if out_channels < 2 or patch < 2:
            names.append(op.name)
    return names


@dataclass(frozen=True)
class TensorSpec:
    """A graph input or output: its shape (named or unknown dimensions as strings) and type."""

    name: str
    shape: tuple[int | str, ...]
    dtype: str
    scale_bits: int | None = None


@dataclass(frozen=True)
class OpRow:
    """How many nodes of one op type the model has, and what import made of them."""

    op_type: str
    count: int
    statuses: tuple[tuple[str, int], ...] = ()

    @property
    def status(self) -> str:
        """``supported``, ``unsupported``, ``folded``, ``removed``, or a mix with counts."""
        names = {
            "imported": "supported",
            "folded": "folded (constant)",
            "removed": "removed (no-op)",
            "unsupported": "unsupported",
            "after-unsupported": "after unsupported",
        }
        if len(self.statuses) == 1:
            return names[self.statuses[0][0]]
        return ", ".join(f"{names[name]} ×{count}" for name, count in self.statuses)

    @property
    def supported(self) -> bool:
        """True unless some node of this type is unsupported."""
        return all(name != "unsupported" for name, _ in self.statuses)


@dataclass(frozen=True)
class CostEstimate:
    """The proving cost implied by the circuit's shape (exact sizes, not a measurement).

    Computed by the native circuit (``cost()`` of the model or key): ``multiply_adds`` counts
    dense rows·cols, convolution C_out·patch·positions and nothing for max pooling.
    Committed columns are padded to powers of two and packed into one polynomial each, the way
    the current proof system (proof format 1) lays them out: ``witness_elements`` per proof
    (input, per block its output columns, one multiplicity column per lookup table);
    ``weight_elements`` once, at compile time (each weight matrix and bias). ``lookups`` is
    the number of looked-up values per proof, padded column lengths summed.
    """

    blocks: int
    multiply_adds: int
    weight_elements: int
    witness_elements: int
    lookups: int
    table_bits: int


@dataclass
class Description:
    """What ``zkgrad inspect`` reports about a file."""

    path: Path
    kind: str  # "onnx", "model" (.zkg) or "key" (verifying key)
    ops: list[OpRow]
    params: int
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    details: dict[str, Any] = field(default_factory=dict)
    scales: dict[str, int] = field(default_factory=dict)
    const_scales: dict[str, int] = field(default_factory=dict)
    digest: str | None = None
    circuit_digest: str | None = None
    soundness_bits: float | None = None
    #: ``soundness: N bits, provable (Johnson bound); weakest: <component>``.
    soundness_line: str | None = None
    #: Proofs one weight commitment serves with the weights hidden (``docs/SECURITY.md``).
    zk_budget: int | None = None
    cost: CostEstimate | None = None
    error: UnsupportedModelError | None = None

    @property
    def supported(self) -> bool:
        """Whether zkgrad can compile (or has compiled) this model."""
        return self.error is None


def inspect(path: str | os.PathLike[str]) -> Description:
    """Describe an ONNX model, a compiled model (``.zkg``) or a verifying key.

    The kind is read from the file's first bytes. For an ONNX model zkgrad cannot import, raises
    one :class:`UnsupportedModelError` naming every unsupported node; its ``description``
    attribute still holds the full description. A missing file is ``FileNotFoundError``, an
    unreadable one :class:`ModelError`.
    """
    description = describe(path)
    if description.error is not None:
        error = description.error
        error.description = description  # type: ignore[attr-defined]
        raise error
    return description


def describe(path: str | os.PathLike[str]) -> Description:
    """Like :func:`inspect`, but an unsupported model is described (``error`` set), not raised."""
    file = Path(path)
    magic = file_magic(file)
    if magic == MODEL_MAGIC:
        return _describe_model(file)
    if magic == KEY_MAGIC:
        return _describe_key(file)
    return _describe_onnx(file)


def _describe_onnx(file: Path) -> Description:
    # onnx is imported here, not at the top: inspecting a .zkg or .vk never needs it (1-2 s).
    import onnx
    from onnx import numpy_helper

    from zkgrad.onnx import analyse
    from zkgrad.onnx_input_type import is_declared_type_cast, is_proved_type_cast
    from zkgrad.onnx_inputs import is_input_rebuild

    result = analyse(file)
    raw = onnx.load(str(file), load_external_data=False)
    nodes = list(result.model.graph.node)
    per_type: dict[str, Counter[str]] = {}
    own = 0
    for node, status in zip(nodes, result.status, strict=True):
        if is_declared_type_cast(node) or is_proved_type_cast(node) or is_input_rebuild(node):
            own += 1
            continue  # the importer's own: not a node of the model
        per_type.setdefault(node.op_type, Counter())[status] += 1
    ops = [
        OpRow(op, sum(counts.values()), tuple(sorted(counts.items())))
        for op, counts in sorted(
            per_type.items(), key=lambda item: (-sum(item[1].values()), item[0])
        )
    ]
    inits = {init.name for init in raw.graph.initializer}
    params = sum(int(numpy_helper.to_array(init).size) for init in raw.graph.initializer)
    constants = sum(
        int(numpy_helper.to_array(attr.t).size)
        for node in raw.graph.node
        if node.op_type == "Constant"
        for attr in node.attribute
        if attr.name == "value"
    )
    details: dict[str, Any] = {
        "producer": " ".join(p for p in (raw.producer_name, raw.producer_version) if p),
        "opsets": {imp.domain or "ai.onnx": imp.version for imp in raw.opset_import},
        "nodes": len(nodes) - own,
        "constant_elements": constants,
    }
    error = result.error
    if result.graph is not None:
        details["imported_params"] = result.graph.num_params()
        details["imported_layers"] = [type(op).__name__ for op in result.graph.ops]
        narrow = narrow_convolutions(result.graph)
        if narrow and error is None:
            op_types = {node.name: node.op_type for node in nodes}
            refused = [UnsupportedNode(n, op_types.get(n, "Conv"), NARROW_REASON) for n in narrow]
            error = UnsupportedModelError(refused)
    return Description(
        path=file,
        kind="onnx",
        ops=ops,
        params=params,
        inputs=[_onnx_tensor(vi) for vi in raw.graph.input if vi.name not in inits],
        outputs=[_onnx_tensor(vi) for vi in raw.graph.output],
        details=details,
        error=error,
    )


def _onnx_tensor(vi: Any) -> TensorSpec:  # an onnx.ValueInfoProto
    tensor = vi.type.tensor_type
    dims: list[int | str] = []
    for dim in tensor.shape.dim:
        if dim.HasField("dim_value"):
            dims.append(int(dim.dim_value))
        else:
            dims.append(dim.dim_param or "?")
    import onnx

    dtype = onnx.TensorProto.DataType.Name(tensor.elem_type) if tensor.elem_type else "?"
    return TensorSpec(vi.name, tuple(dims), dtype.lower())


def _describe_model(file: Path) -> Description:
    from zkgrad.model import Model

    model = Model.load(file)
    native = model.native
    return _describe_ir(file, "model", model.ir, native, native.num_params())


def _describe_key(file: Path) -> Description:
    from zkgrad.model import VerifyingKey

    key = VerifyingKey.load(file)
    # The key has no weights: count the circuit's weight matrices and (zero-padded) biases.
    params = int(key.native.cost()["params"])
    return _describe_ir(file, "key", key.ir, key.native, params)


def _describe_ir(
    file: Path,
    kind: str,
    ir: dict[str, Any],
    native: _native.NativeModel | _native.NativeVerifyingKey,
    params: int,
) -> Description:
    meta = ir.get("meta") or {}
    counts = Counter(node["op"] for node in ir["nodes"])
    ops = [OpRow(op, n, (("imported", n),)) for op, n in sorted(counts.items())]
    table_bits = int(ir.get("act_bits", DEFAULT_TABLE_BITS))
    details = {
        key: meta[key]
        for key in ("source", "zkgrad_version", "calibration", "report")
        if key in meta
    }
    details["act_bits"] = table_bits
    details["input visibility"] = ir["input"].get("visibility", "private")
    public = [entry["name"] for entry in meta.get("public_inputs") or []]
    if public:  # inputs of mixed visibility: the vector is hidden, these inputs stated
        details["public inputs"] = public
    details["zero knowledge"] = True
    return Description(
        path=file,
        kind=kind,
        ops=ops,
        params=params,
        inputs=_ir_inputs(ir),
        outputs=[_ir_tensor(o) for o in meta.get("outputs") or [ir["output"]]],
        details=details,
        scales=dict(meta.get("scales") or {}),
        const_scales=dict(meta.get("weight_scales") or {}),
        digest=native.digest(),
        circuit_digest=native.circuit_digest(),
        soundness_bits=native.soundness_bits(1),
        soundness_line=native.soundness_line(1),
        zk_budget=native.zk_budget()[0],
        cost=circuit_cost(native),
    )


def _ir_inputs(ir: dict[str, Any]) -> list[TensorSpec]:
    """The circuit's input, or for a model compiled from several inputs each of them (the
    circuit takes their concatenation, ``zkgrad.onnx_inputs``), at the input's scale."""
    layout = ((ir.get("meta") or {}).get("onnx") or {}).get("inputs")
    if not layout:
        return [_ir_tensor(ir["input"])]
    return [_ir_tensor({**ir["input"], **entry}) for entry in layout]


def _ir_tensor(info: dict[str, Any]) -> TensorSpec:
    scale = info.get("scale_bits")
    return TensorSpec(
        info["name"],
        tuple(int(d) for d in info["shape"]),
        "int",
        None if scale is None else int(scale),
    )


def circuit_cost(native: _native.NativeModel | _native.NativeVerifyingKey) -> CostEstimate:
    """The proving cost of a compiled model's or key's circuit (see :class:`CostEstimate`)."""
    cost = native.cost()
    return CostEstimate(
        blocks=len(native.layers()),
        multiply_adds=int(cost["multiply_adds"]),
        weight_elements=int(cost["weight_elements"]),
        witness_elements=int(cost["witness_elements"]),
        lookups=int(cost["lookups"]),
        table_bits=int(cost["table_bits"]),
    )

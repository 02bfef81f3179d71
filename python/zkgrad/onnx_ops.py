"""What the ONNX importer (:mod:`zkgrad.onnx`) accepts: every supported op type with the
conditions it imports under (the README's table is generated from :data:`SUPPORTED_OPS` by
``scripts/supported_ops.py``), and the op families the importer treats alike."""

from __future__ import annotations

from zkgrad import onnx_compare, onnx_integers, onnx_recurrent, onnx_topk, onnx_unary
from zkgrad.onnx_compose import MAX_LINEAR_MAP

#: Largest activation a constant Mul/Add/... becomes a dense diagonal layer for (its weight
#: matrix has this many squared entries, committed like any other weight).
MAX_DIAGONAL = 1024

#: Data-movement and reduction ops that are linear maps of one activation: imported as a dense
#: layer whose constant matrix is found by running the node on basis vectors (a cheap, general
#: wiring; its matrix has at most MAX_LINEAR_MAP entries, committed like any weight).
_LINEAR_MAP_OPS = (
    "Slice",
    "Gather",
    "Transpose",
    "Pad",
    "Concat",
    "ReduceSum",
    "ReduceMean",
    "Expand",
    "Tile",
    "DepthToSpace",
    "SpaceToDepth",
    "Resize",
    "Upsample",
    "ConvTranspose",
    "GatherElements",
)

#: Linear-map ops that only reorder their input's values.
_PERMUTATIONS = ("Transpose", "DepthToSpace", "SpaceToDepth")

_LINEAR_MAP_RULE = (
    "every non-constant operand the same activation (constant indices, pads, axes); the map, "
    f"linear in that activation, becomes a constant dense layer (at most {MAX_LINEAR_MAP} weights)"
)

#: ONNX op types the importer accepts, each with the conditions under which it imports one (its
#: ``_op_*`` handler, or ``_is_no_op``, enforces them; any other case is an unsupported node whose
#: reason is named). The README's list of supported operations is generated from this table by
#: ``scripts/supported_ops.py``, and a test keeps the two equal.
SUPPORTED_OPS: dict[str, str] = {
    "Gemm": "any `alpha`, `beta` and `transB`; `transA` 0; constant weight and bias",
    "MatMul": (
        "a constant weight matrix as the second operand, or a product of two activations that "
        "are single matrices (a product block; rows padded to powers of two by constant dense "
        "layers of at most 65,536 weights)"
    ),
    "Conv": (
        "1-D or 2-D (1-D as 2-D of height 1), `group` 1, no dilation, explicit `pads` or "
        "`auto_pad` `NOTSET`/`VALID`, any strides; constant weight and bias"
    ),
    "MaxPool": (
        "1-D or 2-D, no dilation, `ceil_mode` 0 (or 1 where it adds no partial window); the "
        "`Indices` output unused; padding narrower than the kernel (the edge replicated by a "
        "constant layer, which keeps every window's maximum; with several channels a "
        "power-of-two padded size)"
    ),
    "AveragePool": (
        "1-D or 2-D, no dilation, no padding or padding with `count_include_pad=1`; becomes a "
        "constant convolution and a requantisation by about 1/(kh·kw)"
    ),
    "GlobalAveragePool": "becomes a constant convolution and a requantisation by about 1/(H·W)",
    "BatchNormalization": (
        "inference mode; folded into the `Conv` or `Gemm`/`MatMul` right before it, elsewhere a "
        "per-channel constant scale and shift as for `Mul`"
    ),
    "Add": (
        "a constant bias right after a `Gemm`/`MatMul` (any broadcast) or a `Conv` (per channel), "
        "elsewhere a constant as for `Mul`; "
        "or two activations, one the previous node's output and the other any earlier "
        "activation or the model input (a residual or skip connection), of the same shape or "
        "the previous output broadcast to the other's (a constant dense layer copies it)"
    ),
    "Sub": ("two activations, as for `Add`; or an activation and a constant, as for `Mul`"),
    "Mul": (
        "two activations, as for `Add` (a degree-3 sumcheck); or an activation "
        "and a constant that does not grow its shape: right after a `Gemm`/`MatMul` (one "
        "factor per output) or a `Conv` (per channel) it scales that layer's weights and bias; "
        "elsewhere it becomes a diagonal layer of its own (a 1×1 convolution for a "
        f"per-channel constant on an image, else a dense layer on at most {MAX_DIAGONAL} values)"
    ),
    "Div": (
        "an activation divided by a nonzero constant, as for `Mul`; or a constant or an "
        "activation divided by the previous node's output: a `Reciprocal` lookup over its "
        "calibrated range (which must not reach 0), then a product"
    ),
    **{op: _LINEAR_MAP_RULE for op in _LINEAR_MAP_OPS},
    "Split": (
        "any axis and sizes (the `split` input or attribute, or equal parts); each used output "
        f"a `Slice`: a constant dense layer of at most {MAX_LINEAR_MAP} weights"
    ),
    "Concat": (
        f"{_LINEAR_MAP_RULE}; or several activations (and constants), each placed by a constant "
        f"0/1 layer (at most {MAX_LINEAR_MAP} weights each) and summed by `Add` blocks"
    ),
    "Gather": (
        f"{_LINEAR_MAP_RULE}; or constant data indexed by an integer activation along axis 0: "
        "by a 0/1 one, t[0] + b·(t[1] − t[0]); by an `ArgMax`, a constant layer of its one-hot; "
        "by any other, a table lookup (negative indices wrap)"
    ),
    **{
        op: (
            f"{_LINEAR_MAP_RULE}; a larger one of a tensor that a dense layer computes through "
            "lookups, ReLUs and reshapes alone (each read once) permutes that layer's rows"
        )
        for op in _PERMUTATIONS
    },
    "Neg": "as a `Mul` by −1",
    "Max": (
        "an activation and a scalar constant (a clip by lookup); or two activations as for `Add`: "
        "b + relu(a − b)"
    ),
    "Min": "as `Max`: a clip, or a − relu(a − b) of two activations",
    "ReduceMax": (
        "over trailing axes (or all): a max-pooling window per kept position, after a reshape"
    ),
    "ReduceMin": "as `ReduceMax`, between two negations (min x = −max(−x))",
    "Relu": (
        "after a `Gemm`/`MatMul`, `Conv`, average pool or an `Add`/`Sub` of two activations, "
        "possibly with `Reshape`/`Flatten`/`MaxPool` between (it commutes with them); a `Relu` "
        "of a `Relu` is removed"
    ),
    "Reshape": "a constant target shape (after constant folding)",
    "LayerNormalization": (
        "over trailing axes of at most 256 values, its mean and inverse standard deviation "
        "outputs unused: centring (a constant layer), squares, mean, `Pow` −½ by lookup, product, "
        "scale and bias, each proved as the ops above"
    ),
    "InstanceNormalization": "as `LayerNormalization`, each channel over its H·W values",
    "Softmax": (
        "over the last axis (before opset 13: the flattened axes from `axis` on): max, "
        "subtraction, `Exp`, sum, `Reciprocal` and product, each proved as the ops above"
    ),
    "Squeeze": "constant axes (becomes a reshape: free in the proof)",
    "Unsqueeze": "constant axes (becomes a reshape: free in the proof)",
    "Flatten": "any `axis`; a `Gemm` after a convolution reads C·H·W in ONNX `Flatten` order",
    "Identity": "removed",
    "Dropout": "inference only (removed); its mask output unused",
    "Cast": (
        "to a float type (removed); to an integer type, of an activation that holds integers "
        "(comparisons, counts, indices: removed); to BOOL, of 0/1 values (removed) or of others "
        "as x ≠ 0; a DOUBLE or FLOAT16 model input, or a BOOL or integer one that only "
        "`Identity` and `Cast` to float32 read, is read as float32 values"
    ),
    **onnx_unary.SUPPORTED,
    **onnx_compare.SUPPORTED,
    **onnx_integers.SUPPORTED,
    **onnx_recurrent.SUPPORTED,
    **onnx_topk.SUPPORTED,
}
_PASS_THROUGH = {"Identity", "Dropout"}
_RANDOM_OPS = {
    "RandomNormal",
    "RandomUniform",
    "RandomNormalLike",
    "RandomUniformLike",
    "Multinomial",
    "Bernoulli",
}

"""``from_sklearn``: a fitted scikit-learn model -> ONNX (skl2onnx) -> a compiled zkgrad model.

skl2onnx writes a classifier with two outputs (label and probabilities) and some ops from the
``ai.onnx.ml`` domain. Before compiling, the converted graph is cleaned up so that the importer
sees the plain linear algebra it supports:

* ``LinearClassifier`` / ``LinearRegressor`` (logistic and linear regression) become a ``Gemm``;
* ``Scaler`` (``StandardScaler`` in a pipeline) is folded into the ``MatMul``/``Gemm`` after it;
* the output is the last layer's raw scores: the logits before ``Softmax`` (multi-class MLP),
  ``[0, z]`` for a binary MLP's ``Sigmoid(z)`` (softmax of it is the two probabilities), or the
  linear scores of ``LinearClassifier`` without its post-transform. Argmax, label lookup and
  normalisation are dropped, so the proved output's argmax is the predicted class index.

Anything else (``Tanh``/``Sigmoid`` hidden layers, trees, SVMs, ...) is left in place and
reported by :class:`~zkgrad.errors.UnsupportedModelError`, every node at once.

Needs the optional extra: ``pip install 'zkgrad[sklearn]'``.

Example::

    clf = MLPClassifier(hidden_layer_sizes=(16,)).fit(X, y)
    model = zkgrad.from_sklearn(clf, X[:64])
    assert model.run(X[0]).argmax() == clf.predict(X[:1])[0]   # class index
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from zkgrad.compiler import check_zk, compile
from zkgrad.errors import ModelError, UnsupportedModelError
from zkgrad.inputs import to_float_array
from zkgrad.model import Model

#: ONNX opset (default domain) the conversion targets.
TARGET_OPSET = 17
_ML = "ai.onnx.ml"


def from_sklearn(
    estimator: Any,
    sample: np.ndarray,
    *,
    target: str = "accuracy",
    progress: Callable[[str], None] | None = None,
    zk: bool = True,
    seed: bytes | str | None = None,
) -> Model:
    """Convert a fitted estimator with skl2onnx and compile it, ``sample`` as calibration data.

    ``sample``: input rows ``[N, features]``. Supported: ``MLPClassifier`` and ``MLPRegressor``
    with ReLU (or identity) hidden layers, ``LogisticRegression``, ``LinearRegression`` and
    linear models like them, optionally after a ``StandardScaler`` in a ``Pipeline``.
    ``target``, ``progress`` and ``seed`` are passed to :func:`zkgrad.compile`. Proofs are
    always zero-knowledge: ``zk=False`` raises :class:`~zkgrad.ModelError` (the argument is
    kept only so that old callers get that clear error). An estimator that is not fitted, or a
    ``sample`` whose width is not the one it was fitted on, raises :class:`~zkgrad.ModelError`.
    """
    check_zk(zk)
    rows = to_float_array(sample, "sample").astype(np.float32)
    if rows.ndim != 2:
        raise ModelError(f"sample must be an [N, features] array, got shape {list(rows.shape)}")
    check_fitted(estimator, rows.shape[1])
    model = to_onnx(estimator, rows)
    with tempfile.TemporaryDirectory(prefix="zkgrad-sklearn-") as folder:
        path = Path(folder) / f"{type(estimator).__name__}.onnx"
        onnx.save(model, str(path))
        return compile(path, calibration=rows, target=target, progress=progress, seed=seed)


def check_fitted(estimator: Any, features: int) -> None:
    """A fitted scikit-learn estimator (or pipeline) taking rows of ``features`` values."""
    name = type(estimator).__name__
    if not hasattr(estimator, "fit"):
        raise TypeError(
            f"from_sklearn takes a fitted scikit-learn estimator or Pipeline, not {name}"
        )
    try:
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted
    except ImportError as exc:
        raise _missing_extra(exc) from None

    try:
        check_is_fitted(estimator)
    except NotFittedError:
        raise ModelError(f"the {name} is not fitted: call its fit(X, y) first") from None
    expected = getattr(estimator, "n_features_in_", None)
    if expected is not None and int(expected) != features:
        raise ModelError(
            f"sample has {features} features per row, but the {name} was fitted on {expected}"
        )


def to_onnx(estimator: Any, sample: np.ndarray) -> onnx.ModelProto:
    """The cleaned-up ONNX model :func:`from_sklearn` compiles (see the module notes)."""
    try:
        import skl2onnx
        from sklearn.base import is_classifier
    except ImportError as exc:
        raise _missing_extra(exc) from None
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    options = {id(final): {"zipmap": False}} if is_classifier(final) else None
    try:
        converted = skl2onnx.to_onnx(
            estimator,
            np.asarray(sample[:1], dtype=np.float32),
            options=options,
            target_opset={"": TARGET_OPSET, _ML: 3},
        )
    except RuntimeError as exc:  # skl2onnx's own errors (no converter, shape mismatch, ...)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnsupportedModelError(
            [], [f"skl2onnx cannot convert the {type(estimator).__name__} ({reason})"]
        ) from None
    return clean(converted)


def _missing_extra(exc: ImportError) -> ImportError:
    return ImportError(
        f"zkgrad.from_sklearn needs scikit-learn and skl2onnx ({exc.name} is missing): "
        "pip install 'zkgrad[sklearn]'"
    )


def clean(model: onnx.ModelProto) -> onnx.ModelProto:
    """Rewrite skl2onnx's output into the ops the importer supports, with one output."""
    cleaned = onnx.ModelProto()
    cleaned.CopyFrom(model)
    graph = _Graph(cleaned)
    graph.linear_models()
    graph.fold_scalers()
    graph.raw_scores()
    graph.prune()
    onnx.checker.check_model(cleaned)
    return cleaned


class _Graph:
    """In-place rewrites of one skl2onnx graph."""

    def __init__(self, model: onnx.ModelProto) -> None:
        self.model = model
        self.graph = model.graph

    def _const(self, name: str) -> np.ndarray | None:
        for init in self.graph.initializer:
            if init.name == name:
                return numpy_helper.to_array(init).astype(np.float64)
        return None

    def _add_const(self, name: str, value: np.ndarray) -> str:
        unique = name
        taken = {init.name for init in self.graph.initializer}
        while unique in taken:
            unique += "_"
        self.graph.initializer.append(
            numpy_helper.from_array(np.asarray(value, dtype=np.float32), unique)
        )
        return unique

    def _producer(self, tensor: str) -> onnx.NodeProto | None:
        return next((n for n in self.graph.node if tensor in n.output), None)

    def _readers(self, tensor: str) -> list[onnx.NodeProto]:
        return [n for n in self.graph.node if tensor in n.input]

    def _replace(self, old: onnx.NodeProto, new: onnx.NodeProto) -> None:
        index = list(self.graph.node).index(old)
        self.graph.node.remove(old)
        self.graph.node.insert(index, new)

    def _set_output(self, tensor: str, width: int | None) -> None:
        del self.graph.output[:]
        dims: list[int | str | None] = ["N", width] if width else ["N", None]
        self.graph.output.append(
            helper.make_tensor_value_info(tensor, onnx.TensorProto.FLOAT, dims)
        )

    def linear_models(self) -> None:
        """LinearClassifier/LinearRegressor -> Gemm giving the raw scores as the only output."""
        for node in list(self.graph.node):
            if node.domain != _ML or node.op_type not in ("LinearClassifier", "LinearRegressor"):
                continue
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            transform = attrs.get("post_transform", b"NONE")
            if node.op_type == "LinearRegressor" and transform not in (b"NONE", "NONE"):
                continue  # left in place: reported as unsupported
            coefficients = np.asarray(attrs["coefficients"], dtype=np.float64)
            intercepts = np.asarray(attrs.get("intercepts", []), dtype=np.float64)
            rows = int(attrs.get("targets", 0)) or max(intercepts.size, 1)
            if node.op_type == "LinearClassifier":
                classes = attrs.get("classlabels_ints") or attrs.get("classlabels_strings") or []
                rows = max(intercepts.size, 1)
                if rows == 1 and len(classes) == 2:  # one score for class 1: scores [0, z]
                    coefficients = np.concatenate([np.zeros_like(coefficients), coefficients])
                    intercepts = np.concatenate([[0.0], intercepts])
                    rows = 2
            weight = coefficients.reshape(rows, -1)
            bias = intercepts if intercepts.size else np.zeros(rows)
            out = "scores" if node.op_type == "LinearClassifier" else node.output[0]
            gemm = helper.make_node(
                "Gemm",
                [
                    node.input[0],
                    self._add_const("coefficients", weight),
                    self._add_const("intercepts", bias),
                ],
                [out],
                name=node.name or node.op_type,
                transB=1,
            )
            self._replace(node, gemm)
            self._set_output(out, rows)

    def fold_scalers(self) -> None:
        """Scaler (x − offset)·scale followed by a constant MatMul/Gemm -> one Gemm."""
        for node in list(self.graph.node):
            if node.domain != _ML or node.op_type != "Scaler":
                continue
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            offset = np.asarray(attrs.get("offset", [0.0]), dtype=np.float64)
            scale = np.asarray(attrs.get("scale", [1.0]), dtype=np.float64)
            tensor = node.output[0]
            readers = self._readers(tensor)
            while len(readers) == 1 and readers[0].op_type in ("Cast", "Identity"):
                tensor = readers[0].output[0]
                readers = self._readers(tensor)
            if len(readers) != 1 or not self._fold_into(readers[0], tensor, offset, scale):
                continue  # left in place: reported as unsupported
            self._replace(node, helper.make_node("Identity", [node.input[0]], [node.output[0]]))

    def _fold_into(
        self, layer: onnx.NodeProto, x: str, offset: np.ndarray, scale: np.ndarray
    ) -> bool:
        if layer.op_type not in ("MatMul", "Gemm") or layer.input[0] != x:
            return False
        attrs = {a.name: helper.get_attribute_value(a) for a in layer.attribute}
        b = self._const(layer.input[1])
        if b is None or b.ndim != 2 or attrs.get("transA", 0):
            return False
        weight = float(attrs.get("alpha", 1.0)) * (b.T if attrs.get("transB", 0) else b)
        bias = np.zeros(weight.shape[1])
        if layer.op_type == "Gemm" and len(layer.input) > 2 and layer.input[2]:
            c = self._const(layer.input[2])
            if c is None:
                return False
            bias = bias + float(attrs.get("beta", 1.0)) * np.broadcast_to(c, (1, bias.size))[0]
        scaled = weight * np.broadcast_to(scale, (weight.shape[0],))[:, None]
        bias = bias - (np.broadcast_to(offset, (weight.shape[0],)) * scale) @ weight
        gemm = helper.make_node(
            "Gemm",
            [x, self._add_const("scaled_weight", scaled), self._add_const("scaled_bias", bias)],
            list(layer.output),
            name=layer.name or "Gemm",
        )
        self._replace(layer, gemm)
        return True

    def raw_scores(self) -> None:
        """Make the graph output the logits before a final Softmax or Sigmoid."""
        for node in self.graph.node:
            if node.op_type == "Softmax":
                self._set_output(node.input[0], None)
                return
            if node.op_type == "Sigmoid" and self._widen_binary(node.input[0]):
                self._set_output(node.input[0], 2)
                return
        if len(self.graph.output) > 1:
            keep = next((o for o in self.graph.output if o.name == "probabilities"), None)
            self._set_output((keep or self.graph.output[-1]).name, None)

    def _widen_binary(self, logit: str) -> bool:
        """z = MatMul(h, w) + b with one column -> [0, z], whose softmax is [1 − σ(z), σ(z)]."""
        add = self._producer(logit)
        if add is None or add.op_type != "Add":
            return False
        matmul = self._producer(add.input[0])
        bias = self._const(add.input[1])
        weight = (
            None if matmul is None or matmul.op_type != "MatMul" else self._const(matmul.input[1])
        )
        if matmul is None or weight is None or bias is None or weight.shape[-1] != 1:
            return False
        wide = np.concatenate([np.zeros_like(weight), weight], axis=-1)
        matmul.input[1] = self._add_const("coefficient_binary", wide)
        add.input[1] = self._add_const(
            "intercepts_binary", np.concatenate([[0.0], bias.reshape(-1)])
        )
        return True

    def prune(self) -> None:
        """Drop the nodes the (single) output does not need."""
        needed = {o.name for o in self.graph.output}
        kept: list[onnx.NodeProto] = []
        for node in reversed(list(self.graph.node)):
            if any(out in needed for out in node.output):
                kept.append(node)
                needed.update(i for i in node.input if i)
        del self.graph.node[:]
        self.graph.node.extend(reversed(kept))
        used = [init for init in self.graph.initializer if init.name in needed]
        del self.graph.initializer[:]
        self.graph.initializer.extend(used)
        domains = {node.domain for node in self.graph.node}
        imports = [
            op
            for op in self.model.opset_import
            if op.domain in ("", "ai.onnx") or op.domain in domains
        ]
        del self.model.opset_import[:]
        self.model.opset_import.extend(imports)

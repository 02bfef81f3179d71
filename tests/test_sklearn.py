"""zkgrad.from_sklearn: scikit-learn estimators through skl2onnx, cleaned up and compiled."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import zkgrad
from zkgrad.sklearn import to_onnx

sklearn = pytest.importorskip("sklearn")
pytest.importorskip("skl2onnx")

from sklearn.base import BaseEstimator, ClassifierMixin  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402

FEATURES = 6
MIN_AGREEMENT = 0.99


def _data(classes: int, count: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(1.0, 2.0, (count, FEATURES)).astype(np.float32)
    score = x[:, 0] - 0.5 * x[:, 1] + 0.3 * x[:, 2] * x[:, 3]
    edges = np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1])
    return x, np.digitize(score, edges)


def _fit(estimator: Any, classes: int) -> tuple[Any, np.ndarray]:
    x, y = _data(classes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(x, y)
    return estimator, x


ESTIMATORS = {
    "mlp_3_classes": (lambda: MLPClassifier((16, 8), max_iter=400, random_state=0), 3),
    "mlp_binary": (lambda: MLPClassifier((12,), max_iter=400, random_state=0), 2),
    "logistic_3_classes": (lambda: LogisticRegression(max_iter=500), 3),
    "logistic_binary": (lambda: LogisticRegression(max_iter=500), 2),
    "scaled_mlp": (
        lambda: make_pipeline(StandardScaler(), MLPClassifier((16,), max_iter=400, random_state=0)),
        4,
    ),
}


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_argmax_of_the_quantised_scores_is_the_prediction(name: str) -> None:
    make, classes = ESTIMATORS[name]
    estimator, x = _fit(make(), classes)
    model = zkgrad.from_sklearn(estimator, x[:64])
    scores = model.run(x)
    assert scores.shape == (len(x), classes)
    agreement = float(np.mean(scores.argmax(axis=1) == estimator.predict(x)))
    assert agreement >= MIN_AGREEMENT, agreement
    assert model.ir["meta"]["source"] == f"{type(estimator).__name__}.onnx"


def test_cleaned_graph_has_one_output_and_no_ml_ops() -> None:
    estimator, x = _fit(make_pipeline(StandardScaler(), LogisticRegression()), 3)
    model = to_onnx(estimator, x)
    assert len(model.graph.output) == 1
    assert {node.op_type for node in model.graph.node} <= {"Gemm", "Identity", "Cast"}


def test_linear_regression_is_a_gemm() -> None:
    x, _ = _data(2)
    y = x @ np.arange(FEATURES) + 1.5
    model = zkgrad.from_sklearn(LinearRegression().fit(x, y), x[:64])
    np.testing.assert_allclose(model.run(x[:8]).reshape(-1), y[:8], rtol=0.01, atol=0.05)


def test_mlp_proof_verifies() -> None:
    estimator, x = _fit(MLPClassifier((8,), max_iter=300, random_state=0), 3)
    model = zkgrad.from_sklearn(estimator, x[:32])
    assert model.zk
    proof = model.prove(x[0])
    assert int(np.argmax(zkgrad.verify(model, proof))) == int(estimator.predict(x[:1])[0])


def test_zk_off_is_refused_with_one_clear_error() -> None:
    estimator, x = _fit(LogisticRegression(max_iter=300), 3)
    with pytest.raises(
        zkgrad.ModelError,
        match=r"^zero knowledge is always on since proof format 6; zk=False was removed$",
    ):
        zkgrad.from_sklearn(estimator, x[:32], zk=False)


def test_a_tanh_mlp_proves_through_its_lookup_and_a_tree_lists_its_nodes() -> None:
    # skl2onnx writes a Tanh node for activation="tanh": proved by a lookup in its table.
    estimator, x = _fit(MLPClassifier((8,), activation="tanh", max_iter=200, random_state=0), 3)
    model = zkgrad.from_sklearn(estimator, x[:64])
    proof = model.prove(x[0])
    assert int(np.argmax(zkgrad.verify(model, proof))) == int(estimator.predict(x[:1])[0])
    tree, x = _fit(DecisionTreeClassifier(max_depth=3, random_state=0), 3)
    with pytest.raises(zkgrad.UnsupportedModelError) as info:
        zkgrad.from_sklearn(tree, x[:16])
    assert "TreeEnsembleClassifier" in {node.op_type for node in info.value.nodes}


def test_unfitted_estimator_is_one_clear_error() -> None:
    x, _ = _data(3)
    for estimator, name in [
        (MLPClassifier((8,)), "MLPClassifier"),
        (make_pipeline(StandardScaler(), LogisticRegression()), "Pipeline"),
    ]:
        with pytest.raises(zkgrad.ModelError) as info:
            zkgrad.from_sklearn(estimator, x[:16])
        assert str(info.value) == f"the {name} is not fitted: call its fit(X, y) first"


def test_sample_of_the_wrong_width_is_one_clear_error() -> None:
    estimator, x = _fit(LogisticRegression(max_iter=300), 3)
    with pytest.raises(zkgrad.ModelError) as info:
        zkgrad.from_sklearn(estimator, x[:16, :4])
    assert not isinstance(info.value, zkgrad.UnsupportedModelError)
    assert str(info.value) == (
        f"sample has 4 features per row, but the LogisticRegression was fitted on {FEATURES}"
    )


def test_sample_must_be_real_rows_and_estimator_an_estimator() -> None:
    estimator, x = _fit(LogisticRegression(max_iter=300), 3)
    with pytest.raises(zkgrad.ModelError, match=r"^sample: complex values are not supported"):
        zkgrad.from_sklearn(estimator, x[:16] + 1j)
    with pytest.raises(TypeError, match="takes a fitted scikit-learn estimator or Pipeline, not"):
        zkgrad.from_sklearn(x, x[:16])


def test_folded_scaler_over_features_of_different_magnitudes_warns() -> None:
    x, y = _data(3)
    x = (x * np.logspace(-3, 3, FEATURES)).astype(np.float32)  # raw features, very unequal
    estimator = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(x, y)
    with pytest.warns(zkgrad.QuantizationWarning, match="standardise the input") as caught:
        model = zkgrad.from_sklearn(estimator, x[:64])
    message = str(caught[0].message)
    assert "layer 'LinearClassifier' (Dense" in message  # the Gemm the scaler was folded into
    assert model.report.warning == message


class _Handmade(ClassifierMixin, BaseEstimator):
    """A fitted estimator skl2onnx has no converter for."""

    def fit(self, x: np.ndarray, y: np.ndarray) -> _Handmade:
        self.n_features_in_ = x.shape[1]
        self.classes_ = np.unique(y)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return (x[:, 0] > 0).astype(int)


def test_estimator_without_a_converter_is_unsupported_not_a_runtime_error() -> None:
    x, y = _data(2)
    with pytest.raises(zkgrad.UnsupportedModelError) as info:
        zkgrad.from_sklearn(_Handmade().fit(x, y), x[:8])
    assert str(info.value).startswith(
        "model is not supported: skl2onnx cannot convert the _Handmade"
    )

"""Make the demo assets in python/zkgrad/assets/ (run once; the outputs are committed).

Data: the Breast Cancer Wisconsin (Diagnostic) data set (UCI, CC BY 4.0), loaded
from the copy scikit-learn ships. Model: an MLP 30-16-8-2 with ReLU, trained
here in numpy (full-batch Adam, softmax cross-entropy) on standardised features,
written as ONNX with onnx.helper (Gemm + Relu).

Needs numpy, onnx and scikit-learn (for the data only), e.g. in a scratch venv:

    python3 -m venv /tmp/demo-venv
    /tmp/demo-venv/bin/pip install numpy onnx scikit-learn
    /tmp/demo-venv/bin/python scripts/make_demo_assets.py
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_breast_cancer

ASSETS = Path(__file__).resolve().parent.parent / "python" / "zkgrad" / "assets"
SIZES = (30, 16, 8, 2)
SEED = 0
EPOCHS = 400
LEARNING_RATE = 0.01
WEIGHT_DECAY = 1e-3


def split(labels: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Stratified 80/20 split of row indices."""
    train, test = [], []
    for label in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == label))
        cut = round(0.8 * len(rows))
        train.extend(rows[:cut])
        test.extend(rows[cut:])
    return np.sort(np.array(train)), np.sort(np.array(test))


def forward(params: list[np.ndarray], x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Logits and the input of every layer (for backprop)."""
    acts = [x]
    for i in range(0, len(params), 2):
        z = acts[-1] @ params[i].T + params[i + 1]
        acts.append(np.maximum(z, 0.0) if i + 2 < len(params) else z)
    return acts[-1], acts[:-1]


def train(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """Full-batch Adam on softmax cross-entropy with a little weight decay."""
    params: list[np.ndarray] = []
    for fan_in, fan_out in itertools.pairwise(SIZES):
        params.append(rng.normal(0.0, np.sqrt(2.0 / fan_in), (fan_out, fan_in)))
        params.append(np.zeros(fan_out))
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    onehot = np.eye(SIZES[-1])[y]
    for step in range(1, EPOCHS + 1):
        logits, acts = forward(params, x)
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        delta = (probs - onehot) / len(x)
        grads: list[np.ndarray] = [np.empty(0)] * len(params)
        for layer in reversed(range(len(params) // 2)):
            grads[2 * layer] = delta.T @ acts[layer] + WEIGHT_DECAY * params[2 * layer]
            grads[2 * layer + 1] = delta.sum(axis=0)
            if layer:
                delta = (delta @ params[2 * layer]) * (acts[layer] > 0)
        for i, g in enumerate(grads):
            m[i] = 0.9 * m[i] + 0.1 * g
            v[i] = 0.999 * v[i] + 0.001 * g * g
            m_hat = m[i] / (1 - 0.9**step)
            v_hat = v[i] / (1 - 0.999**step)
            params[i] -= LEARNING_RATE * m_hat / (np.sqrt(v_hat) + 1e-8)
    return params


def to_onnx(params: list[np.ndarray]) -> onnx.ModelProto:
    """Gemm (transB=1, PyTorch's export layout) + Relu, dynamic batch dimension."""
    nodes, inits = [], []
    x = "features"
    layers = len(params) // 2
    for i in range(layers):
        w, b = f"fc{i + 1}.weight", f"fc{i + 1}.bias"
        inits += [
            numpy_helper.from_array(params[2 * i].astype(np.float32), w),
            numpy_helper.from_array(params[2 * i + 1].astype(np.float32), b),
        ]
        out = "logits" if i == layers - 1 else f"/fc{i + 1}/Gemm_output_0"
        nodes.append(
            helper.make_node(
                "Gemm", [x, w, b], [out], name=f"/fc{i + 1}/Gemm", alpha=1.0, beta=1.0, transB=1
            )
        )
        x = out
        if i < layers - 1:
            relu = f"/relu{i + 1}/Relu_output_0"
            nodes.append(helper.make_node("Relu", [x], [relu], name=f"/relu{i + 1}/Relu"))
            x = relu
    graph = helper.make_graph(
        nodes,
        "breast_cancer_mlp",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", SIZES[0]])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", SIZES[-1]])],
        inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17)],
        producer_name="zkgrad scripts/make_demo_assets.py",
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main() -> None:
    data = load_breast_cancer()
    rng = np.random.default_rng(SEED)
    train_rows, test_rows = split(data.target, rng)
    mean = data.data[train_rows].mean(axis=0)
    std = data.data[train_rows].std(axis=0)
    z = (data.data - mean) / std
    params = train(z[train_rows], data.target[train_rows], rng)
    accuracy = {
        name: float((forward(params, z[rows])[0].argmax(axis=1) == data.target[rows]).mean())
        for name, rows in (("train", train_rows), ("test", test_rows))
    }
    ASSETS.mkdir(parents=True, exist_ok=True)
    onnx.save(to_onnx(params), ASSETS / "breast_cancer_mlp.onnx")
    records = {
        "description": "Held-out test rows of the Breast Cancer Wisconsin (Diagnostic) data set; "
        "the model takes (features - mean) / std.",
        "source": "UCI Machine Learning Repository, doi:10.24432/C5DW2B (CC BY 4.0), "
        "via sklearn.datasets.load_breast_cancer",
        "feature_names": [str(name) for name in data.feature_names],
        "label_names": [str(name) for name in data.target_names],
        "mean": [round(float(v), 6) for v in mean],
        "std": [round(float(v), 6) for v in std],
        "float_accuracy": accuracy,
        "rows": [int(r) for r in test_rows],
        "features": [[float(f"{v:.6g}") for v in data.data[r]] for r in test_rows],
        "labels": [int(data.target[r]) for r in test_rows],
    }
    lines = [
        f" {json.dumps(key)}: {json.dumps(value)}"
        for key, value in records.items()
        if key != "features"
    ]
    rows = ",\n  ".join(json.dumps(row) for row in records["features"])
    lines.append(f' "features": [\n  {rows}\n ]')
    (ASSETS / "records.json").write_text("{\n" + ",\n".join(lines) + "\n}\n")
    print(
        f"train accuracy {accuracy['train']:.3f}, test accuracy {accuracy['test']:.3f}, "
        f"{len(test_rows)} test records written to {ASSETS}"
    )


if __name__ == "__main__":
    main()

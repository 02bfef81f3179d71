"""Every model of EZKL's example corpus is either described or rejected with one clear error.

The corpus lives outside the repository: ``$ZKGRAD_CORPUS``, or ``../shared/corpus/ezkl_examples``
next to the repository root. Without it these tests are skipped. For each ``network.onnx``,
``zkgrad.inspect`` must describe the model or raise a single ``UnsupportedModelError`` that names
every unsupported node (name and op type), and nothing else; the supported models must compile,
prove and verify on their ``input.json``.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import pytest

import zkgrad
from zkgrad import UnsupportedModelError
from zkgrad.inputs import read_inputs
from zkgrad.onnx import SUPPORTED_OPS
from zkgrad.reference import run_float

REPO = Path(__file__).resolve().parent.parent

#: Corpus models known to import; a change that drops one of them is a regression.
KNOWN_SUPPORTED = {
    "1l_max_pool",
    "layernorm",
    "1l_var",
    "1l_upsample",
    "1l_conv_transpose",
    "1l_conv",
    "1l_downsample",
    "1l_softmax",
    "softsign",
    "3l_relu_conv_fc",
    "4l_relu_conv_fc",
    "variable_cnn",
    "1l_linear",
    "1l_mlp",
    "2l_relu_fc",
    "accuracy",
    "eye",
    "linear_regression",
    "quantize_dequantize",
    "sklearn_mlp",
    # (1l_instance_norm imports too, but proves only calibrated: its input's variance, about
    # 5e-4, puts 1/σ beyond the range an uncalibrated table assumes.)
    "boolean_identity",
    "1l_where",
    "linear_svc",
    "large_op_graph",
    "less",
    "ltsf",
    "rounding_ops",
    "tutorial",
    "decision_tree",
    "hummingbird_decision_tree",
    "xgboost",
    "boolean",
    "gather_elements",
    "1l_gelu_tanh_appx",
    "lstm",
    "rnn",
    "1l_topk",
}


def corpus_dir() -> Path | None:
    """The corpus folder, or None when this checkout has none."""
    env = os.environ.get("ZKGRAD_CORPUS")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "corpus" / "ezkl_examples")
    for candidate in candidates:
        if candidate.is_dir() and any(candidate.glob("*/network.onnx")):
            return candidate
    return None


CORPUS = corpus_dir()
MODELS = sorted(p.parent.name for p in CORPUS.glob("*/network.onnx")) if CORPUS else []
needs_corpus = pytest.mark.skipif(
    CORPUS is None, reason="EZKL corpus not found (set ZKGRAD_CORPUS or add ../shared/corpus)"
)


def _manifest() -> dict[str, dict[str, object]]:
    if CORPUS is None or not (CORPUS / "MANIFEST.json").is_file():
        return {}
    return json.loads((CORPUS / "MANIFEST.json").read_text())


def _data_nodes(model: onnx.ModelProto) -> set[int]:
    """Nodes whose value depends on a model input (a Shape's output counts as a constant)."""
    graph = model.graph
    live = {vi.name for vi in graph.input} - {init.name for init in graph.initializer}
    found = set()
    for index, node in enumerate(graph.node):
        if node.op_type != "Shape" and any(name in live for name in node.input):
            found.add(index)
            live.update(node.output)
    return found


def _node_names(model: onnx.ModelProto) -> list[tuple[str, str]]:
    return [
        (node.name or f"{node.op_type}_{index}", node.op_type)
        for index, node in enumerate(model.graph.node)
    ]


def _outcome(name: str) -> tuple[zkgrad.Description | None, UnsupportedModelError | None]:
    assert CORPUS is not None
    try:
        return zkgrad.inspect(CORPUS / name / "network.onnx"), None
    except UnsupportedModelError as exc:
        return None, exc


@needs_corpus
@pytest.mark.parametrize("name", MODELS or ["none"])
def test_corpus_model_is_described_or_cleanly_rejected(name: str) -> None:
    assert CORPUS is not None
    model = onnx.load(str(CORPUS / name / "network.onnx"))
    nodes = _node_names(model)
    info, error = _outcome(name)  # any other exception fails the test
    if error is None:
        assert info is not None and info.supported
        assert all(row.supported for row in info.ops)
    else:
        listed = [(node.name, node.op_type) for node in error.nodes]
        assert len(set(listed)) == len(listed), "a node is listed twice"
        assert set(listed) <= set(nodes), "a listed node is not in the model"
        must_list = {
            nodes[i]
            for i in _data_nodes(model)
            if nodes[i][1] not in SUPPORTED_OPS and nodes[i][1] not in ("Shape", "Constant")
        }
        assert must_list <= set(listed), f"not listed: {sorted(must_list - set(listed))}"
        assert listed or error.problems, "an error that names nothing"
        message = str(error)
        for node_name, op_type in listed:
            assert f"'{node_name}'" in message and f"  {op_type} ×" in message
        info = error.description  # type: ignore[attr-defined]
    expected = _manifest().get(name)
    if expected is not None:
        assert info.params == expected["params"]
        counts = {row.op_type: row.count for row in info.ops}
        assert counts == expected["ops"]


@needs_corpus
def test_corpus_summary() -> None:
    supported, rejected = [], []
    unsupported_ops: Counter[str] = Counter()
    for name in MODELS:
        _, error = _outcome(name)
        if error is None:
            supported.append(name)
        else:
            rejected.append(name)
            unsupported_ops.update({node.op_type for node in error.nodes})
    print(f"\ncorpus: {len(supported)} supported, {len(rejected)} rejected of {len(MODELS)}")
    print(f"supported: {', '.join(supported)}")
    print(f"most common unsupported ops (models): {unsupported_ops.most_common(10)}")
    assert set(KNOWN_SUPPORTED) <= set(supported)


@needs_corpus
@pytest.mark.parametrize("name", sorted(KNOWN_SUPPORTED))
def test_supported_corpus_model_proves_its_input(name: str) -> None:
    assert CORPUS is not None
    folder = CORPUS / name
    model = zkgrad.compile(folder / "network.onnx")
    x = read_inputs(folder / "input.json", model.input_names)  # one entry per model input
    proof = model.prove(x)
    verified = zkgrad.verify(model, proof)
    graph, onnx_model = zkgrad.onnx.import_onnx(folder / "network.onnx")
    sample, _ = model.samples(x)
    names = [n for n, _ in graph.named_outputs] or [graph.onnx_output]
    floats = run_float(onnx_model, sample, names)
    got = verified if isinstance(verified, dict) else {names[0]: verified}
    for output in names:
        expected = np.asarray(floats[output][0])
        scale = max(1.0, float(np.max(np.abs(expected))))
        error = float(np.max(np.abs(np.asarray(got[output]).reshape(-1) - expected.reshape(-1))))
        assert error < 0.02 * scale, output

"""The float graph run in numpy (zkgrad.float_run, which calibrates the tensors the importer
makes itself) agrees with onnxruntime on every tensor both have, for CNNs (conv, average and
max pooling, batch norm folded, ReLU) and for a softmax and a layer norm."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import cnn_models
import test_norm
import test_softmax
from zkgrad.float_run import run_graph, synthetic_max
from zkgrad.onnx import import_onnx
from zkgrad.reference import run_float
from zkgrad.report import compared_tensors

RNG = np.random.default_rng(43)

BUILDS = {
    "lenet": lambda p: cnn_models.lenet(p / "lenet.onnx"),
    "gap_cnn": lambda p: cnn_models.gap_cnn(p / "gap.onnx"),
    "one channel conv": lambda p: cnn_models.one_channel_conv(p / "one.onnx"),
    "softmax": lambda p: test_softmax._model(p, [1, 10], None),
    "layer norm": lambda p: test_norm.layer_norm(p, [1, 4, 6]),
}


@pytest.mark.parametrize("name", list(BUILDS))
def test_the_float_graph_agrees_with_onnxruntime(tmp_path: Path, name: str) -> None:
    graph, onnx_model = import_onnx(BUILDS[name](tmp_path))
    samples = RNG.normal(0, 1, (3, *graph.input_shape[1:]))[:, None]
    names = compared_tensors(graph)
    floats = run_float(onnx_model, samples, [*names, graph.onnx_output])
    for i, sample in enumerate(samples):
        values = run_graph(graph, sample)
        pairs = [(t, floats[t][i]) for t in names] + [(graph.output, floats[graph.onnx_output][i])]
        for tensor, want in pairs:
            np.testing.assert_allclose(
                values[tensor].reshape(-1), want.reshape(-1), atol=1e-4, err_msg=tensor
            )
    peaks = synthetic_max(graph, samples)
    assert all(":" in t for t in peaks)

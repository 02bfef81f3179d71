"""Shared fixtures: test ONNX models on disk and compiled models (compiled once per session)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

# The suite proves many times with one compiled model, past the weight commitment's
# zero-knowledge budget: tests go on with a warning (tests/test_budget.py checks the default).
os.environ["ZKGRAD_ZK_BUDGET"] = "warn"

import models
import zkgrad

CALIBRATION_SAMPLES = 16


@pytest.fixture(scope="session")
def onnx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx")


@pytest.fixture(scope="session")
def onnx_path(onnx_dir: Path) -> Callable[[str], Path]:
    """Build (once) and return the path of a test model by name."""

    def build(name: str) -> Path:
        path = onnx_dir / f"{name}.onnx"
        if not path.exists():
            builder = getattr(models, name)
            builder(path)
        return path

    return build


@pytest.fixture(scope="session")
def compiled(onnx_path: Callable[[str], Path]) -> Callable[[str], tuple[zkgrad.Model, np.ndarray]]:
    """Compile (once) a test model with calibration data; returns (model, sample inputs)."""
    cache: dict[str, tuple[zkgrad.Model, np.ndarray]] = {}

    def get(name: str) -> tuple[zkgrad.Model, np.ndarray]:
        if name not in cache:
            path = onnx_path(name)
            graph_shape = _input_shape(path)
            samples = models.sample_inputs(graph_shape, CALIBRATION_SAMPLES, seed=1)
            cache[name] = (zkgrad.compile(path, calibration=samples), samples)
        return cache[name]

    return get


def _input_shape(path: Path) -> tuple[int, ...]:
    from zkgrad.onnx import import_onnx

    graph, _ = import_onnx(path)
    return graph.input_shape

"""The status line of long commands: shown on a terminal after the delay, never otherwise."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from rich.console import Console

import models
import zkgrad
from zkgrad.progress import Activity


def _terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=100), out


def test_slow_work_shows_the_label_and_step() -> None:
    console, out = _terminal()
    with Activity(console, "proving", delay=0.05) as activity:
        activity.update("step two")
        time.sleep(0.4)
        assert activity.shown
    assert "proving: step two" in out.getvalue()


def test_quick_work_shows_nothing() -> None:
    console, out = _terminal()
    with Activity(console, "proving", delay=5.0) as activity:
        activity.update("almost nothing")
    assert not activity.shown
    assert out.getvalue() == ""


def test_not_a_terminal_shows_nothing() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False)
    with Activity(console, "compiling", delay=0.0) as activity:
        time.sleep(0.1)
    assert not activity.shown
    assert out.getvalue() == ""


def test_compile_reports_its_steps(onnx_path: Callable[[str], Path]) -> None:
    steps: list[str] = []
    samples = models.sample_inputs((1, 64), 4)
    model = zkgrad.compile(onnx_path("matmul_add"), samples, progress=steps.append)
    assert steps == [
        "importing the ONNX model",
        "running onnxruntime on 4 samples",
        "quantising",
        "measuring the accuracy on 4 samples",
        "committing to the weights",
    ]
    assert np.asarray(model.run(samples[0])).shape == model.output_shape

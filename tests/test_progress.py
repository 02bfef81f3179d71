"""The status line of long commands: shown on a terminal after the delay, never otherwise."""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

import models
import zkgrad
from zkgrad.progress import DELAY_ENV, DELAY_S, Activity


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


def test_a_stage_with_counts_shows_them_and_a_bar() -> None:
    console, out = _terminal()
    with Activity(console, "proving", delay=0.0) as activity:
        time.sleep(0.2)
        activity.stage("sumchecks", done=3, total=7)
        assert (activity.done, activity.total) == (3, 7)
        time.sleep(0.3)
        activity.stage("openings")
        assert (activity.done, activity.total) == (None, None)
        time.sleep(0.3)
    text = out.getvalue()
    assert "proving: sumchecks 3/7" in text
    assert "proving: openings" in text
    assert "━" in text  # the bar


def test_counts_past_the_total_are_clamped() -> None:
    console, _ = _terminal()
    activity = Activity(console, "proving", delay=5.0)
    activity.stage("witness", done=9, total=4)
    assert activity.text == "proving: witness 4/4"


def test_the_delay_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DELAY_ENV, "0.25")
    assert Activity(Console(), "x").delay == 0.25
    monkeypatch.setenv(DELAY_ENV, "soon")
    assert Activity(Console(), "x").delay == DELAY_S


def test_prove_of_a_batch_shows_its_stages_on_a_terminal(tmp_path: Path) -> None:
    """Through the real entry point, with stderr on a pseudo-terminal."""
    demo = subprocess.run(
        [sys.executable, "-m", "zkgrad", "demo", "--out", str(tmp_path)],
        capture_output=True,
        check=False,
    )
    assert demo.returncode == 0
    record = json.loads((tmp_path / "input.json").read_text())["input_data"][0]
    np.save(tmp_path / "batch.npy", np.array([record] * 32))
    leader, follower = pty.openpty()
    env = {**os.environ, DELAY_ENV: "0", "TERM": "xterm", "COLUMNS": "120"}
    args = ["prove", str(tmp_path / "model.zkg"), str(tmp_path / "batch.npy")]
    with subprocess.Popen(
        [sys.executable, "-m", "zkgrad", *args, "-o", str(tmp_path / "b.zkp")],
        stdout=subprocess.DEVNULL,
        stderr=follower,
        env=env,
    ) as child:
        os.close(follower)
        seen = _read_all(leader)
        assert child.wait() == 0
    os.close(leader)
    native = [f"32 inputs in one proof: {s}" for s in ("witness", "commitments", "sumchecks")]
    for stage in ("checking the input", *native, "writing the proof"):
        assert f"proving: {stage}" in seen, stage
    assert "32 inputs in one proof: openings 3/4" in seen


def _read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")

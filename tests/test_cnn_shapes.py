"""``benches/cnn_shapes.py`` (issue 14's VGG-16 and ResNet-18 shapes) at widths ÷ 16: the
harness builds a ResNet-18 with strided 1×1 shortcut convs and identity shortcuts, compiles,
proves twice and verifies it in watched child processes, and the verified output matches
onnxruntime's. The full-size models are `make bench-cnn`'s, never the tests'."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "benches" / "cnn_shapes.py"


def _run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_stated_parameter_and_multiply_add_counts_are_the_built_ones() -> None:
    out = _run("--counts", "--div", "1")
    assert "vgg16 ÷1: 15,245,130 params, 313,725,952 multiply-adds" in out
    assert "resnet18 ÷1: 11,169,162 params, 555,422,720 multiply-adds" in out


def test_a_resnet18_at_a_sixteenth_of_its_width_proves_and_matches_onnxruntime(
    tmp_path: Path,
) -> None:
    _run(
        "--models", "resnet18", "--div", "16", "--calibration", "2",
        "--python", sys.executable, "--out", str(tmp_path), "--mem-limit-gb", "4",
    )  # fmt: skip
    (record,) = json.loads((tmp_path / "cnn_shapes.json").read_text())
    assert [s["status"] for s in record["steps"].values()] == ["ok"] * 4
    assert record["steps"]["prove"]["info"]["proof_bytes"] > 0
    assert record["top1_same"] and record["max_rel_err"] < 0.05

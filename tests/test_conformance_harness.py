"""`make conformance` (benches/conformance.py) on a few node tests, so the harness keeps working.

The full run is not part of `make test`; these run the script through its command line on two of
ONNX's own node tests, and on node-test directories written here in ONNX's layout, one of them
with a deliberately wrong expected output that the harness must count as a wrong answer.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SCRIPT = Path(__file__).resolve().parent.parent / "benches" / "conformance.py"


def run_harness(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], Any, str]:
    out, raw = tmp_path / "CONFORMANCE.md", tmp_path / "outcomes.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), "--json", str(raw), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done, json.loads(raw.read_text()), out.read_text()


def by_form(outcomes: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["test"], o["mode"]): o for o in outcomes}


def test_onnx_node_tests_gemm_and_relu_pass_adapted(tmp_path: Path) -> None:
    done, outcomes, report = run_harness(tmp_path, "--tests", "test_gemm_transposeB,test_relu")
    found = by_form(outcomes)
    gemm = found[("test_gemm_transposeB", "adapted")]
    assert gemm["status"] == "passed", gemm
    assert gemm["op"] == "Gemm"
    assert 0 < gemm["max_error"] <= gemm["bound"]
    # As given, B and C are graph inputs with A, which has a fixed batch of 3: refused, each
    # reason named (B's leading dimension, 4, is read as a batch too).
    given = found[("test_gemm_transposeB", "as given")]
    assert given["status"] == "unsupported"
    assert any("'a' has batch size 3" in reason for reason in given["reasons"]), given
    assert any("'b' has batch size 4" in reason for reason in given["reasons"]), given
    # A Relu on the model input is proved through a copy block (y = x, then the ReLU).
    relu = found[("test_relu", "adapted")]
    assert relu["status"] == "passed", relu
    assert "| best of all | 2 | 2 | 0 | 0 | 0 |" in report, report
    assert "| Gemm | 1 | 0 / 1 / — | 0 / 0 / — | 1 / 0 / — | 0 / 0 / — |" in report
    assert "2 tests: 2 passed, 0 failed, 0 unsupported, 0 error" in done.stdout


def write_node_test(root: Path, name: str, wrong_by: float) -> None:
    """A Gemm node test in ONNX's directory layout (model.onnx, test_data_set_0/*.pb) whose
    expected output is off by ``wrong_by`` at element [1, 2]."""
    rng = np.random.default_rng(7)
    a = rng.standard_normal((2, 4)).astype(np.float32)
    b = rng.standard_normal((4, 3)).astype(np.float32)
    c = rng.standard_normal((3,)).astype(np.float32)
    y = a @ b + c
    y[1, 2] += wrong_by
    node = helper.make_node("Gemm", ["a", "b", "c"], ["y"])
    graph = helper.make_graph(
        [node],
        name,
        [
            helper.make_tensor_value_info("a", TensorProto.FLOAT, [2, 4]),
            helper.make_tensor_value_info("b", TensorProto.FLOAT, [4, 3]),
            helper.make_tensor_value_info("c", TensorProto.FLOAT, [3]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    data = root / name / "test_data_set_0"
    data.mkdir(parents=True)
    onnx.save(model, str(root / name / "model.onnx"))
    for index, (array, tensor) in enumerate([(a, "a"), (b, "b"), (c, "c")]):
        onnx.save_tensor(numpy_helper.from_array(array, tensor), str(data / f"input_{index}.pb"))
    onnx.save_tensor(numpy_helper.from_array(y, "y"), str(data / "output_0.pb"))


def test_a_wrong_expected_output_is_counted_as_a_wrong_answer(tmp_path: Path) -> None:
    node_dir = tmp_path / "node"
    write_node_test(node_dir, "test_gemm_right", wrong_by=0.0)
    write_node_test(node_dir, "test_gemm_wrong", wrong_by=0.5)
    _, outcomes, report = run_harness(tmp_path, "--data", str(node_dir), "--ops", "Gemm")
    found = by_form(outcomes)
    assert found[("test_gemm_right", "adapted")]["status"] == "passed"
    wrong = found[("test_gemm_wrong", "adapted")]
    assert wrong["status"] == "failed"
    assert wrong["detail"].startswith("element [1, 2]: verified"), wrong
    assert wrong["max_error"] > wrong["bound"]
    assert "- `test_gemm_wrong` (Gemm, adapted): failed: element [1, 2]" in report


def test_a_test_past_its_timeout_is_an_error_not_a_hang(tmp_path: Path) -> None:
    node_dir = tmp_path / "node"
    write_node_test(node_dir, "test_gemm_slow", wrong_by=0.0)
    _, outcomes, _ = run_harness(tmp_path, "--data", str(node_dir), "--timeout", "0.001")
    assert {o["status"] for o in outcomes} == {"error"}
    assert all(o["detail"] == "timed out after 0.001 s" for o in outcomes)

"""``benches/corpus.py`` (``make corpus``) on a small corpus built here: one model that proves,
one that does not import, one without ``input.json``, and a time limit that kills a model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

import models

REPO = Path(__file__).resolve().parent.parent


def _corpus(root: Path) -> Path:
    """``<root>/<model>/network.onnx`` (+ ``input.json``) like EZKL's example folders."""
    for name, builder in (("mlp", models.matmul_add), ("many", models.many_unsupported)):
        (root / name).mkdir(parents=True)
        builder(root / name / "network.onnx")
    x = np.random.default_rng(3).random(64)
    (root / "mlp" / "input.json").write_text(json.dumps({"input_data": [x.tolist()]}))
    (root / "no_input").mkdir()
    models.matmul_add(root / "no_input" / "network.onnx")
    return root


def _run(corpus: Path, out: Path, *args: str) -> dict[str, dict[str, object]]:
    script = str(REPO / "benches" / "corpus.py")
    files = ["--out", str(out / "CORPUS.md"), "--json", str(out / "corpus.json")]
    done = subprocess.run(
        [sys.executable, script, "--corpus", str(corpus), *files, *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return {r["model"]: r for r in json.loads((out / "corpus.json").read_text())["models"]}


def test_corpus_runner_reports_each_stage_and_the_blocking_ops(tmp_path: Path) -> None:
    records = _run(_corpus(tmp_path / "corpus"), tmp_path)
    mlp = records["mlp"]
    assert mlp["passed"] == ["import", "compile", "prove", "verify"]
    assert mlp["input"] == "input.json"
    assert 0 <= mlp["max_relative_error"] < 0.02 and mlp["proof_bytes"] > 0
    assert records["no_input"]["input"] == "synthetic N(0,1)"
    many = records["many"]
    assert many["passed"] == [] and many["stage"] == "import"
    assert many["error"].startswith("model is not supported: 7 unsupported nodes (Hardmax ×2")
    assert many["blockers"] == ["Asinh", "Atanh", "Conv", "Gemm", "Hardmax", "MaxPool"]
    text = (tmp_path / "CORPUS.md").read_text()
    assert "**2 of 3 prove and verify** with zero knowledge" in text
    assert "| Hardmax | 1 | 0 | many |" in text
    assert "| Gemm | transA=1 is not supported | 1 | many |" in text


def test_a_model_past_the_time_limit_is_killed_and_the_run_goes_on(tmp_path: Path) -> None:
    records = _run(_corpus(tmp_path / "corpus"), tmp_path, "--timeout", "0.2")
    assert set(records) == {"mlp", "many", "no_input"}
    for record in records.values():
        assert str(record["error"]).startswith("killed: still running after 0.2 s")
    text = (tmp_path / "CORPUS.md").read_text()
    assert "**0 of 3 prove and verify**" in text

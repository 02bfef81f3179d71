"""The bundled demo: assets are present and consistent, and `zkgrad demo` runs end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from zkgrad.cli import app
from zkgrad.demo import MODEL_ASSET, asset_path, load_records
from zkgrad.onnx import import_onnx


def test_assets_are_consistent() -> None:
    records = load_records()
    assert records.inputs.shape == (len(records.labels), 30)
    assert set(np.unique(records.labels)) == {0, 1}
    assert records.label_names == ["malignant", "benign"]
    with asset_path(MODEL_ASSET) as path:
        graph, _ = import_onnx(path)
    assert graph.input_shape == (1, 30) and graph.output_shape == (1, 2)
    assert graph.num_params() == 30 * 16 + 16 + 16 * 8 + 8 + 8 * 2 + 2


def test_demo_command(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--record", "3", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for text in ("valid", "prediction", "true label", "proof size", "soundness"):
        assert text in result.output
    for name in ("model.zkg", "proof.zkp", "input.json"):
        assert (tmp_path / name).is_file()
    verify = CliRunner().invoke(
        app, ["verify", str(tmp_path / "model.zkg"), str(tmp_path / "proof.zkp")]
    )
    assert verify.exit_code == 0, verify.output


def test_demo_rejects_bad_record() -> None:
    result = CliRunner().invoke(app, ["demo", "--record", "100000"])
    assert result.exit_code == 2

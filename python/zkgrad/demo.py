"""``zkgrad demo``: compile, prove and verify the bundled breast-cancer classifier.

The model (MLP 30-16-8-2, ReLU) and held-out records of the Breast Cancer
Wisconsin (Diagnostic) data set live in ``zkgrad/assets`` (see its README).
The model takes standardised features; standardisation happens before the
proof, with the public mean and std stored next to the records.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import zkgrad
from zkgrad.model import Model

MODEL_ASSET = "breast_cancer_mlp.onnx"
RECORDS_ASSET = "records.json"


@dataclass
class Records:
    """The bundled held-out records, standardised for the model."""

    inputs: np.ndarray
    labels: np.ndarray
    label_names: list[str]
    meta: dict[str, Any]


@contextmanager
def asset_path(name: str) -> Iterator[Path]:
    """A real file path for a bundled asset."""
    with resources.as_file(resources.files("zkgrad") / "assets" / name) as path:
        yield Path(path)


def load_records() -> Records:
    """Read the bundled records and standardise them with the stored mean and std."""
    with asset_path(RECORDS_ASSET) as path:
        data = json.loads(path.read_text())
    raw = np.asarray(data["features"], dtype=np.float64)
    inputs = (raw - np.asarray(data["mean"])) / np.asarray(data["std"])
    return Records(inputs, np.asarray(data["labels"]), list(data["label_names"]), data)


def _row(table: Table, key: str, value: object) -> None:
    table.add_row(key, escape(str(value)))


def run_demo(console: Console, record: int = 0, out_dir: Path | None = None) -> None:
    """Compile with the records as calibration data, prove one record, verify it."""
    records = load_records()
    if not 0 <= record < len(records.labels):
        raise ValueError(f"--record must be in 0..{len(records.labels) - 1}")
    with asset_path(MODEL_ASSET) as onnx_path:
        start = time.perf_counter()
        model = zkgrad.compile(onnx_path, calibration=records.inputs)
        compile_s = time.perf_counter() - start
    x = records.inputs[record]
    start = time.perf_counter()
    proof = model.prove(x)
    prove_s = time.perf_counter() - start
    start = time.perf_counter()
    verified = zkgrad.verify(model, proof)
    verify_s = time.perf_counter() - start

    predicted = int(np.argmax(verified))
    truth = int(records.labels[record])
    quantised = model.run(records.inputs).argmax(axis=1)
    table = Table(
        title="zkgrad demo: breast cancer (Wisconsin diagnostic) MLP 30-16-8-2", show_header=False
    )
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    _row(table, "model digest", model.digest)
    _row(table, "parameters", model.num_params)
    _row(table, "compile", f"{compile_s:.3f} s")
    _row(table, "quantisation error", _report_line(model.report))
    _row(table, "test accuracy (float)", f"{records.meta['float_accuracy']['test']:.3f}")
    _row(
        table,
        "test accuracy (quantised)",
        f"{float(np.mean(quantised == records.labels)):.3f} on {len(records.labels)} records",
    )
    _row(table, "proved record", f"#{record} (data set row {records.meta['rows'][record]})")
    _row(table, "prove", f"{prove_s:.3f} s")
    _row(table, "proof size", f"{proof.size} bytes")
    _row(table, "soundness", f"{model.soundness_bits:.1f} bits")
    _row(table, "zero knowledge", "yes")
    _row(table, "verify", f"{verify_s * 1000:.1f} ms: valid")
    _row(table, "verified logits", np.round(verified.reshape(-1), 4).tolist())
    _row(table, "prediction", records.label_names[predicted])
    _row(table, "true label", records.label_names[truth])
    console.print(table)
    if out_dir is not None:
        _save(console, model, proof, x, out_dir)


def _report_line(report: dict[str, Any]) -> str:
    if "max_abs_error" not in report:
        return str(report.get("error", "no report"))
    line = (
        f"max |Δ| {report['max_abs_error']:.4g}, mean |Δ| {report['mean_abs_error']:.4g} "
        f"over {report['samples']} samples"
    )
    if "argmax_agreement" in report:
        line += f", argmax agreement {report['argmax_agreement']:.3f}"
    return line


def _save(console: Console, model: Model, proof: zkgrad.Proof, x: np.ndarray, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "model.zkg")
    proof.save(out / "proof.zkp")
    (out / "input.json").write_text(json.dumps({"input_data": [x.reshape(-1).tolist()]}))
    console.print(f"wrote {escape(str(out))}/{{model.zkg,proof.zkp,input.json}}; try:")
    console.print(
        f"  zkgrad verify {escape(str(out / 'model.zkg'))} {escape(str(out / 'proof.zkp'))}"
    )

"""``make demo-evaluation`` end to end: three honest bundles verify to their true figures; the
two tampered copies of hospital C's bundle are rejected, each naming the check that failed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

pytest.importorskip("cryptography")

from zkgrad.demo import load_records
from zkgrad.demo_evaluation import HOSPITALS, run


def test_three_hospitals_and_a_tampered_bundle(tmp_path: Path) -> None:
    console = Console(record=True, width=120)
    results = run(tmp_path / "out", console)
    honest, tampered = results[:3], results[3:]
    labels = load_records().labels
    for h, (name, r) in enumerate(zip(HOSPITALS, honest, strict=True)):
        assert r.valid, r.reason
        assert r.statement is not None and r.enrollment is not None
        true_counts = np.bincount(labels[h :: len(HOSPITALS)], minlength=2)
        assert [lo for lo, _ in r.statement.class_counts] == true_counts.tolist()
        assert r.enrollment.owner == name
    assert sum(r.statement.rows for r in honest if r.statement) == len(labels)
    for r in honest:
        assert r.accuracy is not None and r.accuracy.rows == r.statement.rows  # type: ignore[union-attr]
        assert not r.accuracy.at_least and 0 < r.accuracy.correct <= r.accuracy.rows
    swapped, redated, inflated = tampered
    assert not swapped.valid and "property proof" in swapped.reason
    assert "is for dataset" in swapped.reason
    assert not redated.valid and "signature does not verify" in redated.reason
    assert not inflated.valid and inflated.reason.startswith("accuracy attestation:")
    assert (tmp_path / "out" / "evaluation.png").stat().st_size > 1000
    # the bundles hold public files only (the proof's epoch certificate is public too): no owner
    # file, no private key
    bundle_files = {p.suffix for p in (tmp_path / "out" / "bundles").rglob("*") if p.is_file()}
    assert bundle_files == {".pub", ".json", ".zkp", ".zke"}
    text = console.export_text()
    assert "pooled over the valid bundles: 113 records" in text
    assert "the model classifies" in text

"""Accuracy attestation from Python and the CLI: the bundled breast-cancer MLP on its held-out
records, committed as a dataset. An honest attestation verifies with the count the quantised
model reaches; a count edited in the proof, another dataset, another model and a dataset at the
wrong scale are refused, each with the reason."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import zkgrad
from zkgrad.attest import Attestation, verify_attestation
from zkgrad.cli import app
from zkgrad.demo import MODEL_ASSET, asset_path, load_records

ROWS = 40


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    records = load_records()
    with asset_path(MODEL_ASSET) as onnx:
        model = zkgrad.compile(onnx, calibration=records.inputs)
    x, y = records.inputs[:ROWS], records.labels[:ROWS].astype(np.int64)
    ds = zkgrad.Dataset.commit(x, y, scale_bits=model.input_scale_bits)
    # The count the quantised model reaches on the committed (quantised) rows.
    q = ds.features.astype(np.float64) / 2.0**model.input_scale_bits
    expected = int(np.sum(model.run(q).argmax(axis=1) == y))
    return {
        "model": model,
        "ds": ds,
        "x": x,
        "y": y,
        "expected": expected,
        "dir": tmp_path_factory.mktemp("attest"),
    }


def test_an_honest_attestation_states_the_models_count(setup: dict) -> None:
    model, ds = setup["model"], setup["ds"]
    att = model.attest(ds)
    st = verify_attestation(model.verifying_key(), ds.export_pub(), att)
    assert (st.rows, st.classes, st.correct) == (ROWS, 2, setup["expected"])
    assert st.model == model.digest and st.dataset == ds.digest
    assert zkgrad.verify(model, att) == st  # the attestation knows its dataset
    assert "classifies" in str(st)


def test_an_edited_count_is_rejected(setup: dict) -> None:
    model, ds = setup["model"], setup["ds"]
    att = model.attest(ds)
    claimed = att.claimed().correct
    for new in (claimed + 1, claimed - 1):
        edited = _with_count(att.data, claimed, new)
        with pytest.raises(zkgrad.InvalidProof, match="does not prove the stated accuracy"):
            verify_attestation(
                model,
                ds.export_pub(),
                Attestation(edited, att.epoch_certificate, None, att.dataset_certificate),
            )


def _with_count(data: bytes, old: int, new: int) -> bytes:
    """The proof with its stated count replaced: after the magic and version (6 bytes) come
    the two 32-byte digests, then rows, classes and the count as bincode varints (one byte
    each below 251)."""
    body = 6 + 32 + 32
    rows, classes, correct = data[body], data[body + 1], data[body + 2]
    assert (rows, classes, correct) == (ROWS, 2, old)
    return data[: body + 2] + bytes([new]) + data[body + 3 :]


def test_another_dataset_or_model_is_refused(setup: dict) -> None:
    model, ds = setup["model"], setup["ds"]
    att = model.attest(ds)
    other = zkgrad.Dataset.commit(setup["x"], setup["y"], scale_bits=model.input_scale_bits)
    with pytest.raises(zkgrad.InvalidProof, match="for dataset"):
        verify_attestation(model, other.export_pub(), att)
    records = load_records()
    with asset_path(MODEL_ASSET) as onnx:
        model2 = zkgrad.compile(onnx, calibration=records.inputs)
    with pytest.raises(zkgrad.InvalidProof, match="for model"):
        verify_attestation(model2, ds.export_pub(), att)


def test_a_dataset_at_another_scale_is_refused(setup: dict) -> None:
    model = setup["model"]
    ds = zkgrad.Dataset.commit(setup["x"], setup["y"])  # calibrated scales
    with pytest.raises(zkgrad.ModelError, match="model's input scale"):
        model.attest(ds)
    unlabelled = zkgrad.Dataset.commit(setup["x"], scale_bits=model.input_scale_bits)
    with pytest.raises(zkgrad.ModelError, match="no labels"):
        model.attest(unlabelled)


def test_the_cli_attests_and_verifies(setup: dict) -> None:
    model, ds, d = setup["model"], setup["ds"], setup["dir"]
    model.save(d / "m.zkg")
    model.export_vk(d / "m.vk")
    ds.save(d / "data.zkd")
    ds.export_pub(d / "data.pub")
    runner = CliRunner()
    r = runner.invoke(app, ["attest", str(d / "m.zkg"), str(d / "data.zkd"), "-o", str(d / "a")])
    assert r.exit_code == 0, r.output
    assert f"{setup['expected']} of {ROWS} rows" in r.output
    r = runner.invoke(
        app,
        [
            "attest",
            "verify",
            str(d / "a"),
            "--model",
            str(d / "m.vk"),
            "--dataset",
            str(d / "data.pub"),
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert (out["valid"], out["correct"], out["rows"]) == (True, setup["expected"], ROWS)
    # The keys docs/CLI.md lists for both modes.
    assert set(out) == {
        "ok",
        "valid",
        "model",
        "dataset",
        "rows",
        "classes",
        "correct",
        "at_least",
        "accuracy",
        "confusion",
        "seconds",
    }
    assert (out["model"], out["dataset"]) == (model.digest, ds.digest)
    assert (out["classes"], out["at_least"]) == (2, False)
    assert out["accuracy"] == pytest.approx(setup["expected"] / ROWS)
    r = runner.invoke(
        app,
        ["attest", str(d / "m.zkg"), str(d / "data.zkd"), "-o", str(d / "j"), "--json"],
    )
    assert r.exit_code == 0, r.output
    made = json.loads(r.stdout)
    assert set(made) == {
        "ok",
        "output",
        "bytes",
        "correct",
        "at_least",
        "rows",
        "used",
        "confusion",
        "seconds",
    }
    assert (made["output"], made["rows"]) == (str(d / "j"), ROWS)
    assert made["correct"] == setup["expected"]
    assert made["bytes"] == len(Attestation.load(d / "j")) and made["at_least"] is False
    assert made["used"] >= 2
    # Tampered: the count edited -> exit 1 with the reason.
    att = Attestation.load(d / "a")
    edited = _with_count(att.data, setup["expected"], setup["expected"] + 1)
    Attestation(edited, att.epoch_certificate, None, att.dataset_certificate).save(d / "bad")
    r = runner.invoke(
        app,
        [
            "attest",
            "verify",
            str(d / "bad"),
            "--model",
            str(d / "m.vk"),
            "--dataset",
            str(d / "data.pub"),
        ],
    )
    assert r.exit_code == 1 and "invalid proof" in r.output
    r = runner.invoke(
        app,
        ["attest", str(d / "m.zkg"), str(d / "data.zkd"), "-o", str(d / "t"), "--threshold", "0.9"],
    )
    assert r.exit_code == 0 and f"at least {math.ceil(0.9 * ROWS)} of {ROWS}" in r.output
    r = runner.invoke(
        app,
        [
            "attest",
            "verify",
            str(d / "t"),
            "--model",
            str(d / "m.vk"),
            "--dataset",
            str(d / "data.pub"),
        ],
    )
    assert r.exit_code == 0 and "at least" in r.output and "count is hidden" in r.output


def test_a_bundle_that_is_not_an_attestation_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x").write_bytes(b"ZKGD" + struct.pack("<Q", 3) + b"abc")
    with pytest.raises(zkgrad.InvalidProof, match="not a zkgrad accuracy attestation"):
        Attestation.load(tmp_path / "x")


def test_an_attestation_takes_two_numbers_of_one_dataset_epoch(
    setup: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An attestation opens its dataset epoch's leaf twice: it takes two consecutive proof
    # numbers of one epoch; a single number left at the end of an epoch is skipped, not reused.
    from zkgrad import _native

    monkeypatch.setenv("ZKGRAD_ZK_BUDGET", "enforce")
    model = setup["model"]
    ds = zkgrad.Dataset.commit(setup["x"], setup["y"], scale_bits=model.input_scale_bits)
    model.attest(ds)
    assert ds._ledger.count(ds.digest) == 2
    per_epoch = int(_native.dataset_epochs(ds.public.commitment)[0])
    for _ in range(per_epoch - 3):
        ds._ledger.spend(ds.digest, ds.budget, "the dataset commitment")
    assert ds._ledger.count(ds.digest) == per_epoch - 1  # one number left in epoch 0
    late = model.attest(ds)
    assert ds._ledger.count(ds.digest) == per_epoch + 2, "the last number of epoch 0 is skipped"
    assert zkgrad.verify_attestation(model, ds.public, late).rows == setup["x"].shape[0]


def test_a_threshold_attestation_hides_the_count(setup: dict) -> None:
    model, ds, expected = setup["model"], setup["ds"], setup["expected"]
    att = model.attest(ds, threshold=0.75)
    st = verify_attestation(model, ds.export_pub(), att)
    assert (st.at_least, st.correct) == (True, math.ceil(0.75 * ROWS))
    assert st.correct <= expected
    # Labels flipped on five rows: the model now misses some, so a threshold above its count
    # is refused before anything is proved.
    y = setup["y"].copy()
    y[:5] = 1 - y[:5]
    flipped = zkgrad.Dataset.commit(setup["x"], y, scale_bits=model.input_scale_bits)
    q = flipped.features.astype(np.float64) / 2.0**model.input_scale_bits
    reached = int(np.sum(model.run(q).argmax(axis=1) == y))
    assert reached < ROWS
    with pytest.raises(zkgrad.ModelError, match="fewer than"):
        model.attest(flipped, threshold=(reached + 1) / ROWS)
    with pytest.raises(zkgrad.ModelError, match="threshold must be"):
        model.attest(ds, threshold=1.5)


def test_altered_or_truncated_bytes_are_rejected_not_crashed(setup: dict) -> None:
    model, ds = setup["model"], setup["ds"]
    att = model.attest(ds)
    pub = ds.export_pub()
    rng = np.random.default_rng(7)
    data = att.data
    cuts = [6, 80, len(data) // 2, len(data) - 1]
    flips = rng.integers(6, len(data), size=12).tolist()
    for n in cuts:
        with pytest.raises(zkgrad.InvalidProof):
            verify_attestation(
                model,
                pub,
                Attestation(data[:n], att.epoch_certificate, None, att.dataset_certificate),
            )
    for i in flips:
        bad = bytearray(data)
        bad[i] ^= 0x5A
        with pytest.raises(zkgrad.InvalidProof):
            verify_attestation(
                model,
                pub,
                Attestation(bytes(bad), att.epoch_certificate, None, att.dataset_certificate),
            )


def test_a_confusion_matrix_is_proved_and_printed(setup: dict) -> None:
    """Labels flipped on five rows so that every cell can be nonzero: the verified matrix is
    the quantised model's, its diagonal the count; with a threshold it is refused."""
    model = setup["model"]
    y = setup["y"].copy()
    y[:5] = 1 - y[:5]
    ds = zkgrad.Dataset.commit(setup["x"], y, scale_bits=model.input_scale_bits)
    q = ds.features.astype(np.float64) / 2.0**model.input_scale_bits
    pred = model.run(q).argmax(axis=1)
    expected = tuple(tuple(int(np.sum((y == t) & (pred == j))) for j in range(2)) for t in range(2))
    att = model.attest(ds, confusion=True)
    st = verify_attestation(model, ds.export_pub(), att)
    assert st.confusion == expected
    assert st.correct == expected[0][0] + expected[1][1]
    assert "confusion matrix" in str(st)
    assert model.attest(ds).claimed().confusion is None
    with pytest.raises(zkgrad.ModelError, match="cannot state the confusion matrix"):
        model.attest(ds, threshold=0.5, confusion=True)
    # A byte of the statement changed: rejected (the matrix is absorbed before any challenge).
    data = bytearray(att.data)
    data[len(data) // 2] ^= 0x01
    with pytest.raises(zkgrad.InvalidProof):
        verify_attestation(model, ds.export_pub(), bytes(data))


def test_the_cli_proves_a_confusion_matrix(setup: dict) -> None:
    model, ds, d = setup["model"], setup["ds"], setup["dir"]
    model.save(d / "mc.zkg")
    model.export_vk(d / "mc.vk")
    ds.save(d / "datac.zkd")
    ds.export_pub(d / "datac.pub")
    runner = CliRunner()
    args = ["attest", str(d / "mc.zkg"), str(d / "datac.zkd"), "-o", str(d / "c"), "--confusion"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    verify = ["attest", "verify", str(d / "c"), "--model", str(d / "mc.vk")]
    r = runner.invoke(app, [*verify, "--dataset", str(d / "datac.pub")])
    assert r.exit_code == 0, r.output
    assert "confusion matrix (rows: label, columns: predicted class):" in r.output
    r = runner.invoke(app, [*verify, "--dataset", str(d / "datac.pub"), "--json"])
    out = json.loads(r.output)
    matrix = out["confusion"]
    assert sum(map(sum, matrix)) == ROWS and matrix[0][0] + matrix[1][1] == setup["expected"]

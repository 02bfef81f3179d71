"""zkgrad.Dataset: commit, save/load, property proofs and their verification, the budget."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import zkgrad
from zkgrad.budget import ZeroKnowledgeBudgetError
from zkgrad.dataset import Dataset, DatasetPublic, DataStatement, PropertyProof

RNG = np.random.default_rng(7)
X = RNG.normal(10.0, 2.0, size=(40, 4)).clip(3.0, 17.0)
Y = (np.arange(40) % 4 == 0).astype(np.int64)  # 10 of class 1, 30 of class 0
SPEC = {
    "rows": 40,
    "features": {"x0": {"range": [2.0, 18.0], "mean": [8.0, 12.0]}, "x3": {"range": [0, 20]}},
    "labels": {"classes": 2, "counts": [30, 10]},
}


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return Dataset.commit(X, Y, seed=bytes(32))


def test_commit_quantises_and_reports_the_error(ds: Dataset) -> None:
    assert ds.public.rows == 40 and ds.public.features == 4 and ds.public.labels
    assert len(ds.digest) == 64
    # Calibrated: the largest bits with |x|·2^bits ≤ 2^13; rounding costs at most half a step.
    peak = np.abs(X).max(axis=0)
    assert all(
        p * 2.0**b <= 2**13 < p * 2.0 ** (b + 1) for p, b in zip(peak, ds.scale_bits, strict=True)
    )
    assert all(
        e <= 2.0 ** (-b - 1) for e, b in zip(ds.quantization_error, ds.scale_bits, strict=True)
    )
    # The same values and seed give the same digest; another seed another one.
    assert Dataset.commit(X, Y, seed=bytes(32)).digest == ds.digest
    assert Dataset.commit(X, Y, seed=bytes([1]) * 32).digest != ds.digest
    assert ds.budget >= 100


def test_an_honest_proof_verifies_to_a_typed_statement(ds: Dataset, tmp_path: Path) -> None:
    proof = ds.prove_properties(SPEC)
    statement = zkgrad.verify(ds.public, proof)
    assert isinstance(statement, DataStatement)
    assert statement.rows == 40 and statement.classes == 2
    assert statement.class_counts == [(30, 30), (10, 10)]
    assert [b.feature for b in statement.ranges] == ["x0", "x3"]
    assert statement.ranges[0].lo == 2.0 and statement.ranges[0].hi == 18.0
    assert statement.means[0].lo >= 8.0 and statement.means[0].hi <= 12.0
    assert "class 1: count 10" in str(statement)
    # Through files: the owner's file, the public file and the proof file.
    ds.save(tmp_path / "data.zkd")
    ds.export_pub(tmp_path / "data.pub")
    proof.save(tmp_path / "props.zkp")
    again = zkgrad.verify(DatasetPublic.load(tmp_path / "data.pub"), tmp_path / "props.zkp")
    assert again == statement
    loaded = Dataset.load(tmp_path / "data.zkd")
    assert loaded.digest == ds.digest
    zkgrad.verify(loaded.public, loaded.prove_properties(SPEC))


def test_a_variance_bound_verifies_and_a_false_one_is_refused_naming_the_column(
    ds: Dataset,
) -> None:
    quantised = ds.features[:, 0] / 2.0 ** ds.scale_bits[0]
    var = float(np.var(quantised))  # population variance of the committed (quantised) column
    spec = {"features": {"x0": {"range": [2.0, 18.0], "variance": [var - 0.5, var + 0.5]}}}
    statement = zkgrad.verify(ds.public, ds.prove_properties(spec))
    [bound] = statement.variances
    assert bound.feature == "x0" and var - 0.5 <= bound.lo <= var <= bound.hi <= var + 0.5
    assert f"variance of x0 in [{bound.lo:g}, {bound.hi:g}]" in str(statement)
    # The same bounds through the other entry: proof numbers kept by the caller.
    zkgrad.verify(ds.public, ds.prove_properties_as(7, spec))
    false = {"features": {"x0": {"range": [2.0, 18.0], "variance": [var + 0.1, var + 1.0]}}}
    with pytest.raises(zkgrad.ModelError, match=r"feature 'x0': its variance over the 40 rows"):
        ds.prove_properties(false)
    # A bound beyond what the range allows, and a variance without a range.
    with pytest.raises(zkgrad.ModelError, match="lies outside what the range allows"):
        ds.prove_properties({"features": {"x0": {"range": [2.0, 18.0], "variance": [65, 70]}}})
    with pytest.raises(zkgrad.ModelError, match="mean or variance bound needs the feature's range"):
        ds.prove_properties({"features": {"x0": {"variance": [0, 4]}}})


def test_a_toml_spec_with_shares(ds: Dataset, tmp_path: Path) -> None:
    spec = tmp_path / "props.toml"
    spec.write_text("[labels]\nclasses = 2\nshares = [[0.7, 0.8], [0.2, 0.3]]\n")
    statement = zkgrad.verify(ds.public, ds.prove_properties(spec))
    assert statement.class_counts == [(28, 32), (8, 12)]


def test_a_value_out_of_range_is_refused_naming_row_and_feature(ds: Dataset) -> None:
    spec = {"features": {"x1": {"range": [9.0, 18.0]}}}
    with pytest.raises(zkgrad.ModelError, match=r"row \d+, feature 1: the value"):
        ds.prove_properties(spec)


def test_a_wrong_class_count_is_refused(ds: Dataset) -> None:
    with pytest.raises(zkgrad.ModelError, match="class 0 has 30 rows"):
        ds.prove_properties({"labels": {"classes": 2, "counts": [31, 9]}})
    with pytest.raises(zkgrad.ModelError, match="row 1: the label 1 is not one of the 1 classes"):
        ds.prove_properties({"labels": {"classes": 1}})


def test_a_proof_against_another_dataset_is_rejected(ds: Dataset) -> None:
    other = Dataset.commit(X + 0.5, Y, seed=bytes(32))
    proof = ds.prove_properties(SPEC)
    with pytest.raises(zkgrad.InvalidProof, match="is for dataset"):
        zkgrad.verify(other.public, proof)


def test_a_tampered_proof_is_rejected(ds: Dataset) -> None:
    data = bytearray(ds.prove_properties(SPEC).data)
    for offset in (100, len(data) // 2, len(data) - 50):
        bad = bytearray(data)
        bad[offset] ^= 0x04
        with pytest.raises(zkgrad.InvalidProof):
            zkgrad.verify(ds.public, PropertyProof(bytes(bad)))


def test_an_altered_public_file_is_refused(ds: Dataset, tmp_path: Path) -> None:
    ds.export_pub(tmp_path / "data.pub")
    body = json.loads((tmp_path / "data.pub").read_text())
    body["scale_bits"][0] += 1  # would halve every stated bound on x0
    (tmp_path / "data.pub").write_text(json.dumps(body))
    with pytest.raises(zkgrad.ModelError, match="not those the commitment binds"):
        DatasetPublic.load(tmp_path / "data.pub")


def test_bad_specs_name_what_is_wrong(ds: Dataset) -> None:
    cases = {
        "which the dataset does not have": {"features": {"age": {"range": [0, 1]}}},
        "unknown key 'median'": {"features": {"x0": {"range": [0, 20], "median": 1}}},
        "needs the feature's range": {"features": {"x0": {"mean": [0, 20]}}},
        "spans": {"features": {"x0": {"range": [-1000, 1000]}}},
        "states 41 rows": {"rows": 41},
        "expected 2 counts": {"labels": {"classes": 2, "counts": [40]}},
    }
    for message, spec in cases.items():
        with pytest.raises(zkgrad.ModelError, match=message):
            ds.prove_properties(spec)


def test_the_budget_is_enforced(
    ds: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The digest's budget is the epoch tree's (past 10^18 proofs): the last proof opens a leaf
    # deep in the tree, and the one past it is refused.
    monkeypatch.setenv("ZKGRAD_ZK_BUDGET", "enforce")
    assert ds.budget >= 10**18
    ds.save(tmp_path / "data.zkd")
    ledger = tmp_path / "data.zkd.ledger"
    ledger.write_text(json.dumps({ds.digest: ds.budget - 1}))
    owner = Dataset.load(tmp_path / "data.zkd")
    last = owner.prove_properties({"labels": {"classes": 2}})
    assert len(last.epoch[0]) > 10
    zkgrad.verify(ds.public, last)
    with pytest.raises(ZeroKnowledgeBudgetError, match="dataset digest"):
        owner.prove_properties({"labels": {"classes": 2}})
    assert json.loads(ledger.read_text())[ds.digest] == ds.budget
    with pytest.raises(zkgrad.ModelError, match="outside"):
        owner.prove_properties_as(ds.budget, {"labels": {"classes": 2}})


def test_proofs_across_an_epoch_boundary_verify_against_the_one_digest(
    ds: Dataset, tmp_path: Path
) -> None:
    # The ledger numbers proofs; proof n opens the leaf of epoch n // proofs_per_epoch, linked
    # to the published digest by the certificate that travels with the proof.
    per = ds.proofs_per_epoch
    assert per >= 100  # this 40 × 4 table hides 106 openings (wider ones 128)
    ds.save(tmp_path / "data.zkd")
    (tmp_path / "data.zkd.ledger").write_text(json.dumps({ds.digest: per - 1}))
    owner = Dataset.load(tmp_path / "data.zkd")
    pub = ds.export_pub(tmp_path / "data.pub")
    proofs = [owner.prove_properties(SPEC) for _ in range(2)]
    assert [p.epoch[0] for p in proofs] == [(0,), (1, 0)]
    assert owner.proofs_made == per + 1
    # The owner keeps the last certificate beside its file (the next epochs reuse its nodes).
    assert (tmp_path / "data.zkd.epoch.zke").read_bytes() == proofs[1].epoch_certificate
    for i, proof in enumerate(proofs):
        proof.save(tmp_path / f"p{i}.zkp")
        statement = zkgrad.verify(DatasetPublic.load(tmp_path / "data.pub"), tmp_path / f"p{i}.zkp")
        assert statement.class_counts == [(30, 30), (10, 10)]
    assert len(list((tmp_path / "epochs").glob("*.zke"))) == 2
    # Without its certificate, or with another epoch's, a proof is refused by name.
    with pytest.raises(zkgrad.InvalidProof, match="epoch certificate is needed"):
        zkgrad.verify(pub, proofs[1].data)
    with pytest.raises(zkgrad.InvalidProof, match="epoch"):
        zkgrad.verify(pub, proofs[1].data, epoch_certificate=proofs[0].epoch_certificate)
    # A tampered certificate is rejected.
    bad = bytearray(proofs[1].epoch_certificate or b"")
    bad[len(bad) // 2] ^= 0x08
    with pytest.raises(zkgrad.InvalidProof):
        zkgrad.verify(pub, proofs[1].data, epoch_certificate=bytes(bad))


def test_files_from_before_epochs_are_refused_by_name(ds: Dataset, tmp_path: Path) -> None:
    ds.export_pub(tmp_path / "data.pub")
    body = json.loads((tmp_path / "data.pub").read_text())
    body["version"] = 1
    (tmp_path / "data.pub").write_text(json.dumps(body))
    with pytest.raises(zkgrad.ModelError, match=r"format version 1.*commit the dataset again"):
        DatasetPublic.load(tmp_path / "data.pub")

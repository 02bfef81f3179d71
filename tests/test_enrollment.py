"""Enrollment records (issue 15): a dataset digest signed by its owner's Ed25519 key; every
alteration, another dataset, another key, and malformed files are refused with one sentence."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("cryptography")

from zkgrad.cli import app
from zkgrad.dataset import Dataset
from zkgrad.enrollment import Enrollment, enroll, generate_owner_key
from zkgrad.errors import InvalidProof, ModelError

runner = CliRunner()
RNG = np.random.default_rng(11)


def _dataset(rows: int = 20) -> Dataset:
    x = RNG.uniform(0.0, 10.0, size=(rows, 3))
    return Dataset.commit(x, np.arange(rows) % 2, columns=["a", "b", "c"])


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return _dataset()


@pytest.fixture
def owner(tmp_path: Path) -> tuple[Path, Path]:
    return generate_owner_key(tmp_path / "owner")


def test_a_signed_record_verifies_against_the_dataset_and_pinned_key(
    ds: Dataset, owner: tuple[Path, Path], tmp_path: Path
) -> None:
    private, public = owner
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    record = enroll(ds, private, owner="Hospital A")
    record.save(tmp_path / "r.json")
    loaded = Enrollment.load(tmp_path / "r.json")
    assert loaded == record
    assert loaded.verify(ds.export_pub(), owner_key=public) == record
    assert loaded.verify(ds.public) == record  # unpinned: the record's own key
    lines = loaded.lines()
    assert lines[0] == f"dataset {ds.digest}"
    assert "20 rows × 3 features, labels" in lines[1]
    assert "Hospital A" in lines[2]
    assert lines[3].startswith("enrolled at ") and lines[3].endswith("(the owner's statement)")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("owner", "Hospital B"),
        ("enrolled_at", "2020-01-01T00:00:00Z"),
        ("rows", 21),
        ("labels", False),
    ],
)
def test_every_altered_field_is_refused(
    ds: Dataset, owner: tuple[Path, Path], tmp_path: Path, field: str, value: object
) -> None:
    record = enroll(ds, owner[0])
    body = json.loads(_saved(record, tmp_path).read_text())
    body[field] = value
    (tmp_path / "x.json").write_text(json.dumps(body))
    with pytest.raises(InvalidProof, match=r"shape|signature does not verify"):
        Enrollment.load(tmp_path / "x.json").verify(ds.public, owner_key=owner[1])


def test_another_dataset_or_another_key_is_refused(
    ds: Dataset, owner: tuple[Path, Path], tmp_path: Path
) -> None:
    record = enroll(ds, owner[0])
    with pytest.raises(InvalidProof, match="is for dataset"):
        record.verify(_dataset().public, owner_key=owner[1])
    _, other_public = generate_owner_key(tmp_path / "other")
    with pytest.raises(InvalidProof, match="not by the pinned owner key"):
        record.verify(ds.public, owner_key=other_public)
    # a record re-signed by another key that claims the owner's key
    other = enroll(ds, tmp_path / "other.key")
    forged = Enrollment(**{**other.__dict__, "owner_key": record.owner_key})
    with pytest.raises(InvalidProof, match="signature does not verify"):
        forged.verify(ds.public, owner_key=owner[1])


def test_malformed_files_and_keys_are_named(
    ds: Dataset, owner: tuple[Path, Path], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    for text, message in [
        ("not json", "not JSON"),
        ("[1, 2]", "not a zkgrad dataset enrollment record"),
        ('{"format": "zkgrad-dataset-enrollment", "version": 9}', "version 9"),
        ('{"format": "zkgrad-dataset-enrollment", "version": 1}', "has no field 'digest'"),
    ]:
        bad.write_text(text)
        with pytest.raises(ModelError, match=message):
            Enrollment.load(bad)
    with pytest.raises(ModelError, match="not an unencrypted PEM private key"):
        enroll(ds, owner[1])  # the public file given as the private key
    with pytest.raises(ModelError, match="exists already"):
        generate_owner_key(tmp_path / "owner")


def test_cli_keygen_enroll_check(ds: Dataset, tmp_path: Path) -> None:
    ds.save(tmp_path / "d.zkd")
    ds.export_pub(tmp_path / "d.pub")

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["data", *args])
        return result.exit_code, result.output

    code, out = run("keygen", str(tmp_path / "h"))
    assert code == 0 and "h.key" in out, out
    code, out = run(
        "enroll", str(tmp_path / "d.zkd"), "--key", str(tmp_path / "h.key"), "--owner", "Hospital A"
    )
    assert code == 0, out
    record = tmp_path / "d.enroll.json"
    code, out = run(
        "check-enrollment",
        str(record),
        "--dataset",
        str(tmp_path / "d.pub"),
        "--owner-key",
        str(tmp_path / "h.pub"),
    )
    assert code == 0 and "valid: the owner signed" in out and "Hospital A" in out, out
    code, out = run("check-enrollment", str(record), "--dataset", str(tmp_path / "d.pub"), "--json")
    assert code == 0 and json.loads(out)["digest"] == ds.digest, out
    _dataset().export_pub(tmp_path / "other.pub")
    code, out = run("check-enrollment", str(record), "--dataset", str(tmp_path / "other.pub"))
    assert code == 1 and "is for dataset" in out, out
    code, out = run(
        "check-enrollment", str(tmp_path / "none.json"), "--dataset", str(tmp_path / "d.pub")
    )
    assert code == 2 and "no such file" in out, out


def _saved(record: Enrollment, tmp_path: Path) -> Path:
    path = tmp_path / "saved.json"
    record.save(path)
    return path

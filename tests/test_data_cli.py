"""``zkgrad data``: commit, export-pub, prove, verify and inspect through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from zkgrad.cli import app

runner = CliRunner()
RNG = np.random.default_rng(3)
X = RNG.uniform(0.0, 50.0, size=(30, 3))
Y = (np.arange(30) % 3 == 0).astype(np.int64)  # 10 ones, 20 zeros
SPEC = """rows = 30

[features.age]
range = [0, 50]
mean = [10, 40]

[labels]
classes = 2
counts = [20, 10]
"""


def write_csv(path: Path, x: np.ndarray, y: np.ndarray) -> Path:
    lines = ["age,bmi,dose,outcome"]
    lines += [",".join(f"{v:.6f}" for v in row) + f",{t}" for row, t in zip(x, y, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["data", *args])
    return result.exit_code, result.output


@pytest.fixture
def committed(tmp_path: Path) -> Path:
    csv = write_csv(tmp_path / "patients.csv", X, Y)
    code, out = run("commit", str(csv), "--label-column", "outcome", "-o", str(tmp_path / "d.zkd"))
    assert code == 0, out
    assert "quantisation error" in out and "zero-knowledge budget" in out
    code, out = run("export-pub", str(tmp_path / "d.zkd"), "-o", str(tmp_path / "d.pub"))
    assert code == 0, out
    (tmp_path / "props.toml").write_text(SPEC)
    return tmp_path


def test_commit_prove_verify_from_csv(committed: Path) -> None:
    t = committed
    code, out = run(
        "prove", str(t / "d.zkd"), "--spec", str(t / "props.toml"), "-o", str(t / "p.zkp")
    )
    assert code == 0, out
    assert "1 of" in out
    code, out = run("verify", str(t / "p.zkp"), "--dataset", str(t / "d.pub"))
    assert code == 0, out
    assert "rows: 30" in out and "age in [0, 50]" in out and "class 1: count 10" in out
    code, out = run("verify", str(t / "p.zkp"), "--dataset", str(t / "d.pub"), "--json")
    assert json.loads(out)["valid"] is True
    code, out = run("inspect", str(t / "d.zkd"))
    assert code == 0 and "1 used" in out


def test_a_variance_bound_from_an_npy_file(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", Y)
    code, out = run(
        "commit", str(tmp_path / "x.npy"), str(tmp_path / "y.npy"), "-o", str(tmp_path / "d.zkd")
    )
    assert code == 0, out
    run("export-pub", str(tmp_path / "d.zkd"), "-o", str(tmp_path / "d.pub"))
    var = float(np.var(X[:, 1]))  # the committed column differs by its quantisation error only
    toml = f"[features.1]\nrange = [0, 50]\nvariance = [{var - 5:.3f}, {var + 5:.3f}]\n"
    (tmp_path / "v.toml").write_text(toml)
    prove = ["prove", str(tmp_path / "d.zkd"), "--spec", str(tmp_path / "v.toml")]
    code, out = run(*prove, "-o", str(tmp_path / "v.zkp"))
    assert code == 0, out
    code, out = run("verify", str(tmp_path / "v.zkp"), "--dataset", str(tmp_path / "d.pub"))
    assert code == 0, out
    assert "variance of " in out
    (tmp_path / "w.toml").write_text(toml.replace(f"{var - 5:.3f}", f"{var + 4:.3f}"))
    code, out = run(*prove[:3], str(tmp_path / "w.toml"), "-o", str(tmp_path / "w.zkp"))
    assert code == 2 and "variance over the 30 rows" in out, out
    assert not (tmp_path / "w.zkp").exists()


def test_verify_rejects_another_dataset_and_a_tampered_proof(committed: Path) -> None:
    t = committed
    run("prove", str(t / "d.zkd"), "--spec", str(t / "props.toml"), "-o", str(t / "p.zkp"))
    other = write_csv(t / "other.csv", X + 1.0, Y)
    run("commit", str(other), "--label-column", "outcome", "-o", str(t / "o.zkd"))
    run("export-pub", str(t / "o.zkd"), "-o", str(t / "o.pub"))
    code, out = run("verify", str(t / "p.zkp"), "--dataset", str(t / "o.pub"))
    assert code == 1 and "is for dataset" in out
    data = bytearray((t / "p.zkp").read_bytes())
    data[len(data) // 3] ^= 0x01
    (t / "bad.zkp").write_bytes(bytes(data))
    code, out = run("verify", str(t / "bad.zkp"), "--dataset", str(t / "d.pub"))
    assert code == 1 and "invalid proof" in out


def test_a_false_statement_is_refused_and_nothing_is_written(committed: Path) -> None:
    t = committed
    (t / "wrong.toml").write_text(SPEC.replace("[20, 10]", "[19, 11]"))
    code, out = run(
        "prove", str(t / "d.zkd"), "--spec", str(t / "wrong.toml"), "-o", str(t / "w.zkp")
    )
    assert code == 2 and "class 0 has 20 rows" in out
    assert not (t / "w.zkp").exists()
    (t / "unknown.toml").write_text("[features.weight]\nrange = [0, 1]\n")
    code, out = run("prove", str(t / "d.zkd"), "--spec", str(t / "unknown.toml"))
    assert code == 2 and "'weight'" in out


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("", "row 2, column 'bmi': missing value"),
        ("abc", "row 2, column 'bmi': 'abc' is not a number"),
    ],
)
def test_a_bad_csv_cell_is_named_and_nothing_is_written(
    tmp_path: Path, cell: str, message: str
) -> None:
    csv = write_csv(tmp_path / "p.csv", X, Y)
    lines = csv.read_text().splitlines()
    cells = lines[2].split(",")
    cells[1] = cell
    lines[2] = ",".join(cells)
    csv.write_text("\n".join(lines) + "\n")
    code, out = run("commit", str(csv), "--label-column", "outcome", "-o", str(tmp_path / "d.zkd"))
    assert code == 2 and message in out, out
    assert not (tmp_path / "d.zkd").exists()


def test_npy_features_with_separate_labels(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", Y)
    code, out = run(
        "commit", str(tmp_path / "x.npy"), str(tmp_path / "y.npy"), "-o", str(tmp_path / "d.zkd")
    )
    assert code == 0, out
    np.save(tmp_path / "neg.npy", Y - 1)
    code, out = run(
        "commit", str(tmp_path / "x.npy"), str(tmp_path / "neg.npy"), "-o", str(tmp_path / "e.zkd")
    )
    assert code == 2 and "row 2, column 'x0': the label -1 is not a class index" in out


def test_parquet_features(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({"age": X[:, 0], "bmi": X[:, 1], "outcome": Y})
    pq.write_table(table, tmp_path / "p.parquet")
    code, out = run(
        "commit",
        str(tmp_path / "p.parquet"),
        "--label-column",
        "outcome",
        "-o",
        str(tmp_path / "d.zkd"),
    )
    assert code == 0, out
    assert "30 rows × 2 features, labels" in out

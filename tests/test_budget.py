"""The zero-knowledge budget: a commitment serves as many proofs as its randomness hides, and the
prover refuses the next one (or warns, when asked to go on)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import zkgrad
from zkgrad.budget import ProofLedger, ZeroKnowledgeBudgetError, ZeroKnowledgeBudgetWarning


@pytest.fixture()
def enforce(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZKGRAD_ZK_BUDGET", "enforce")


def test_the_budget_is_what_the_weight_codeword_hides(compiled) -> None:
    # matmul_add has 5 outputs: its bias column has only 2^3 entries, but every weight column
    # under 2^7 entries carries a lifted mask of 2^7 dimensions (read at a fresh point per
    # proof), so the column masks hide 64 openings (two base-field functionals each) and the
    # weight commitment's randomness, sized for at most 16 openings, bounds the budget; the
    # range certificate made at compile time is one of them.
    model, _ = compiled("matmul_add")
    assert model.zk_budget == 15


def _spend_all_but_one(path: Path, model: zkgrad.Model) -> None:
    ledger = ProofLedger.beside(path)
    for _ in range(model.zk_budget - 1):
        ledger.spend(model.digest, model.zk_budget, "the test commitment")


def test_a_proof_past_the_budget_is_refused(compiled, enforce, tmp_path: Path) -> None:
    path = tmp_path / "m.zkg"
    zkgrad.Model(compiled("matmul_add")[0].native).save(path)
    model = zkgrad.Model.load(path)
    x = compiled("matmul_add")[1][0]
    _spend_all_but_one(path, model)
    proof = model.prove(x)
    assert zkgrad.verify(model, proof) is not None
    assert model.proofs_made == model.zk_budget
    budget = f"whole zero-knowledge budget of {model.zk_budget} proofs"
    with pytest.raises(ZeroKnowledgeBudgetError, match=budget):
        model.prove(x)
    # The ledger is beside the file: another process (or a reload) sees the spent budget.
    with pytest.raises(ZeroKnowledgeBudgetError):
        zkgrad.Model.load(path).prove(x)
    assert (tmp_path / "m.zkg.ledger").exists()


def test_the_cli_refuses_the_proof_past_the_budget(compiled, enforce, tmp_path: Path) -> None:
    path = tmp_path / "m.zkg"
    model, samples = compiled("matmul_add")
    zkgrad.Model(model.native).save(path)
    _spend_all_but_one(path, model)
    x = tmp_path / "x.npy"
    np.save(x, samples[0])
    cli = [sys.executable, "-m", "zkgrad.cli", "prove", str(path), str(x)]
    first = subprocess.run([*cli, "-o", str(tmp_path / "a.zkp")], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    second = subprocess.run([*cli, "-o", str(tmp_path / "b.zkp")], capture_output=True, text=True)
    assert second.returncode != 0
    assert "zero-knowledge budget" in second.stderr + second.stdout
    assert "Traceback" not in second.stderr


def test_warn_proves_past_the_budget_with_a_warning(
    compiled, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZKGRAD_ZK_BUDGET", "warn")
    model = zkgrad.Model(compiled("matmul_add")[0].native)
    x = compiled("matmul_add")[1][0]
    for _ in range(model.zk_budget):
        model.prove(x)
    with pytest.warns(ZeroKnowledgeBudgetWarning, match="budget"):
        model.prove(x)


def test_a_ledger_carries_its_counts_to_the_saved_file(tmp_path: Path, enforce) -> None:
    memory = ProofLedger()
    memory.spend("ab" * 32, 1, "the test commitment")
    on_disk = memory.moved_beside(tmp_path / "m.zkg")
    assert on_disk.count("ab" * 32) == 1
    with pytest.raises(ZeroKnowledgeBudgetError):
        on_disk.spend("ab" * 32, 1, "the test commitment")


def test_a_bad_policy_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZKGRAD_ZK_BUDGET", "sometimes")
    with pytest.raises(zkgrad.ModelError, match="ZKGRAD_ZK_BUDGET must be"):
        ProofLedger().spend("cd" * 32, 0, "the test commitment")


def test_inspect_states_the_budget(compiled, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from zkgrad.cli import app

    path = tmp_path / "m.zkg"
    zkgrad.Model(compiled("matmul_add")[0].native).save(path)
    result = CliRunner().invoke(app, ["inspect", str(path)])
    assert result.exit_code == 0, result.output
    budget = zkgrad.Model.load(path).zk_budget
    assert f"hides the weights for {budget} proofs" in " ".join(result.output.split())

"""The zero-knowledge budget: a commitment serves as many proofs as its randomness hides. A weight
commitment's (and a committed input's) proofs then move on to the next epoch (a fresh commitment
linked to the published one); a ledger's ``spend`` refuses past a fixed budget (or warns, when
asked): what a dataset digest's proofs are counted with."""

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
        ledger.take(model.digest)


def test_proofs_past_an_epoch_open_the_next_one(compiled, enforce, tmp_path: Path) -> None:
    # The weight commitment's budget is per epoch: the proof after the 15th opens a fresh
    # commitment linked to the published one, and a verifier with only the key accepts both.
    path = tmp_path / "m.zkg"
    zkgrad.Model(compiled("matmul_add")[0].native).save(path)
    model = zkgrad.Model.load(path)
    x = compiled("matmul_add")[1][0]
    _spend_all_but_one(path, model)
    last = model.prove(x)
    following = model.prove(x)
    assert last.epoch[0] == (0,) and following.epoch[0] == (1, 0)
    assert last.epoch[1] != following.epoch[1], "each epoch has its own commitment"
    assert model.proofs_made == model.zk_budget + 1
    key_path = tmp_path / "m.vk"
    model.export_vk(key_path)
    for proof in (last, following):
        assert zkgrad.verify(key_path, proof, commitment=model.digest) is not None
    # The owner remakes an epoch's certificate from its path, byte for byte (all derived from
    # the model's seed), and the path numbering inverts the prover's.
    assert model.epoch_certificate(following.epoch[0]) == following.epoch_certificate
    assert model.epoch_certificate(1) == following.epoch_certificate
    # The ledger is beside the file: a reload goes on counting.
    assert zkgrad.Model.load(path).prove(x).epoch[0] == (1, 0)
    assert (tmp_path / "m.zkg.ledger").exists()


def test_the_cli_writes_and_finds_epoch_certificates(compiled, enforce, tmp_path: Path) -> None:
    path = tmp_path / "m.zkg"
    model, samples = compiled("matmul_add")
    zkgrad.Model(model.native).save(path)
    _spend_all_but_one(path, model)
    x = tmp_path / "x.npy"
    np.save(x, samples[0])
    cli = [sys.executable, "-m", "zkgrad.cli"]
    for name in ("a.zkp", "b.zkp"):
        made = subprocess.run(
            [*cli, "prove", str(path), str(x), "-o", str(tmp_path / name)],
            capture_output=True,
            text=True,
        )
        assert made.returncode == 0, made.stderr
        assert "epoch" in made.stdout
    certificates = sorted((tmp_path / "epochs").glob("*.zke"))
    assert len(certificates) == 2, "one certificate per epoch, beside the proofs"
    key = tmp_path / "m.vk"
    zkgrad.Model.load(path).export_vk(key)
    for name in ("a.zkp", "b.zkp"):
        checked = subprocess.run(
            [*cli, "verify", str(key), str(tmp_path / name)], capture_output=True, text=True
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
    # Without its certificate a proof is refused with a sentence that says where to put it;
    # with another epoch's certificate it is invalid.
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    for c in certificates:
        c.rename(moved / c.name)
    missing = subprocess.run(
        [*cli, "verify", str(key), str(tmp_path / "b.zkp")], capture_output=True, text=True
    )
    assert missing.returncode == 1
    assert "epoch certificate is missing" in missing.stdout + missing.stderr
    assert "Traceback" not in missing.stderr
    own = zkgrad.Proof.load(tmp_path / "b.zkp").epoch[1][:32] + ".zke"
    wrong = next(c for c in moved.iterdir() if c.name != own)
    other = subprocess.run(
        [*cli, "verify", str(key), str(tmp_path / "b.zkp"), "--epoch-certificate", str(wrong)],
        capture_output=True,
        text=True,
    )
    assert other.returncode == 1, other.stdout
    assert "Traceback" not in other.stderr


def test_warn_goes_past_a_fixed_budget_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZKGRAD_ZK_BUDGET", "warn")
    ledger = ProofLedger()
    ledger.spend("ef" * 32, 1, "the test commitment")
    with pytest.warns(ZeroKnowledgeBudgetWarning, match="budget"):
        ledger.spend("ef" * 32, 1, "the test commitment")


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


def test_the_owner_makes_certificates_only_for_epochs_it_reached(compiled, tmp_path: Path) -> None:
    # A proof naming an epoch the model has not reached would make the owner build its nodes
    # (two commitments and a link each) for nothing: refused unread.
    model = zkgrad.Model(compiled("matmul_add")[0].native)
    x = compiled("matmul_add")[1][0]
    first = model.prove(x)
    assert zkgrad.verify(model, first.data) is not None  # epoch 0: the owner makes it
    far = zkgrad.Model(model.native)  # a fresh ledger: no proof made yet
    ledger = ProofLedger()
    for _ in range(model.zk_budget * 2):
        ledger.take(far.digest)
    ahead = zkgrad.Model(model.native, ledger).prove(x)  # epoch 2, path (1, 1)
    assert ahead.epoch[0] == (1, 1)
    with pytest.raises(zkgrad.InvalidProof, match="have not reached"):
        zkgrad.Model(model.native).verify(ahead.data)


def test_a_new_process_adopts_the_stored_epoch_instead_of_remaking_it(
    compiled, enforce, tmp_path: Path
) -> None:
    # Making an epoch's nodes costs two commitments and a link each (several proofs' worth on a
    # large model): the owner keeps the current epoch's certificate beside the model file, and
    # a model loaded later (a new CLI process) takes its nodes instead of making them again.
    path = tmp_path / "m.zkg"
    zkgrad.Model(compiled("matmul_add")[0].native).save(path)
    x = compiled("matmul_add")[1][0]
    first = zkgrad.Model.load(path).prove(x)
    stored = tmp_path / "m.zkg.epoch.zke"
    assert stored.read_bytes() == first.epoch_certificate
    reloaded = zkgrad.Model.load(path)
    reloaded._adopt_stored_epoch(0)
    assert reloaded._native.epoch_nodes() == len(first.epoch[0])
    second = reloaded.prove(x)
    assert second.epoch == first.epoch and second.epoch_certificate == first.epoch_certificate
    assert reloaded._native.epoch_nodes() == len(first.epoch[0]), "no node was made again"
    # The next epoch shares the upper nodes: only its own new ones are made, then stored.
    later = reloaded.prove_as(reloaded.zk_budget, x)
    assert later.epoch[0] == (1, 0)
    assert stored.read_bytes() == later.epoch_certificate
    # A stored file that does not check (altered, or another model's) is set aside and remade
    # (the same nodes; the links' proof-of-work nonces may differ, so not the same bytes).
    stored.write_bytes(first.epoch_certificate[:-7] + b"garbage")
    fresh = zkgrad.Model.load(path)
    proof = fresh.prove_as(1, x)
    assert proof.epoch == first.epoch
    assert stored.read_bytes() == proof.epoch_certificate
    key = tmp_path / "m.vk"
    fresh.export_vk(key)
    for p in (first, second, later, proof):
        assert zkgrad.verify(key, p, commitment=fresh.digest) is not None

"""Committed inputs: the input stays hidden, every proof carries a commitment to it whose digest
is the same for the same input and seed, and a verifier can pin it. One committed input serves
many proofs: each opens the leaf of its input epoch, linked to the published input commitment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import models
import zkgrad
from zkgrad import InvalidProof, ModelError
from zkgrad.cli import app

runner = CliRunner()
SEED = bytes(range(32))
OTHER_SEED = bytes(range(1, 33))


@pytest.fixture(scope="module")
def samples() -> np.ndarray:
    return models.sample_inputs((1, 64), 16, seed=11)


@pytest.fixture(scope="module")
def committed(onnx_path: Callable[[str], Path], samples: np.ndarray) -> zkgrad.Model:
    return zkgrad.compile(onnx_path("matmul_add"), samples, input_visibility="committed")


def test_same_input_and_seed_carry_the_same_commitment(
    committed: zkgrad.Model, samples: np.ndarray, tmp_path: Path
) -> None:
    x = samples[0]
    first = committed.prove(x, input_seed=SEED)
    second = committed.prove(x, input_seed=SEED.hex())
    assert committed.input_visibility == "committed"
    assert first.input_q is None
    digest = first.input_commitment
    assert digest is not None and len(digest) == 64
    assert second.input_commitment == digest
    assert first.data != second.data  # the rest of the proof is freshly randomised
    assert committed.commit_input(x, SEED) == digest
    committed.export_vk(tmp_path / "m.vk")
    key = zkgrad.VerifyingKey.load(tmp_path / "m.vk")
    for proof in (first, second):
        y = zkgrad.verify(key, proof, commitment=committed.digest, input_commitment=digest)
        np.testing.assert_allclose(y, committed.run(x))
    zkgrad.verify(committed, first.data, input_commitment="0x" + digest.upper())


def test_another_input_or_seed_is_rejected_when_pinned(
    committed: zkgrad.Model, samples: np.ndarray
) -> None:
    x = samples[0]
    digest = committed.commit_input(x, SEED)
    key = committed.verifying_key()
    for other in (
        committed.prove(samples[1], input_seed=SEED),
        committed.prove(x, input_seed=OTHER_SEED),
    ):
        assert other.input_commitment != digest
        zkgrad.verify(key, other)  # a valid proof, but about another committed input
        with pytest.raises(InvalidProof, match="input commitment"):
            zkgrad.verify(key, other, input_commitment=digest)


def test_a_batch_commits_to_all_its_inputs(committed: zkgrad.Model, samples: np.ndarray) -> None:
    batch = samples[:2]
    proof = committed.prove(batch, input_seed=SEED)
    digest = committed.commit_input(batch, SEED, batch=2)
    assert proof.input_commitment == digest
    assert digest != committed.commit_input(samples[0], SEED)
    zkgrad.verify(committed, proof, input_commitment=digest)
    with pytest.raises(ModelError, match="batch of 3"):
        committed.commit_input(batch, SEED, batch=3)


def test_seed_errors_are_clear(
    committed: zkgrad.Model,
    samples: np.ndarray,
    compiled: Callable[[str], tuple[zkgrad.Model, np.ndarray]],
) -> None:
    x = samples[0]
    with pytest.raises(ModelError, match="input_seed"):
        committed.prove(x)
    with pytest.raises(ModelError, match="32 bytes"):
        committed.prove(x, input_seed=b"short")
    with pytest.raises(ModelError, match="64 hex digits"):
        committed.commit_input(x, "abc")
    private, private_samples = compiled("matmul_add")
    with pytest.raises(ModelError, match="only for a model whose input is committed"):
        private.prove(private_samples[0], input_seed=SEED)
    proof = private.prove(private_samples[0])
    assert proof.input_commitment is None
    with pytest.raises(ModelError, match="not committed"):
        zkgrad.verify(private, proof, input_commitment=committed.commit_input(x, SEED))
    with pytest.raises(ModelError, match="committed, not public"):
        zkgrad.verify(committed, committed.prove(x, input_seed=SEED), input=x)
    with pytest.raises(ModelError, match="not a digest"):
        zkgrad.verify(committed, committed.prove(x, input_seed=SEED), input_commitment="ab")


def test_a_committed_input_without_zero_knowledge_is_refused(
    onnx_path: Callable[[str], Path],
) -> None:
    with pytest.raises(ModelError, match="zero knowledge is always on"):
        zkgrad.compile(onnx_path("matmul_add"), input_visibility="committed", zk=False)


def test_cli_committed_input_round_trip(
    tmp_path: Path, onnx_path: Callable[[str], Path], samples: np.ndarray
) -> None:
    np.save(tmp_path / "cal.npy", samples)
    np.save(tmp_path / "x.npy", samples[:1])
    np.save(tmp_path / "other.npy", samples[1:2])
    seed = tmp_path / "input.seed"
    seed.write_text(SEED.hex() + "\n")
    model, key = tmp_path / "m.zkg", tmp_path / "m.vk"
    args = ["compile", str(onnx_path("matmul_add")), "-c", str(tmp_path / "cal.npy")]
    done = runner.invoke(app, [*args, "-o", str(model), "--input", "committed"])
    assert done.exit_code == 0, done.output
    assert runner.invoke(app, ["export-vk", str(model), "-o", str(key)]).exit_code == 0
    no_seed = runner.invoke(app, ["prove", str(model), str(tmp_path / "x.npy")])
    assert no_seed.exit_code == 2 and "--input-seed" in no_seed.output

    def prove(name: str, seed_arg: str) -> tuple[Path, str]:
        proof = tmp_path / f"{name}.zkp"
        x = str(tmp_path / f"{name}.npy")
        done = runner.invoke(
            app, ["prove", str(model), x, "-o", str(proof), "--input-seed", seed_arg]
        )
        assert done.exit_code == 0, done.output
        line = next(r for r in done.output.splitlines() if r.startswith("input commitment: "))
        return proof, line.removeprefix("input commitment: ").strip()

    proof, digest = prove("x", str(seed))
    other, other_digest = prove("other", SEED.hex())
    assert other_digest != digest
    predicted = runner.invoke(
        app, ["commit-input", str(model), str(tmp_path / "x.npy"), "--input-seed", SEED.hex()]
    )
    assert predicted.exit_code == 0, predicted.output
    assert predicted.output.strip() == digest
    ok = runner.invoke(app, ["verify", str(key), str(proof), "--input-commitment", digest])
    assert ok.exit_code == 0, ok.output
    assert digest in ok.output
    bad = runner.invoke(app, ["verify", str(key), str(other), "--input-commitment", digest])
    assert bad.exit_code == 1, bad.output
    described = runner.invoke(app, ["inspect", str(key)])
    assert "input visibility: committed" in described.output


def test_one_committed_input_serves_many_proofs_verified_with_the_key_only(
    committed: zkgrad.Model,
    samples: np.ndarray,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Proofs over one committed input, past the first input epoch, under the enforcing budget:
    none is refused, each carries the same input digest, and each verifies from its file with
    the verifying key alone (the input epoch certificate is found in ``epochs/``)."""
    monkeypatch.setenv("ZKGRAD_ZK_BUDGET", "enforce")
    x = samples[2]
    digest = committed.commit_input(x, SEED)
    per_epoch = committed.input_zk_budget
    assert per_epoch >= 2
    count = max(20, per_epoch + 2)  # two input epochs at least
    key_path = tmp_path / "m.vk"
    committed.export_vk(key_path)
    leaves = set()
    for n in range(count):
        proof = committed.prove(x, input_seed=SEED)
        assert proof.input_commitment == digest
        assert proof.input_epoch is not None and proof.input_epoch_certificate is not None
        leaves.add(proof.input_epoch[1])
        proof.save(tmp_path / f"p{n}.zkp")
    assert len(leaves) == -(-count // per_epoch), "one input leaf per input epoch"
    assert digest not in leaves, "no proof opens the published input commitment"
    expected = committed.run(x)
    for n in range(count):
        y = zkgrad.verify(str(key_path), str(tmp_path / f"p{n}.zkp"), input_commitment=digest)
        np.testing.assert_allclose(y, expected)


def test_a_missing_or_foreign_input_epoch_certificate_is_a_sentence(
    committed: zkgrad.Model, samples: np.ndarray, tmp_path: Path
) -> None:
    x, y = samples[3], samples[4]
    proof = committed.prove(x, input_seed=OTHER_SEED)
    foreign = committed.prove(y, input_seed=OTHER_SEED)
    assert proof.input_epoch_certificate is not None
    key = zkgrad.VerifyingKey.load(_key(committed, tmp_path))
    bare = zkgrad.Proof(proof.data, key, proof.epoch_certificate)
    with pytest.raises(InvalidProof, match="input epoch"):
        zkgrad.verify(key, bare)
    with pytest.raises(InvalidProof, match="input"):
        zkgrad.verify(key, bare, input_epoch_certificate=foreign.input_epoch_certificate)
    with pytest.raises(InvalidProof):
        zkgrad.verify(key, bare, input_epoch_certificate=b"ZKGE\x01\x00garbage")
    zkgrad.verify(key, bare, input_epoch_certificate=proof.input_epoch_certificate)


def _key(model: zkgrad.Model, tmp_path: Path) -> Path:
    path = tmp_path / "k.vk"
    model.export_vk(path)
    return path

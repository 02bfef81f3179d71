"""Proof files checked when loaded; verify takes paths; errors in the user's terms."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import zkgrad
from zkgrad import InvalidProof, Model, Proof

Compiled = Callable[[str], tuple[Model, np.ndarray]]


@pytest.fixture(scope="module")
def files(compiled: Compiled, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model, its key and an honest proof on disk."""
    model, samples = compiled("matmul_add")
    work = tmp_path_factory.mktemp("api_proofs")
    model.save(work / "m.zkg")
    model.export_vk(work / "m.vk")
    model.prove(samples[0]).save(work / "x.zkp")
    return work


def _garbage(files: Path) -> dict[str, tuple[bytes, str]]:
    honest = (files / "x.zkp").read_bytes()
    other_version = honest[:4] + struct.pack("<H", 5) + honest[6:]
    return {
        "empty": (b"", r"is empty, not a zkgrad proof$"),
        "text": (b"hello, not a proof" * 10, r"is not a zkgrad proof \(a proof starts with ZKGP"),
        "model": ((files / "m.zkg").read_bytes(), r"is a zkgrad model file, not a proof$"),
        "key": ((files / "m.vk").read_bytes(), r"is a zkgrad verifying key, not a proof$"),
        "version": (other_version, r"unsupported proof format version 5"),
        "truncated": (honest[: len(honest) // 2], r"malformed proof"),
    }


@pytest.mark.parametrize("case", ["empty", "text", "model", "key", "version", "truncated"])
def test_proof_load_checks_the_bytes(files: Path, tmp_path: Path, case: str) -> None:
    data, message = _garbage(files)[case]
    path = tmp_path / f"{case}.zkp"
    path.write_bytes(data)
    with pytest.raises(InvalidProof, match=message) as info:
        Proof.load(path)
    text = str(info.value)
    assert str(path) in text and "\n" not in text and "{" not in text


def test_an_honest_proof_loads_and_verifies(files: Path) -> None:
    key = zkgrad.VerifyingKey.load(files / "m.vk")
    proof = Proof.load(files / "x.zkp", key)
    assert proof.size == (files / "x.zkp").stat().st_size
    np.testing.assert_array_equal(zkgrad.verify(key, proof), proof.output)


def test_verify_takes_paths(files: Path) -> None:
    expected = zkgrad.verify(Model.load(files / "m.zkg"), Proof.load(files / "x.zkp"))
    for model, proof in [
        (str(files / "m.vk"), str(files / "x.zkp")),
        (files / "m.zkg", files / "x.zkp"),
        (files / "m.zkg", (files / "x.zkp").read_bytes()),  # the owner makes the certificate
    ]:
        np.testing.assert_array_equal(zkgrad.verify(model, proof), expected)
    # Proof bytes without the proof file: the key needs the epoch's certificate beside them.
    certificate = Proof.load(files / "x.zkp").certificate_path(files / "x.zkp")
    bare = (files / "x.zkp").read_bytes()
    with pytest.raises(InvalidProof, match="epoch certificate is missing"):
        zkgrad.verify(files / "m.vk", bare)
    np.testing.assert_array_equal(
        zkgrad.verify(files / "m.vk", bare, epoch_certificate=certificate), expected
    )
    digest = zkgrad.VerifyingKey.load(files / "m.vk").digest
    with pytest.raises(InvalidProof, match="is not the pinned commitment"):
        zkgrad.verify(str(files / "m.vk"), str(files / "x.zkp"), commitment="ab" * 32)
    assert zkgrad.verify(files / "m.vk", files / "x.zkp", commitment=digest).shape == expected.shape


def test_verify_says_what_it_takes(files: Path) -> None:
    with pytest.raises(
        TypeError, match=r"^zkgrad.verify takes a Model, a VerifyingKey or the path"
    ):
        zkgrad.verify(42, files / "x.zkp")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"takes a Proof, proof bytes or the path .* not dict$"):
        zkgrad.verify(files / "m.vk", {})  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError, match=r"missing\.zkp: no such file"):
        zkgrad.verify(files / "m.vk", files / "missing.zkp")
    with pytest.raises(InvalidProof, match="is a zkgrad verifying key, not a proof"):
        zkgrad.verify(files / "m.vk", files / "m.vk")  # the arguments mixed up


def test_prove_none_names_the_input_not_nan(compiled: Compiled) -> None:
    model, _ = compiled("matmul_add")
    for call in (model.prove, model.run):
        with pytest.raises(zkgrad.ModelError) as info:
            call(None)
        assert str(info.value) == (
            f"input '{model.input_name}': no data given (None); expected an array of numbers"
        )


def test_complex_input_to_prove_is_refused(compiled: Compiled) -> None:
    model, samples = compiled("matmul_add")
    with pytest.raises(zkgrad.ModelError, match=rf"^input '{model.input_name}': complex values"):
        model.prove(samples[0] + 0.5j)


@pytest.mark.parametrize("threads", [-1, 0, 2**64, 1.5, True])
def test_prove_refuses_a_thread_count_out_of_range(compiled: Compiled, threads: object) -> None:
    model, samples = compiled("matmul_add")
    with pytest.raises(zkgrad.ModelError, match="threads must be a whole number"):
        model.prove(samples[0], threads=threads)  # type: ignore[arg-type]


def test_prove_reports_the_provers_stages_in_order(compiled: Compiled) -> None:
    model, samples = compiled("matmul_add")
    seen: list[tuple[str, int, int]] = []
    proof = model.prove(samples[0], progress=lambda *stage: seen.append(stage))
    assert seen == [
        ("witness", 0, 4),
        ("commitments", 1, 4),
        ("sumchecks", 2, 4),
        ("openings", 3, 4),
    ]
    assert zkgrad.verify(model, proof) is not None


def test_a_failing_progress_callback_does_not_stop_the_proof(compiled: Compiled) -> None:
    model, samples = compiled("matmul_add")

    def broken(stage: str, done: int, total: int) -> None:
        raise RuntimeError("the user's callback fails")

    proof = model.prove(samples[0], threads=2, progress=broken)
    assert zkgrad.verify(model, proof) is not None

"""``zkgrad serve --proof-dir``: every proof is written as ``<id>.zkp`` with its epoch
certificate, served by id after it left the in-memory store, and verifiable offline with the
published key alone."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")

import zkgrad  # noqa: E402
from serve_helpers import Server, compile_bundled, records  # noqa: E402


def test_every_proof_is_kept_on_disk_and_served_by_id(tmp_path: Path) -> None:
    model = compile_bundled(tmp_path / "bc.zkg")
    archive = tmp_path / "archive"
    with Server(tmp_path / "bc.zkg", "--keep-proofs", "1", "--proof-dir", str(archive)) as server:
        answers = [
            httpx.post(
                f"{server.url}/v1/predict", json={"input": records()[i].tolist()}, timeout=60
            )
            for i in range(2)
        ]
        assert [a.status_code for a in answers] == [200, 200]
        first = answers[0].json()
        # the first proof left the one-proof memory store; the archive still serves it
        again = httpx.get(f"{server.url}/v1/proofs/{first['proof_id']}")
        assert again.status_code == 200, again.text
        assert again.json()["proof"] == first["proof"]
        assert again.json()["proof_batch"] == 1
        for bad in ("../bc", "0" * 31, "Z" * 32):
            assert httpx.get(f"{server.url}/v1/proofs/{bad}").status_code == 404
    files = sorted(archive.glob("*.zkp"))
    assert {f.stem for f in files} == {a.json()["proof_id"] for a in answers}
    assert files[0].read_bytes() in {base64.b64decode(a.json()["proof"]) for a in answers}
    # offline, with the published key only: the certificate sits in archive/epochs/
    key_path = tmp_path / "bc.vk"
    model.export_vk(key_path)
    key = zkgrad.VerifyingKey.load(key_path)
    for answer in answers:
        proof = zkgrad.Proof.load(archive / f"{answer.json()['proof_id']}.zkp", key)
        assert proof.epoch_certificate is not None
        y = zkgrad.verify(key, proof)
        np.testing.assert_allclose(y.reshape(-1), np.asarray(answer.json()["output"]).reshape(-1))

"""``zkgrad prove-many`` (a batch split into proofs, on a local Ray instance or in local
processes; results in input order) and ``zkgrad serve --ray local``, through the real entry
point. Skipped where Ray (the ``ray`` extra) is not installed, except the parts without it."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from serve_helpers import compile_bundled, records

needs_ray = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="ray is not installed (pip install 'zkgrad[ray]')",
)
INPUTS = 60
CHUNK = 16


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("prove-many") / "bc.zkg"
    compile_bundled(path)
    return path


@pytest.fixture(scope="module")
def inputs(model_path: Path) -> Path:
    path = model_path.with_name("inputs.npz")
    np.savez(path, features=records()[:INPUTS])
    return path


def _zkgrad(*args: str, budget: str = "warn") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ZKGRAD_ZK_BUDGET": budget}
    return subprocess.run(
        [sys.executable, "-m", "zkgrad", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def _check_results(folder: Path, model_path: Path) -> None:
    import zkgrad

    model = zkgrad.Model.load(model_path)
    outputs = np.load(folder / "outputs.npy")
    np.testing.assert_array_equal(outputs, model.run(records()[:INPUTS]))  # input order
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["model_digest"] == model.digest
    rows = [chunk["rows"] for chunk in manifest["chunks"]]
    assert rows == [[s, min(s + CHUNK, INPUTS)] for s in range(0, INPUTS, CHUNK)]
    for chunk in manifest["chunks"]:
        start, stop = chunk["rows"]
        verified = zkgrad.verify(model, folder / chunk["proof"], commitment=model.digest)
        np.testing.assert_array_equal(verified.reshape(stop - start, -1), outputs[start:stop])


@needs_ray
def test_prove_many_on_local_ray_gives_verified_results_in_input_order(
    model_path: Path, inputs: Path
) -> None:
    out = model_path.with_name("ray-out")
    done = _zkgrad(
        "prove-many",
        str(model_path),
        str(inputs),
        "--ray",
        "local",
        "--chunk",
        str(CHUNK),
        "-o",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    assert f"proved {INPUTS} inputs in 4 proofs" in done.stdout
    _check_results(out, model_path)


def test_prove_many_in_local_processes(model_path: Path, inputs: Path) -> None:
    out = model_path.with_name("local-out")
    done = _zkgrad(
        "prove-many",
        str(model_path),
        str(inputs),
        "--chunk",
        str(CHUNK),
        "--workers",
        "2",
        "-o",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    _check_results(out, model_path)


def test_prove_many_spreads_a_job_over_epochs(tmp_path: Path) -> None:
    # 20 one-input proofs with the budget enforced: 15 in epoch 0, 5 in epoch 1, every one
    # verified by the key alone with the certificates written beside the proofs.
    import zkgrad

    path = tmp_path / "fresh.zkg"
    model = compile_bundled(path)
    inputs = tmp_path / "x.npy"
    np.save(inputs, records()[:20])
    done = _zkgrad("prove-many", str(path), str(inputs), "--chunk", "1", budget="enforce")
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "x-proofs"
    assert len(list((folder / "epochs").glob("*.zke"))) == 2
    model.export_vk(tmp_path / "m.vk")
    key = zkgrad.VerifyingKey.load(tmp_path / "m.vk")
    paths = set()
    for proof_file in sorted(folder.glob("proof-*.zkp")):
        proof = zkgrad.Proof.load(proof_file, key)
        zkgrad.verify(key, proof, commitment=model.digest)
        paths.add(proof.epoch[0])
    assert paths == {(0,), (1, 0)}
    assert zkgrad.Model.load(path).proofs_made == 20


@needs_ray
def test_serve_on_local_ray(model_path: Path) -> None:
    import zkgrad
    from serve_helpers import Server
    from zkgrad.serve.client import Client, ServiceError

    model = zkgrad.Model.load(model_path)
    with Server(model_path, "--ray", "local", "--workers", "2") as server:
        with Client(server.url, commitment=model.digest) as client:
            np.testing.assert_array_equal(client.predict(records()[:3]), model.run(records()[:3]))
            np.testing.assert_array_equal(client.predict(records()[5]), model.run(records()[5]))
            # A Ray actor killed: Ray restarts it and retries its task, or the answer is a 503.
            actors = server.descendants(b"ray::_Prover")
            assert actors, server.output()
            os.kill(actors[0], signal.SIGKILL)
            for row in range(6):
                try:
                    y = client.predict(records()[row])
                except ServiceError as exc:
                    assert exc.status == 503, exc
                    continue
                np.testing.assert_array_equal(y, model.run(records()[row]))
            # The server goes on: once Ray has restarted the actor, answers come again (a
            # request that still lands on the dying actor is a 503, tried again).
            for _ in range(40):
                try:
                    y = client.predict(records()[9])
                    break
                except ServiceError as exc:
                    assert exc.status == 503, exc
                    time.sleep(0.25)
            np.testing.assert_array_equal(y, model.run(records()[9]))

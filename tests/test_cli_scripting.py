"""The command line for scripts: ``--version``, ``--json`` and the exit codes of docs/CLI.md.

Every test runs the real entry point, ``python -m zkgrad``, in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import zkgrad


def zkgrad_cli(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zkgrad", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


def one_json_object(stdout: str) -> dict[str, object]:
    """stdout holds exactly one JSON object (one line) and nothing else."""
    lines = stdout.splitlines()
    assert len(lines) == 1, stdout
    body = json.loads(lines[0])
    assert isinstance(body, dict)
    return body


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's model, proof and input, and the model's verifying key, made through the CLI."""
    out = tmp_path_factory.mktemp("demo")
    assert zkgrad_cli("demo", "--out", out).returncode == 0
    assert zkgrad_cli("export-vk", out / "model.zkg").returncode == 0
    record = json.loads((out / "input.json").read_text())["input_data"][0]
    np.save(out / "batch.npy", np.array([record] * 4))
    return out


def test_version() -> None:
    done = zkgrad_cli("--version")
    assert done.returncode == 0
    assert done.stdout == f"zkgrad {zkgrad.__version__}\n"


def test_help_states_the_exit_codes() -> None:
    for args in (["--help"], ["verify", "--help"]):
        text = " ".join(zkgrad_cli(*args).stdout.split())
        assert "Exit codes: 0 success" in text and "1 invalid proof" in text


# ---- --json -------------------------------------------------------------------------------


def test_verify_json(demo_dir: Path) -> None:
    done = zkgrad_cli("verify", "--json", demo_dir / "model.vk", demo_dir / "proof.zkp")
    assert done.returncode == 0, done.stderr
    body = one_json_object(done.stdout)
    key = zkgrad.VerifyingKey.load(demo_dir / "model.vk")
    assert body["ok"] is True and body["valid"] is True
    assert body["model_digest"] == key.digest
    assert body["circuit_digest"] == key.circuit_digest
    assert body["batch"] == 1
    expected = key.verify(zkgrad.Proof.load(demo_dir / "proof.zkp", key))
    assert np.array_equal(np.asarray(body["output"]), expected)
    assert body["input_commitment"] is None
    assert set(body["seconds"]) == {"verify"}


def test_verify_json_of_an_invalid_proof(demo_dir: Path, tmp_path: Path) -> None:
    data = bytearray((demo_dir / "proof.zkp").read_bytes())
    data[len(data) // 2] ^= 0x01
    (tmp_path / "bad.zkp").write_bytes(bytes(data))
    done = zkgrad_cli("verify", "--json", demo_dir / "model.vk", tmp_path / "bad.zkp")
    assert done.returncode == 1
    body = one_json_object(done.stdout)
    assert body["ok"] is False and body["valid"] is False and body["exit_code"] == 1
    assert str(body["error"]).startswith("invalid proof:")
    assert done.stderr.startswith("invalid proof:")


def test_prove_json_of_a_batch(demo_dir: Path, tmp_path: Path) -> None:
    proof_file = tmp_path / "batch.zkp"
    done = zkgrad_cli(
        "prove", "--json", demo_dir / "model.zkg", demo_dir / "batch.npy", "-o", proof_file
    )
    assert done.returncode == 0, done.stderr
    body = one_json_object(done.stdout)
    assert body["ok"] is True
    assert body["proof"] == str(proof_file)
    assert body["proof_bytes"] == proof_file.stat().st_size
    assert body["batch"] == 4
    assert np.asarray(body["output"]).shape == (4, 2)
    assert body["soundness_bits"] >= 100
    assert str(body["soundness_line"]).startswith("soundness:")
    assert body["model_digest"] == zkgrad.VerifyingKey.load(demo_dir / "model.vk").digest
    assert body["input_commitment"] is None
    assert set(body["seconds"]) == {"load", "prove"}
    verified = one_json_object(
        zkgrad_cli("verify", "--json", demo_dir / "model.vk", proof_file).stdout
    )
    assert verified["output"] == body["output"]


def test_commit_json(demo_dir: Path) -> None:
    digests = set()
    for name, kind in (("model.zkg", "model"), ("model.vk", "key")):
        body = one_json_object(zkgrad_cli("commit", "--json", demo_dir / name).stdout)
        assert body["ok"] is True and body["kind"] == kind
        digests.add((body["model_digest"], body["circuit_digest"]))
    assert len(digests) == 1
    assert zkgrad_cli("commit", demo_dir / "model.vk").stdout.strip() == digests.pop()[0]


def test_report_json(demo_dir: Path) -> None:
    body = one_json_object(zkgrad_cli("report", "--json", demo_dir / "model.zkg").stdout)
    assert body["ok"] is True and body["plot"] is None
    report = body["report"]
    assert isinstance(report, dict)
    assert report["samples"] > 0
    assert 0.0 <= report["max_abs_error"] < 1.0
    assert report["mean_abs_error"] <= report["max_abs_error"]


def test_inspect_json_of_a_key(demo_dir: Path) -> None:
    body = one_json_object(zkgrad_cli("inspect", "--json", demo_dir / "model.vk").stdout)
    key = zkgrad.VerifyingKey.load(demo_dir / "model.vk")
    assert body["ok"] is True and body["kind"] == "key" and body["supported"] is True
    assert body["model_digest"] == key.digest
    assert body["inputs"][0]["shape"] == list(key.input_shape)
    assert body["outputs"][0]["shape"] == list(key.output_shape)
    assert {row["op_type"] for row in body["ops"]} >= {"dense", "relu"}
    assert body["cost"]["blocks"] == 3
    assert body["zk_budget"] >= 1


def test_json_errors_are_one_object_too(demo_dir: Path) -> None:
    for args in (
        ["verify", "--json", demo_dir / "missing.vk", demo_dir / "proof.zkp"],
        ["prove", "--json", demo_dir / "model.zkg", demo_dir / "missing.npy"],
        ["commit", "--json", demo_dir],
        ["report", "--json", demo_dir / "model.vk"],
        ["inspect", "--json", demo_dir / "proof.zkp"],
    ):
        done = zkgrad_cli(*args)
        assert done.returncode == 2, (args, done.stderr)
        body = one_json_object(done.stdout)
        assert body["ok"] is False and body["exit_code"] == 2 and body["error"], args
        assert "Traceback" not in done.stderr


# ---- exit codes and arguments ---------------------------------------------------------------


def test_valid_proof_exits_0_with_model_or_key(demo_dir: Path) -> None:
    for source in ("model.zkg", "model.vk"):
        assert zkgrad_cli("verify", demo_dir / source, demo_dir / "proof.zkp").returncode == 0


@pytest.mark.parametrize(
    ("first", "second", "says"),
    [
        ("proof.zkp", "model.vk", "arguments swapped"),
        ("proof.zkp", "model.zkg", "arguments swapped"),
        ("model.vk", "model.zkg", "is a zkgrad model file, not a proof"),
        ("model.zkg", "model.vk", "is a verifying key, not a proof"),
        ("proof.zkp", "proof.zkp", "is a proof, not a model or verifying key"),
    ],
)
def test_wrong_files_for_verify_exit_2(demo_dir: Path, first: str, second: str, says: str) -> None:
    done = zkgrad_cli("verify", demo_dir / first, demo_dir / second)
    assert done.returncode == 2
    assert says in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("path", "says"),
    [("/dev/zero", "is a device, not a proof"), ("{d}", "is a directory, not a proof")],
)
def test_not_a_file_as_proof_says_what_it_is(demo_dir: Path, path: str, says: str) -> None:
    proof = path.format(d=demo_dir)
    for args in (
        ["verify", demo_dir / "model.vk", proof],
        ["verify", proof, demo_dir / "model.vk"],
    ):
        done = zkgrad_cli(*args)
        assert done.returncode == 2
        assert "no such file" not in done.stderr
        assert ("is a device" if proof == "/dev/zero" else "is a directory") in done.stderr
    assert says in zkgrad_cli("verify", demo_dir / "model.vk", proof).stderr


@pytest.mark.parametrize("command", ["prove", "report", "commit", "export-vk", "inspect"])
def test_a_directory_as_model_says_so(demo_dir: Path, command: str) -> None:
    args = [command, demo_dir] + ([demo_dir / "input.json"] if command == "prove" else [])
    done = zkgrad_cli(*args)
    assert done.returncode == 2
    assert f"{demo_dir} is a directory" in done.stderr


def test_an_oversized_proof_is_refused_unread(demo_dir: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.zkp"
    with big.open("wb") as handle:  # sparse: 500 MB on paper, nothing on disk
        handle.truncate(500 << 20)
    limit = zkgrad.VerifyingKey.load(demo_dir / "model.vk").max_proof_bytes
    assert limit < big.stat().st_size
    # The peak memory of the child alone: measured by a parent that starts nothing else.
    measure = (
        "import resource, subprocess, sys; "
        "done = subprocess.run([sys.executable, '-m', 'zkgrad', *sys.argv[1:]], "
        "capture_output=True, text=True); "
        "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
        "sys.stderr.write(done.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", measure, "verify", str(demo_dir / "model.vk"), str(big)],
        capture_output=True,
        text=True,
        check=True,
    )
    code, peak_kib = map(int, done.stdout.split())
    assert code == 1
    assert (
        f"is {500 << 20} bytes, more than a proof for this model can take ({limit}" in done.stderr
    )
    assert peak_kib * 1024 < 200 << 20  # far below the file's 500 MB


@pytest.mark.parametrize("threads", ["-1", "0", "5000", str(2**64)])
def test_threads_out_of_range_is_one_sentence(demo_dir: Path, threads: str) -> None:
    done = zkgrad_cli(
        "prove", demo_dir / "model.zkg", demo_dir / "input.json", "--threads", threads
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: --threads must be a whole number from 1 to 1024 (this machine has "
        f"{os.cpu_count()} cores), not {threads}"
    )


def test_threads_in_range_proves(demo_dir: Path, tmp_path: Path) -> None:
    done = zkgrad_cli(
        "prove",
        demo_dir / "model.zkg",
        demo_dir / "input.json",
        "--threads",
        "2",
        "-o",
        tmp_path / "p.zkp",
    )
    assert done.returncode == 0, done.stderr
    assert zkgrad_cli("verify", demo_dir / "model.vk", tmp_path / "p.zkp").returncode == 0

"""Hostile proof files: a 64 MiB random file, a truncated proof and a proof with every size field
at its maximum each raise ``InvalidProof`` with a one-sentence message, in under a second and
under 256 MiB of resident memory (the peak RSS of a fresh interpreter that loads the key and
tries each file)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import zkgrad
from zkgrad import InvalidProof, _native

MAX_SECONDS = 1.0
MAX_RSS_MIB = 256

# Runs in a fresh interpreter: loads the key, then each file through Proof.load and verify.
SCRIPT = """
import json, resource, sys, time
import zkgrad
def rss_mib():
    # VmHWM: this process image's peak RSS. (getrusage's ru_maxrss would carry over the peak
    # of the forking pytest process across exec.)
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
key = zkgrad.VerifyingKey.load(sys.argv[1])
results = {"key": {"rss_mib": rss_mib()}}
for path in sys.argv[2:]:
    start = time.perf_counter()
    try:
        zkgrad.verify(key, zkgrad.Proof.load(path, key))
        message = None
    except zkgrad.InvalidProof as exc:
        message = str(exc)
    seconds = time.perf_counter() - start
    results[path] = {"seconds": seconds, "message": message, "rss_mib": rss_mib()}
print(json.dumps({"results": results, "rss_mib": rss_mib()}))
"""


def _max_lengths(proof: bytes) -> bytes:
    """The proof with every length field (bincode varint) replaced by u64::MAX."""
    data = bytearray(proof)
    huge = bytes([253]) + (2**64 - 1).to_bytes(8, "little")
    for off in reversed(_native.proof_length_fields(proof)):
        old = {251: 3, 252: 5, 253: 9, 254: 17}.get(data[off], 1)
        data[off : off + old] = huge
    return bytes(data)


@pytest.fixture(scope="module")
def files(
    compiled: Callable[[str], tuple[zkgrad.Model, np.ndarray]],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, Path]]:
    model, samples = compiled("mlp_784_128_10")
    out = tmp_path_factory.mktemp("hostile")
    key = out / "model.vk"
    model.verifying_key().save(key)
    proof = model.prove(samples[0]).data
    cases = {
        "a 64 MiB random file": np.random.default_rng(3).bytes(64 << 20),
        "a truncated proof": proof[: len(proof) // 2],
        "every size field at its maximum": _max_lengths(proof),
    }
    paths = {}
    for i, (name, data) in enumerate(cases.items()):
        paths[name] = out / f"case{i}.zkp"
        paths[name].write_bytes(data)
    return key, paths


def test_hostile_files_are_rejected_fast_and_small(files: tuple[Path, dict[str, Path]]) -> None:
    key, paths = files
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(key), *map(str, paths.values())],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(run.stdout)
    print(json.dumps(report, indent=1))
    for name, path in paths.items():
        result = report["results"][str(path)]
        message = result["message"]
        assert message is not None, f"{name}: accepted"
        assert "\n" not in message and len(message) < 300, f"{name}: {message!r}"
        assert result["seconds"] < MAX_SECONDS, f"{name}: {result['seconds']:.2f} s"
    assert report["rss_mib"] < MAX_RSS_MIB, f"peak RSS {report['rss_mib']:.0f} MiB"


def test_a_file_over_the_key_bound_is_refused_unread(
    compiled: Callable[[str], tuple[zkgrad.Model, np.ndarray]], tmp_path: Path
) -> None:
    model, _ = compiled("mlp_784_128_10")
    path = tmp_path / "big.zkp"
    path.write_bytes(bytes(model.max_proof_bytes + 1))
    with pytest.raises(InvalidProof, match="more than a proof for this model can take"):
        zkgrad.Proof.load(path, model)
    with pytest.raises(InvalidProof, match="more than a proof for this model can take"):
        model.verify(bytes(model.max_proof_bytes + 1))


def test_an_honest_proof_fits_the_bound(
    compiled: Callable[[str], tuple[zkgrad.Model, np.ndarray]],
) -> None:
    model, samples = compiled("mlp_784_128_10")
    proof = model.prove(samples[:4])
    assert proof.size < model.max_proof_bytes < 64 << 20
    assert zkgrad.verify(model, proof).shape[0] == 4

"""compile: a reproducible digest with ``seed=`` / ``--seed``, fresh randomness by default, and
calibration files holding several arrays mapped to the input by name."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import models
import zkgrad

SEED = bytes(range(32))


@pytest.fixture(scope="module")
def calibration() -> np.ndarray:
    return models.sample_inputs((1, 64), 8, seed=3)


def test_same_seed_gives_the_same_digest(
    onnx_path: Callable[[str], Path], calibration: np.ndarray
) -> None:
    path = onnx_path("matmul_add")
    first = zkgrad.compile(path, calibration, seed=SEED)
    again = zkgrad.compile(path, calibration, seed=SEED.hex())  # hex text is the same seed
    assert first.digest == again.digest
    other = zkgrad.compile(path, calibration, seed=bytes(32))
    assert other.digest != first.digest


def test_without_a_seed_every_compile_draws_fresh_randomness(
    onnx_path: Callable[[str], Path], calibration: np.ndarray
) -> None:
    path = onnx_path("matmul_add")
    first, again = (zkgrad.compile(path, calibration) for _ in range(2))
    assert first.digest != again.digest
    assert first.circuit_digest == again.circuit_digest  # same model, other hiding masks


@pytest.mark.parametrize("seed", [b"short", "zz" * 32, 7])
def test_a_bad_seed_is_one_clear_error(onnx_path: Callable[[str], Path], seed: object) -> None:
    with pytest.raises(zkgrad.ModelError, match=r"^seed: expected 32 bytes"):
        zkgrad.compile(onnx_path("matmul_add"), seed=seed)  # type: ignore[arg-type]


def _zkgrad(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zkgrad", *args], capture_output=True, text=True, check=False
    )


def _cli_digest(*args: str) -> str:
    done = _zkgrad("compile", *args)
    assert done.returncode == 0, done.stderr
    found = re.search(r"model digest: ([0-9a-f]{64})", done.stdout)
    assert found, done.stdout
    return found.group(1)


def test_cli_seed_makes_the_build_reproducible(
    onnx_path: Callable[[str], Path], tmp_path: Path
) -> None:
    path = str(onnx_path("matmul_add"))
    with_seed = [
        _cli_digest(path, "-o", str(tmp_path / f"{i}.zkg"), "--seed", SEED.hex()) for i in range(2)
    ]
    assert with_seed[0] == with_seed[1]
    assert with_seed[0] == zkgrad.Model.load(tmp_path / "0.zkg").digest
    fresh = _cli_digest(path, "-o", str(tmp_path / "fresh.zkg"))
    assert fresh != with_seed[0]


def test_npz_calibration_is_read_by_the_input_name(
    onnx_path: Callable[[str], Path], calibration: np.ndarray, tmp_path: Path
) -> None:
    # The test model's input is called "input"; "labels" comes first in the archive.
    np.savez(tmp_path / "both.npz", labels=np.zeros(len(calibration)), input=calibration)
    path = onnx_path("matmul_add")
    from_file = zkgrad.compile(path, tmp_path / "both.npz", seed=SEED)
    from_array = zkgrad.compile(path, calibration, seed=SEED)
    assert from_file.digest == from_array.digest
    assert from_file.ir["meta"]["scales"] == from_array.ir["meta"]["scales"]
    np.savez(tmp_path / "unnamed.npz", a=calibration, b=calibration)
    with pytest.raises(zkgrad.ModelError, match=r"unnamed\.npz holds 2 arrays \('a', 'b'\)"):
        zkgrad.compile(path, tmp_path / "unnamed.npz")


def test_cli_bad_seed_is_a_usage_error(onnx_path: Callable[[str], Path], tmp_path: Path) -> None:
    target = tmp_path / "m.zkg"
    done = _zkgrad("compile", str(onnx_path("matmul_add")), "-o", str(target), "--seed", "not-hex")
    assert done.returncode == 2
    assert done.stderr.strip() == "error: seed: expected 32 bytes or 64 hex digits"
    assert not target.exists()

"""``zkgrad serve`` refuses a bad configuration with exit code 2 and one sentence, before it
listens: an empty API key file, a batch size out of range, a queue smaller than one batch, a
verifying key instead of the model, a model whose input is committed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

import zkgrad
from serve_helpers import compile_bundled


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("serve-cli") / "bc.zkg"
    compile_bundled(path)
    return path


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zkgrad", "serve", *args, "--port", "9"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_empty_api_key_file(model_path: Path) -> None:
    keys = model_path.with_name("empty-keys.txt")
    keys.write_text("# no key here\n\n")
    done = _serve(str(model_path), "--api-key-file", str(keys))
    assert done.returncode == 2
    assert "holds no key" in done.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--max-batch", "0"], "--max-batch must be from 1 to 1024"),
        (["--workers", "0"], "--workers must be from 1 to 1024"),
        (["--max-queue", "4", "--max-batch", "8"], "must be at least --max-batch"),
        (["--prove-timeout", "0"], "--prove-timeout must be positive"),
    ],
)
def test_bad_limits(model_path: Path, args: list[str], words: str) -> None:
    done = _serve(str(model_path), *args)
    assert done.returncode == 2
    assert words in done.stderr


def test_a_verifying_key_cannot_be_served(model_path: Path) -> None:
    key = model_path.with_name("bc.vk")
    zkgrad.Model.load(model_path).export_vk(key)
    done = _serve(str(key))
    assert done.returncode == 2
    assert "verifying key" in done.stderr


def test_a_committed_input_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "committed.zkg"
    compile_bundled(path, input_visibility="committed")
    done = _serve(str(path))
    assert done.returncode == 2
    assert "input is committed" in done.stderr


def test_verifying_key_from_bytes_refuses_garbage_in_one_sentence(model_path: Path) -> None:
    key = zkgrad.Model.load(model_path).verifying_key()
    assert zkgrad.VerifyingKey.from_bytes(key.to_bytes()).digest == key.digest
    with pytest.raises(zkgrad.ModelError, match="not a zkgrad verifying key"):
        zkgrad.VerifyingKey.from_bytes(b"ZKGV" + b"\0" * 40)


def test_client_is_exported_lazily() -> None:
    code = "import sys, zkgrad; assert 'httpx' not in sys.modules; zkgrad.Client; print('ok')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.stdout.strip() == "ok", done.stderr

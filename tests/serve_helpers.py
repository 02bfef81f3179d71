"""Shared by the tests of ``zkgrad serve``: the bundled breast-cancer MLP compiled with a
public input, and a real server (``python -m zkgrad serve``) on a free port in a subprocess."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

import zkgrad
from zkgrad.demo import MODEL_ASSET, asset_path, load_records

START_TIMEOUT = 60.0


def compile_bundled(path: Path, input_visibility: str = "public") -> zkgrad.Model:
    """The demo's MLP 30-16-8-2, compiled with its records as calibration, saved at ``path``."""
    records = load_records()
    with asset_path(MODEL_ASSET) as onnx:
        model = zkgrad.compile(onnx, calibration=records.inputs, input_visibility=input_visibility)
    model.save(path)
    return model


def records() -> np.ndarray:
    """The 113 standardised held-out records, [113, 30]."""
    return load_records().inputs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``zkgrad serve MODEL ARGS...`` in a subprocess; ``url`` once it answers /healthz."""

    def __init__(self, model: Path, *args: str, log: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log or model.with_name(f"server-{self.port}.log")
        self._log_file = self.log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "zkgrad", "serve", str(model), "--port", str(self.port), *args],
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited ({self.process.returncode}): {self.output()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start in {START_TIMEOUT} s: {self.output()}")

    def output(self) -> str:
        if not self._log_file.closed:
            self._log_file.flush()
        return self.log.read_text()

    def worker_pids(self) -> list[int]:
        """The server's prover processes (multiprocessing spawn children)."""
        pids = []
        for child in _children(self.process.pid):
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            if b"spawn_main" in cmdline:
                pids.append(child)
        return pids

    def descendants(self, marker: bytes) -> list[int]:
        """Processes below the server (any depth) whose command line contains ``marker``."""
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            try:
                children = _children(pid)
            except FileNotFoundError:
                continue
            for child in children:
                todo.append(child)
                try:
                    cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
                except FileNotFoundError:
                    continue
                if marker in cmdline:
                    found.append(child)
        return found

    def terminate(self) -> None:
        """SIGTERM: uvicorn's graceful shutdown."""
        self.process.send_signal(signal.SIGTERM)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log_file.close()
        return self.process.returncode

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(p) for p in text)
    return found

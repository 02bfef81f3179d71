"""Proving on a Ray cluster: ``zkgrad serve --ray ADDRESS`` and ``zkgrad prove-many --ray``.

Ray places the work; nothing here schedules. Each serving worker is a Ray actor holding the
model (loaded once from the model file's bytes, shipped through Ray's object store); a
``prove-many`` chunk is a Ray task. Ray restarts an actor that dies and retries its task once
(``max_restarts``, ``max_task_retries``); a task that still fails is a :class:`WorkerLost`.

Proofs are numbered here, on the driver, in the ledger beside the model file: the cluster's
machines do not share that file, so each proof takes its number (which picks its epoch, a fresh
weight commitment linked to the published digest: ``docs/SECURITY.md``, "Epochs") before it is
sent, and the actors prove as that number (``Model.prove_as``) on a private copy of the model.

``ADDRESS`` is a Ray cluster address (``ray://host:10001``, ``host:6379``, ``auto``) or
``local``, which starts a Ray instance on this machine for the process's lifetime. Every node
needs zkgrad installed, at the same version as the driver.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from zkgrad.budget import POLICY_VARIABLE, ProofLedger
from zkgrad.errors import ModelError
from zkgrad.model import Model
from zkgrad.serve.pool import ProveOutcome, Result, WorkerLost, outcome_of, prove_with

#: Ray restarts a dead actor this many times, and retries the task it was running once.
ACTOR_RESTARTS = 4
TASK_RETRIES = 1


def require_ray() -> Any:
    """The ``ray`` module, or a clear error naming the extra that installs it."""
    try:
        import ray
    except ImportError:
        raise ModelError(
            "--ray needs Ray: pip install 'zkgrad[ray]' (ray is not installed here)"
        ) from None
    return ray


def connect(address: str) -> bool:
    """Join the cluster at ``address`` (``local``: start one here); True if this call did."""
    ray = require_ray()
    if ray.is_initialized():
        return False
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
    try:
        if address == "local":
            ray.init(**options)
        else:
            ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ModelError(f"cannot reach the Ray cluster at {address!r}: {exc}") from None
    return True


def model_from_bytes(data: bytes) -> Model:
    """A model file's bytes -> :class:`Model` through ``Model.load`` (on a worker node).

    The copy's ledger is private to the process; the driver does the counting.
    """
    folder = Path(tempfile.mkdtemp(prefix="zkgrad-ray-"))
    path = folder / "model.zkg"
    path.write_bytes(data)
    return Model.load(path)


class _Prover:
    """A Ray actor's state: the model, loaded once."""

    def __init__(self, model_data: bytes, threads: int | None) -> None:
        os.environ[POLICY_VARIABLE] = "warn"  # the driver numbers the proofs
        self.model = model_from_bytes(model_data)
        self.threads = threads

    def ready(self) -> int:
        return os.getpid()

    def prove(self, batch: np.ndarray, number: int) -> Result:
        return prove_with(self.model, batch, self.threads, number)


def _prove_chunk(
    model_data: bytes, chunk: np.ndarray, threads: int | None, number: int
) -> tuple[bytes, bytes | None] | str:
    """A ``prove-many`` task: the proof of one chunk and its epoch certificate, or the error's
    message."""
    status, payload, _, _, certificate = prove_with(
        model_from_bytes(model_data), chunk, threads, number
    )
    if status != "ok" or not isinstance(payload, bytes):
        return f"error: {payload}"
    return payload, certificate


class CentralLedger:
    """Proofs numbered on the driver, in the ledger beside the model file."""

    def __init__(self, model_path: str | Path) -> None:
        self.digest = Model.load(model_path).digest
        self.ledger = ProofLedger.beside(model_path)

    def take(self) -> int:
        """The next proof's number (it picks the proof's epoch)."""
        return self.ledger.take(self.digest)


class RayProverPool:
    """``workers`` Ray actors proving batches (see the module docstring)."""

    def __init__(
        self,
        model_path: str,
        address: str,
        workers: int,
        threads: int | None,
    ) -> None:
        self.workers = workers
        self.restarts = 0
        self._ledger = CentralLedger(model_path)
        self._ray = require_ray()
        self._started_ray = connect(address)
        data = self._ray.put(Path(model_path).read_bytes())
        actor = self._ray.remote(_Prover).options(
            max_restarts=ACTOR_RESTARTS, max_task_retries=TASK_RETRIES
        )
        self._actors = [actor.remote(data, threads) for _ in range(workers)]
        self._free: asyncio.Queue[Any] = asyncio.Queue()

    async def start(self) -> None:
        """Wait until every actor holds the model."""
        await asyncio.gather(*(actor.ready.remote() for actor in self._actors))
        for actor in self._actors:
            self._free.put_nowait(actor)

    async def prove(self, batch: np.ndarray) -> ProveOutcome:
        number = await asyncio.to_thread(self._ledger.take)
        actor = await self._free.get()
        try:
            result = await actor.prove.remote(batch, number)
        except self._ray.exceptions.RayError as exc:
            raise WorkerLost(
                f"the Ray worker proving this request failed ({type(exc).__name__}), also after "
                "a retry; the server goes on: try again"
            ) from None
        finally:
            self._free.put_nowait(actor)
        return outcome_of(result)

    def close(self) -> None:
        for actor in self._actors:
            self._ray.kill(actor)
        if self._started_ray:
            self._ray.shutdown()

"""Proving on a Ray cluster: ``zkgrad serve --ray ADDRESS`` and ``zkgrad prove-many --ray``.

Ray places the work; nothing here schedules. Each serving worker is a Ray actor holding the
model (loaded once from the model file's bytes, shipped through Ray's object store); a
``prove-many`` chunk is a Ray task. Ray restarts an actor that dies and retries its task once
(``max_restarts``, ``max_task_retries``); a task that still fails is a :class:`WorkerLost`.

The zero-knowledge budget is counted here, on the driver, in the ledger beside the model file:
the cluster's machines do not share that file, so each proof is recorded (and refused past the
budget, unless overrun is allowed) before it is sent, and the actors prove with the policy
``warn`` on a private copy whose own count means nothing.

``ADDRESS`` is a Ray cluster address (``ray://host:10001``, ``host:6379``, ``auto``) or
``local``, which starts a Ray instance on this machine for the process's lifetime. Every node
needs zkgrad installed, at the same version as the driver.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from zkgrad.budget import POLICY_VARIABLE, ProofLedger, ZeroKnowledgeBudgetError
from zkgrad.budget import ZeroKnowledgeBudgetWarning as BudgetWarning
from zkgrad.errors import ModelError
from zkgrad.model import Model
from zkgrad.serve.pool import ProveOutcome, WorkerLost, budget_policy, outcome_of, prove_with

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
        os.environ[POLICY_VARIABLE] = "warn"  # the driver enforces the budget
        self.model = model_from_bytes(model_data)
        self.threads = threads

    def ready(self) -> int:
        return os.getpid()

    def prove(self, batch: np.ndarray) -> tuple[str, bytes | str, float, list[str]]:
        status, payload, seconds, _ = prove_with(self.model, batch, self.threads)
        return status, payload, seconds, []


def _prove_chunk(model_data: bytes, chunk: np.ndarray, threads: int | None) -> bytes | str:
    """A ``prove-many`` task: the proof of one chunk, or the error's message."""
    os.environ[POLICY_VARIABLE] = "warn"  # the driver enforces the budget
    status, payload, _, _ = prove_with(model_from_bytes(model_data), chunk, threads)
    if status != "ok":
        return f"error: {payload}"
    return payload


class CentralLedger:
    """The budget counted on the driver, in the ledger beside the model file."""

    def __init__(self, model_path: str | Path, allow_budget_overrun: bool) -> None:
        model = Model.load(model_path)
        self.digest = model.digest
        self.budget = model.zk_budget
        self.policy = budget_policy(allow_budget_overrun)
        self.ledger = ProofLedger.beside(model_path)

    def remaining(self) -> int:
        return max(0, self.budget - self.ledger.count(self.digest))

    def spend(self) -> tuple[str, str, float, list[str]] | None:
        """Record one proof; None to go on, or a worker-style "budget" result to refuse it.

        Warnings past the budget (policy ``warn``) come back in the fourth field of an "ok"."""
        os.environ[POLICY_VARIABLE] = self.policy
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", BudgetWarning)
            try:
                self.ledger.spend(self.digest, self.budget, "the model's weight commitment")
            except ZeroKnowledgeBudgetError as exc:
                return "budget", str(exc), 0.0, []
        notes = [str(w.message) for w in caught if issubclass(w.category, BudgetWarning)]
        return ("ok", "", 0.0, notes) if notes else None


class RayProverPool:
    """``workers`` Ray actors proving batches (see the module docstring)."""

    def __init__(
        self,
        model_path: str,
        address: str,
        workers: int,
        threads: int | None,
        allow_budget_overrun: bool,
    ) -> None:
        self.workers = workers
        self.restarts = 0
        self._ledger = CentralLedger(model_path, allow_budget_overrun)
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
        refused = await asyncio.to_thread(self._ledger.spend)
        if refused is not None and refused[0] == "budget":
            return outcome_of(refused)
        notes = refused[3] if refused is not None else []
        actor = await self._free.get()
        try:
            result = await actor.prove.remote(batch)
        except self._ray.exceptions.RayError as exc:
            raise WorkerLost(
                f"the Ray worker proving this request failed ({type(exc).__name__}), also after "
                "a retry; the server goes on: try again"
            ) from None
        finally:
            self._free.put_nowait(actor)
        outcome = outcome_of(result)
        return ProveOutcome(outcome.proof, outcome.seconds, notes)

    def close(self) -> None:
        for actor in self._actors:
            self._ray.kill(actor)
        if self._started_ray:
            self._ray.shutdown()

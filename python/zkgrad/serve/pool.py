"""Proving off the event loop: a pool of worker processes, each holding the model.

The server never proves in its own process: a proof takes the CPU for tens of milliseconds
to seconds, and the event loop must keep answering (health checks, 429s, other requests).
Each worker loads the model file once (:func:`init_worker`) and proves through the public API
(``Model.prove``), so the proof ledger beside the model file counts every proof, across
workers and restarts (``zkgrad.budget``).

A worker that dies (killed, out of memory) breaks a ``ProcessPoolExecutor`` as a whole: the
pool is replaced by a fresh one and the batch proved once more; a batch that loses its worker
twice fails with :class:`WorkerLost` (the server answers 503). A batch that gets no answer within
``prove_timeout`` seconds is treated the same way (its pool's workers are killed): Python 3.11's
executor can hang instead of breaking when a worker dies at the wrong moment, and a request must
never wait forever.

Example::

    pool = ProcessProverPool("model.zkg", workers=2, threads=1)
    outcome = await pool.prove(batch)          # batch: [N, *input_shape]
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import numpy as np

from zkgrad.budget import POLICY_VARIABLE, ZeroKnowledgeBudgetError, ZeroKnowledgeBudgetWarning
from zkgrad.errors import ModelError
from zkgrad.model import Model

#: Tries per batch: the first, and one more after a worker died under it.
ATTEMPTS = 2


class ProveFailed(Exception):
    """A batch could not be proved; the message is one sentence for the client."""


class BudgetExhausted(ProveFailed):
    """The model's zero-knowledge budget is spent and the server may not go past it."""


class WorkerLost(ProveFailed):
    """The worker proving the batch died, again after a retry."""


@dataclass(frozen=True)
class ProveOutcome:
    """A proof of one batch, how long the prover took, and budget warnings it raised."""

    proof: bytes
    seconds: float
    budget_warnings: list[str] = field(default_factory=list)
    #: The certificate of the epoch the proof was made in (``zkgrad.model.Proof``).
    certificate: bytes | None = None


# --- worker side -------------------------------------------------------------------------------
_model: Model | None = None
_threads: int | None = None


def init_worker(model_path: str, policy: str, threads: int | None) -> None:
    """Load the model once per worker process; set the budget policy explicitly."""
    global _model, _threads
    # Ctrl-C reaches the whole process group: the server shuts its workers down itself, so a
    # proof in flight is finished rather than torn.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ[POLICY_VARIABLE] = policy
    _model = Model.load(model_path)
    _threads = threads


def worker_pid() -> int:
    """A no-op task: starts a worker (spawned on demand) and says which process ran it."""
    return os.getpid()


#: A worker's plain result: (status, proof bytes or message, seconds, budget warnings, epoch
#: certificate or None).
Result = tuple[str, bytes | str, float, list[str], bytes | None]


def prove_in_worker(batch: np.ndarray) -> Result:
    """Prove ``batch`` with the worker's model; see :func:`prove_with`."""
    if _model is None:
        raise RuntimeError("prove_in_worker ran in a process that init_worker did not set up")
    return prove_with(_model, batch, _threads)


def prove_with(
    model: Model, batch: np.ndarray, threads: int | None, number: int | None = None
) -> Result:
    """One proof of ``batch`` (``[N, ...]``; N = 1 gives a one-input proof); ``number``: the
    proof's number from a ledger elsewhere (``Model.prove_as``), else the model's own ledger.

    Returns ("ok", proof bytes, seconds, budget warnings, epoch certificate) or ("budget" |
    "error", message, 0, [], None): plain values, so nothing native crosses the process
    boundary pickled.
    """
    start = time.perf_counter()
    x = batch[0] if batch.shape[0] == 1 else batch
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ZeroKnowledgeBudgetWarning)
        try:
            if number is None:
                proof = model.prove(x, threads=threads)
            else:
                proof = model.prove_as(number, x, threads=threads)
        except ZeroKnowledgeBudgetError as exc:
            return "budget", str(exc), 0.0, [], None
        except (ModelError, ValueError, RuntimeError) as exc:
            return "error", str(exc), 0.0, [], None
    notes = [str(w.message) for w in caught if issubclass(w.category, ZeroKnowledgeBudgetWarning)]
    return "ok", proof.data, time.perf_counter() - start, notes, proof.epoch_certificate


def outcome_of(result: Result) -> ProveOutcome:
    """A worker's plain result -> :class:`ProveOutcome`, or the matching :class:`ProveFailed`."""
    status, payload, seconds, notes, certificate = result
    if status == "ok" and isinstance(payload, bytes):
        return ProveOutcome(payload, seconds, notes, certificate)
    if status == "budget":
        raise BudgetExhausted(
            f"{payload} (this server honours the zero-knowledge budget of every commitment)"
        )
    raise ProveFailed(f"proving failed: {payload}")


# --- server side -------------------------------------------------------------------------------
class ProcessProverPool:
    """``workers`` processes proving with the model file at ``model_path``."""

    def __init__(
        self, model_path: str, workers: int, threads: int | None, prove_timeout: float = 600.0
    ) -> None:
        self.workers = workers
        self.restarts = 0
        #: Seconds a batch may take before its workers count as hung (killed, batch retried).
        self.prove_timeout = prove_timeout
        self._initargs = (str(model_path), "enforce", threads)
        # spawn, not fork: the server has threads (uvicorn, asyncio) that fork would copy badly.
        self._context = multiprocessing.get_context("spawn")
        self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=self._context,
            initializer=init_worker,
            initargs=self._initargs,
        )

    async def start(self) -> None:
        """Start every worker now (they load the model) instead of on the first request."""
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(self._executor, worker_pid) for _ in range(self.workers))
        )

    async def prove(self, batch: np.ndarray) -> ProveOutcome:
        """Prove ``batch`` in a worker; retried once on a fresh pool if the worker dies."""
        for _ in range(ATTEMPTS):
            executor = self._executor
            try:
                future = executor.submit(prove_in_worker, batch)
                waiting = asyncio.wrap_future(future)
                # A killed pool fails this later, when nobody waits: mark it seen.
                waiting.add_done_callback(_retrieve)
                result = await asyncio.wait_for(asyncio.shield(waiting), self.prove_timeout)
            except TimeoutError:
                _kill_workers(executor)
                self._replace(executor)
                continue
            except BrokenProcessPool:
                self._replace(executor)
                continue
            except asyncio.CancelledError:
                if not future.cancelled():  # this request's task was cancelled: pass it on
                    raise
                self._replace(executor)  # the broken pool dropped the work: prove it again
                continue
            return outcome_of(result)
        raise WorkerLost(
            "the worker proving this request died (twice, with a retry); the server goes on: "
            "try again"
        )

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        """Swap a broken executor for a new one (once, however many batches saw it break)."""
        if self._executor is broken:
            self.restarts += 1
            self._executor = self._new_executor()
            # No cancel_futures: a broken pool fails its pending work with BrokenProcessPool
            # itself, which each batch's prove() above turns into a retry.
            broken.shutdown(wait=False)

    def close(self) -> None:
        """Stop the workers once the proofs they hold are done."""
        self._executor.shutdown(wait=True)


def _kill_workers(executor: ProcessPoolExecutor) -> None:
    """Kill a hung pool's processes. The executor has no public way to do this; its
    ``_processes`` map (pid -> Process) has been stable across CPython 3.8-3.13."""
    processes = getattr(executor, "_processes", None) or {}
    for process in list(processes.values()):
        if hasattr(process, "kill"):
            process.kill()


def _retrieve(future: asyncio.Future) -> None:  # type: ignore[type-arg]
    if not future.cancelled():
        future.exception()

"""Requests that arrive together are proved together: one batch proof for up to ``max_batch``
samples.

The batcher keeps a bounded queue of requests and at most ``workers`` proofs in flight. When a
worker frees up it takes every queued request that fits into one batch: under light load a
request is proved alone at once (no added wait), under heavy load the queue fills while the
workers are busy and each proof covers many requests, which is what makes the server faster
when busy (a batch of 16 costs about twice one proof, ``benches/RESULTS.md``). A full queue is
refused at once (:class:`QueueFull`, the server's 429 with ``Retry-After``).

Example::

    batcher = Batcher(pool, key, max_batch=16, max_queue=256)
    task = asyncio.create_task(batcher.run())
    result = await batcher.submit(samples)        # samples: [k, *input_shape]
"""

from __future__ import annotations

import asyncio
import base64
import math
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from zkgrad.model import Proof, VerifyingKey
from zkgrad.serve.pool import ProveFailed, ProveOutcome
from zkgrad.serve.validation import trailing_shape


class ProverPool(Protocol):
    """What the batcher needs of a pool: its size and an awaitable proof of a batch."""

    workers: int

    async def prove(self, batch: np.ndarray) -> ProveOutcome: ...


class QueueFull(Exception):
    """The queue holds as many samples as it may; ``retry_after`` is a whole-second estimate."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"the proving queue is full; retry in {retry_after} s")


class ShuttingDown(ProveFailed):
    """The server is stopping and will not prove this request."""


@dataclass(frozen=True)
class BatchResult:
    """One request's share of a batch proof: its rows ``[start, stop)`` of the proof's output."""

    proof_id: str
    proof: bytes
    proof_b64: str  # encoded once per batch: every request of the batch sends the same proof
    output: np.ndarray  # this request's claimed rows, [k, *output trailing shape]
    start: int
    stop: int
    proof_batch: int
    prove_seconds: float


@dataclass
class _Job:
    samples: np.ndarray
    future: asyncio.Future[BatchResult]
    queued_at: float


class Batcher:
    """Queue, batch and prove; see the module docstring."""

    def __init__(
        self,
        pool: ProverPool,
        key: VerifyingKey,
        max_batch: int,
        max_queue: int,
        on_proof: Callable[[str, bytes, ProveOutcome, int], None] | None = None,
    ) -> None:
        self.pool = pool
        self.key = key
        self.max_batch = max_batch
        self.max_queue = max_queue
        self._on_proof = on_proof
        self._queue: deque[_Job] = deque()
        self._queued_samples = 0
        self._in_flight: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(pool.workers)
        self._wake = asyncio.Event()
        self._closing = False
        self._mean_prove_seconds = 0.05  # updated from real proofs; only for Retry-After

    @property
    def queued_samples(self) -> int:
        """Samples waiting for a worker (the queue depth)."""
        return self._queued_samples

    @property
    def busy(self) -> int:
        """Proofs in flight."""
        return len(self._in_flight)

    def submit(self, samples: np.ndarray) -> asyncio.Future[BatchResult]:
        """Queue ``samples`` (``[k, ...]``, k ≤ max_batch); raises QueueFull or ShuttingDown."""
        if self._closing:
            raise ShuttingDown("the server is shutting down and takes no new requests")
        count = int(samples.shape[0])
        if self._queued_samples + count > self.max_queue:
            raise QueueFull(self._retry_after())
        future: asyncio.Future[BatchResult] = asyncio.get_running_loop().create_future()
        self._queue.append(_Job(samples, future, time.perf_counter()))
        self._queued_samples += count
        self._wake.set()
        return future

    def _retry_after(self) -> int:
        """Seconds until the queue has drained by one batch per worker, at least 1."""
        batches = math.ceil(self._queued_samples / self.max_batch) / max(self.pool.workers, 1)
        return max(1, math.ceil(batches * self._mean_prove_seconds))

    async def run(self) -> None:
        """Dispatch until :meth:`close`: whenever a worker is free, prove one batch."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                await self._slots.acquire()
                jobs = self._take_batch()
                if not jobs:
                    self._slots.release()
                    break
                task = asyncio.create_task(self._prove(jobs))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
            if self._closing and not self._queue:
                return

    def _take_batch(self) -> list[_Job]:
        """The queued jobs, oldest first, whose samples fit into one proof."""
        jobs: list[_Job] = []
        size = 0
        while self._queue:
            job = self._queue[0]
            if job.future.done():  # the client went away (its request was cancelled)
                self._queue.popleft()
                self._queued_samples -= job.samples.shape[0]
                continue
            if jobs and size + job.samples.shape[0] > self.max_batch:
                break
            self._queue.popleft()
            self._queued_samples -= job.samples.shape[0]
            size += job.samples.shape[0]
            jobs.append(job)
        return jobs

    async def _prove(self, jobs: list[_Job]) -> None:
        try:
            batch = np.concatenate([job.samples for job in jobs])
            try:
                outcome = await self.pool.prove(batch)
            except ProveFailed as exc:
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(type(exc)(str(exc)))
                return
            self._mean_prove_seconds = 0.8 * self._mean_prove_seconds + 0.2 * outcome.seconds
            proof_id = secrets.token_hex(16)
            if self._on_proof is not None:
                self._on_proof(proof_id, outcome.proof, outcome, int(batch.shape[0]))
            rows = self._claimed_rows(outcome.proof, int(batch.shape[0]))
            proof_b64 = base64.b64encode(outcome.proof).decode()
            start = 0
            for job in jobs:
                stop = start + int(job.samples.shape[0])
                if not job.future.done():
                    job.future.set_result(
                        BatchResult(
                            proof_id,
                            outcome.proof,
                            proof_b64,
                            rows[start:stop],
                            start,
                            stop,
                            int(batch.shape[0]),
                            outcome.seconds,
                        )
                    )
                start = stop
        finally:
            # Whatever happened (a bug, a cancelled task), no request is left waiting forever;
            # a batch cut off by the shutdown (its task cancelled) is a 503 like the queued ones.
            for job in jobs:
                if not job.future.done():
                    job.future.set_exception(
                        ShuttingDown("the server shut down before this request was proved; retry")
                        if self._closing
                        else ProveFailed("proving this request failed unexpectedly; try again")
                    )
            self._slots.release()
            self._wake.set()

    def _claimed_rows(self, proof: bytes, count: int) -> np.ndarray:
        """The proof's claimed output as ``[count, ...]`` (the client verifies it)."""
        output = np.asarray(Proof(proof, self.key).output)
        return output.reshape(count, *trailing_shape(self.key.output_shape))

    def begin_shutdown(self, grace_seconds: float) -> None:
        """Take no new requests (503); keep proving the queued ones for ``grace_seconds``, then
        answer what is still queued with :class:`ShuttingDown` (503), while its client is still
        connected: the server stops without dropping a request in silence."""
        self._closing = True
        self._wake.set()
        asyncio.get_running_loop().call_later(grace_seconds, self._fail_queued)

    def _fail_queued(self) -> None:
        while self._queue:
            job = self._queue.popleft()
            if not job.future.done():
                job.future.set_exception(
                    ShuttingDown("the server shut down before this request was proved; retry")
                )
        self._queued_samples = 0

    async def close(self, grace_seconds: float) -> None:
        """Take no new requests; let the queued and in-flight ones finish for up to
        ``grace_seconds``, then fail what is left with :class:`ShuttingDown`."""
        self._closing = True
        self._wake.set()
        deadline = time.perf_counter() + grace_seconds
        while (self._queue or self._in_flight) and time.perf_counter() < deadline:
            await asyncio.sleep(0.02)
        self._fail_queued()

"""``zkgrad prove-many``: a large batch split into chunks, one proof per chunk, proved in
parallel on a Ray cluster (``--ray``) or in local worker processes; results in input order.

Example::

    proofs = prove_many("model.zkg", inputs, chunk=64, ray_address="local")
    for part in proofs:                       # in input order
        print(part.start, part.stop, len(part.proof))
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zkgrad.budget import policy
from zkgrad.errors import ModelError
from zkgrad.inputs import as_batch
from zkgrad.model import Model
from zkgrad.serve.pool import init_worker, outcome_of, prove_in_worker

TASK_RETRIES = 2


@dataclass(frozen=True)
class ChunkProof:
    """The proof of inputs ``start`` to ``stop - 1``."""

    start: int
    stop: int
    proof: bytes
    #: The certificate of the epoch the proof was made in (its verifier needs it).
    certificate: bytes | None = None


def spans(count: int, chunk: int) -> list[tuple[int, int]]:
    """``[start, stop)`` of each chunk of at most ``chunk`` inputs."""
    return [(start, min(start + chunk, count)) for start in range(0, count, chunk)]


def prove_many(
    model_path: str | Path,
    inputs: np.ndarray,
    chunk: int,
    ray_address: str | None = None,
    workers: int = 1,
    threads: int | None = None,
    on_done: Callable[[int], object] | None = None,
) -> list[ChunkProof]:
    """Prove ``inputs`` (``[N, ...]``) in chunks of ``chunk``; ``on_done(samples)`` after each.

    Every proof is numbered in the ledger beside the model file, so each lands in its own
    slot of an epoch (``docs/SECURITY.md``, "Epochs"), however many workers prove.
    """
    if chunk < 1:
        raise ModelError(f"--chunk must be at least 1, not {chunk}")
    model = Model.load(model_path)
    batch = as_batch(inputs, model.input_shape, "inputs")
    for index, sample in enumerate(batch):
        try:
            model.quantize(sample)
        except ModelError as exc:
            raise ModelError(f"inputs[{index}]: {exc}") from None
    parts = spans(int(batch.shape[0]), chunk)
    done = on_done or (lambda _: None)
    if ray_address is not None:
        return _on_ray(model_path, batch, parts, ray_address, threads, done)
    return _in_processes(model_path, batch, parts, workers, threads, done)


def _in_processes(
    model_path: str | Path,
    batch: np.ndarray,
    parts: list[tuple[int, int]],
    workers: int,
    threads: int | None,
    done: Callable[[int], object],
) -> list[ChunkProof]:
    results: dict[int, ChunkProof] = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=init_worker,
        initargs=(str(model_path), policy(), threads),
    ) as executor:
        futures = {
            executor.submit(prove_in_worker, batch[start:stop]): (index, start, stop)
            for index, (start, stop) in enumerate(parts)
        }
        for future in as_completed(futures):
            index, start, stop = futures[future]
            outcome = outcome_of(future.result())
            results[index] = ChunkProof(start, stop, outcome.proof, outcome.certificate)
            done(stop - start)
    return [results[index] for index in range(len(parts))]


def _on_ray(
    model_path: str | Path,
    batch: np.ndarray,
    parts: list[tuple[int, int]],
    address: str,
    threads: int | None,
    done: Callable[[int], object],
) -> list[ChunkProof]:
    from zkgrad.serve.ray_pool import CentralLedger, _prove_chunk, connect, require_ray

    ray = require_ray()
    started = connect(address)
    try:
        ledger = CentralLedger(model_path)
        data = ray.put(Path(model_path).read_bytes())
        task = ray.remote(_prove_chunk).options(max_retries=TASK_RETRIES)
        pending = {}
        for index, (start, stop) in enumerate(parts):
            pending[task.remote(data, batch[start:stop], threads, ledger.take())] = index
        results: dict[int, ChunkProof] = {}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                index = pending.pop(ref)
                start, stop = parts[index]
                try:
                    value = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    raise ModelError(
                        f"inputs {start}..{stop - 1}: the Ray task failed ({type(exc).__name__}) "
                        f"after {TASK_RETRIES} retries"
                    ) from None
                if isinstance(value, str):
                    raise ModelError(f"inputs {start}..{stop - 1}: {value}")
                results[index] = ChunkProof(start, stop, *value)
                done(stop - start)
        return [results[index] for index in range(len(parts))]
    finally:
        if started:
            ray.shutdown()

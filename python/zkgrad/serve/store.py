"""Proofs by id (``GET /v1/proofs/{id}``): the recent ones in memory, every one on disk with
``--proof-dir``.

A proof is a few hundred KiB, so the memory store is bounded by a count (``--keep-proofs``).
With a directory, every proof is also written there as ``<id>.zkp`` with its epoch certificate
in ``epochs/`` (the layout ``zkgrad verify`` reads: an audit trail verifiable offline), and a
proof no longer in memory is read back from it.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from zkgrad.model import Proof

#: Proof ids are 32 hex digits (``secrets.token_hex(16)``); nothing else names a file.
PROOF_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class StoredProof:
    """A proof, how many samples it covers and when it was made (Unix seconds)."""

    proof: bytes
    batch: int
    created: float


class ProofStore:
    """The last ``capacity`` proofs in memory, and every proof in ``directory`` if given;
    thread-safe."""

    def __init__(
        self,
        capacity: int,
        directory: Path | None = None,
        batch_of: Callable[[bytes], int] | None = None,
    ) -> None:
        self.capacity = capacity
        self.directory = directory
        #: Samples a proof read back from disk covers (the model's output rows).
        self._batch_of = batch_of or (lambda _: 1)
        self._proofs: OrderedDict[str, StoredProof] = OrderedDict()
        self._lock = threading.Lock()

    def put(
        self, proof_id: str, proof: bytes, batch: int, certificate: bytes | None = None
    ) -> None:
        stored = StoredProof(proof, batch, time.time())
        if self.directory is not None:
            Proof(proof, None, certificate).save(self.directory / f"{proof_id}.zkp")
        if self.capacity <= 0:
            return
        with self._lock:
            self._proofs[proof_id] = stored
            while len(self._proofs) > self.capacity:
                self._proofs.popitem(last=False)

    def get(self, proof_id: str) -> StoredProof | None:
        with self._lock:
            found = self._proofs.get(proof_id)
        if found is not None or self.directory is None or not PROOF_ID.fullmatch(proof_id):
            return found
        file = self.directory / f"{proof_id}.zkp"
        try:
            data, created = file.read_bytes(), file.stat().st_mtime
        except OSError:
            return None
        try:
            batch = self._batch_of(data)
        except (ValueError, RuntimeError):  # not a proof of this model: not one we wrote
            return None
        return StoredProof(data, batch, created)

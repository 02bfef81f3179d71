"""Recent proofs by id (``GET /v1/proofs/{id}``), in memory, the oldest dropped first.

A proof is a few hundred KiB, so the store is bounded by a count (``--keep-proofs``); a client
that wants a proof for longer keeps the one its answer carried.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class StoredProof:
    """A proof, how many samples it covers and when it was made (Unix seconds)."""

    proof: bytes
    batch: int
    created: float


class ProofStore:
    """The last ``capacity`` proofs; thread-safe."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._proofs: OrderedDict[str, StoredProof] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, proof_id: str, proof: bytes, batch: int) -> None:
        if self.capacity <= 0:
            return
        with self._lock:
            self._proofs[proof_id] = StoredProof(proof, batch, time.time())
            while len(self._proofs) > self.capacity:
                self._proofs.popitem(last=False)

    def get(self, proof_id: str) -> StoredProof | None:
        with self._lock:
            return self._proofs.get(proof_id)

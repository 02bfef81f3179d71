"""How many proofs one commitment may serve before zero knowledge stops holding, and a ledger
that counts them.

A hiding commitment (the model's weights, a committed input) is one fixed codeword, and every
proof opens it again: each opening reveals spot-checked leaves and one value per masked column.
(A committed dataset's digest is numbered the same way: proof n opens its epoch n // 127 or so,
``zkgrad.dataset``.)
A weight commitment's randomness and its (lifted) column masks are sized for 16 openings. So
proofs never open the published commitment: proof n opens the commitment of epoch
n // 15, a fresh commitment to the same weights linked to the published one by a
zero-knowledge certificate (``zkgrad_core::epoch``; ``docs/SECURITY.md``, "How many proofs one
commitment hides"). The ledger beside the model file (``model.zkg.ledger``; in memory for a model
that was never saved or loaded) numbers the proofs, so no epoch serves more than its 15. A
committed input is numbered the same way, per input digest: proof n over it opens the leaf of
input epoch n // ``Model.input_zk_budget`` (25 for the bundled MLP's one-sample input), a
fresh commitment to the input linked to the published input commitment
(``zkgrad_core::zk::input``), so it never runs out either. ``spend`` refuses a proof past a
fixed budget — unless ``ZKGRAD_ZK_BUDGET=warn`` asks it to go on with a warning.
"""

from __future__ import annotations

import fcntl
import json
import os
import warnings
from collections.abc import Callable
from pathlib import Path

from zkgrad.errors import ModelError

__all__ = ["ProofLedger", "ZeroKnowledgeBudgetError", "ZeroKnowledgeBudgetWarning", "policy"]

POLICY_VARIABLE = "ZKGRAD_ZK_BUDGET"


class ZeroKnowledgeBudgetError(ModelError):
    """A proof would open a commitment more often than its zero-knowledge budget allows."""


class ZeroKnowledgeBudgetWarning(UserWarning):
    """A proof went past a commitment's zero-knowledge budget (``ZKGRAD_ZK_BUDGET=warn``)."""


def policy() -> str:
    """``enforce`` (the default: refuse the proof) or ``warn`` (prove, and warn)."""
    value = os.environ.get(POLICY_VARIABLE, "enforce").strip().lower()
    if value not in ("enforce", "warn"):
        raise ModelError(f"{POLICY_VARIABLE} must be 'enforce' or 'warn', not {value!r}")
    return value


class ProofLedger:
    """Proofs made per commitment digest: in a JSON file beside the model file, or in memory."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._counts: dict[str, int] = {}

    @classmethod
    def beside(cls, model_path: str | os.PathLike[str]) -> ProofLedger:
        """The ledger of the model file ``model_path`` (``<model_path>.ledger``)."""
        return cls(Path(f"{os.fspath(model_path)}.ledger"))

    def moved_beside(self, model_path: str | os.PathLike[str]) -> ProofLedger:
        """The ledger of ``model_path``, with the proofs counted here added to it."""
        target = ProofLedger.beside(model_path)
        if target.path == self.path:
            return self
        counts = dict(self._counts) if self.path is None else self._read_all()
        if counts:
            with open(target.path, "a+", encoding="utf-8") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                handle.seek(0)
                merged = target._read(handle.read() or "{}")
                for digest, used in counts.items():
                    merged[digest] = int(merged.get(digest, 0)) + int(used)
                handle.seek(0)
                handle.truncate()
                handle.write(json.dumps(merged, indent=1, sort_keys=True))
        return target

    def _read_all(self) -> dict[str, int]:
        if self.path is None or not self.path.exists():
            return {}
        return self._read(self.path.read_text() or "{}")

    def count(self, digest: str) -> int:
        """Proofs recorded so far for ``digest``."""
        if self.path is None:
            return self._counts.get(digest, 0)
        if not self.path.exists():
            return 0
        return int(self._read(self.path.read_text() or "{}").get(digest, 0))

    def spend(self, digest: str, budget: int, what: str) -> int:
        """Record one more proof for ``digest`` and return its number (0 for the first); refuse
        (or warn) past ``budget``.

        ``what`` names the commitment in the message ("the model's weight commitment").
        """
        return self._take(digest, lambda used: self._check(used, budget, what, digest))

    def take(self, digest: str) -> int:
        """Record one more proof for ``digest`` and return its number (0 for the first): the
        model's weight commitment never runs out, as each proof opens the commitment of its own
        epoch (``proof number // proofs per epoch``), linked to the published one."""
        return self._take(digest, lambda used: None)

    def _take(self, digest: str, check: Callable[[int], None]) -> int:
        if self.path is None:
            used = self._counts.get(digest, 0)
            check(used)
            self._counts[digest] = used + 1
            return used
        # One writer at a time: two processes proving with one model file count both proofs.
        try:
            handle = open(self.path, "a+", encoding="utf-8")  # closed by the with below
        except OSError as exc:
            raise ModelError(
                f"{self.path}: cannot write the proof ledger beside the model file "
                f"({exc.strerror}); copy the model somewhere writable"
            ) from None
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            counts = self._read(handle.read() or "{}")
            used = int(counts.get(digest, 0))
            check(used)
            counts[digest] = used + 1
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(counts, indent=1, sort_keys=True))
        return used

    def _read(self, text: str) -> dict[str, int]:
        try:
            counts = json.loads(text)
        except json.JSONDecodeError:
            raise ModelError(f"{self.path}: the proof ledger is not valid JSON") from None
        if not isinstance(counts, dict):
            raise ModelError(f"{self.path}: the proof ledger is not a JSON object")
        return counts

    def _check(self, used: int, budget: int, what: str, digest: str) -> None:
        if used < budget:
            return

        def proofs(n: int) -> str:
            return f"{n} proof" if n == 1 else f"{n} proofs"

        served = f"{what} {digest[:16]}… has served {proofs(used)}"
        if policy() == "enforce":
            raise ZeroKnowledgeBudgetError(
                f"{served}, its whole zero-knowledge budget of {proofs(budget)} (HVZK-WHIR hides "
                f"{budget} opening{'' if budget == 1 else 's'} of one commitment), so no further "
                "proof is made: it would reveal more of what the commitment hides; compile the "
                f"model again for a fresh commitment, or set {POLICY_VARIABLE}=warn to accept the "
                "leak (docs/SECURITY.md)"
            )
        warnings.warn(
            f"{served}, past its zero-knowledge budget of {proofs(budget)}: this proof reveals "
            f"more of what the commitment hides ({POLICY_VARIABLE}=warn; docs/SECURITY.md)",
            ZeroKnowledgeBudgetWarning,
            stacklevel=4,
        )

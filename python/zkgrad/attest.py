"""Accuracy attestation: one zero-knowledge proof that a committed model classifies ``c`` of the
``m`` rows of a committed dataset correctly (``docs/DATA.md``, "Accuracy attestation").

Example::

    import zkgrad
    model = zkgrad.Model.load("model.zkg")
    ds = zkgrad.Dataset.commit(X_std, y, scale_bits=model.input_scale_bits)
    att = model.attest(ds)                        # c = att.claimed().correct
    att.save("acc.zkp")
    st = zkgrad.verify_attestation("model.vk", ds.export_pub(), "acc.zkp")
    print(st)                                     # an AttestStatement
"""

from __future__ import annotations

import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from zkgrad import _native
from zkgrad.errors import InvalidProof, ModelError

if TYPE_CHECKING:
    from zkgrad.dataset import Dataset, DatasetPublic
    from zkgrad.model import Model, VerifyingKey

__all__ = ["AttestStatement", "Attestation", "attest", "verify_attestation"]

#: File layout: this magic, the proof's length (u64 LE), the proof, the epoch certificate.
BUNDLE_MAGIC = b"ZKGB"
#: One attestation reveals each feature column at two points (the model's first dense block
#: and its input range lookup) and the label column at one: two openings' worth of the
#: dataset's zero-knowledge budget.
OPENINGS_PER_ATTESTATION = 2


@dataclass(frozen=True)
class AttestStatement:
    """What a verified attestation states."""

    model: str
    dataset: str
    rows: int
    classes: int
    #: The count c of rows classified correctly, or, when ``at_least``, the threshold T with
    #: c ≥ T proved and c hidden.
    correct: int
    at_least: bool = False
    #: The confusion matrix when stated (``confusion=True``): ``confusion[t][j]`` rows of label
    #: t predicted as class j, each count proved; None when not stated.
    confusion: tuple[tuple[int, ...], ...] | None = None

    @classmethod
    def _from_native(cls, st: tuple) -> AttestStatement:  # type: ignore[type-arg]
        *head, cells = st
        classes = int(head[3])
        matrix = None
        if len(cells):
            matrix = tuple(
                tuple(int(c) for c in cells[t * classes : (t + 1) * classes])
                for t in range(classes)
            )
        return cls(*head, confusion=matrix)

    @property
    def accuracy(self) -> float:
        """c / m (with ``at_least``: the proved lower bound T / m)."""
        return self.correct / self.rows

    def lines(self) -> list[str]:
        if self.at_least:
            head = (
                "valid: the committed model classifies at least "
                f"{self.correct} of the {self.rows} committed rows correctly "
                f"(accuracy >= {self.accuracy:.4f}; the count is hidden)"
            )
        else:
            head = (
                "valid: the committed model classifies "
                f"{self.correct} of the {self.rows} committed rows correctly "
                f"(accuracy {self.accuracy:.4f})"
            )
        lines = [
            head,
            f"  model {self.model}",
            f"  dataset {self.dataset}",
            f"  classes: {self.classes}",
        ]
        if self.confusion is not None:
            width = max(len(str(c)) for row in self.confusion for c in row)
            lines.append("  confusion matrix (rows: label, columns: predicted class):")
            lines += [
                f"    {t}: " + " ".join(str(c).rjust(width) for c in row)
                for t, row in enumerate(self.confusion)
            ]
        return lines

    def __str__(self) -> str:
        return "\n".join(self.lines())


class Attestation:
    """An attestation's bytes, the certificate of the model epoch it opens, and that of the
    dataset epoch it opens (both public)."""

    def __init__(
        self,
        data: bytes,
        epoch_certificate: bytes = b"",
        dataset: DatasetPublic | None = None,
        dataset_certificate: bytes = b"",
    ) -> None:
        self.data = data
        self.epoch_certificate = epoch_certificate
        self.dataset_certificate = dataset_certificate
        #: The dataset's public part, when the attestation was made here (``zkgrad.verify``
        #: uses it).
        self.dataset = dataset

    def claimed(self) -> AttestStatement:
        """The statement the attestation claims (unverified)."""
        return AttestStatement._from_native(_native.attest_claimed(self.data))

    def to_bytes(self) -> bytes:
        """``ZKGB``, then each part (proof, model certificate, dataset certificate) as a u64
        length and its bytes."""
        parts = (self.data, self.epoch_certificate, self.dataset_certificate)
        return BUNDLE_MAGIC + b"".join(struct.pack("<Q", len(p)) + p for p in parts)

    @classmethod
    def from_bytes(cls, raw: bytes, what: str = "attestation") -> Attestation:
        if raw[:4] != BUNDLE_MAGIC:
            raise InvalidProof(f"{what}: not a zkgrad accuracy attestation (bad magic bytes)")
        parts, at = [], 4
        for _ in range(3):
            if at + 8 > len(raw):
                raise InvalidProof(f"{what}: the attestation is truncated")
            (n,) = struct.unpack("<Q", raw[at : at + 8])
            if at + 8 + n > len(raw):
                raise InvalidProof(f"{what}: the attestation is truncated")
            parts.append(raw[at + 8 : at + 8 + n])
            at += 8 + n
        if at != len(raw):
            raise InvalidProof(f"{what}: {len(raw) - at} bytes follow the attestation")
        return cls(parts[0], parts[1], None, parts[2])

    def save(self, path: str | os.PathLike[str]) -> None:
        Path(path).write_bytes(self.to_bytes())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Attestation:
        file = Path(path)
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise ModelError(f"{file}: cannot read the attestation ({exc.strerror})") from None
        return cls.from_bytes(raw, str(file))

    def __len__(self) -> int:
        return len(self.data)


def attest(
    model: Model, ds: Dataset, threshold: float | None = None, confusion: bool = False
) -> Attestation:
    """Prove ``model``'s accuracy on the committed dataset ``ds`` (``Model.attest``).

    ``threshold`` τ in [0, 1]: state only that at least ⌈τ·m⌉ rows are classified correctly,
    the count hidden; refused (no proof) when the model does not reach it. ``confusion``: state
    and prove the confusion matrix too (K² counts: rows of each label predicted as each class;
    not with a threshold, which hides the count).

    The dataset must have labels and be committed at the model's input scale (its features are
    the model's quantised inputs). Spends two of the dataset commitment's openings (its
    ledger) and one proof of the model's epoch ledger, as :meth:`Model.prove` does.
    """
    from zkgrad.dataset import _meta_digest

    if ds.labels is None:
        raise ModelError("the dataset has no labels: an accuracy attestation needs them")
    want = model.input_scale_bits
    for name, bits in zip(ds.columns, ds.scale_bits, strict=True):
        if bits != want:
            raise ModelError(
                f"dataset column {name!r} is committed at scale 2^{bits}, but the model's input "
                f"scale is 2^{want}: commit the dataset with scale_bits={want} "
                f"(zkgrad data commit --scale-bits {want})"
            )
    at_least = None
    if confusion and threshold is not None:
        raise ModelError(
            "a threshold attestation hides the count; it cannot state the confusion matrix"
        )
    if threshold is not None:
        if not isinstance(threshold, (int, float)) or not 0.0 <= float(threshold) <= 1.0:
            raise ModelError(f"threshold must be an accuracy from 0 to 1, not {threshold!r}")
        at_least = math.ceil(float(threshold) * ds.public.rows - 1e-9)
    # Two openings of one dataset epoch leaf (the proof numbers are the dataset ledger's).
    number = ds._take_numbers(OPENINGS_PER_ATTESTATION)
    per_epoch, _ = model._native.zk_budget()
    epoch = model._ledger.take(model.digest) // max(per_epoch, 1)
    meta = _meta_digest(ds.public.rows, ds.scale_bits, ds.columns, True)
    proof, cert, dataset_cert = _native.attest_prove(
        model._native,
        ds.features,
        ds.labels,
        meta,
        ds._seed,
        ds.public.commitment,
        epoch,
        number,
        at_least,
        ds._certificate,
        bool(confusion),
    )
    dataset_cert = bytes(dataset_cert)
    ds._keep_certificate(dataset_cert)
    return Attestation(bytes(proof), bytes(cert), ds.public, dataset_cert)


def verify_attestation(
    model: Model | VerifyingKey | str | os.PathLike[str],
    dataset: DatasetPublic | str | os.PathLike[str],
    proof: Attestation | bytes | str | os.PathLike[str],
) -> AttestStatement:
    """Verify an attestation against the model (or its key, or a ``.zkg``/``.vk`` path) and the
    pinned dataset (``DatasetPublic`` or a ``data.pub`` path); returns the verified statement.

    Raises :class:`InvalidProof` for a rejected attestation (another model or dataset, a count
    the model does not reach on the data, an altered proof).
    """
    from zkgrad.dataset import DatasetPublic
    from zkgrad.model import Model, _as_verifier

    pub = dataset if isinstance(dataset, DatasetPublic) else DatasetPublic.load(dataset)
    if isinstance(proof, Attestation):
        att = proof
    elif isinstance(proof, bytes):
        att = Attestation.from_bytes(proof)
    else:
        att = Attestation.load(proof)
    key = _as_verifier(model)
    if isinstance(key, Model):
        key = key.verifying_key()
    st = _native.attest_verify(
        key.native, pub.commitment, att.data, att.epoch_certificate, att.dataset_certificate
    )
    return AttestStatement._from_native(st)

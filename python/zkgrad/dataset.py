"""Committed datasets and zero-knowledge proofs of their properties.

A data owner commits to a table once; the digest is its public identity. Property proofs show,
against that digest and without revealing a value, the row count, each feature within its
declared range, the labels in {0..K-1} with each class's count or share within bounds, and
per-feature means within bounds (spec format: ``docs/DATA.md``).

Example::

    import numpy as np
    import zkgrad

    ds = zkgrad.Dataset.commit(X, y)                     # quantises X, commits with hiding
    ds.save("data.zkd")                                  # the owner's file (keep it private)
    pub = ds.export_pub("data.pub")                      # digest, shape, scales, schema
    proof = ds.prove_properties({"labels": {"classes": 2}})
    statement = zkgrad.verify(pub, proof)                # a DataStatement; raises InvalidProof
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zkgrad import _native
from zkgrad.budget import ProofLedger
from zkgrad.errors import InvalidProof, ModelError

__all__ = [
    "DataStatement",
    "Dataset",
    "DatasetPublic",
    "PropertyProof",
    "verify_properties",
]

#: Calibrated scales keep |x|·2^bits within this (range checks span at most 2^16 values, so a
#: declared range up to ±4× the data's fits).
CALIBRATED_LIMIT = 2**13
MIN_BITS, MAX_BITS = -16, 24
PROPERTY_MAGIC = b"ZKGD"
PUB_FORMAT = "zkgrad-dataset-public"
ZKD_FORMAT = "zkgrad-dataset"


def _meta_digest(rows: int, scale_bits: list[int], columns: list[str], labels: bool) -> bytes:
    """What the commitment binds besides the values: scales and schema (canonical JSON)."""
    body = {"rows": rows, "scale_bits": scale_bits, "columns": columns, "labels": labels}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).digest()


def calibrate_bits(x: np.ndarray) -> list[int]:
    """Per column, the largest power-of-two scale with every |value|·2^bits ≤ 2^13."""
    bits = []
    for col in x.T:
        peak = float(np.max(np.abs(col))) if col.size else 0.0
        b = MAX_BITS if peak == 0 else math.floor(math.log2(CALIBRATED_LIMIT / peak))
        bits.append(max(MIN_BITS, min(MAX_BITS, b)))
    return bits


@dataclass
class DatasetPublic:
    """The public part of a dataset commitment (``data.pub``): what a verifier pins."""

    digest: str
    rows: int
    features: int
    labels: bool
    scale_bits: list[int]
    columns: list[str]
    commitment: bytes = field(repr=False)

    @property
    def budget(self) -> int:
        """Proofs the commitment serves with the data hidden."""
        return int(_native.dataset_info(self.commitment)[1])

    def save(self, path: str | os.PathLike[str]) -> None:
        body = {
            "format": PUB_FORMAT,
            "version": 1,
            "digest": self.digest,
            "rows": self.rows,
            "features": self.features,
            "labels": self.labels,
            "scale_bits": self.scale_bits,
            "columns": self.columns,
            "commitment": base64.b64encode(self.commitment).decode(),
        }
        Path(path).write_text(json.dumps(body, indent=1) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> DatasetPublic:
        file = Path(path)
        try:
            body = json.loads(file.read_text())
            if body.get("format") != PUB_FORMAT:
                raise ModelError(f"{file}: not a zkgrad dataset public file (data.pub)")
            return cls.from_parts(
                base64.b64decode(body["commitment"]),
                [int(b) for b in body["scale_bits"]],
                [str(c) for c in body["columns"]],
                what=str(file),
            )
        except (ValueError, KeyError, TypeError) as exc:
            if isinstance(exc, ModelError):
                raise
            raise ModelError(f"{file}: not a zkgrad dataset public file ({exc})") from None

    @classmethod
    def from_parts(
        cls, commitment: bytes, scale_bits: list[int], columns: list[str], what: str = "dataset"
    ) -> DatasetPublic:
        """Checks that the scales and schema are those the commitment binds."""
        digest, _, meta, rows, features, labels = _native.dataset_info(commitment)
        if len(scale_bits) != features or len(columns) != features:
            raise ModelError(f"{what}: the scales or column names do not match {features} features")
        if _meta_digest(rows, scale_bits, columns, labels).hex() != meta:
            raise ModelError(
                f"{what}: the scales or column names are not those the commitment binds "
                "(the file was altered)"
            )
        return cls(digest, rows, features, labels, scale_bits, columns, commitment)


class Dataset:
    """A committed dataset, the owner's side: quantised values, seed, commitment."""

    def __init__(
        self,
        features: np.ndarray,
        labels: np.ndarray | None,
        scale_bits: list[int],
        columns: list[str],
        seed: bytes,
        public: DatasetPublic,
        quantization_error: list[float],
    ) -> None:
        self.features = features
        self.labels = labels
        self.scale_bits = scale_bits
        self.columns = columns
        self._seed = seed
        self.public = public
        self.quantization_error = quantization_error
        self._ledger = ProofLedger()

    @classmethod
    def commit(
        cls,
        x: Any,
        y: Any = None,
        *,
        scale_bits: int | list[int] | None = None,
        columns: list[str] | None = None,
        seed: bytes | None = None,
    ) -> Dataset:
        """Quantise ``x`` (rows × features) at ``scale_bits`` (one for all columns, one per
        column, or None to calibrate: ``x·2^bits`` rounded) and commit it with labels ``y``
        (integers 0..K-1, one per row). ``quantization_error`` says what rounding cost."""
        xf = np.asarray(x, dtype=np.float64)
        if xf.ndim != 2 or xf.shape[0] == 0 or xf.shape[1] == 0:
            raise ModelError(f"features must be a non-empty 2-D array, got shape {xf.shape}")
        bad = np.argwhere(~np.isfinite(xf))
        if bad.size:
            r, c = (int(v) for v in bad[0])
            raise ModelError(f"features: row {r}, column {c}: missing or non-finite value")
        n, f = xf.shape
        if scale_bits is None:
            bits = calibrate_bits(xf)
        elif isinstance(scale_bits, int):
            bits = [scale_bits] * f
        else:
            bits = [int(b) for b in scale_bits]
        if len(bits) != f or any(not MIN_BITS <= b <= MAX_BITS for b in bits):
            raise ModelError(
                f"scale_bits: one value per feature ({f}), each in [{MIN_BITS}, {MAX_BITS}]"
            )
        scale = np.exp2(np.asarray(bits, dtype=np.float64))
        scaled = np.round(xf * scale)
        if np.any(np.abs(scaled) >= 2.0**40):
            c = int(np.argwhere(np.abs(scaled) >= 2.0**40)[0][1])
            raise ModelError(f"feature {c}: values exceed ±2^40 at scale 2^{bits[c]}")
        q = scaled.astype(np.int64)
        error = (np.max(np.abs(q / scale - xf), axis=0)).tolist()
        labels = None
        if y is not None:
            yf = np.asarray(y)
            if yf.shape != (n,):
                raise ModelError(f"labels: expected one per row ({n}), got shape {yf.shape}")
            if yf.dtype.kind == "f" and np.any(yf != np.round(yf)):
                row = int(np.flatnonzero(yf != np.round(yf))[0])
                raise ModelError(f"labels: row {row}: {yf[row]!r} is not a class index")
            labels = yf.astype(np.int64)
            if np.any(labels < 0):
                row = int(np.flatnonzero(labels < 0)[0])
                raise ModelError(f"labels: row {row}: {labels[row]} is not a class index")
        names = columns or [f"x{i}" for i in range(f)]
        if len(names) != f or len(set(names)) != f:
            raise ModelError(f"columns: {f} distinct names needed, got {names}")
        seed = seed or secrets.token_bytes(32)
        meta = _meta_digest(n, bits, list(names), labels is not None)
        commitment = bytes(_native.dataset_commit(q, labels, meta, seed))
        public = DatasetPublic.from_parts(commitment, bits, list(names))
        return cls(q, labels, bits, list(names), seed, public, error)

    @property
    def digest(self) -> str:
        """The dataset's public identity (hex)."""
        return self.public.digest

    @property
    def budget(self) -> int:
        """Proofs this commitment serves with the data hidden (``docs/DATA.md``)."""
        return self.public.budget

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the owner's file (values and the secret seed: keep it private)."""
        meta = {
            "format": ZKD_FORMAT,
            "version": 1,
            "scale_bits": self.scale_bits,
            "columns": self.columns,
            "quantization_error": self.quantization_error,
        }
        arrays: dict[str, np.ndarray] = {
            "features": self.features,
            "seed": np.frombuffer(self._seed, dtype=np.uint8),
            "commitment": np.frombuffer(self.public.commitment, dtype=np.uint8),
            "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
        }
        if self.labels is not None:
            arrays["labels"] = self.labels
        with open(path, "wb") as handle:
            np.savez(handle, **arrays)  # type: ignore[arg-type]
        self._ledger = self._ledger.moved_beside(path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Dataset:
        """Read an owner's file written by :meth:`save`."""
        file = Path(path)
        try:
            with np.load(file, allow_pickle=False) as archive:
                meta = json.loads(bytes(archive["meta"]).decode())
                if meta.get("format") != ZKD_FORMAT:
                    raise ModelError(f"{file}: not a zkgrad dataset file (data.zkd)")
                features = archive["features"].astype(np.int64)
                labels = archive["labels"].astype(np.int64) if "labels" in archive else None
                seed = bytes(archive["seed"])
                commitment = bytes(archive["commitment"])
        except (ValueError, OSError, KeyError) as exc:
            if isinstance(exc, (ModelError, FileNotFoundError)):
                raise
            raise ModelError(f"{file}: not a zkgrad dataset file ({exc})") from None
        public = DatasetPublic.from_parts(
            commitment, meta["scale_bits"], meta["columns"], what=str(file)
        )
        ds = cls(
            features,
            labels,
            meta["scale_bits"],
            meta["columns"],
            seed,
            public,
            meta["quantization_error"],
        )
        ds._ledger = ProofLedger.beside(file)
        return ds

    def export_pub(self, path: str | os.PathLike[str] | None = None) -> DatasetPublic:
        """The public part (written to ``path`` if given): what verifiers pin."""
        if path is not None:
            self.public.save(path)
        return self.public

    def prove_properties(self, spec: Mapping[str, Any] | str | os.PathLike[str]) -> PropertyProof:
        """Prove a property spec (a mapping, TOML text or a ``.toml`` path; ``docs/DATA.md``).

        Raises :class:`ModelError` naming the row and feature if the data do not have the
        properties, and ``ZeroKnowledgeBudgetError`` past the commitment's budget.
        """
        from zkgrad.data_spec import load_spec, quantise_spec

        ranges, classes, sums = quantise_spec(load_spec(spec), self.public)
        self._ledger.spend(self.digest, self.budget, "the dataset commitment")
        proof = _native.dataset_prove(
            self.features,
            self.labels,
            _meta_digest(self.public.rows, self.scale_bits, self.columns, self.labels is not None),
            self._seed,
            self.public.commitment,
            ranges,
            classes,
            sums,
        )
        return PropertyProof(bytes(proof))

    def __repr__(self) -> str:
        return (
            f"Dataset({self.public.rows} rows × {self.public.features} features, "
            f"labels={self.labels is not None}, digest={self.digest[:16]}…)"
        )


@dataclass
class PropertyProof:
    """A data-property proof's bytes."""

    data: bytes

    def save(self, path: str | os.PathLike[str]) -> None:
        Path(path).write_bytes(self.data)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> PropertyProof:
        data = Path(path).read_bytes()
        if data[:4] != PROPERTY_MAGIC:
            raise InvalidProof(f"{path}: not a zkgrad data-property proof")
        return cls(data)

    @property
    def dataset(self) -> str:
        """The dataset digest the proof names (not verified)."""
        return str(_native.property_proof_dataset(self.data))

    def __len__(self) -> int:
        return len(self.data)


@dataclass
class FeatureBound:
    """A verified bound on one feature (real units: the quantised bound over its scale)."""

    feature: str
    lo: float
    hi: float


@dataclass
class DataStatement:
    """What a verified data-property proof establishes about the dataset ``digest``."""

    digest: str
    rows: int
    ranges: list[FeatureBound]
    means: list[FeatureBound]
    classes: int | None = None
    class_counts: list[tuple[int, int]] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"dataset {self.digest}", f"rows: {self.rows}"]
        out += [f"{b.feature} in [{b.lo:g}, {b.hi:g}] on every row" for b in self.ranges]
        if self.classes is not None:
            out.append(f"labels in {{0..{self.classes - 1}}}")
            for t, (lo, hi) in enumerate(self.class_counts):
                if lo == 0 and hi >= self.rows:
                    continue
                count = f"{lo}" if lo == hi else f"in [{lo}, {hi}]"
                share = (
                    f"{lo / self.rows:.4f}"
                    if lo == hi
                    else (f"[{lo / self.rows:.4f}, {hi / self.rows:.4f}]")
                )
                out.append(f"class {t}: count {count} (share {share})")
        out += [f"mean of {b.feature} in [{b.lo:g}, {b.hi:g}]" for b in self.means]
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def verify_properties(
    dataset: DatasetPublic | str | os.PathLike[str],
    proof: PropertyProof | bytes | str | os.PathLike[str],
) -> DataStatement:
    """Verify a data-property proof against the pinned dataset; returns the verified statement.

    Raises :class:`InvalidProof` for a rejected proof (another dataset, an altered proof, a
    statement the data do not meet).
    """
    pub = dataset if isinstance(dataset, DatasetPublic) else DatasetPublic.load(dataset)
    if isinstance(proof, PropertyProof):
        data = proof.data
    elif isinstance(proof, bytes):
        data = proof
    else:
        data = PropertyProof.load(proof).data
    ranges, classes, sums = _native.dataset_verify(pub.commitment, data)
    scale = [2.0**b for b in pub.scale_bits]
    name = pub.columns
    return DataStatement(
        digest=pub.digest,
        rows=pub.rows,
        ranges=[FeatureBound(name[f], lo / scale[f], hi / scale[f]) for f, lo, hi in ranges],
        means=[
            FeatureBound(name[f], lo / scale[f] / pub.rows, hi / scale[f] / pub.rows)
            for f, lo, hi in sums
        ],
        classes=None if classes is None else int(classes[0]),
        class_counts=[] if classes is None else [(int(a), int(b)) for a, b in classes[1]],
    )

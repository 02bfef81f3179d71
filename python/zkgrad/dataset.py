"""Committed datasets and zero-knowledge proofs of their properties.

A data owner commits to a table once; the digest is its public identity. Property proofs show,
against that digest and without revealing a value, the row count, each feature within its
declared range, the labels in {0..K-1} with each class's count or share within bounds, and
per-feature means and variances within bounds (spec format: ``docs/DATA.md``).

Example::

    import numpy as np
    import zkgrad

    ds = zkgrad.Dataset.commit(X, y)                     # quantises X, commits with hiding
    ds.save("data.zkd")                                  # the owner's file (keep it private)
    pub = ds.export_pub("data.pub")                      # digest, shape, scales, schema
    proof = ds.prove_properties({"labels": {"classes": 2}})
    statement = zkgrad.verify(pub, proof)                # a DataStatement; raises InvalidProof

Zero knowledge over many proofs: proof n opens the commitment of epoch n // per (127 for
most tables: ``Dataset.proofs_per_epoch``), a fresh
commitment to the same table linked to the published digest by a public certificate
(``zkgrad_core::data::epochs``; ``docs/DATA.md``). The ledger beside ``data.zkd`` numbers the
proofs; the certificate travels with the proof (``epochs/`` beside a saved proof file).
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
from zkgrad.model import CERTIFICATE_SUFFIX, EPOCHS_DIR

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
#: File format of data.pub and data.zkd: 2 since the table carries the epochs' link masks (a
#: version-1 commitment has another layout and digest).
FORMAT_VERSION = 2


def _check_version(body: Mapping[str, Any], file: Path, what: str) -> None:
    version = body.get("version")
    if version != FORMAT_VERSION:
        raise ModelError(
            f"{file}: a {what} of format version {version}, this zkgrad reads version "
            f"{FORMAT_VERSION} (dataset commitments changed with epochs); commit the dataset again"
        )


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
        """Proofs the published digest serves with the data hidden: each epoch's commitment
        serves :attr:`proofs_per_epoch`, and the epochs' tree holds this many in all (past
        10^18; ``docs/DATA.md``)."""
        return int(_native.dataset_epochs(self.commitment)[2])

    @property
    def proofs_per_epoch(self) -> int:
        """Proofs one epoch's commitment serves (the openings one commitment hides, less the
        one its link certificate takes)."""
        return int(_native.dataset_epochs(self.commitment)[0])

    @property
    def budget_line(self) -> str:
        """The budget in words, for the command line."""
        return (
            f"{self.proofs_per_epoch} proofs per epoch commitment, each epoch linked to the "
            f"digest, {self.budget:.3g} proofs in all"
        )

    def save(self, path: str | os.PathLike[str]) -> None:
        body = {
            "format": PUB_FORMAT,
            "version": FORMAT_VERSION,
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
            _check_version(body, file, "dataset public file")
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
        # The last epoch certificate made (its nodes are reused by the next epochs): in memory,
        # and beside the owner's file once saved or loaded (`<data.zkd>.epoch.zke`).
        self._certificate: bytes | None = None
        self._certificate_file: Path | None = None

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
        """Proofs the digest serves with the data hidden, through epochs (``docs/DATA.md``)."""
        return self.public.budget

    @property
    def proofs_per_epoch(self) -> int:
        """Proofs one epoch's commitment serves."""
        return self.public.proofs_per_epoch

    @property
    def proofs_made(self) -> int:
        """Proofs recorded in this dataset's ledger."""
        return self._ledger.count(self.digest)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the owner's file (values and the secret seed: keep it private)."""
        meta = {
            "format": ZKD_FORMAT,
            "version": FORMAT_VERSION,
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
        self._certificate_file = Path(f"{os.fspath(path)}.epoch.zke")
        if self._certificate is not None:
            self._certificate_file.write_bytes(self._certificate)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Dataset:
        """Read an owner's file written by :meth:`save`."""
        file = Path(path)
        try:
            with np.load(file, allow_pickle=False) as archive:
                meta = json.loads(bytes(archive["meta"]).decode())
                if meta.get("format") != ZKD_FORMAT:
                    raise ModelError(f"{file}: not a zkgrad dataset file (data.zkd)")
                _check_version(meta, file, "dataset file")
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
        ds._certificate_file = Path(f"{os.fspath(file)}.epoch.zke")
        if ds._certificate_file.is_file():
            ds._certificate = ds._certificate_file.read_bytes()
        return ds

    def export_pub(self, path: str | os.PathLike[str] | None = None) -> DatasetPublic:
        """The public part (written to ``path`` if given): what verifiers pin."""
        if path is not None:
            self.public.save(path)
        return self.public

    def prove_properties(self, spec: Mapping[str, Any] | str | os.PathLike[str]) -> PropertyProof:
        """Prove a property spec (a mapping, TOML text or a ``.toml`` path; ``docs/DATA.md``).

        The ledger numbers the proof; proof n opens the commitment of epoch
        n // :attr:`proofs_per_epoch` (its
        certificate comes with the proof). Raises :class:`ModelError` naming the row and feature
        if the data do not have the properties, and ``ZeroKnowledgeBudgetError`` past the
        digest's budget (:attr:`budget`).
        """
        from zkgrad.data_spec import load_spec, quantise_spec

        statement = quantise_spec(load_spec(spec), self.public)
        return self._prove_as(self._next_proof_number(), *statement)

    def _check_variances(self, variances: list[tuple[int, int, int]]) -> None:
        """Refuses a variance bound the quantised data do not meet, naming the column and the
        variance in real units (the native prover's refusal says it in quantised units)."""
        n = self.public.rows
        for f, lo, hi in variances:
            column = self.features[:, f].tolist()
            total, squares = sum(column), sum(v * v for v in column)
            scaled = n * squares - total * total
            if not lo <= scaled <= hi:
                unit = n * n * 4.0 ** self.scale_bits[f]
                raise ModelError(
                    f"feature {self.columns[f]!r}: its variance over the {n} rows, "
                    f"{scaled / unit:.6g}, is outside the stated [{lo / unit:.6g}, {hi / unit:.6g}]"
                )

    def _next_proof_number(self) -> int:
        """Numbers the next proof over this digest in the ledger (property proofs and
        attestations share it: each opens the epoch leaf of its number, through the native
        ``Dataset::open_epoch``); refuses past :attr:`budget`."""
        return self._ledger.spend(self.digest, self.budget, "the dataset digest")

    def _keep_certificate(self, certificate: bytes) -> None:
        """Keeps the epoch certificate a proof was made with (pass ``self._certificate`` as the
        native ``known`` certificate of the next proof: its nodes are not made again)."""
        if certificate == self._certificate:
            return
        self._certificate = certificate
        if self._certificate_file is not None:
            partial = self._certificate_file.with_suffix(".partial")
            partial.write_bytes(certificate)
            partial.replace(self._certificate_file)

    def prove_properties_as(
        self, number: int, spec: Mapping[str, Any] | str | os.PathLike[str]
    ) -> PropertyProof:
        """:meth:`prove_properties` as proof ``number`` of this digest, counted by a ledger
        elsewhere (provers on machines that do not share this file's ledger, each given its own
        numbers). Use each number once, or an epoch serves more proofs than its budget."""
        from zkgrad.data_spec import load_spec, quantise_spec

        if not 0 <= number < self.budget:
            raise ModelError(f"proof number {number} is outside 0..{self.budget - 1}")
        return self._prove_as(number, *quantise_spec(load_spec(spec), self.public))

    def _prove_as(
        self, number: int, ranges: Any, classes: Any, sums: Any, variances: Any
    ) -> PropertyProof:
        try:
            proof, certificate = _native.dataset_prove(
                self.features,
                self.labels,
                _meta_digest(
                    self.public.rows, self.scale_bits, self.columns, self.labels is not None
                ),
                self._seed,
                self.public.commitment,
                ranges,
                classes,
                sums,
                variances,
                number,
                self._certificate,
            )
        except ModelError as exc:
            if "n²·variance" in str(exc):  # said again in real units, naming the column
                self._check_variances(variances)
            raise
        self._keep_certificate(bytes(certificate))
        return PropertyProof(bytes(proof), bytes(certificate))

    def _take_numbers(self, count: int) -> int:
        """Take ``count`` consecutive proof numbers of this digest that fall in one epoch (an
        attestation opens its leaf twice); returns the first. A number left at the end of an
        epoch is skipped, never reused."""
        per_epoch = int(_native.dataset_epochs(self.public.commitment)[0])
        taken = [self._next_proof_number()]
        while len(taken) < count:
            number = self._next_proof_number()
            taken = [*taken, number] if number // per_epoch == taken[0] // per_epoch else [number]
        return taken[0]

    def __repr__(self) -> str:
        return (
            f"Dataset({self.public.rows} rows × {self.public.features} features, "
            f"labels={self.labels is not None}, digest={self.digest[:16]}…)"
        )


@dataclass
class PropertyProof:
    """A data-property proof's bytes, and the certificate of the dataset epoch it opens
    (public; shared by the epoch's proofs)."""

    data: bytes
    epoch_certificate: bytes | None = field(default=None, repr=False)

    @property
    def epoch(self) -> tuple[tuple[int, ...], str]:
        """(leaf path, leaf commitment digest) of the dataset epoch the proof opens."""
        path, digest = _native.property_proof_epoch(self.data)
        return tuple(path), str(digest)

    def certificate_path(self, proof_path: str | os.PathLike[str]) -> Path:
        """Where :meth:`save` puts, and :meth:`load` finds, the epoch certificate of a proof
        saved at ``proof_path``: ``epochs/<leaf digest>.zke`` beside it (as for model proofs)."""
        return Path(proof_path).parent / EPOCHS_DIR / f"{self.epoch[1][:32]}{CERTIFICATE_SUFFIX}"

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the proof file, and its epoch certificate into ``epochs/`` beside it."""
        Path(path).write_bytes(self.data)
        if self.epoch_certificate is not None:
            target = self.certificate_path(path)
            if not target.exists():
                target.parent.mkdir(exist_ok=True)
                partial = target.with_suffix(".partial")
                partial.write_bytes(self.epoch_certificate)
                partial.replace(target)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> PropertyProof:
        data = Path(path).read_bytes()
        if data[:4] != PROPERTY_MAGIC:
            raise InvalidProof(f"{path}: not a zkgrad data-property proof")
        proof = cls(data)
        try:
            certificate = proof.certificate_path(path)
        except InvalidProof as exc:
            raise InvalidProof(f"{path}: {exc}") from None
        if certificate.is_file():
            proof.epoch_certificate = certificate.read_bytes()
        return proof

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
    variances: list[FeatureBound] = field(default_factory=list)
    """Population variances over the rows (real units)."""

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
        out += [f"variance of {b.feature} in [{b.lo:g}, {b.hi:g}]" for b in self.variances]
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def verify_properties(
    dataset: DatasetPublic | str | os.PathLike[str],
    proof: PropertyProof | bytes | str | os.PathLike[str],
    epoch_certificate: bytes | str | os.PathLike[str] | None = None,
) -> DataStatement:
    """Verify a data-property proof against the pinned dataset; returns the verified statement.

    ``epoch_certificate``: the certificate (bytes or a ``.zke`` path) linking the epoch the
    proof opens to the dataset's digest, when the proof does not carry it (a proof from
    :meth:`Dataset.prove_properties` does; :meth:`PropertyProof.load` finds it in ``epochs/``).
    Raises :class:`InvalidProof` for a rejected proof (another dataset, an altered proof or
    certificate, a statement the data do not meet).
    """
    pub = dataset if isinstance(dataset, DatasetPublic) else DatasetPublic.load(dataset)
    if isinstance(proof, PropertyProof):
        loaded = proof
    elif isinstance(proof, bytes):
        loaded = PropertyProof(proof)
    else:
        loaded = PropertyProof.load(proof)
    if loaded.dataset != pub.digest:  # said first: a missing certificate is beside the point
        raise InvalidProof(
            f"this proof is for dataset {loaded.dataset[:16]}…, not {pub.digest[:16]}… "
            "(the dataset you pinned)"
        )
    certificate = loaded.epoch_certificate
    if epoch_certificate is not None:
        certificate = (
            bytes(epoch_certificate)
            if isinstance(epoch_certificate, bytes)
            else Path(epoch_certificate).read_bytes()
        )
    ranges, classes, sums, variances = _native.dataset_verify(
        pub.commitment, loaded.data, certificate
    )
    n2 = pub.rows * pub.rows
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
        variances=[
            FeatureBound(name[f], lo / scale[f] ** 2 / n2, hi / scale[f] ** 2 / n2)
            for f, lo, hi in variances
        ],
    )

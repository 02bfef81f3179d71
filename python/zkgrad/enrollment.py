"""Enrollment records: a dataset digest bound to its owner's key and a stated time (Ed25519).

A commitment says *what* data a proof is about, not *whose* it is. An enrollment record is the
owner's signed statement "this digest (rows × features, labels or not) is my dataset, committed
at T": anyone holding the owner's public key checks it with :meth:`Enrollment.verify`. It is an
ordinary signature through the ``cryptography`` package (``pip install zkgrad[data]``).

What it does not prove: the time is the owner's claim (a trusted time needs a timestamping
authority countersigning the record); and a key proves only that its holder signed, so pin the
owner's public key from a channel you trust (``owner_key=``), not from the record itself.

Example::

    zkgrad.enrollment.generate_owner_key("hospital-a")          # hospital-a.key, hospital-a.pub
    record = zkgrad.enrollment.enroll(ds, "hospital-a.key", owner="Hospital A")
    record.save("data.enroll.json")
    Enrollment.load("data.enroll.json").verify(ds.export_pub(), owner_key="hospital-a.pub")
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zkgrad.errors import InvalidProof, ModelError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

    from zkgrad.dataset import Dataset, DatasetPublic

FORMAT = "zkgrad-dataset-enrollment"
VERSION = 1
#: Signed bytes start with this, so the signature cannot be replayed as another kind of message.
DOMAIN = b"zkgrad/dataset-enrollment/v1\x00"
#: Largest record file read (a record is a few hundred bytes).
MAX_RECORD_BYTES = 64 << 10


@dataclass(frozen=True)
class Enrollment:
    """A signed enrollment record (``data.enroll.json``)."""

    digest: str
    rows: int
    features: int
    labels: bool
    owner: str
    #: The owner's Ed25519 public key, 32 bytes as hex.
    owner_key: str
    #: When the owner says the dataset was committed (RFC 3339, UTC).
    enrolled_at: str
    #: Ed25519 signature over :data:`DOMAIN` and the other fields, hex.
    signature: str

    def _signed_fields(self) -> dict[str, Any]:
        body = asdict(self)
        del body["signature"]
        return body

    def save(self, path: str | os.PathLike[str]) -> None:
        body = {"format": FORMAT, "version": VERSION, **asdict(self)}
        Path(path).write_text(json.dumps(body, indent=1) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Enrollment:
        file = Path(path)
        if file.stat().st_size > MAX_RECORD_BYTES:
            raise ModelError(f"{file}: too large for an enrollment record")
        try:
            body = json.loads(file.read_bytes())
        except (ValueError, UnicodeDecodeError):
            raise ModelError(f"{file}: not an enrollment record (not JSON)") from None
        if not isinstance(body, dict) or body.get("format") != FORMAT:
            raise ModelError(f"{file}: not a zkgrad dataset enrollment record")
        if body.get("version") != VERSION:
            raise ModelError(f"{file}: enrollment record version {body.get('version')!r}")
        try:
            return cls(
                digest=_text(body, "digest"),
                rows=_count(body, "rows"),
                features=_count(body, "features"),
                labels=_flag(body, "labels"),
                owner=_text(body, "owner"),
                owner_key=_text(body, "owner_key"),
                enrolled_at=_text(body, "enrolled_at"),
                signature=_text(body, "signature"),
            )
        except KeyError as exc:
            raise ModelError(f"{file}: the enrollment record has no field {exc}") from None

    def verify(
        self,
        dataset: DatasetPublic,
        owner_key: str | os.PathLike[str] | bytes | None = None,
    ) -> Enrollment:
        """Check the record against the dataset's public part and (if given: do give it) the
        owner's public key (a ``.pub`` PEM file, or 32 raw bytes). Returns the record; raises
        :class:`InvalidProof` saying what does not match."""
        from cryptography.exceptions import InvalidSignature

        if self.digest != dataset.digest:
            raise InvalidProof(
                f"the enrollment record is for dataset {self.digest[:16]}…, "
                f"not {dataset.digest[:16]}…"
            )
        shape = (dataset.rows, dataset.features, dataset.labels)
        if (self.rows, self.features, self.labels) != shape:
            raise InvalidProof("the enrollment record states another shape than the dataset's")
        key = _public_from_hex(self.owner_key)
        if owner_key is not None:
            pinned = _raw(load_public_key(owner_key))
            if pinned != _raw(key):
                raise InvalidProof(
                    f"the enrollment record is signed by key {self.owner_key[:16]}…, "
                    f"not by the pinned owner key {pinned.hex()[:16]}…"
                )
        try:
            key.verify(bytes.fromhex(self.signature), _message(self._signed_fields()))
        except (InvalidSignature, ValueError):
            raise InvalidProof(
                "the enrollment record's signature does not verify (the record was altered)"
            ) from None
        return self

    def lines(self) -> list[str]:
        """The verified statement, one fact per line."""
        return [
            f"dataset {self.digest}",
            f"{self.rows} rows × {self.features} features"
            + (", labels" if self.labels else ", no labels"),
            f"owner: {self.owner or '(unnamed)'}, key {self.owner_key}",
            f"enrolled at {self.enrolled_at} (the owner's statement)",
        ]


def generate_owner_key(prefix: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write a new Ed25519 key pair: ``PREFIX.key`` (private, PEM, mode 0600) and ``PREFIX.pub``
    (public, PEM). Refuses to overwrite an existing private key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private_path, public_path = Path(f"{prefix}.key"), Path(f"{prefix}.pub")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # O_EXCL: never replace a key someone's records already depend on.
    try:
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ModelError(f"{private_path} exists already: not replacing an owner key") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private_path, public_path


def enroll(
    dataset: Dataset | DatasetPublic,
    private_key: str | os.PathLike[str],
    owner: str = "",
    at: dt.datetime | None = None,
) -> Enrollment:
    """Sign an enrollment record for ``dataset`` with the owner's private key file."""
    from zkgrad.dataset import Dataset

    public = dataset.public if isinstance(dataset, Dataset) else dataset
    key = load_private_key(private_key)
    when = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    fields = {
        "digest": public.digest,
        "rows": public.rows,
        "features": public.features,
        "labels": public.labels,
        "owner": owner,
        "owner_key": _raw(key.public_key()).hex(),
        "enrolled_at": when.isoformat().replace("+00:00", "Z"),
    }
    return Enrollment(**fields, signature=key.sign(_message(fields)).hex())


def load_private_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    file = Path(path)
    try:
        key = serialization.load_pem_private_key(_small(file), password=None)
    except (ValueError, TypeError) as exc:
        raise ModelError(f"{file}: not an unencrypted PEM private key ({_first(exc)})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ModelError(f"{file}: an owner key must be Ed25519 (zkgrad data keygen makes one)")
    return key


def load_public_key(source: str | os.PathLike[str] | bytes) -> Ed25519PublicKey:
    """A ``.pub`` PEM file, or the 32 raw key bytes."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if isinstance(source, bytes):
        return _public_from_raw(source, "the owner key")
    file = Path(source)
    try:
        key = serialization.load_pem_public_key(_small(file))
    except (ValueError, TypeError) as exc:
        raise ModelError(f"{file}: not a PEM public key ({_first(exc)})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ModelError(f"{file}: an owner key must be Ed25519")
    return key


# --- helpers ------------------------------------------------------------------------------------
def _message(fields: dict[str, Any]) -> bytes:
    """The signed bytes: the domain, then the fields as canonical JSON (sorted keys)."""
    return DOMAIN + json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def _raw(key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _public_from_hex(text: str) -> Ed25519PublicKey:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise InvalidProof("the enrollment record's owner key is not hex") from None
    return _public_from_raw(raw, "the enrollment record's owner key")


def _public_from_raw(raw: bytes, what: str) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if len(raw) != 32:
        raise InvalidProof(f"{what} is {len(raw)} bytes, not the 32 of an Ed25519 key")
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise InvalidProof(f"{what} is not a valid Ed25519 key") from None


def _small(file: Path) -> bytes:
    if file.stat().st_size > MAX_RECORD_BYTES:
        raise ModelError(f"{file}: too large for a key file")
    return file.read_bytes()


def _first(exc: Exception) -> str:
    return str(exc).split("\n")[0].rstrip(".") or type(exc).__name__


def _text(body: dict[str, Any], key: str) -> str:
    value = body[key]
    if not isinstance(value, str):
        raise ModelError(f"the enrollment record's {key} is not text")
    return value


def _count(body: dict[str, Any], key: str) -> int:
    value = body[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ModelError(f"the enrollment record's {key} is not a count")
    return value


def _flag(body: dict[str, Any], key: str) -> bool:
    value = body[key]
    if not isinstance(value, bool):
        raise ModelError(f"the enrollment record's {key} is not true or false")
    return value

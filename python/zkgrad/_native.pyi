"""Type stub of ``zkgrad._native``, the Rust extension module (crates/zkgrad-py).

Arrays going in may have any integer dtype and any shape (they are flattened row-major and cast
to int64; a float, bool or object array raises ``TypeError``). Arrays coming out are flat int64.
The GIL is released while the model runs, proves and verifies.

Errors: ``ModelError`` for a bad IR, a bad input or a value outside the provable range (the
message names the IR node and tensor); ``InvalidProof`` for proof bytes that do not decode or do
not verify; ``RuntimeError`` for an internal error of the proof system (a bug worth reporting).
"""

from collections.abc import Callable
from typing import final

import numpy as np
import numpy.typing as npt

__all__ = [
    "InvalidProof",
    "ModelError",
    "NativeModel",
    "NativeVerifyingKey",
    "proof_input",
    "proof_input_commitment",
    "proof_length_fields",
    "proof_output",
    "proof_size",
]

class InvalidProof(Exception):
    """The proof is invalid: it does not decode, or the verifier rejected it."""

class ModelError(ValueError):
    """Bad IR, bad input, or a value outside the provable range.

    The message names the IR node and tensor (or the input) where the problem is.
    """

@final
class NativeModel:
    """A compiled model: validated IR, integer tensors, lowered circuit and weight commitment.

    Example::

        native = NativeModel.from_ir(ir_json, {"fc1.weight": w1, "fc1.bias": b1})
        proof, _ = native.prove(x)
        assert (native.verify(proof) == native.run(x)).all()
    """

    @staticmethod
    def from_ir(
        ir_json: str, tensors: dict[str, npt.NDArray[np.integer]], seed: bytes | None = None
    ) -> NativeModel:
        """Validate the IR (all problems reported at once), lower it, and commit to the weights.

        ``tensors`` maps the tensor names the IR refers to (dense ``weight`` [out, in], ``bias``
        [out]) to integer arrays within the int32 range. The commitment seed is fresh and random,
        so two compilations of the same model have different digests; ``seed`` (32 bytes) fixes
        it, for reproducible tests and fixtures only (a known seed makes the digest predictable
        from the weights). A seed of another length raises ``ValueError``.
        Raises ``ModelError`` naming the node for any problem in the IR or its tensors.
        """

    def run(self, x: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """The integer forward pass: ``x`` of any shape with the input's element count.

        Returns the flat int64 output. Raises ``ModelError`` for a wrong element count or a value
        outside the provable range (naming the input, or the node and tensor where it happened).
        """

    def run_trace(self, x: npt.ArrayLike) -> dict[str, npt.NDArray[np.int64]]:
        """Like :meth:`run`, but returns every IR tensor (input first, graph order), flat int64."""

    def prove(
        self,
        x: npt.ArrayLike,
        threads: int | None = None,
        batch: int | None = None,
        input_seed: bytes | None = None,
        progress: Callable[[str, int, int], object] | None = None,
        epoch: int | None = None,
        input_number: int | None = None,
        input_known: bytes | None = None,
    ) -> tuple[bytes, bytes | None]:
        """Prove one inference; returns the proof as versioned bytes and, for a committed
        input, the certificate of the input epoch it opens (None otherwise).

        ``epoch``: open the leaf commitment of that epoch (a fresh commitment to the weights,
        linked to the published one) instead of the published commitment; a verifier needs
        the epoch's certificate (:meth:`epoch_certificate`).

        ``progress`` is called with (stage, stages done, stage count) as each stage starts:
        ``witness``, ``commitments``, ``sumchecks``, ``openings`` (its exceptions are ignored).

        With ``batch=N``, ``x`` holds N inputs back to back and one proof covers all of them;
        the proof's output is the N outputs concatenated. ``threads`` runs the prover on a local
        pool of that many threads (default: the global pool, one thread per core).
        ``input_seed`` (32 bytes, the data owner's secret) is required when the IR's input is
        ``"committed"``: the input commitment (mask and PCS randomness) is derived from it, so
        the same inputs and seed give the same digest (:func:`proof_input_commitment`); it is
        refused otherwise. ``input_number`` (required with a seed) is the proof's number among
        the proofs over that input commitment: it picks the input epoch whose leaf the proof
        opens; ``input_known`` is an input epoch certificate made before (its nodes are reused).
        Raises ``ModelError`` for a bad input, like :meth:`run`, or for a committed input
        without a seed or number; ``ValueError`` for a seed of another length.
        """

    def commit_input(self, x: npt.ArrayLike, input_seed: bytes, batch: int | None = None) -> bytes:
        """The 32-byte digest of the input commitment that a proof of ``x`` (``batch`` inputs
        back to back, as in :meth:`prove`) with ``input_seed`` carries, computed without
        proving. Raises ``ModelError`` for a bad input, ``ValueError`` for a seed that is not
        32 bytes.
        """

    def verify(
        self, proof: bytes, epoch: bytes | None = None, input_epoch: bytes | None = None
    ) -> npt.NDArray[np.int64]:
        """Verify ``proof`` against this model's circuit and weight commitment, with the
        certificate of the epoch it was made in (``epoch_certificate``) and, for a committed
        input, of the input epoch it opens.

        Returns the verified flat int64 output; raises ``InvalidProof`` otherwise.
        """

    def epoch_certificate(self, epoch: int) -> bytes:
        """The certificate of epoch ``epoch`` (``ZKGE``): the commitments and links from the
        published commitment down to the epoch's leaf; its nodes are made if missing."""

    def adopt_epoch_certificate(self, certificate: bytes) -> None:
        """Take the nodes of a certificate this model made earlier (its stored copy), once it
        checks against the published commitment; ``ModelError`` if it does not."""

    def epoch_nodes(self) -> int:
        """Epoch-tree nodes this model object holds (made or adopted)."""

    def max_proof_bytes(self) -> int:
        """The most bytes an honest proof for this circuit can take (at the largest batch its
        tables can commit); longer bytes are refused before decoding."""

    def to_bytes(self) -> bytes:
        """The compiled model as versioned bytes (``ZKGM``). It holds the weights and the secret
        commitment seed: it is the prover's file, not something to publish."""

    @staticmethod
    def from_bytes(data: bytes) -> NativeModel:
        """Read bytes written by :meth:`to_bytes`; raises ``ModelError`` on anything else."""

    def ir_json(self) -> str:
        """The IR as compact JSON, including ``meta`` exactly as given to :meth:`from_ir`."""

    def digest(self) -> str:
        """Hex of the 32-byte weight-commitment digest: the model's public identity."""

    def circuit_digest(self) -> str:
        """Hex of the circuit digest (architecture, shapes, requantisation, table size).

        The weight digest does not cover the circuit; both are bound into every proof.
        """

    def verifying_key(self, meta_json: str | None = None) -> bytes:
        """The public verifying key as versioned bytes (``ZKGV``): IR without tensor values,
        circuit and weight commitment; no weights, no seed. ``meta_json`` (a JSON value)
        replaces the IR's ``meta`` in the key; by default it is kept as is.
        Raises ``ModelError`` if ``meta_json`` is not JSON."""

    def soundness_bits(self, batch: int = 1) -> float:
        """Provable soundness (Johnson bound) of a proof of ``batch`` inputs for this model,
        in whole bits: its weakest component."""

    def soundness_line(self, batch: int = 1) -> str:
        """``soundness: N bits, provable (Johnson bound); weakest: <component>``."""

    def num_params(self) -> int:
        """Number of weight and bias values in the IR (an absent bias counts nothing)."""

    def zk_budget(self) -> tuple[int, int]:
        """Proofs one weight commitment (one epoch's) may serve with the weights hidden, and one
        input epoch of a committed single-sample input (0 when the input is not committed)."""

    def layers(self) -> list[tuple[str, int, int, bool, str]]:
        """The circuit's blocks in execution order: ``(name, in_dim, out_dim, relu, kind)``,
        kind one of ``"dense"``, ``"conv"``, ``"maxpool"``."""

    def cost(self) -> dict[str, int]:
        """The circuit's exact size for one proof: ``params`` (Σ rows·cols + rows over the
        blocks' weight matrices and biases; a block whose IR node has no bias counts none),
        ``multiply_adds`` (dense rows·cols, conv C_out·patch_len·positions, max-pool 0),
        ``witness_elements`` (packed per-proof witness polynomial), ``weight_elements``
        (packed weight polynomial, committed at compile time), ``lookups`` (Σ of the padded
        lookup column lengths) and ``table_bits``."""

    def __repr__(self) -> str: ...

@final
class NativeVerifyingKey:
    """The public part of a compiled model: enough to verify proofs, nothing to make them.

    Example::

        key = NativeVerifyingKey.from_bytes(native.verifying_key())
        assert key.digest() == native.digest()
        output = key.verify(native.prove(x)[0])
    """

    @staticmethod
    def from_bytes(data: bytes) -> NativeVerifyingKey:
        """Read bytes written by :meth:`NativeModel.verifying_key`; raises ``ModelError`` on
        anything else (including a model file)."""

    def to_bytes(self) -> bytes:
        """The key as versioned bytes (``ZKGV``)."""

    def verify(
        self, proof: bytes, epoch: bytes | None = None, input_epoch: bytes | None = None
    ) -> npt.NDArray[np.int64]:
        """Verify ``proof`` against the key's circuit and weight commitment, with the
        certificate of the epoch it was made in (each link is checked once per key) and, for a
        committed input, of the input epoch it opens (each input leaf checked once per
        process).

        Returns the verified flat int64 output; raises ``InvalidProof`` otherwise.
        """

    def max_proof_bytes(self) -> int:
        """The most bytes an honest proof for this circuit can take (at the largest batch its
        tables can commit); longer bytes are refused before decoding."""

    def digest(self) -> str:
        """Hex of the 32-byte weight-commitment digest (equal to the model's ``digest()``)."""

    def circuit_digest(self) -> str:
        """Hex of the circuit digest (equal to the model's ``circuit_digest()``)."""

    def ir_json(self) -> str:
        """The IR as compact JSON: node list with tensor names (no values) and ``meta``."""

    def soundness_bits(self, batch: int = 1) -> float:
        """Provable soundness (Johnson bound) of a proof of ``batch`` inputs for this circuit,
        in whole bits: its weakest component."""

    def soundness_line(self, batch: int = 1) -> str:
        """``soundness: N bits, provable (Johnson bound); weakest: <component>``."""

    def zk_budget(self) -> tuple[int, int]:
        """Proofs one weight commitment (one epoch's) may serve with the weights hidden, and one
        input epoch of a committed single-sample input (0 when the input is not committed)."""

    def layers(self) -> list[tuple[str, int, int, bool, str]]:
        """The circuit's blocks in execution order: ``(name, in_dim, out_dim, relu, kind)``,
        kind one of ``"dense"``, ``"conv"``, ``"maxpool"``."""

    def cost(self) -> dict[str, int]:
        """The circuit's exact size for one proof: ``params`` (Σ rows·cols + rows over the
        blocks' weight matrices and biases; a block whose IR node has no bias counts none),
        ``multiply_adds`` (dense rows·cols, conv C_out·patch_len·positions, max-pool 0),
        ``witness_elements`` (packed per-proof witness polynomial), ``weight_elements``
        (packed weight polynomial, committed at compile time), ``lookups`` (Σ of the padded
        lookup column lengths) and ``table_bits``."""

    def __repr__(self) -> str: ...

def proof_input(proof: bytes) -> npt.NDArray[np.int64] | None:
    """The input a proof states, or None when the circuit's input is not public.

    Raises ``InvalidProof`` if the bytes are not a proof.
    """

def proof_input_commitment(proof: bytes) -> bytes | None:
    """The 32-byte digest of the input commitment a proof carries (not verified), or None
    unless the circuit's input is committed.

    Raises ``InvalidProof`` if the bytes are not a proof.
    """

def proof_output(proof: bytes) -> npt.NDArray[np.int64]:
    """Decode a proof and return its claimed output, without verifying it.

    Raises ``InvalidProof`` if the bytes are not a proof.
    """

def proof_epoch(proof: bytes) -> tuple[bytes, str] | None:
    """The epoch a proof was made in: (leaf path, hex digest of the leaf commitment), or None
    for a proof that opens the published commitment. Raises ``InvalidProof``."""

def proof_input_epoch(proof: bytes) -> tuple[bytes, str] | None:
    """The input epoch a proof over a committed input opens: (leaf path, hex digest of the leaf
    commitment), or None when the input is not committed. Raises ``InvalidProof``."""

def certificate_epoch(certificate: bytes) -> tuple[bytes, str]:
    """The leaf path and leaf commitment digest (hex) of an epoch certificate. Raises
    ``InvalidProof``."""

def proof_size(proof: bytes) -> int:
    """Check that the bytes decode as a proof and return their length in bytes.

    Raises ``InvalidProof`` if the bytes are not a proof.
    """

def proof_length_fields(proof: bytes) -> list[int]:
    """Offsets of every length field in a proof's bytes (robustness tests set each to its
    maximum).

    Raises ``InvalidProof`` if the bytes are not a proof.
    """

def dataset_commit(
    features: npt.NDArray[np.int64], labels: npt.NDArray[np.int64] | None, meta: bytes, seed: bytes
) -> bytes:
    """Commit to a quantised dataset (rows × features, labels one per row); returns the public
    commitment's bytes. Raises ``ModelError`` for a bad shape."""

def dataset_info(public: bytes) -> tuple[str, int, str, int, int, bool]:
    """(digest hex, openings one node serves, metadata digest hex, rows, features, has labels)."""

def dataset_prove(
    features: npt.NDArray[np.int64],
    labels: npt.NDArray[np.int64] | None,
    meta: bytes,
    seed: bytes,
    public: bytes,
    ranges: list[tuple[int, int, int]],
    classes: tuple[int, list[tuple[int, int]]] | None,
    sums: list[tuple[int, int, int]],
    variances: list[tuple[int, int, int]],
    number: int,
    known: bytes | None,
) -> tuple[bytes, bytes]:
    """Prove quantised properties as proof ``number`` of the digest, opening that number's
    dataset epoch leaf (``known``: a certificate made before, whose nodes are reused); returns
    (proof, epoch certificate). Raises ``ModelError`` naming the row and feature that fails."""

def dataset_verify(
    public: bytes, proof: bytes, certificate: bytes | None
) -> tuple[
    list[tuple[int, int, int]],
    tuple[int, list[tuple[int, int]]] | None,
    list[tuple[int, int, int]],
    list[tuple[int, int, int]],
]:
    """Verify a data-property proof; returns (ranges, classes, sums, variances), variances as
    bounds on n·Σx² − (Σx)². Raises ``InvalidProof``."""

def property_proof_dataset(proof: bytes) -> str:
    """The dataset digest (hex) a property proof names (not verified)."""

def property_proof_epoch(proof: bytes) -> tuple[list[int], str]:
    """The epoch a property proof opens: (leaf path, leaf commitment digest hex); not verified."""

def dataset_epochs(public: bytes) -> tuple[int, int, int]:
    """A public commitment's epochs: (proofs per epoch, children per node, proofs the whole
    tree serves)."""

def attest_prove(
    model: NativeModel,
    features: npt.NDArray[np.int64],
    labels: npt.NDArray[np.int64],
    meta: bytes,
    seed: bytes,
    public: bytes,
    epoch: int,
    number: int,
    threshold: int | None = None,
    known: bytes | None = None,
    confusion: bool = False,
) -> tuple[bytes, bytes, bytes]:
    """Attest the model's accuracy on the committed dataset (recommitted from its values and
    seed; it must give ``public``), opening the model's epoch ``epoch`` and the dataset epoch
    leaf of its proof ``number`` (``known``: the owner's last dataset certificate); with
    ``threshold`` only "at least that many correct" is stated, with ``confusion`` the confusion
    matrix too. Returns (attestation, model
    epoch certificate, dataset epoch certificate)."""

def attest_verify(
    key: NativeVerifyingKey,
    public: bytes,
    proof: bytes,
    certificate: bytes,
    dataset_certificate: bytes,
) -> tuple[str, str, int, int, int, bool, list[int]]:
    """Verify an attestation with its model and dataset epoch certificates; returns (model hex,
    dataset hex, rows, classes, correct or threshold, at least, the confusion matrix row-major
    or empty). Raises ``InvalidProof``."""

def attest_claimed(proof: bytes) -> tuple[str, str, int, int, int, bool, list[int]]:
    """The statement an attestation claims (not verified)."""

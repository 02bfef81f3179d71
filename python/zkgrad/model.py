"""``Model`` (a compiled, committed model), ``VerifyingKey`` (its public part) and ``Proof``.

A model file (``.zkg``) is ``NativeModel.to_bytes()``; the IR's ``meta`` carries
the ONNX names, shapes, scales and the accuracy report. It holds the weights and
the commitment seed: it is the model owner's file. A verifying key (``.vk``) holds
the circuit, the IR without tensor values and the weight commitment: anyone may
have it. A proof file (``.zkp``) is the proof bytes as the prover wrote them.

Example::

    model = zkgrad.compile("mlp.onnx", calibration="samples.npy")
    proof = model.prove(x)
    model.export_vk("mlp.vk")                       # publish this and model.digest
    key = zkgrad.VerifyingKey.load("mlp.vk")
    y = zkgrad.verify(key, proof, commitment=model.digest)

A model compiled with ``input_visibility="committed"`` proves with the data owner's secret
32-byte ``input_seed``; every proof then carries the digest of a commitment to its input
(``proof.input_commitment``), the same for the same input and seed::

    digest = model.commit_input(x, seed)             # without proving
    zkgrad.verify(key, model.prove(x, input_seed=seed), input_commitment=digest)
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from zkgrad import _native, outputs, public_inputs
from zkgrad.budget import ProofLedger
from zkgrad.errors import InvalidProof, ModelError
from zkgrad.input_layout import InputLayout, as_samples
from zkgrad.inputs import as_batch, quantize_input, to_float_array
from zkgrad.report import CompileReport

#: The ``meta`` entries a verifying key keeps: public by design (names, shapes, scales). The
#: accuracy report, measured on possibly private calibration data, stays in the ``.zkg``.
PUBLIC_META = (
    "onnx",
    "scales",
    "weight_scales",
    "source",
    "zkgrad_version",
    "outputs",
    "statement_size",
    "public_inputs",
)
MODEL_MAGIC = b"ZKGM"
KEY_MAGIC = b"ZKGV"
PROOF_MAGIC = b"ZKGP"
# The most bytes any proof may take (crates/zkgrad-core proof::MAX_PROOF_BYTES and the header).
MAX_PROOF_BYTES = (64 << 20) + 6


class _Circuit:
    """What a model and its verifying key share: the IR's public description."""

    def __init__(self, ir_json: str) -> None:
        ir = json.loads(ir_json)
        self._ir: dict[str, Any] = ir
        self.input_name: str = ir["input"]["name"]
        self.output_name: str = ir["output"]["name"]
        self.input_shape: tuple[int, ...] = tuple(ir["input"]["shape"])
        self.output_shape: tuple[int, ...] = tuple(ir["output"]["shape"])
        self.input_scale_bits: int = int(ir["input"]["scale_bits"])
        self.output_scale_bits: int = int(ir["output"]["scale_bits"])
        #: "private" (hidden in the witness), "public" (stated in every proof) or "committed"
        #: (hidden; every proof carries the digest of a commitment to it).
        self.input_visibility: str = ir["input"].get("visibility", "private")
        self.meta: dict[str, Any] = dict(ir.get("meta") or {})
        #: A model with several outputs: each one's ONNX name, shape, scale and place in the
        #: proof's output vector (``zkgrad.outputs``), in ONNX order; empty for one output.
        self.outputs: list[dict[str, Any]] = list(self.meta.get("outputs") or [])
        #: Public inputs of a model whose other inputs are hidden: stated in every proof after
        #: the outputs (``zkgrad.public_inputs``); their names.
        self.public_inputs: list[str] = [e["name"] for e in self.meta.get("public_inputs") or []]
        if self.outputs:
            # The statement's output vector holds every output, flattened (and the public
            # inputs of a model of mixed input visibility).
            size = self.meta.get("statement_size") or outputs.statement_size(self.outputs)
            self.output_shape = (1, int(size))
        #: For a model compiled from a graph with several inputs: their names, shapes and
        #: offsets in the one input (``input_name``, ``input_shape``) the circuit takes, their
        #: concatenation (`zkgrad.input_layout`); None for a single-input model.
        self.layout: InputLayout | None = InputLayout.from_meta(self.meta)

    @property
    def inputs(self) -> list[tuple[str, tuple[int, ...]]]:
        """The model's inputs as the ONNX graph declares them: (name, shape) in graph order."""
        if self.layout is None:
            return [(self.input_name, self.input_shape)]
        return [(spec.name, spec.shape) for spec in self.layout.specs]

    @property
    def input_names(self) -> list[str]:
        """The names of :attr:`inputs`."""
        return [name for name, _ in self.inputs]

    def split_inputs(self, flat: object) -> dict[str, np.ndarray]:
        """The circuit's input (e.g. ``proof.input_q``; one sample or a batch) -> each of the
        model's inputs by name, shaped like it (``[N, *shape]`` for a batch)."""
        layout = self.layout or InputLayout(self.inputs)
        return layout.split(flat)

    def stated_inputs(self, proof: Proof) -> dict[str, np.ndarray]:
        """The public inputs ``proof`` states, by name, as floats (not verified: use
        :func:`zkgrad.verify`, with ``input=`` to check them): a model of mixed input
        visibility states its public inputs after its outputs; a model with a public input
        states all of them; others state none."""
        if self.public_inputs:
            return public_inputs.stated(self.meta, proof.output_q, self.input_scale_bits)
        if self.input_visibility == "public" and proof.input_q is not None:
            scaled = proof.input_q / 2.0**self.input_scale_bits
            return self.split_inputs(scaled)
        return {}

    def samples(self, x: object) -> tuple[np.ndarray, bool]:
        """A user's input -> ``[N, *input_shape]`` float64, and whether it was one sample.

        ``x`` is one sample or a batch ``[N, ...]``; for a model with several inputs, a dict
        ``{name: array}`` or a list in graph order (`zkgrad.input_layout.as_samples`).
        """
        return as_samples(x, self.input_shape, self.layout, self._input_label)

    @property
    def zk(self) -> bool:
        """Always True: proofs are zero-knowledge (proof format 6 has no other mode)."""
        return True

    @property
    def _input_label(self) -> str:
        return "input" if self.layout is not None else f"input '{self.input_name}'"

    def quantize(self, x: object) -> np.ndarray:
        """One float input -> the int64 input the circuit takes (flat)."""
        batch, _ = self.samples(x)
        if batch.shape[0] != 1:
            raise ModelError(
                f"{self._input_label} holds {batch.shape[0]} samples; expected exactly one"
            )
        if self.layout is not None:
            return self.layout.quantize(batch[0], self.input_scale_bits)
        return quantize_input(batch[0], self.input_scale_bits, self.input_name).reshape(-1)

    @property
    def ir(self) -> dict[str, Any]:
        """The integer IR (without tensors) as a dict."""
        return json.loads(json.dumps(self._ir))

    def dequantize(self, y_q: np.ndarray) -> Any:
        """Integer output -> float output with the model's output shape.

        A batch proof's output (N times the output size) comes back as ``[N, ...]``. A model
        with several outputs gives a dict of them by ONNX name, each shaped like that.
        """
        if self.outputs:
            split = outputs.split(self.outputs, y_q, int(np.prod(self.output_shape)))
            return split if len(split) > 1 else next(iter(split.values()))
        values = np.asarray(y_q, dtype=np.float64) / 2.0**self.output_scale_bits
        size = int(np.prod(self.output_shape))
        if values.size != size and values.size % size == 0:
            trailing = self.output_shape[1:] if self.output_shape[:1] == (1,) else self.output_shape
            return values.reshape(values.size // size, *trailing)
        return values.reshape(self.output_shape)


class _Verifier(_Circuit):
    """What a model and its verifying key share: the digests and checking proofs."""

    _native: _native.NativeModel | _native.NativeVerifyingKey

    def __init__(self, native: _native.NativeModel | _native.NativeVerifyingKey) -> None:
        self._native = native
        super().__init__(native.ir_json())

    @property
    def digest(self) -> str:
        """The model's identity (hex): covers the circuit and the weight commitment; pin it."""
        return self._native.digest()

    @property
    def circuit_digest(self) -> str:
        """Digest of the public circuit (architecture, shapes, requantisation, table size)."""
        return self._native.circuit_digest()

    @property
    def soundness_bits(self) -> float:
        """Provable soundness of a one-input proof for this model, in whole bits: the weakest
        component (sumcheck, LogUp, WHIR opening under the Johnson bound) of the proof."""
        return self._native.soundness_bits(1)

    def soundness_line(self, batch: int = 1) -> str:
        """``soundness: N bits, provable (Johnson bound); weakest: <component>`` for a proof
        of ``batch`` inputs."""
        return self._native.soundness_line(batch)

    @property
    def max_proof_bytes(self) -> int:
        """The most bytes an honest proof for this model can take."""
        return self._native.max_proof_bytes()

    def verify(self, proof: Proof | bytes) -> np.ndarray:
        """Check ``proof`` (with its epoch certificate, and its input epoch certificate for a
        committed input, when it carries them); returns the verified float output."""
        if isinstance(proof, Proof):
            data, certificate = proof.data, proof.epoch_certificate
            input_certificate = proof.input_epoch_certificate
        else:
            data, certificate, input_certificate = bytes(proof), None, None
        return self.dequantize(self._native.verify(data, certificate, input_certificate))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the file (``.zkg`` for a model, ``.vk`` for a key)."""
        Path(path).write_bytes(self._native.to_bytes())


def _read_file(path: str | os.PathLike[str], what: str, parse: Any) -> Any:
    """Parse a file with ``parse``, naming the file and what it should be on failure."""
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{file}: no such file")
    try:
        return parse(file.read_bytes())
    except ValueError as exc:
        raise ModelError(f"{file}: not a zkgrad {what} ({exc})") from None


class Model(_Verifier):
    """A quantised model whose weights are committed; its ``digest`` is its public identity."""

    _native: _native.NativeModel

    def __init__(self, native: _native.NativeModel, ledger: ProofLedger | None = None) -> None:
        super().__init__(native)
        # Proofs made per commitment (`budget.py`): beside the model file once saved or loaded.
        self._ledger = ledger or ProofLedger()
        #: Epochs whose stored certificate was taken or written by this object (once each).
        self._adopted_epochs: set[int] = set()
        self._stored_epochs: set[int] = set()
        #: The latest input epoch certificate per committed input digest (its nodes are reused
        #: by the next proofs over that input instead of being made again).
        self._input_certificates: dict[str, bytes] = {}

    @property
    def native(self) -> _native.NativeModel:
        """The underlying native model."""
        return self._native

    @property
    def report(self) -> CompileReport:
        """Float-vs-quantised error report made at compile time; ``print`` it for a table.

        A :class:`~zkgrad.report.CompileReport`: the stored dict, with the measurements as
        attributes (``relative_error``, ``layers``, ``worst_layer``, ``warning``, ...).
        """
        return CompileReport(
            self.meta.get("report") or {}, model_name=self.meta.get("source"), digest=self.digest
        )

    @property
    def num_params(self) -> int:
        """Number of weights and biases."""
        return self._native.num_params()

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Model:
        """Read a model file written by :meth:`save`."""
        return cls(
            _read_file(path, "model file", _native.NativeModel.from_bytes), ProofLedger.beside(path)
        )

    def run_q(self, x: object) -> np.ndarray:
        """Integer output of the quantised model for one input (no proof)."""
        return np.asarray(self._native.run(self.quantize(x)), dtype=np.int64)

    def run(self, x: object) -> Any:
        """Quantised inference without a proof, dequantised to float.

        ``x`` is one input (output shaped like ``output_shape``) or a batch
        ``[N, ...]`` (output ``[N, *output_shape[1:]]`` for a batch-1 model).
        """
        batch, single = self.samples(x)
        if self.outputs:  # several: dequantised together, as a batch proof's output is
            ints = [self.run_q(sample) for sample in batch]
            return self.dequantize(ints[0] if single else np.concatenate(ints))
        outs = [self.dequantize(self.run_q(sample)) for sample in batch]
        if single:
            return outs[0]
        trailing = self.output_shape[1:] if self.output_shape[:1] == (1,) else self.output_shape
        return np.stack(outs).reshape(len(outs), *trailing)

    def prove(
        self,
        x: object,
        threads: int | None = None,
        input_seed: bytes | str | None = None,
        progress: Callable[[str, int, int], object] | None = None,
    ) -> Proof:
        """Run the model on one input, or on a batch ``[N, ...]``, and prove the result.

        ``progress``: called with (stage, stages done, stage count) as each of the prover's
        stages starts (witness, commitments, sumchecks, openings).

        A batch is proved in one proof; its ``output`` is shaped ``[N, ...]``. ``input_seed``:
        required when the model's input is committed (and refused otherwise) — the data owner's
        secret 32 bytes (or 64 hex digits), e.g. ``secrets.token_bytes(32)``, kept to make
        later proofs of the same input carry the same ``proof.input_commitment``. The ledger
        numbers the proofs per input commitment: proof n opens the input epoch
        ``n // model.input_zk_budget``, a fresh commitment to the input linked to the published
        one, so one committed input serves any number of proofs with its values hidden.
        """
        return self._prove_numbered(None, x, threads, input_seed, progress)

    def prove_as(
        self,
        number: int,
        x: object,
        threads: int | None = None,
        input_seed: bytes | str | None = None,
    ) -> Proof:
        """:meth:`prove`, as proof ``number`` of this model's digest, counted by a ledger
        elsewhere: a fleet of provers whose machines do not share the model file's ledger (the
        Ray driver numbers the proofs, ``zkgrad.serve.ray_pool``). The number picks the proof's
        epoch; use each number once, or an epoch serves more proofs than its budget."""
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise ModelError(f"a proof number is a whole number from 0, not {number!r}")
        return self._prove_numbered(number, x, threads, input_seed, None)

    def _prove_numbered(
        self,
        number: int | None,
        x: object,
        threads: int | None,
        input_seed: bytes | str | None,
        progress: Callable[[str, int, int], object] | None,
    ) -> Proof:
        if threads is not None and (
            isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= 1024
        ):
            raise ModelError(f"threads must be a whole number from 1 to 1024, not {threads!r}")
        seed = self._input_seed(input_seed)
        flat, count = self._quantized_inputs(x)
        per_epoch, _ = self._native.zk_budget()
        # The proof's number picks its epoch: a fresh commitment to the weights, linked to the
        # published one, that serves `per_epoch` proofs (`budget.py`).
        if number is None:
            number = self._ledger.take(self.digest)
        epoch = number // max(per_epoch, 1)
        self._adopt_stored_epoch(epoch)
        # A committed input is numbered the same way, per input digest: its proof opens the
        # leaf of its own input epoch, linked to the published input commitment.
        input_digest = input_number = known = None
        if seed is not None:
            input_digest = bytes(self._native.commit_input(flat, seed, count)).hex()
            input_number = self._ledger.take(input_digest)
            known = self._input_certificates.get(input_digest)
        data, input_certificate = self._native.prove(
            flat, threads, count, seed, progress, epoch, input_number, known
        )
        proof = Proof(
            bytes(data),
            self,
            bytes(self._native.epoch_certificate(epoch)),
            None if input_certificate is None else bytes(input_certificate),
        )
        self._store_epoch(epoch, proof.epoch_certificate)
        if input_digest is not None and proof.input_epoch_certificate is not None:
            self._input_certificates[input_digest] = proof.input_epoch_certificate
        return proof

    def _epoch_file(self) -> Path | None:
        """Where the current epoch's certificate is kept (``<model path>.epoch.zke``), so that
        a new process proving in that epoch does not make its nodes again — two commitments
        and a link each, several times the cost of a proof. None for a model without a file."""
        ledger = self._ledger.path
        return None if ledger is None else ledger.with_suffix(".epoch" + CERTIFICATE_SUFFIX)

    def _adopt_stored_epoch(self, epoch: int) -> None:
        """Take the stored certificate's nodes if they lead to ``epoch`` or above it (a later
        epoch shares the upper nodes of the one before). A file that does not check is set
        aside: the nodes are made again (and stored afresh)."""
        file = self._epoch_file()
        if file is None or epoch in self._adopted_epochs or not file.is_file():
            return
        self._adopted_epochs.add(epoch)
        try:
            self._native.adopt_epoch_certificate(file.read_bytes())
        except (ModelError, InvalidProof, RuntimeError, OSError):
            file.unlink(missing_ok=True)

    def _store_epoch(self, epoch: int, certificate: bytes | None) -> None:
        file = self._epoch_file()
        if file is None or certificate is None or epoch in self._stored_epochs:
            return
        self._stored_epochs.add(epoch)
        partial = file.with_name(f".{file.name}.{os.getpid()}.partial")
        try:
            partial.write_bytes(certificate)
            partial.replace(file)  # atomic: workers of one server may store the same epoch
        except OSError:
            partial.unlink(missing_ok=True)  # a read-only folder: proving goes on, slower

    def attest(self, ds: Any, threshold: float | None = None, confusion: bool = False) -> Any:
        """Prove this model's accuracy on a committed, labelled :class:`zkgrad.Dataset`: one
        zero-knowledge proof of how many rows it classifies correctly, or with ``threshold``
        τ only that at least ⌈τ·m⌉ are, the count hidden; with ``confusion`` the confusion
        matrix too (``zkgrad.attest``)."""
        from zkgrad.attest import attest

        return attest(self, ds, threshold, confusion)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model file; its proof ledger moves beside it (``<path>.ledger``)."""
        super().save(path)
        self._ledger = self._ledger.moved_beside(path)

    @property
    def zk_budget(self) -> int:
        """Proofs one epoch's weight commitment serves with the weights hidden; the published
        digest serves any number of epochs, each linked to it (``docs/SECURITY.md``)."""
        return int(self._native.zk_budget()[0])

    def epoch_certificate(self, epoch: int | tuple[int, ...]) -> bytes:
        """The certificate a verifier needs for proofs made in ``epoch`` (public): an epoch
        number, or the leaf path a proof names (``proof.epoch[0]``)."""
        if isinstance(epoch, tuple):
            epoch = _epoch_number(epoch, self.zk_budget)
        return bytes(self._native.epoch_certificate(epoch))

    def verify(self, proof: Proof | bytes) -> np.ndarray:
        """Check ``proof``; the model owner makes a missing epoch certificate itself, for an
        epoch its ledger has reached (a proof naming a later one is refused unread: making its
        nodes would cost two commitments and a link each)."""
        if not isinstance(proof, Proof):
            proof = Proof(bytes(proof), self)
        if len(proof.data) > self.max_proof_bytes:
            return super().verify(proof)  # refused unread, by its size
        if proof.epoch_certificate is None and proof.epoch is not None:
            epoch = _epoch_number(proof.epoch[0], self.zk_budget)
            reached = max(self.proofs_made - 1, 0) // max(self.zk_budget, 1)
            if epoch > reached:
                raise InvalidProof(
                    f"the proof names epoch {list(proof.epoch[0])}, which this model's proofs "
                    "have not reached; give its epoch certificate"
                )
            proof = Proof(
                proof.data, self, self.epoch_certificate(epoch), proof.input_epoch_certificate
            )
        return super().verify(proof)

    @property
    def input_zk_budget(self) -> int:
        """Proofs one input epoch's commitment serves with a committed input hidden (0 unless
        the input is committed); the published input digest serves any number of input epochs,
        each linked to it (``docs/SECURITY.md``)."""
        return int(self._native.zk_budget()[1])

    @property
    def proofs_made(self) -> int:
        """Proofs recorded in this model's ledger for its weight commitment."""
        return self._ledger.count(self.digest)

    def commit_input(self, x: object, input_seed: bytes | str, batch: int | None = None) -> str:
        """The input commitment (hex digest) that a proof of ``x`` with ``input_seed`` carries.

        ``x`` is one input or a batch ``[N, ...]``, as for :meth:`prove`; ``batch``, when
        given, is the number of inputs ``x`` must hold. Computed without proving; only for a
        model whose input is committed.
        """
        seed = self._input_seed(input_seed)
        if seed is None:
            raise ModelError("commit_input needs the input_seed the proofs are made with")
        flat, count = self._quantized_inputs(x)
        if batch is not None and batch != count:
            raise ModelError(f"input holds {count} samples, not the batch of {batch} given")
        return bytes(self._native.commit_input(flat, seed, count)).hex()

    def _input_seed(self, input_seed: bytes | str | None) -> bytes | None:
        if self.input_visibility != "committed":
            if input_seed is not None:
                raise ModelError(
                    f"input_seed is only for a model whose input is committed; this model's "
                    f"input is {self.input_visibility} (compile with "
                    "input_visibility='committed', CLI: --input committed)"
                )
            return None
        if input_seed is None:
            raise ModelError(
                "this model's input is committed: pass input_seed, the data owner's secret 32 "
                "bytes (e.g. secrets.token_bytes(32)), the same for every proof that must carry "
                "the same input commitment (CLI: --input-seed)"
            )
        return parse_input_seed(input_seed)

    def _quantized_inputs(self, x: object) -> tuple[np.ndarray, int | None]:
        """One input or a batch -> (flat int64 inputs, the batch size or None for one input)."""
        batch, single = self.samples(x)
        if single:
            return self.quantize(batch[0]), None
        flat = np.concatenate([self.quantize(sample) for sample in batch])
        return flat, int(batch.shape[0])

    def verifying_key(self) -> VerifyingKey:
        """The public verifying key: circuit, IR without tensor values, weight commitment.

        Its ``meta`` keeps only :data:`PUBLIC_META` (not the accuracy report).
        """
        meta = {key: self.meta[key] for key in PUBLIC_META if key in self.meta}
        data = self._native.verifying_key(json.dumps(meta))
        return VerifyingKey(_native.NativeVerifyingKey.from_bytes(data))

    def export_vk(self, path: str | os.PathLike[str]) -> VerifyingKey:
        """Write the verifying key (no weights, no seed) to ``path`` and return it."""
        key = self.verifying_key()
        key.save(path)
        return key

    def __repr__(self) -> str:
        return (
            f"Model(input={list(self.input_shape)}, output={list(self.output_shape)}, "
            f"params={self.num_params}, digest={self.digest[:16]}…)"
        )


def _epoch_number(path: tuple[int, ...], fanout: int) -> int:
    """The epoch whose leaf is ``path`` (the inverse of ``zkgrad_core::epoch::leaf_path``):
    subtree i holds fanout^i epochs, numbered after those of the subtrees before it."""
    if not path or any(not 0 <= d < fanout for d in path) or len(path) != path[0] + 1:
        raise InvalidProof(f"{list(path)} is not an epoch of this model")
    first = sum(fanout**j for j in range(path[0]))
    offset = 0
    for d in path[1:]:
        offset = offset * fanout + d
    return first + offset


class VerifyingKey(_Verifier):
    """A model's public part: verifies proofs for the model, cannot make them.

    Example::

        key = zkgrad.VerifyingKey.load("mlp.vk")
        y = zkgrad.verify(key, zkgrad.Proof.load("x.zkp", key), commitment=published_digest)
    """

    _native: _native.NativeVerifyingKey

    def __init__(self, native: _native.NativeVerifyingKey) -> None:
        super().__init__(native)

    @property
    def native(self) -> _native.NativeVerifyingKey:
        """The underlying native key."""
        return self._native

    def to_bytes(self) -> bytes:
        """The key file's bytes (``ZKGV``)."""
        return self._native.to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> VerifyingKey:
        """A key from the bytes of a key file (e.g. received over the network)."""
        try:
            return cls(_native.NativeVerifyingKey.from_bytes(bytes(data)))
        except ValueError as exc:
            raise ModelError(f"not a zkgrad verifying key ({exc})") from None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> VerifyingKey:
        """Read a key file written by :meth:`save` or :meth:`Model.export_vk`."""
        return cls(_read_file(path, "verifying key", _native.NativeVerifyingKey.from_bytes))

    def __repr__(self) -> str:
        return (
            f"VerifyingKey(input={list(self.input_shape)}, output={list(self.output_shape)}, "
            f"digest={self.digest[:16]}…)"
        )


def file_magic(path: str | os.PathLike[str]) -> bytes:
    """The first four bytes of a file (``FileNotFoundError`` if it is missing)."""
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{file}: no such file")
    with file.open("rb") as handle:
        return handle.read(4)


def load_verifier(path: str | os.PathLike[str]) -> Model | VerifyingKey:
    """Read a model file or a verifying key, whichever ``path`` holds."""
    file = Path(path)
    magic = file_magic(file)
    if magic == KEY_MAGIC:
        return VerifyingKey.load(file)
    if magic == MODEL_MAGIC:
        return Model.load(file)
    raise ModelError(f"{file}: neither a zkgrad model (.zkg) nor a verifying key")


Verifier = Model | VerifyingKey


EPOCHS_DIR = "epochs"
CERTIFICATE_SUFFIX = ".zke"


class Proof:
    """Proof bytes, with the model or key they belong to when known (for dequantising), the
    certificate of the epoch the proof was made in (public; shared by the epoch's proofs), and
    for a committed input the certificate of its input epoch (public; shared likewise)."""

    def __init__(
        self,
        data: bytes,
        model: Verifier | None = None,
        epoch_certificate: bytes | None = None,
        input_epoch_certificate: bytes | None = None,
    ) -> None:
        self.data = bytes(data)
        self.model = model
        self.epoch_certificate = None if epoch_certificate is None else bytes(epoch_certificate)
        self.input_epoch_certificate = (
            None if input_epoch_certificate is None else bytes(input_epoch_certificate)
        )

    @property
    def input_epoch(self) -> tuple[tuple[int, ...], str] | None:
        """(leaf path, leaf commitment digest) of the input epoch a proof over a committed input
        opens, or None when the input is not committed."""
        found = _native.proof_input_epoch(self.data)
        return None if found is None else (tuple(found[0]), found[1])

    def input_certificate_path(self, proof_path: str | os.PathLike[str]) -> Path | None:
        """Where :meth:`save` puts, and :meth:`load` finds, the input epoch certificate of a
        proof saved at ``proof_path``: ``epochs/<input leaf digest>.zke`` beside it (a leaf
        commitment's digest names one certificate, whichever tree it is of)."""
        epoch = self.input_epoch
        if epoch is None:
            return None
        return Path(proof_path).parent / EPOCHS_DIR / f"{epoch[1][:32]}{CERTIFICATE_SUFFIX}"

    @property
    def epoch(self) -> tuple[tuple[int, ...], str] | None:
        """(leaf path, leaf commitment digest) of the epoch the proof was made in, or None for a
        proof that opens the published commitment itself."""
        found = _native.proof_epoch(self.data)
        return None if found is None else (tuple(found[0]), found[1])

    def certificate_path(self, proof_path: str | os.PathLike[str]) -> Path | None:
        """Where :meth:`save` puts, and :meth:`load` finds, the epoch certificate of a proof
        saved at ``proof_path``: ``epochs/<leaf digest>.zke`` beside it, shared by every proof
        of that epoch in the folder."""
        epoch = self.epoch
        if epoch is None:
            return None
        return Path(proof_path).parent / EPOCHS_DIR / f"{epoch[1][:32]}{CERTIFICATE_SUFFIX}"

    @property
    def output_q(self) -> np.ndarray:
        """The integer output the proof claims (not verified: use :func:`zkgrad.verify`)."""
        values = np.asarray(_native.proof_output(self.data), dtype=np.int64)
        if self.model is None or values.size != int(np.prod(self.model.output_shape)):
            return values
        return values.reshape(self.model.output_shape)

    @property
    def input_q(self) -> np.ndarray | None:
        """The integer input the proof states, or None when the model keeps inputs private."""
        values = _native.proof_input(self.data)
        return None if values is None else np.asarray(values, dtype=np.int64)

    @property
    def input_commitment(self) -> str | None:
        """Hex digest of the input commitment the proof carries (not verified: use
        :func:`zkgrad.verify` with ``input_commitment=``), or None unless the input is
        committed."""
        digest = _native.proof_input_commitment(self.data)
        return None if digest is None else bytes(digest).hex()

    @property
    def output(self) -> np.ndarray:
        """The claimed output, dequantised (needs the model)."""
        if self.model is None:
            raise ValueError("load the proof with its model to dequantise: Proof.load(path, model)")
        return self.model.dequantize(self.output_q)

    @property
    def size(self) -> int:
        """Proof size in bytes."""
        return int(_native.proof_size(self.data))

    @property
    def batch(self) -> int | None:
        """How many inputs the proof covers (needs the model), or None without one."""
        if self.model is None:
            return None
        size = int(np.prod(self.model.output_shape))
        return max(1, int(np.asarray(_native.proof_output(self.data)).size) // max(size, 1))

    @property
    def soundness_bits(self) -> float | None:
        """Provable soundness of this proof in whole bits (Johnson bound; computed from the
        model's circuit at the proof's batch size), or None without the model."""
        if self.model is None:
            return None
        return self.model._native.soundness_bits(self.batch or 1)

    @property
    def soundness_line(self) -> str | None:
        """``soundness: N bits, provable (Johnson bound); weakest: <component>``, or None
        without the model."""
        if self.model is None:
            return None
        return self.model.soundness_line(self.batch or 1)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the proof file (``.zkp``), and its epoch certificate (and input epoch
        certificate) into ``epochs/`` beside it unless that folder has it already."""
        Path(path).write_bytes(self.data)
        for target, certificate in (
            (self.certificate_path(path), self.epoch_certificate),
            (self.input_certificate_path(path), self.input_epoch_certificate),
        ):
            if target is not None and certificate is not None and not target.exists():
                target.parent.mkdir(exist_ok=True)
                partial = target.with_suffix(".partial")
                partial.write_bytes(certificate)
                partial.replace(target)

    @classmethod
    def load(cls, path: str | os.PathLike[str], model: Verifier | None = None) -> Proof:
        """Read a proof file and check that it decodes as a proof of this zkgrad version.

        Raises :class:`InvalidProof` in one sentence naming the file for anything else: a file
        larger than any proof for ``model`` can be (or than any proof at all, without a model;
        checked before it is read), one without the proof magic ``ZKGP`` (a model, a key,
        garbage), another proof format version, or bytes that do not decode. Whether the proof
        is *valid* is for :func:`verify` to say.
        """
        file = Path(path)
        if not file.is_file():
            raise FileNotFoundError(f"{file}: no such file")
        limit = model.max_proof_bytes if model is not None else MAX_PROOF_BYTES
        size = file.stat().st_size
        if size > limit:
            raise InvalidProof(
                f"{file} is {size} bytes, more than a proof for this model can take ({limit} bytes)"
            )
        data = file.read_bytes()
        magic = data[: len(PROOF_MAGIC)]
        if magic != PROOF_MAGIC:
            raise InvalidProof(_not_a_proof(file, magic))
        try:
            # Decodes the header (format version, security parameters) and the body.
            _native.proof_size(data)
        except InvalidProof as exc:
            raise InvalidProof(f"{file}: {exc}") from None
        proof = cls(data, model)
        certificate = proof.certificate_path(file)
        if certificate is not None and certificate.is_file():
            proof.epoch_certificate = certificate.read_bytes()
        certificate = proof.input_certificate_path(file)
        if certificate is not None and certificate.is_file():
            proof.input_epoch_certificate = certificate.read_bytes()
        return proof

    def __repr__(self) -> str:
        return f"Proof({len(self.data)} bytes)"


def _not_a_proof(file: Path, magic: bytes) -> str:
    """One sentence for a file that does not start with the proof magic, saying what it is."""
    if not magic:
        return f"{file} is empty, not a zkgrad proof"
    if magic == MODEL_MAGIC:
        return f"{file} is a zkgrad model file, not a proof"
    if magic == KEY_MAGIC:
        return f"{file} is a zkgrad verifying key, not a proof"
    return (
        f"{file} is not a zkgrad proof (a proof starts with {PROOF_MAGIC.decode()}; this file "
        f"starts with {magic!r})"
    )


def _as_verifier(model: object) -> Model | VerifyingKey:
    if isinstance(model, (Model, VerifyingKey)):
        return model
    if isinstance(model, (str, os.PathLike)):
        return load_verifier(model)
    raise TypeError(
        "zkgrad.verify takes a Model, a VerifyingKey or the path of a .zkg or .vk file as its "
        f"first argument, not {type(model).__name__}"
    )


def _as_proof(proof: object, model: Model | VerifyingKey) -> Proof:
    if isinstance(proof, Proof):
        return proof
    if isinstance(proof, (bytes, bytearray, memoryview)):
        return Proof(bytes(proof), model)
    if isinstance(proof, (str, os.PathLike)):
        return Proof.load(proof, model)
    raise TypeError(
        "zkgrad.verify takes a Proof, proof bytes or the path of a .zkp file as its second "
        f"argument, not {type(proof).__name__}"
    )


def verify(
    model: Model | VerifyingKey | str | os.PathLike[str],
    proof: Proof | bytes | str | os.PathLike[str],
    commitment: str | None = None,
    input: object = None,
    input_commitment: str | None = None,
    epoch_certificate: bytes | str | os.PathLike[str] | None = None,
    input_epoch_certificate: bytes | str | os.PathLike[str] | None = None,
) -> np.ndarray:
    """Verify ``proof`` for a model or its verifying key; returns the verified float output.

    ``model`` may be a :class:`Model`, a :class:`VerifyingKey` or the path of a ``.zkg`` or
    ``.vk`` file; ``proof`` a :class:`Proof`, proof bytes or the path of a ``.zkp`` file, e.g.
    ``zkgrad.verify("mlp.vk", "x.zkp", commitment=published_digest)``.

    ``commitment``: the model digest (hex) the verifier pins, e.g. one published by the model
    owner; if the model's or key's digest differs, the proof is rejected. ``input``: for a model
    compiled with a public input, the (float) input the verifier expects — one sample, or a
    batch ``[N, ...]`` for a batch proof; the proof must state exactly its quantised values.
    ``input_commitment``: for a model compiled with a committed input, the input commitment
    (hex digest) the verifier pins, e.g. from an earlier proof or published by the data owner;
    the proof must carry exactly it (so it is about the same hidden input).
    ``epoch_certificate``: the certificate (bytes or a ``.zke`` path) of the epoch the proof was
    made in, when the proof does not carry it (a proof from :meth:`Model.prove` does, and
    :meth:`Proof.load` finds it in ``epochs/`` beside the proof file).
    ``input_epoch_certificate``: likewise, the certificate of the input epoch a proof over a
    committed input opens (it links the proof's input leaf to the pinned input commitment).
    Raises :class:`InvalidProof` for a rejected proof. Given a :class:`zkgrad.DatasetPublic`
    and a data-property proof, returns the verified :class:`zkgrad.DataStatement` instead.
    """
    if type(proof).__name__ == "Attestation":  # an accuracy attestation (zkgrad.attest)
        from zkgrad.attest import verify_attestation

        dataset = getattr(proof, "dataset", None)
        if dataset is None:
            raise ModelError(
                "an attestation is verified against its dataset: "
                "zkgrad.verify_attestation(model, dataset_pub, attestation)"
            )
        return verify_attestation(model, dataset, proof)  # type: ignore[return-value]
    if type(model).__name__ == "DatasetPublic":  # a data-property proof (zkgrad.dataset)
        from zkgrad.dataset import verify_properties

        return verify_properties(model, proof, epoch_certificate)  # type: ignore[arg-type,return-value]
    model = _as_verifier(model)
    proof = _as_proof(proof, model)
    if input_epoch_certificate is not None:
        if isinstance(input_epoch_certificate, (str, os.PathLike)):
            input_epoch_certificate = Path(input_epoch_certificate).read_bytes()
        proof = Proof(
            proof.data, proof.model, proof.epoch_certificate, bytes(input_epoch_certificate)
        )
    if epoch_certificate is not None:
        if isinstance(epoch_certificate, (str, os.PathLike)):
            epoch_certificate = Path(epoch_certificate).read_bytes()
        proof = Proof(
            proof.data, proof.model, bytes(epoch_certificate), proof.input_epoch_certificate
        )
    elif (
        isinstance(model, VerifyingKey)
        and proof.epoch_certificate is None  # before .epoch, which decodes the proof
        and proof.epoch is not None
    ):
        path, leaf = proof.epoch
        raise InvalidProof(
            f"the proof was made in epoch {list(path)} (leaf commitment {leaf[:16]}…) and its "
            f"epoch certificate is missing: put it in {EPOCHS_DIR}/{leaf[:32]}"
            f"{CERTIFICATE_SUFFIX} beside the proof, or pass epoch_certificate="
        )
    if commitment is not None:
        pinned = normalize_digest(commitment)
        if pinned != model.digest:
            raise InvalidProof(
                f"the model digest {model.digest} is not the pinned commitment {pinned}"
            )
    pinned_input = None
    if input_commitment is not None:
        if model.input_visibility != "committed":
            raise ModelError(
                f"this model's input is {model.input_visibility}, not committed, so a proof "
                "carries no input commitment to pin; compile it with "
                "input_visibility='committed' (CLI: --input committed)"
            )
        pinned_input = normalize_digest(input_commitment, "input commitment")
    output = model.verify(proof)
    if input is not None:
        _check_stated_input(model, proof, input)
    if pinned_input is not None:
        carried = proof.input_commitment
        if carried != pinned_input:
            raise InvalidProof(
                f"the proof's input commitment {carried} is not the pinned input commitment "
                f"{pinned_input}"
            )
    return output


def _check_stated_input(model: Model | VerifyingKey, proof: Proof, x: object) -> None:
    if model.public_inputs:
        _check_public_inputs(model, proof, x)
        return
    if model.input_visibility == "committed":
        raise ModelError(
            "this model's input is committed, not public, so a proof cannot be checked against "
            "an input; pin its input commitment instead (input_commitment=, CLI: "
            "--input-commitment)"
        )
    if model.input_visibility != "public":
        raise ModelError(
            "this model keeps its input private, so a proof cannot be checked against an input; "
            "compile it with input_visibility='public' (CLI: --input public)"
        )
    stated = proof.input_q
    samples, _ = model.samples(x)
    if stated is None:
        raise InvalidProof("the proof does not state an input of this model's shape")
    expected = np.concatenate([model.quantize(s) for s in samples])
    if stated.shape != expected.shape or not np.array_equal(stated, expected):
        raise InvalidProof("the proof is for another input than the one given")


def _check_public_inputs(model: Model | VerifyingKey, proof: Proof, x: object) -> None:
    """A model of mixed input visibility: ``x`` gives (at least) its public inputs by name, and
    the proof must state exactly their quantised values."""
    if not isinstance(x, Mapping):
        names = ", ".join(f"'{n}'" for n in model.public_inputs)
        raise ModelError(f"give the public inputs ({names}) as a dict {{name: array}}")
    shapes = dict(model.inputs)
    quantized = {}
    for name in model.public_inputs:
        if name not in x:
            raise ModelError(f"public input '{name}' is missing from the inputs given")
        what = f"input '{name}'"
        batch = as_batch(to_float_array(x[name], what), shapes[name], what)
        quantized[name] = np.stack(
            [quantize_input(s, model.input_scale_bits, name).reshape(-1) for s in batch]
        )
    public_inputs.check(model.meta, proof.output_q, quantized)


def normalize_digest(text: str, what: str = "commitment") -> str:
    """A digest given by a user: 64 hex digits, optionally with ``0x``; lower-cased."""
    value = text.strip().lower().removeprefix("0x")
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ModelError(f"{what} {text!r} is not a digest (64 hex digits)")
    return value


def parse_input_seed(seed: bytes | str) -> bytes:
    """An input seed given by a user: 32 bytes, or 64 hex digits (optionally with ``0x``)."""
    return parse_seed(seed, "input_seed")


def parse_seed(seed: bytes | str, what: str) -> bytes:
    """A 32-byte seed given by a user (``what`` names it): bytes, or 64 hex digits."""
    if isinstance(seed, str):
        value = seed.strip().lower().removeprefix("0x")
        if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
            raise ModelError(f"{what}: expected 32 bytes or 64 hex digits")
        return bytes.fromhex(value)
    if not isinstance(seed, (bytes, bytearray, memoryview)):
        raise ModelError(f"{what}: expected 32 bytes, got {type(seed).__name__}")
    value = bytes(seed)
    if len(value) != 32:
        raise ModelError(f"{what}: expected 32 bytes, got {len(value)}")
    return value

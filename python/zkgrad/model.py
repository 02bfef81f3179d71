"""``Model`` (a compiled, committed model) and ``Proof`` (proof bytes plus helpers).

A model file (``.zkg``) is ``NativeModel.to_bytes()``; the IR's ``meta`` carries
the ONNX names, shapes, scales and the accuracy report. A proof file (``.zkp``)
is the proof bytes as the prover wrote them.

Example::

    model = zkgrad.compile("mlp.onnx", calibration="samples.npy")
    proof = model.prove(x)
    y = zkgrad.verify(model, proof)
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from zkgrad import _native
from zkgrad.errors import ModelError
from zkgrad.inputs import as_batch, as_single, quantize_input, to_float_array


class Model:
    """A quantised model whose weights are committed; its ``digest`` is its public identity."""

    def __init__(self, native: _native.NativeModel) -> None:
        self._native = native
        ir = json.loads(native.ir_json())
        self._ir: dict[str, Any] = ir
        self.input_name: str = ir["input"]["name"]
        self.output_name: str = ir["output"]["name"]
        self.input_shape: tuple[int, ...] = tuple(ir["input"]["shape"])
        self.output_shape: tuple[int, ...] = tuple(ir["output"]["shape"])
        self.input_scale_bits: int = int(ir["input"]["scale_bits"])
        self.output_scale_bits: int = int(ir["output"]["scale_bits"])
        self.meta: dict[str, Any] = dict(ir.get("meta") or {})

    @property
    def native(self) -> _native.NativeModel:
        """The underlying native model."""
        return self._native

    @property
    def ir(self) -> dict[str, Any]:
        """The integer IR (without tensors) as a dict."""
        return json.loads(json.dumps(self._ir))

    @property
    def digest(self) -> str:
        """Commitment to architecture, scales and weights: pin this when verifying."""
        return self._native.digest()

    @property
    def report(self) -> dict[str, Any]:
        """Float-vs-quantised error report made at compile time."""
        return dict(self.meta.get("report") or {})

    @property
    def num_params(self) -> int:
        """Number of weights and biases."""
        return self._native.num_params()

    @property
    def soundness_bits(self) -> float:
        """Soundness of proofs for this model, in bits."""
        return self._native.soundness_bits()

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model file (``.zkg``)."""
        Path(path).write_bytes(self._native.to_bytes())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Model:
        """Read a model file written by :meth:`save`."""
        file = Path(path)
        if not file.is_file():
            raise FileNotFoundError(f"{file}: no such file")
        try:
            native = _native.NativeModel.from_bytes(file.read_bytes())
        except ValueError as exc:
            raise ModelError(f"{file}: not a zkgrad model file ({exc})") from None
        return cls(native)

    def quantize(self, x: object) -> np.ndarray:
        """One float input -> the int64 input the circuit takes (flat)."""
        sample = as_single(x, self.input_shape)
        return quantize_input(sample, self.input_scale_bits, self.input_name).reshape(-1)

    def dequantize(self, y_q: np.ndarray) -> np.ndarray:
        """Integer output -> float output with the model's output shape."""
        values = np.asarray(y_q, dtype=np.float64) / 2.0**self.output_scale_bits
        return values.reshape(self.output_shape)

    def run_q(self, x: object) -> np.ndarray:
        """Integer output of the quantised model for one input (no proof)."""
        return np.asarray(self._native.run(self.quantize(x)), dtype=np.int64)

    def run(self, x: object) -> np.ndarray:
        """Quantised inference without a proof, dequantised to float.

        ``x`` is one input (output shaped like ``output_shape``) or a batch
        ``[N, ...]`` (output ``[N, *output_shape[1:]]`` for a batch-1 model).
        """
        array = to_float_array(x)
        batch = as_batch(array, self.input_shape)
        outs = [self.dequantize(self.run_q(sample)) for sample in batch]
        if batch.shape[0] == 1 and _is_single(array.shape, self.input_shape):
            return outs[0]
        trailing = self.output_shape[1:] if self.output_shape[:1] == (1,) else self.output_shape
        return np.stack(outs).reshape(len(outs), *trailing)

    def prove(self, x: object, threads: int | None = None) -> Proof:
        """Run the model on one input and prove the result."""
        data = self._native.prove(self.quantize(x), threads)
        return Proof(bytes(data), self)

    def verify(self, proof: Proof | bytes) -> np.ndarray:
        """Check ``proof`` against this model; returns the verified float output."""
        data = proof.data if isinstance(proof, Proof) else bytes(proof)
        return self.dequantize(self._native.verify(data))

    def __repr__(self) -> str:
        return (
            f"Model(input={list(self.input_shape)}, output={list(self.output_shape)}, "
            f"params={self.num_params}, digest={self.digest[:16]}…)"
        )


def _is_single(array_shape: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    features = shape[1:] if len(shape) > 1 and shape[0] == 1 else shape
    return array_shape in (shape, features) or (
        len(array_shape) == 1 and array_shape[0] == int(np.prod(shape))
    )


class Proof:
    """Proof bytes, with the model they belong to when known (for dequantising)."""

    def __init__(self, data: bytes, model: Model | None = None) -> None:
        self.data = bytes(data)
        self.model = model

    @property
    def output_q(self) -> np.ndarray:
        """The integer output the proof claims (not verified: use :func:`zkgrad.verify`)."""
        values = np.asarray(_native.proof_output(self.data), dtype=np.int64)
        return values.reshape(self.model.output_shape) if self.model else values

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
    def soundness_bits(self) -> float | None:
        """Soundness in bits (from the model), or None without one."""
        return self.model.soundness_bits if self.model else None

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the proof file (``.zkp``)."""
        Path(path).write_bytes(self.data)

    @classmethod
    def load(cls, path: str | os.PathLike[str], model: Model | None = None) -> Proof:
        """Read a proof file."""
        file = Path(path)
        if not file.is_file():
            raise FileNotFoundError(f"{file}: no such file")
        return cls(file.read_bytes(), model)

    def __repr__(self) -> str:
        return f"Proof({len(self.data)} bytes)"


def verify(model: Model, proof: Proof | bytes) -> np.ndarray:
    """Verify ``proof`` for ``model``; returns the verified float output or raises InvalidProof."""
    return model.verify(proof)

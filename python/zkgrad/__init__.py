"""zkgrad: zero-knowledge proofs of ML inference, from an ONNX file.

Example::

    import numpy as np
    import zkgrad

    model = zkgrad.compile("mlp.onnx", calibration=np.load("samples.npy"))
    proof = model.prove(np.load("x.npy"))
    y = zkgrad.verify(model, proof)      # raises zkgrad.InvalidProof if the proof is bad
    model.export_vk("model.vk")          # a verifier needs only this key and model.digest
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from zkgrad.errors import InvalidProof, ModelError, QuantizationWarning, UnsupportedModelError
from zkgrad.model import Model, Proof, VerifyingKey, verify

if TYPE_CHECKING:
    from zkgrad.attest import Attestation, AttestStatement, verify_attestation
    from zkgrad.compiler import compile
    from zkgrad.dataset import Dataset, DatasetPublic, DataStatement
    from zkgrad.describe import Description, inspect
    from zkgrad.serve.client import Client
    from zkgrad.sklearn import from_sklearn

# Names whose modules import onnx (1-2 s): loaded on first use, so that verifying a proof
# (which never needs onnx) starts fast.
_LAZY = {
    "Client": "zkgrad.serve.client",  # httpx: only for a client of ``zkgrad serve``
    "compile": "zkgrad.compiler",
    "Description": "zkgrad.describe",
    "inspect": "zkgrad.describe",
    "from_sklearn": "zkgrad.sklearn",
    "Dataset": "zkgrad.dataset",
    "DatasetPublic": "zkgrad.dataset",
    "DataStatement": "zkgrad.dataset",
    "Attestation": "zkgrad.attest",
    "AttestStatement": "zkgrad.attest",
    "verify_attestation": "zkgrad.attest",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'zkgrad' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "AttestStatement",
    "Attestation",
    "Client",
    "DataStatement",
    "Dataset",
    "DatasetPublic",
    "Description",
    "InvalidProof",
    "Model",
    "ModelError",
    "Proof",
    "QuantizationWarning",
    "UnsupportedModelError",
    "VerifyingKey",
    "__version__",
    "compile",
    "from_sklearn",
    "inspect",
    "verify",
    "verify_attestation",
]

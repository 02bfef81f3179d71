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

__version__ = "0.1.0"

from zkgrad.compiler import compile
from zkgrad.describe import Description, inspect
from zkgrad.errors import InvalidProof, ModelError, QuantizationWarning, UnsupportedModelError
from zkgrad.model import Model, Proof, VerifyingKey, verify
from zkgrad.sklearn import from_sklearn

__all__ = [
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
]

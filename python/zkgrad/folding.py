"""Folding an inference-mode ``BatchNormalization`` into the layer before it.

BatchNormalization computes ``y = (x − mean) · γ / sqrt(var + ε) + β`` per channel (axis 1).
When ``x = W·a + b`` comes from a Gemm/MatMul or a Conv whose output channels are that axis,
``y = (f·W)·a + (f·(b − mean) + β)`` with ``f = γ / sqrt(var + ε)``: the same layer with new
weights and bias, so nothing is left to prove.

Example::

    weight, bias = fold_batchnorm(w, b, gamma, beta, mean, var, 1e-5)
"""

from __future__ import annotations

import numpy as np


def fold_batchnorm(
    weight: np.ndarray,
    bias: np.ndarray | None,
    gamma: np.ndarray,
    beta: np.ndarray,
    mean: np.ndarray,
    var: np.ndarray,
    epsilon: float,
) -> tuple[np.ndarray, np.ndarray]:
    """New (weight, bias) of a layer whose output channels (weight axis 0) feed the norm."""
    channels = weight.shape[0]
    params = [np.asarray(p, dtype=np.float64).reshape(-1) for p in (gamma, beta, mean, var)]
    if any(p.size != channels for p in params):
        sizes = [int(p.size) for p in params]
        raise ValueError(f"normalisation parameters of sizes {sizes} for {channels} channels")
    gamma_, beta_, mean_, var_ = params
    factor = gamma_ / np.sqrt(var_ + float(epsilon))
    scaled = weight * factor.reshape(-1, *([1] * (weight.ndim - 1)))
    base = np.zeros(channels) if bias is None else np.asarray(bias, dtype=np.float64)
    return scaled, factor * (base - mean_) + beta_

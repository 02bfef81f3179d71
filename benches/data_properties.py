"""Data-property proofs: commit, prove and verify times and proof sizes (benches/RESULTS.md).

Run: PYTHONPATH=python python benches/data_properties.py  (needs scikit-learn for the
breast-cancer data; the random 10,000 × 30 table needs nothing). ``--epochs``: only the
breast-cancer epoch costs (the first proof of an epoch against the next one). ``--variance``:
only the random table, its spec without and then with every feature's variance bounded.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

os.environ.setdefault("ZKGRAD_ZK_BUDGET", "warn")

import zkgrad
from zkgrad.dataset import Dataset


def spec_for(x: np.ndarray, y: np.ndarray, ds: Dataset, variance: bool = False) -> dict:
    features = {}
    for j, name in enumerate(ds.columns):
        lo, hi = float(x[:, j].min()), float(x[:, j].max())
        step = 2.0 ** -ds.scale_bits[j]
        features[name] = {"range": [lo - step, hi + step], "mean": [lo, hi]}
        if variance:
            var = float(np.var(x[:, j]))
            features[name]["variance"] = [0.9 * var, 1.1 * var]
    counts = np.bincount(y, minlength=2)
    return {
        "rows": len(x),
        "features": features,
        "labels": {"classes": 2, "counts": counts.tolist()},
    }


def measure(
    name: str, x: np.ndarray, y: np.ndarray, repeats: int = 3, variance: bool = False
) -> None:
    t = time.perf_counter()
    ds = Dataset.commit(x, y)
    commit_s = time.perf_counter() - t
    spec = spec_for(x, y, ds, variance)
    prove, verify = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        proof = ds.prove_properties(spec)
        prove.append(time.perf_counter() - t)
        t = time.perf_counter()
        zkgrad.verify(ds.public, proof)
        verify.append(time.perf_counter() - t)
    print(
        f"{name}: {x.shape[0]}x{x.shape[1]}, commit {commit_s:.3f} s, prove {min(prove):.3f} s, "
        f"verify {min(verify) * 1e3:.1f} ms, proof {len(proof) / 1024:.0f} KiB, "
        f"{ds.proofs_per_epoch} proofs per epoch, "
        f"max quantisation error {max(ds.quantization_error):.3g}"
    )


def measure_epochs(name: str, x: np.ndarray, y: np.ndarray) -> None:
    """The first proof of an epoch (which makes the links of its new nodes) against the next
    proof of the same epoch, at proof numbers 0, 127 and 10^4 (one, two and three links below
    the published commitment), and the certificate's size."""
    ds = Dataset.commit(x, y)
    spec = spec_for(x, y, ds)
    for first in (0, ds.proofs_per_epoch, 10_000):
        times = []
        for number in (first, first + 1):
            t = time.perf_counter()
            proof = ds.prove_properties_as(number, spec)
            times.append(time.perf_counter() - t)
        verify_s = []
        for _ in range(2):  # the first checks the epoch's new links; the second finds them checked
            t = time.perf_counter()
            zkgrad.verify(ds.public, proof)
            verify_s.append(time.perf_counter() - t)
        cert = proof.epoch_certificate or b""
        print(
            f"{name} epochs: proof {first} (epoch leaf {list(proof.epoch[0])}, "
            f"{len(proof.epoch[0])} links): first of its epoch {times[0]:.3f} s, next "
            f"{times[1]:.3f} s, verify with its new links {verify_s[0] * 1e3:.1f} ms, "
            f"links checked before {verify_s[1] * 1e3:.1f} ms, proof "
            f"{len(proof) / 1024:.0f} KiB, certificate {len(cert) / 1024:.0f} KiB"
        )


if __name__ == "__main__":
    if "--variance" in sys.argv:
        rng = np.random.default_rng(0)
        x, y = rng.normal(0, 1, size=(10_000, 30)), rng.integers(0, 2, 10_000)
        measure("random, means", x, y)
        measure("random, means and variances", x, y, variance=True)
        sys.exit(0)
    only_epochs = "--epochs" in sys.argv
    try:
        from sklearn.datasets import load_breast_cancer

        data = load_breast_cancer()
        if not only_epochs:
            measure("breast cancer", data.data, data.target)
        measure_epochs("breast cancer", data.data, data.target)
    except ImportError:
        print("breast cancer: skipped (no scikit-learn)")
    if only_epochs:
        sys.exit(0)
    rng = np.random.default_rng(0)
    measure("random", rng.normal(0, 1, size=(10_000, 30)), rng.integers(0, 2, 10_000))

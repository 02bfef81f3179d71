"""Accuracy attestations: prove and verify times and proof sizes on the bundled breast-cancer
MLP (30-16-8-2) over m committed rows of the breast-cancer data (benches/RESULTS.md).

Run: PYTHONPATH=python python benches/attestation.py [m ...]  (needs scikit-learn for the
full data set; standardised with the training mean and std stored with the bundled records).
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

os.environ.setdefault("ZKGRAD_ZK_BUDGET", "warn")

import zkgrad
from zkgrad.attest import verify_attestation
from zkgrad.demo import MODEL_ASSET, asset_path, load_records


def main(sizes: list[int]) -> None:
    from sklearn.datasets import load_breast_cancer

    records = load_records()
    raw, labels = load_breast_cancer(return_X_y=True)
    x = (raw - np.asarray(records.meta["mean"])) / np.asarray(records.meta["std"])
    with asset_path(MODEL_ASSET) as onnx:
        model = zkgrad.compile(onnx, calibration=records.inputs)
    key = model.verifying_key()
    for m in sizes:
        idx = np.arange(m) % len(x)
        ds = zkgrad.Dataset.commit(x[idx], labels[idx], scale_bits=model.input_scale_bits)
        t = time.perf_counter()
        att = model.attest(ds)
        prove_s = time.perf_counter() - t
        t = time.perf_counter()
        st = verify_attestation(key, ds.export_pub(), att)
        verify_s = time.perf_counter() - t
        print(
            f"m = {m}: {st.correct}/{st.rows} correct, prove {prove_s:.2f} s, "
            f"verify {verify_s * 1e3:.0f} ms, proof {len(att.data)} bytes"
        )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 569])

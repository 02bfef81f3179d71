"""Accuracy attestations: prove and verify times, proof sizes and peak memory on the bundled
breast-cancer MLP (30-16-8-2) over m committed rows of the breast-cancer data
(benches/RESULTS.md, "Accuracy attestation").

Run: PYTHONPATH=python python benches/attestation.py [m ...]  (needs scikit-learn for the
full data set; standardised with the training mean and std stored with the bundled records;
rows beyond 569 repeat the data). "prove" is the first attestation of the dataset's epoch
(it makes the epoch leaf's link), "next" a second one in the same epoch. Each m runs in a
fresh process, so its peak resident memory (ru_maxrss: the model, the dataset and the proofs,
the interpreter included) is its own.
``--mnist m ...`` attests an MNIST-shaped 784-128-10 MLP (tests/models.py, seeded
random weights) over m random images instead: the shape of the work, not a trained model.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

os.environ.setdefault("ZKGRAD_ZK_BUDGET", "warn")


def _breast_cancer(m: int) -> tuple[object, object, object]:
    from sklearn.datasets import load_breast_cancer

    import zkgrad
    from zkgrad.demo import MODEL_ASSET, asset_path, load_records

    records = load_records()
    raw, labels = load_breast_cancer(return_X_y=True)
    x = (raw - np.asarray(records.meta["mean"])) / np.asarray(records.meta["std"])
    with asset_path(MODEL_ASSET) as onnx:
        model = zkgrad.compile(onnx, calibration=records.inputs)
    idx = np.arange(m) % len(x)
    ds = zkgrad.Dataset.commit(x[idx], labels[idx], scale_bits=model.input_scale_bits)
    return model, ds, labels


def _mnist(m: int) -> tuple[object, object, object]:
    import zkgrad

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
    from pathlib import Path

    from models import mlp_784_128_10

    rng = np.random.default_rng(0)
    path = mlp_784_128_10(Path(os.environ.get("TMPDIR", "/tmp")) / "zkgrad-bench-mnist.onnx")
    calib = rng.uniform(0.0, 1.0, size=(64, 784))
    model = zkgrad.compile(path, calibration=calib)
    x = rng.uniform(0.0, 1.0, size=(m, 784))
    y = rng.integers(0, 10, size=m)
    ds = zkgrad.Dataset.commit(x, y, scale_bits=model.input_scale_bits)
    return model, ds, y


def one(m: int, mnist: bool) -> dict[str, object]:
    """Commits m rows, attests and verifies once; returns the measurements."""
    from zkgrad.attest import verify_attestation

    model, ds, _ = (_mnist if mnist else _breast_cancer)(m)
    key = model.verifying_key()
    cpu0 = time.process_time()
    t = time.perf_counter()
    att = model.attest(ds)
    prove_s = time.perf_counter() - t
    prove_cpu = time.process_time() - cpu0
    pub = ds.export_pub()
    t = time.perf_counter()
    st = verify_attestation(key, pub, att)
    verify_s = time.perf_counter() - t
    # The next attestation of the same dataset epoch reuses the owner's certificate (the first
    # one made the epoch leaf's link, docs/DATA.md "Epochs").
    cpu0 = time.process_time()
    t = time.perf_counter()
    again = model.attest(ds)
    next_s = time.perf_counter() - t
    next_cpu = time.process_time() - cpu0
    assert verify_attestation(key, pub, again).correct == st.correct
    return {
        "m": m,
        "model": "mnist-784-128-10" if mnist else "breast-cancer-30-16-8-2",
        "correct": st.correct,
        "rows": st.rows,
        "prove_s": round(prove_s, 3),
        "prove_cpu_s": round(prove_cpu, 3),
        "next_prove_s": round(next_s, 3),
        "next_prove_cpu_s": round(next_cpu, 3),
        "verify_ms": round(verify_s * 1e3, 1),
        "proof_bytes": len(att.data),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--one":
        print(json.dumps(one(int(argv[1]), argv[2:] == ["mnist"])))
        return
    mnist = bool(argv) and argv[0] == "--mnist"
    sizes = [int(a) for a in argv[1 if mnist else 0 :]] or ([1000] if mnist else [100, 569])
    for m in sizes:
        cmd = [sys.executable, __file__, "--one", str(m)] + (["mnist"] if mnist else [])
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(
            f"{r['model']} m = {m}: {r['correct']}/{r['rows']} correct, prove {r['prove_s']:.2f} s "
            f"(CPU {r['prove_cpu_s']:.2f} s), next in the epoch {r['next_prove_s']:.2f} s "
            f"(CPU {r['next_prove_cpu_s']:.2f} s), verify {r['verify_ms']:.0f} ms, "
            f"proof {r['proof_bytes']} bytes, peak RSS {r['peak_rss_mib']:.0f} MiB",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])

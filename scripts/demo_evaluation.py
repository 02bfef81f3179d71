"""``make demo-evaluation``: private evaluation across three hospitals.

The bundled breast-cancer records are split across three hospitals. Each commits its split
(a dataset digest), proves its properties (the row count and its exact class counts) and
attests the accuracy of one shared model on it, in zero knowledge. A verifier who holds only
the model's key and each hospital's public dataset file checks every bundle and prints the
verified pooled accuracy, with a plot (per-hospital accuracy and class balance). Two more
bundles are tampered with — one with an inflated count, one whose attestation was made on
another dataset — and the verifier says which and why.

Run: PYTHONPATH=python python scripts/demo_evaluation.py [--out DIR]
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import zkgrad
from zkgrad.attest import Attestation, verify_attestation
from zkgrad.dataset import DatasetPublic, PropertyProof, verify_properties
from zkgrad.demo import MODEL_ASSET, asset_path, load_records

HOSPITALS = ("St Mary", "Riverside", "Northgate")


@dataclass
class Bundle:
    """What a hospital publishes: its dataset's public file, property proof, attestation."""

    name: str
    pub: Path
    props: Path
    attestation: Path


def publish(model: zkgrad.Model, name: str, x: np.ndarray, y: np.ndarray, out: Path) -> Bundle:
    ds = zkgrad.Dataset.commit(x, y, scale_bits=model.input_scale_bits)
    counts = np.bincount(y, minlength=2).tolist()
    props = ds.prove_properties({"rows": len(y), "labels": {"classes": 2, "counts": counts}})
    att = model.attest(ds)
    stem = out / name.replace(" ", "_").lower()
    bundle = Bundle(
        name, stem.with_suffix(".pub"), stem.with_suffix(".props.zkp"), stem.with_suffix(".acc.zkp")
    )
    ds.export_pub(bundle.pub)
    props.save(bundle.props)
    att.save(bundle.attestation)
    print(
        f"{name}: committed {len(y)} records as {ds.digest[:16]}…, "
        f"{len(props)} + {len(att)} proof bytes"
    )
    return bundle


def check(key: zkgrad.VerifyingKey, b: Bundle) -> tuple[int, int, list[int]] | str:
    """The verified (correct, rows, class counts), or why the bundle is rejected."""
    try:
        pub = DatasetPublic.load(b.pub)
        data = verify_properties(pub, PropertyProof.load(b.props))
        st = verify_attestation(key, pub, Attestation.load(b.attestation))
    except zkgrad.InvalidProof as exc:
        return str(exc)
    return st.correct, st.rows, [lo for lo, _ in data.class_counts]


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    records = load_records()
    with asset_path(MODEL_ASSET) as onnx:
        model = zkgrad.compile(onnx, calibration=records.inputs)
    key = model.verifying_key()
    print(f"shared model {model.digest[:16]}… (its key is all the verifier holds)")
    splits = np.array_split(np.arange(len(records.labels)), len(HOSPITALS))
    labels = records.labels.astype(np.int64)
    bundles = [
        publish(model, name, records.inputs[idx], labels[idx], out)
        for name, idx in zip(HOSPITALS, splits, strict=True)
    ]
    # Tampered bundles: an inflated count (the statement's count raised by one), and an
    # attestation of one hospital's data presented with another hospital's dataset.
    inflated = Bundle(
        "Northgate (count inflated)", bundles[2].pub, bundles[2].props, out / "inflated.acc.zkp"
    )
    att = Attestation.load(bundles[2].attestation)
    raw = bytearray(att.data)
    raw[6 + 64 + 2] += 1  # after magic+version and the two digests: rows, classes, count
    Attestation(bytes(raw), att.epoch_certificate).save(inflated.attestation)
    swapped = Bundle(
        "Riverside (dataset swapped)", bundles[1].pub, bundles[1].props, bundles[0].attestation
    )
    print("\nverifier:")
    verified = []
    for b in [*bundles, inflated, swapped]:
        result = check(key, b)
        if isinstance(result, str):
            print(f"  REJECTED {b.name}: {result}")
            continue
        correct, rows, counts = result
        verified.append((b.name, correct, rows, counts))
        print(f"  valid    {b.name}: {correct}/{rows} correct, classes {counts}")
    total_c = sum(v[1] for v in verified)
    total_m = sum(v[2] for v in verified)
    print(
        f"\nverified pooled accuracy: {total_c}/{total_m} = {total_c / total_m:.4f} "
        f"over {len(verified)} hospitals"
    )
    plot(verified, out / "evaluation.png")
    print(f"plot: {out / 'evaluation.png'}")


def plot(verified: list[tuple[str, int, int, list[int]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [v[0] for v in verified]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    left.bar(names, [v[1] / v[2] for v in verified], color="tab:blue")
    left.set_ylim(0, 1)
    left.set_title("verified accuracy")
    share = np.array([v[3] for v in verified], dtype=float)
    share /= share.sum(axis=1, keepdims=True)
    right.bar(names, share[:, 0], label="malignant", color="tab:red")
    right.bar(names, share[:, 1], bottom=share[:, 0], label="benign", color="tab:green")
    right.set_title("verified class balance")
    right.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("demo-evaluation-out"))
    os.environ.setdefault("ZKGRAD_ZK_BUDGET", "enforce")
    main(parser.parse_args().out)

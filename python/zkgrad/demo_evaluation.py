"""``make demo-evaluation``: three hospitals prove what their data look like and how accurate a
shared model is on them; a verifier checks.

The bundled held-out breast-cancer records (``zkgrad/assets``) are split across three
hospitals. Each one commits its split (``zkgrad.Dataset``), signs an enrollment record for the
digest with its own Ed25519 key (``zkgrad.enrollment``) and proves, in zero knowledge, its row
count, every feature within ±5 standard deviations, the labels in {0, 1} with its exact class
counts and the mean of the first feature (``Dataset.prove_properties``), and attests how many
of its records one shared diagnostic model (the bundled breast-cancer MLP, published by its
digest) classifies correctly (``Model.attest``). It hands the verifier a *bundle* of public
files only: ``data.pub``, ``enroll.json``, ``props.zkp`` (with the certificate of the dataset
epoch it opens in ``epochs/``) and ``accuracy.zkp``; the verifier pins each hospital's public
key, which it got from the hospital directly, and holds the model's verifying key.

The verifier checks every bundle and prints what is proved, pooled over the hospitals that pass,
with a plot of each hospital's class balance and accuracy. Hospital C's bundle is then tampered
with three times — its property proof swapped for hospital B's (another dataset), its
enrollment re-dated, its attested count raised by one — and the verifier says which check fails
and why.

Run: ``python -m zkgrad.demo_evaluation [--out DIR]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from zkgrad.attest import Attestation, AttestStatement, verify_attestation
from zkgrad.compiler import compile as compile_model
from zkgrad.dataset import Dataset, DatasetPublic, DataStatement, verify_properties
from zkgrad.demo import MODEL_ASSET, asset_path, load_records
from zkgrad.enrollment import Enrollment, enroll, generate_owner_key
from zkgrad.errors import InvalidProof, ModelError
from zkgrad.model import Model, VerifyingKey

HOSPITALS = ("Hospital A", "Hospital B", "Hospital C")
#: Every standardised feature within this many standard deviations (the public spec).
FEATURE_BOUND = 5.0
#: Scale of the committed features: 2^11 keeps a ±5 range under the 2^16-value range table.
SCALE_BITS = 11


@dataclass
class Checked:
    """What the verifier concluded about one bundle."""

    name: str
    valid: bool
    reason: str = ""
    statement: DataStatement | None = None
    enrollment: Enrollment | None = None
    accuracy: AttestStatement | None = None
    checks: list[str] = field(default_factory=list)


def make_bundles(out: Path, model: Model, console: Console) -> dict[str, Path]:
    """Each hospital commits, enrolls, proves and attests; returns its public bundle directory."""
    records = load_records()
    features = records.meta["feature_names"]
    bundles: dict[str, Path] = {}
    for h, name in enumerate(HOSPITALS):
        rows = np.arange(h, len(records.labels), len(HOSPITALS))
        x, y = records.inputs[rows], records.labels[rows]
        private = out / "private" / _slug(name)
        bundle = out / "bundles" / _slug(name)
        private.mkdir(parents=True)
        bundle.mkdir(parents=True)
        start = time.perf_counter()
        ds = Dataset.commit(x, y, scale_bits=SCALE_BITS, columns=list(features))
        ds.save(private / "data.zkd")
        ds.export_pub(bundle / "data.pub")
        key, public_key = generate_owner_key(private / "owner")
        enroll(ds, key, owner=name).save(bundle / "enroll.json")
        counts = np.bincount(y, minlength=2).tolist()
        spec = {
            "rows": len(rows),
            "features": {
                **{f: {"range": [-FEATURE_BOUND, FEATURE_BOUND]} for f in features},
                features[0]: {"range": [-FEATURE_BOUND, FEATURE_BOUND], "mean": [-1.0, 1.0]},
            },
            "labels": {"classes": 2, "counts": counts},
        }
        ds.prove_properties(spec).save(bundle / "props.zkp")
        model.attest(ds).save(bundle / "accuracy.zkp")
        # The verifier gets the public key from the hospital itself, not from the bundle.
        shutil.copy(public_key, out / f"{_slug(name)}.pub")
        bundles[name] = bundle
        console.print(
            f"{name}: committed {len(rows)} records ({ds.digest[:16]}…), enrolled, proved "
            f"its properties and the model's accuracy in {time.perf_counter() - start:.2f} s"
        )
    return bundles


def check_bundle(name: str, bundle: Path, owner_key: Path, model_key: VerifyingKey) -> Checked:
    """Verify one bundle against the pinned owner key and the model's key; never raises for a
    bad bundle."""
    checked = Checked(name, valid=False)
    failed = "enrollment"
    try:
        pub = DatasetPublic.load(bundle / "data.pub")
        checked.enrollment = Enrollment.load(bundle / "enroll.json").verify(pub, owner_key)
        checked.checks.append("enrollment signed by the pinned owner key")
        failed = "property proof"
        checked.statement = verify_properties(pub, bundle / "props.zkp")
        checked.checks.append("property proof valid for this dataset")
        failed = "accuracy attestation"
        checked.accuracy = verify_attestation(model_key, pub, bundle / "accuracy.zkp")
        checked.checks.append("accuracy attestation valid for this model and dataset")
    except (InvalidProof, ModelError, OSError) as exc:
        checked.reason = f"{failed}: {exc}"
        return checked
    checked.valid = True
    return checked


def report(console: Console, results: list[Checked], title: str) -> None:
    table = Table(title=title)
    for column in ("hospital", "verdict", "rows", "benign share", "accuracy", "enrolled by, at"):
        table.add_column(column, overflow="fold")
    pooled_rows, pooled_benign, pooled_correct = 0, 0, 0
    for r in results:
        if r.valid and r.statement and r.enrollment and r.accuracy:
            rows = r.statement.rows
            benign = r.statement.class_counts[1][0]
            pooled_rows += rows
            pooled_benign += benign
            pooled_correct += r.accuracy.correct
            enrolled = f"{r.enrollment.owner}, {r.enrollment.enrolled_at}"
            accuracy = f"{r.accuracy.correct}/{rows}"
            table.add_row(
                r.name, "[green]valid[/]", str(rows), f"{benign / rows:.3f}", accuracy, enrolled
            )
    console.print(table)
    for r in results:
        if not r.valid:
            console.print(f"[red]rejected[/] {escape(r.name)}: {escape(r.reason)}")
    if pooled_rows:
        console.print(
            f"pooled over the valid bundles: {pooled_rows} records, benign share "
            f"{pooled_benign / pooled_rows:.3f}; the model classifies {pooled_correct} correctly "
            f"(accuracy {pooled_correct / pooled_rows:.3f}); every feature within "
            f"±{FEATURE_BOUND:g} standard deviations on every record (proved, no record shown)"
        )


def plot(results: list[Checked], path: Path) -> None:
    """Each valid hospital's verified class counts (a stacked bar per hospital) and the model's
    verified accuracy on its records."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    valid = [r for r in results if r.valid and r.statement and r.accuracy]
    names = [r.name for r in valid]
    malignant = [r.statement.class_counts[0][0] for r in valid if r.statement]
    benign = [r.statement.class_counts[1][0] for r in valid if r.statement]
    accuracy = [r.accuracy.accuracy for r in valid if r.accuracy]
    fig, (ax, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    ax.bar(names, malignant, label="malignant (0)", color="#c0504d")
    ax.bar(names, benign, bottom=malignant, label="benign (1)", color="#4f81bd")
    ax.set_ylabel("records (verified counts)")
    ax.set_title("Verified class balance per hospital")
    ax.set_ylim(0, 1.3 * max(m + b for m, b in zip(malignant, benign, strict=True)))
    ax.legend(loc="upper center", ncol=2)
    right.bar(names, accuracy, color="#9bbb59")
    right.set_ylim(0, 1)
    right.set_ylabel("accuracy (verified)")
    right.set_title("Shared model's accuracy per hospital")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def tamper(out: Path, bundles: dict[str, Path]) -> dict[str, Path]:
    """Three altered copies of hospital C's bundle: a swapped property proof, a re-dated
    record, an attestation whose stated count is raised by one."""
    swapped = out / "bundles" / "hospital-c-swapped-proof"
    shutil.copytree(bundles["Hospital C"], swapped)
    shutil.copy(bundles["Hospital B"] / "props.zkp", swapped / "props.zkp")
    redated = out / "bundles" / "hospital-c-redated"
    shutil.copytree(bundles["Hospital C"], redated)
    body = json.loads((redated / "enroll.json").read_text())
    body["enrolled_at"] = "2020-01-01T00:00:00Z"
    (redated / "enroll.json").write_text(json.dumps(body, indent=1))
    inflated = out / "bundles" / "hospital-c-inflated-count"
    shutil.copytree(bundles["Hospital C"], inflated)
    attestation = Attestation.load(inflated / "accuracy.zkp")
    claimed = attestation.claimed().correct
    raw = bytearray(attestation.data)
    # The statement opens the proof: magic and version (6 bytes), the model and dataset digests
    # (32 each), then rows, classes and the count as LEB128 varints (one byte each here).
    at = 6 + 64 + 2
    assert raw[at] == claimed < 127, "the demo's count is a one-byte varint"
    raw[at] += 1
    attestation.data = bytes(raw)
    attestation.save(inflated / "accuracy.zkp")
    return {
        "Hospital C (swapped proof)": swapped,
        "Hospital C (re-dated)": redated,
        "Hospital C (inflated count)": inflated,
    }


def run(out: Path, console: Console) -> list[Checked]:
    if out.exists():
        shutil.rmtree(out)
    records = load_records()
    with asset_path(MODEL_ASSET) as onnx:
        model = compile_model(onnx, calibration=records.inputs)
    console.print(f"shared model {model.digest[:16]}… (the verifier holds its key only)")
    model_key = model.verifying_key()
    bundles = make_bundles(out, model, console)
    keys = {name: out / f"{_slug(name)}.pub" for name in HOSPITALS}
    results = [check_bundle(n, b, keys[n], model_key) for n, b in bundles.items()]
    report(console, results, "The verifier: three honest bundles")
    plot(results, out / "evaluation.png")
    console.print(f"plot: {out / 'evaluation.png'}")
    altered = tamper(out, bundles)
    tampered = [check_bundle(n, b, keys["Hospital C"], model_key) for n, b in altered.items()]
    report(console, results[:2] + tampered, "The verifier: hospital C's bundle tampered with")
    return results + tampered


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("demo-evaluation-out"))
    args = parser.parse_args()
    results = run(args.out, Console())
    honest, tampered = results[:3], results[3:]
    if not all(r.valid for r in honest) or any(r.valid for r in tampered):
        raise SystemExit("the demo did not come out as expected: see above")


if __name__ == "__main__":
    main()

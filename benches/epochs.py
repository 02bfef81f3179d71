"""`make epochs`: many proofs with one published model digest, through the epoch tree.

Proves N inferences (default 1,000) with one compiled model, as a model-as-a-service provider
would, and verifies every proof with a fresh verifying key pinned to the published digest. The
ledger numbers the proofs, so no epoch's commitment serves more than its budget; each new epoch
costs a fresh commitment and a link certificate, made by its first proof. Prints (and with
--markdown, writes) per-epoch and amortised costs: prove time per proof, the first proof of an
epoch against the others, verify time with and without a link check, certificate sizes.

Run: `.venv/bin/python benches/epochs.py [--proofs N] [--model bc_mlp|mlp_small] [--markdown F]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import models  # noqa: E402
import zkgrad  # noqa: E402


def build(name: str, work: Path) -> tuple[zkgrad.Model, np.ndarray]:
    spec = models.SPECS[name]
    onnx_path, inputs_path = models.write(spec, work)
    inputs = np.load(inputs_path)
    return zkgrad.compile(onnx_path, calibration=inputs), inputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proofs", type=int, default=1000)
    parser.add_argument("--model", default="bc_mlp")
    parser.add_argument("--markdown", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model, inputs = build(args.model, work)
        model.save(work / "m.zkg")
        model = zkgrad.Model.load(work / "m.zkg")  # the ledger lives beside the file
        model.export_vk(work / "m.vk")
        key = zkgrad.VerifyingKey.load(work / "m.vk")
        per_epoch = model.zk_budget
        prove_s, first_s, rest_s, verify_s, link_verify_s = [], [], [], [], []
        epochs: dict[tuple[int, ...], int] = {}
        depth = 0
        sizes = []
        started = time.perf_counter()
        for n in range(args.proofs):
            x = inputs[n % len(inputs)]
            t = time.perf_counter()
            proof = model.prove(x)
            dt = time.perf_counter() - t
            prove_s.append(dt)
            path, _ = proof.epoch
            new_epoch = path not in epochs
            (first_s if new_epoch else rest_s).append(dt)
            if new_epoch:
                epochs[path] = len(proof.epoch_certificate)
            depth = max(depth, len(path))
            sizes.append(proof.size)
            t = time.perf_counter()
            out = zkgrad.verify(key, proof, commitment=model.digest)
            dv = time.perf_counter() - t
            (link_verify_s if new_epoch else verify_s).append(dv)
            if not np.allclose(out, proof.output):
                raise SystemExit(f"proof {n}: the verified output differs from the claimed one")
        total = time.perf_counter() - started
        made = model.proofs_made
        # The millionth proof: epoch 66,666 of a tree whose nodes up to it are made on demand
        # (a fresh verifying key checks every link of its chain).
        number = 10**6 - 1
        t = time.perf_counter()
        deep = model.prove_as(number, inputs[0])
        deep_prove = time.perf_counter() - t
        fresh = zkgrad.VerifyingKey.load(work / "m.vk")
        t = time.perf_counter()
        zkgrad.verify(fresh, deep, commitment=model.digest)
        deep_verify = time.perf_counter() - t
    if made != args.proofs or len(epochs) != -(-args.proofs // per_epoch):
        raise SystemExit(f"{made} proofs counted, {len(epochs)} epochs: not every epoch was full")
    ms = lambda v: 1000 * statistics.median(v)  # noqa: E731
    lines = [
        f"model `{args.model}` ({model.num_params:,} parameters), {args.proofs:,} proofs, one "
        f"published digest, every proof verified by a key pinned to it:",
        "",
        "| | value |",
        "|---|---:|",
        f"| proofs per epoch (one commitment) | {per_epoch} |",
        f"| epochs used | {len(epochs)} |",
        f"| deepest chain (links from the published commitment) | {depth} |",
        f"| total wall time, prove + verify | {total:.1f} s |",
        f"| prove, median of all proofs | {ms(prove_s):.1f} ms |",
        f"| prove, first proof of an epoch (makes the leaf and its link) | {ms(first_s):.1f} ms |",
        f"| prove, other proofs | {ms(rest_s):.1f} ms |",
        f"| prove, mean of all (amortised) | {1000 * statistics.mean(prove_s):.1f} ms |",
        f"| verify, proof of a new epoch (checks its new links) | {ms(link_verify_s):.1f} ms |",
        f"| verify, other proofs | {ms(verify_s):.1f} ms |",
        f"| proof size (median) | {statistics.median(sizes) / 1024:.0f} KiB |",
        f"| epoch certificate, depth 1 / deepest | {min(epochs.values()) / 1024:.0f} KiB / "
        f"{max(epochs.values()) / 1024:.0f} KiB |",
        f"| proof number 999,999: epoch path | {list(deep.epoch[0])} |",
        f"| its prove (making its {len(deep.epoch[0])} nodes and links) / verify (checking "
        f"them, fresh key) | {deep_prove:.2f} s / {deep_verify:.2f} s |",
        f"| its epoch certificate | {len(deep.epoch_certificate) / 1024:.0f} KiB |",
    ]
    text = "\n".join(lines)
    print(text)
    if args.markdown is not None:
        args.markdown.write_text(text + "\n")


if __name__ == "__main__":
    main()

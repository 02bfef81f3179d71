"""Many proofs over one committed input, through the input's epoch tree.

Compiles a bench model with ``input_visibility="committed"`` and proves N inferences (default:
two input epochs and two proofs more) over one input with one input seed, as a data owner
querying a model about the same hidden record would. Every proof carries the same published
input digest and opens the leaf of its input epoch; the first proof of an input epoch makes the
leaf's link certificate (and, two links down, its parent's). Prints the prove time of the first
proof of each input epoch against the next proof, the verify time with the input leaf's links
checked (first proof of the epoch) and cached (the next), and the input certificate's size per
depth. Input-epoch firsts that are also the first proof of a weight epoch (every
``model.zk_budget``-th proof, which makes a weight link) are marked.

Run: `.venv/bin/python benches/input_epochs.py [--model bc_mlp|mlp_small] [--proofs N]`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import models  # noqa: E402
import zkgrad  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="bc_mlp")
    parser.add_argument("--proofs", type=int, default=None)
    args = parser.parse_args()
    os.environ.setdefault("ZKGRAD_ZK_BUDGET", "enforce")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        spec = models.SPECS[args.model]
        onnx_path, inputs_path = models.write(spec, work)
        inputs = np.load(inputs_path)
        model = zkgrad.compile(onnx_path, calibration=inputs, input_visibility="committed")
        key = model.verifying_key()
        seed = bytes(range(32))
        x = inputs[0]
        per = model.input_zk_budget
        weights_per = model.zk_budget
        count = args.proofs or 2 * per + 2
        digest = model.commit_input(x, seed)
        prove_s, verify_s, rows = [], [], []
        for _ in range(count):
            t = time.perf_counter()
            proof = model.prove(x, input_seed=seed)
            prove_s.append(time.perf_counter() - t)
            bare = zkgrad.Proof(
                proof.data, key, proof.epoch_certificate, proof.input_epoch_certificate
            )
            t = time.perf_counter()
            zkgrad.verify(key, bare, input_commitment=digest)
            verify_s.append(time.perf_counter() - t)
            assert proof.input_epoch is not None and proof.input_epoch_certificate is not None
            rows.append((proof.input_epoch[0], len(proof.input_epoch_certificate), len(proof.data)))
        print(
            f"{spec.title}, input committed: {per} proofs per input epoch, "
            f"{weights_per} per weight epoch; {count} proofs over one input"
        )
        for first in range(0, count - 1, per):
            path, cert, size = rows[first]
            also = " (also a weight epoch's first)" if first % weights_per == 0 else ""
            print(
                f"input epoch {first // per} leaf {list(path)}: first proof {prove_s[first]:.3f} s"
                f"{also}, next {prove_s[first + 1]:.3f} s; verify first {verify_s[first]:.3f} s, "
                f"next {verify_s[first + 1]:.3f} s; input certificate {cert} bytes "
                f"({len(path)} link{'s' if len(path) > 1 else ''}); proof {size} bytes"
            )
        rest = [prove_s[n] for n in range(count) if n % per and n % weights_per]
        print(f"median prove (no epoch first): {sorted(rest)[len(rest) // 2]:.3f} s")


if __name__ == "__main__":
    main()

"""One corpus model through import → compile → prove → verify, for ``benches/corpus.py``.

    python benches/corpus_one.py <model folder> <result.json>

Run in its own process by ``corpus.py`` (which kills it past a time or memory limit). Before each
stage it rewrites ``result.json`` with the stage it is in, so a killed run still says how far it
got; at the end the file holds the outcome: the stages passed, prove time, proof size, the
verified output's error against onnxruntime on the same input, or the one-sentence error and,
for a model that does not import, the op types and graph-level problems that block it.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

#: The stages in order; a record's ``stage`` is the one running or failed, ``passed`` the
#: ones done.
STAGES = ("import", "compile", "prove", "verify")


class Record:
    """The outcome of one model, written to disk after every change."""

    def __init__(self, path: Path, name: str) -> None:
        self.path = path
        self.data: dict[str, Any] = {"model": name, "passed": [], "stage": None}

    def start(self, stage: str) -> None:
        self.data["stage"] = stage
        self.save()

    def done(self, stage: str, **fields: Any) -> None:
        self.data["passed"].append(stage)
        self.data.update(fields)
        self.save()

    def fail(self, **fields: Any) -> None:
        self.data.update(fields)
        self.save()

    def save(self) -> None:
        self.path.write_text(json.dumps(self.data, indent=1))


def problem_kind(problem: str) -> str:
    """A graph-level import problem -> a short name for the blocking-ops table."""
    kinds = (
        (" outputs (", "(several outputs)"),
        ("taken apart", "(several inputs, one too large to slice)"),
        ("has type", "(non-float input)"),
        ("batch size", "(fixed batch > 1)"),
        ("static", "(dynamic shape)"),
        ("no Gemm/MatMul layer", "(nothing to prove: no Gemm/MatMul/Conv)"),
        ("no input", "(no input)"),
    )
    for needle, kind in kinds:
        if needle in problem:
            return kind
    return "(graph structure)"


def one_sentence(exc: BaseException) -> str:
    """The error's first line; an unexpected exception type is named (it is a zkgrad bug)."""
    from zkgrad.errors import InvalidProof, ModelError

    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else ""
    if isinstance(exc, ModelError | InvalidProof | FileNotFoundError):
        return first or type(exc).__name__
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def load_input(
    folder: Path, shape: tuple[int, ...], names: list[str] | None = None
) -> tuple[np.ndarray, str]:
    """The model's own ``input.json`` (EZKL format: one entry per input, their concatenation
    for a model with several ``names``), or a seeded N(0, 1) sample without one."""
    from zkgrad.inputs import read_inputs

    file = folder / "input.json"
    if not file.is_file():
        return np.random.default_rng(0).standard_normal(shape), "synthetic N(0,1)"
    data = read_inputs(file, names or [])
    if isinstance(data, dict):  # several inputs, one array each: the circuit takes them in order
        values = np.concatenate([data[n].reshape(-1) for n in names or []])
    else:
        values = np.asarray(data).reshape(-1)
    if values.size != int(np.prod(shape)):
        raise ValueError(
            f"input.json holds {values.size} values but the model input {list(shape)} "
            f"takes {int(np.prod(shape))}"
        )
    return values.reshape(shape), "input.json"


def run(folder: Path, record: Record) -> None:
    import zkgrad
    from zkgrad.errors import UnsupportedModelError
    from zkgrad.onnx import import_onnx
    from zkgrad.onnx_inputs import layout_of
    from zkgrad.reference import run_float

    path = folder / "network.onnx"
    record.start("import")
    try:
        graph, onnx_model = import_onnx(path)
    except UnsupportedModelError as exc:
        blockers = {node.op_type for node in exc.nodes}
        blockers.update(problem_kind(problem) for problem in exc.problems)
        record.fail(
            # the summary names the op types; the graph-level problems follow, one sentence each
            error=exc.summary
            if len(exc.problems) + bool(exc.nodes) == 1
            else " ".join([exc.summary + ".", *(f"{p[:1].upper()}{p[1:]}." for p in exc.problems)]),
            blockers=sorted(blockers),
            # supported op types refused for an attribute or their place in the graph
            refusals=sorted({(node.op_type, node.reason) for node in exc.nodes if node.reason}),
            unsupported_nodes=len(exc.nodes),
        )
        return
    record.done("import")

    record.start("compile")
    layout = layout_of(onnx_model)
    x, source = load_input(folder, graph.input_shape, [n for n, _ in layout] if layout else None)
    start = time.perf_counter()
    # Calibrated on the model's own input, as EZKL's examples calibrate on input.json.
    model = zkgrad.compile(path, calibration=x[None])
    record.done(
        "compile",
        input=source,
        compile_s=round(time.perf_counter() - start, 3),
        predicted_relative_error=model.report.relative_error,
    )

    record.start("prove")
    start = time.perf_counter()
    proof = model.prove(x)
    record.done("prove", prove_s=round(time.perf_counter() - start, 3), proof_bytes=proof.size)

    record.start("verify")
    key = model.verifying_key()  # verified as a third party would: with the key alone
    start = time.perf_counter()
    result = zkgrad.verify(key, proof)
    verify_s = round(time.perf_counter() - start, 3)
    # Several outputs come back by name: all of them are compared, flattened side by side.
    names = [name for name, _ in graph.named_outputs] or [graph.onnx_output]
    got = result if isinstance(result, dict) else {graph.onnx_output: result}
    verified = np.concatenate([np.asarray(got[n], dtype=np.float64).reshape(-1) for n in names])
    floats = run_float(onnx_model, x[None], names)
    expected = np.concatenate(
        [np.asarray(floats[n][0], dtype=np.float64).reshape(-1) for n in names]
    )
    diff = np.abs(verified - expected)
    scale = float(np.abs(expected).max())
    record.done(
        "verify",
        verify_s=verify_s,
        max_abs_error=float(diff.max()),
        float_max_abs=scale,
        # max |verified - float| over the largest |float| output: one number per model that
        # does not blow up on outputs near zero
        max_relative_error=float(diff.max()) / scale if scale > 0 else float(diff.max()),
    )


def main() -> None:
    folder, result = Path(sys.argv[1]), Path(sys.argv[2])
    record = Record(result, folder.name)
    warnings.simplefilter("ignore")  # QuantizationWarning, ZeroKnowledgeBudgetWarning
    try:
        run(folder, record)
    except Exception as exc:  # every failure is recorded as one sentence, the run goes on
        record.fail(error=one_sentence(exc))


if __name__ == "__main__":
    main()

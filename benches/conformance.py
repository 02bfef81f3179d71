"""`make conformance`: ONNX's own node tests through compile → prove → verify.

Not part of `make test`; ``tests/test_conformance_harness.py`` runs it on three tests. It sets
``ZKGRAD_ZK_BUDGET=warn`` (a test model is thrown away after its proof).

For every op zkgrad claims (:data:`CLAIMED_OPS`), each of ONNX's backend node tests of that op
(``onnx.backend.test``, kind "node": a one-node model, its inputs and the expected outputs) is
compiled with its own inputs as calibration data, proved with zero knowledge, verified from the
verifying key with the model digest pinned, and the verified output compared with the expected
one. Each test runs in a forked child with a timeout, so a hang or a crash costs one row.

Each test runs in up to three forms:

* **as given**: the ONNX test unchanged (weights as graph inputs, a fixed batch, ...), every
  graph input given (a model with several is proved on their concatenation);
* **adapted**, when that differs: every graph input after the first becomes a constant (as
  exported models carry their weights) and a fixed leading dimension other than 1 becomes a
  dynamic batch, proved as one batch proof of the input's rows. The expected outputs are the
  same; a test whose leading dimension is not a batch then fails to import (a clear error);
* **inputs kept**, for a test with several graph inputs that share a fixed leading dimension
  other than 1 (each of rank 2 or more): that dimension becomes a dynamic batch of every input,
  all kept as inputs, proved as one batch proof of their rows.

Outcomes: **passed**; **failed** (a wrong answer: the verified output is further from the
expected output than the compile report's stated error allows, or the report itself warns that
the quantised model is off by more than :data:`zkgrad.report.RELATIVE_ERROR_WARNING`);
**unsupported** (a clear :class:`zkgrad.ModelError`, one sentence naming the node, attribute or
dtype); **error** (a bug of another kind: an exception that is not a zkgrad error, an honest
proof rejected, a crash or a timeout).

The tolerance: the compile report measures the quantised model against onnxruntime on exactly
the inputs that are then proved (``report.max_abs_error``), and ONNX's own test tolerance
(``rtol``, ``atol`` of the test case) bounds onnxruntime against the expected output. So each
verified element must satisfy ``|got - expected| <= max_abs_error + 1e-6 + atol + rtol·|expected|``
(the 1e-6 covers the report's 6-digit rounding).

ONNX's pip wheel does not ship the node test directories, so the tests are generated in memory
by ``onnx.backend.test.case.node.collect_testcases()``, the code that writes those directories
(``backend-test-tools generate-data``); ``--data DIR`` reads the directories instead
(``onnx/backend/test/data/node`` of an ONNX source checkout).

Usage::

    python benches/conformance.py                       # all claimed ops -> benches/CONFORMANCE.md
    python benches/conformance.py --tests test_gemm_transposeB,test_relu --out /tmp/c.md
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

import zkgrad
from zkgrad.onnx import SUPPORTED_OPS
from zkgrad.report import RELATIVE_ERROR_WARNING, CompileReport

#: The ops whose node tests are run: what the ONNX importer accepts. The one place to switch to
#: another list (e.g. a registry of op rules) once the importer exposes one.
CLAIMED_OPS: tuple[str, ...] = tuple(SUPPORTED_OPS)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "benches" / "CONFORMANCE.md"
DEFAULT_TIMEOUT_S = 180.0
#: The report's max_abs_error is rounded to 6 digits.
REPORT_ROUNDING = 1e-6
STATUSES = ("passed", "failed", "unsupported", "error")
MODES = ("as given", "adapted", "inputs kept")


@dataclass
class NodeCase:
    """One ONNX node test: its op, model, one data set and ONNX's tolerance for it."""

    name: str
    op: str
    model: onnx.ModelProto
    inputs: list[np.ndarray]
    outputs: list[np.ndarray]
    rtol: float
    atol: float


@dataclass
class Outcome:
    """What one test did in one form."""

    test: str
    op: str
    mode: str
    status: str
    detail: str
    seconds: float
    max_error: float | None = None
    bound: float | None = None
    #: For an unsupported test: each graph-level problem and each node's "Op: why" apart.
    reasons: list[str] = field(default_factory=list)


# --- collecting the tests ------------------------------------------------------------------------


def _base_name(name: str) -> str:
    """``test_x_expanded`` and ``test_x_expanded_ver18`` test the op of ``test_x``."""
    return re.sub(r"_expanded(_ver\d+)?$", "", name)


def generated_cases(ops: Iterable[str]) -> list[NodeCase]:
    """The node tests of ``ops``, generated by ONNX's own test-case code."""
    from onnx.backend.test.case.node import collect_testcases

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # some generators warn about their own numpy use
        cases = collect_testcases()
    op_of = {c.name: c.model.graph.node[0].op_type for c in cases if len(c.model.graph.node) == 1}
    wanted = set(ops)
    found = []
    for case in cases:
        op = op_of.get(_base_name(case.name))
        if op not in wanted or not case.data_sets:
            continue
        inputs, outputs = case.data_sets[0]
        found.append(
            NodeCase(case.name, op, case.model, list(inputs), list(outputs), case.rtol, case.atol)
        )
    return found


def directory_cases(root: Path, ops: Iterable[str]) -> list[NodeCase]:
    """The node tests of ``ops`` read from ONNX's test directories (``.../data/node``)."""
    models = {d.name: onnx.load(str(d / "model.onnx")) for d in sorted(root.iterdir())}
    op_of = {name: m.graph.node[0].op_type for name, m in models.items() if len(m.graph.node) == 1}
    wanted = set(ops)
    found = []
    for name, model in models.items():
        op = op_of.get(_base_name(name))
        data = root / name / "test_data_set_0"
        if op not in wanted or not data.is_dir():
            continue

        def read(kind: str, d: Path = data) -> list[np.ndarray]:
            files = sorted(d.glob(f"{kind}_*.pb"), key=lambda p: int(p.stem.split("_")[1]))
            return [numpy_helper.to_array(onnx.load_tensor(str(f))) for f in files]

        found.append(NodeCase(name, op, model, read("input"), read("output"), 1e-3, 1e-7))
    return found


def adapted(case: NodeCase) -> NodeCase | None:
    """The test as an exported model would carry it (see the module doc), or None if unchanged."""
    model = onnx.ModelProto()
    model.CopyFrom(case.model)
    graph = model.graph
    changed = False
    for vi, value in list(zip(graph.input, case.inputs, strict=False))[1:]:
        if not isinstance(value, (np.ndarray, np.generic)):
            return None  # a sequence or optional input cannot become an initializer
        graph.initializer.append(numpy_helper.from_array(np.asarray(value), vi.name))
        changed = True
    kept = graph.input[0] if graph.input else None
    if kept is not None:
        del graph.input[1:]
        dims = kept.type.tensor_type.shape.dim
        if len(dims) >= 2 and dims[0].HasField("dim_value") and dims[0].dim_value != 1:
            for vi in [kept, *graph.output]:
                out_dims = vi.type.tensor_type.shape.dim
                if out_dims:
                    out_dims[0].Clear()
                    out_dims[0].dim_param = "N"
            changed = True
    if not changed:
        return None
    return NodeCase(case.name, case.op, model, case.inputs[:1], case.outputs, case.rtol, case.atol)


def inputs_kept(case: NodeCase) -> NodeCase | None:
    """The test with its shared leading dimension as a batch of every input (module doc), or
    None unless it has several inputs that share one other than 1."""
    model = onnx.ModelProto()
    model.CopyFrom(case.model)
    graph = model.graph
    inits = {init.name for init in graph.initializer}
    inputs = [vi for vi in graph.input if vi.name not in inits]
    if len(inputs) < 2 or len(inputs) != len(case.inputs):
        return None
    leading = set()
    for vi, value in zip(inputs, case.inputs, strict=True):
        dims = vi.type.tensor_type.shape.dim
        if not isinstance(value, np.ndarray) or len(dims) < 2 or not dims[0].HasField("dim_value"):
            return None
        leading.add(dims[0].dim_value)
    if len(leading) != 1 or leading == {1}:
        return None
    for vi in [*inputs, *graph.output]:
        dims = vi.type.tensor_type.shape.dim
        if dims:
            dims[0].Clear()
            dims[0].dim_param = "N"
    return NodeCase(case.name, case.op, model, case.inputs, case.outputs, case.rtol, case.atol)


def _model_input(case: NodeCase) -> object:
    """What the test gives the model: its one input, or all of them in graph order."""
    if not case.inputs:
        return None
    return case.inputs[0] if len(case.inputs) == 1 else list(case.inputs)


# --- running one test ----------------------------------------------------------------------------


def _one_line(text: str, limit: int = 400) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def run_case(case: NodeCase, mode: str, workdir: Path) -> Outcome:
    """Compile, prove and verify ``case`` in this process; every exception becomes an outcome."""
    start = time.perf_counter()

    def outcome(status: str, detail: str, **extra: Any) -> Outcome:
        seconds = round(time.perf_counter() - start, 2)
        return Outcome(case.name, case.op, mode, status, _one_line(detail), seconds, **extra)

    path = workdir / f"{case.name}.onnx"
    onnx.save(case.model, str(path))
    x = _model_input(case)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the report keeps the quantisation warning
            model = zkgrad.compile(path, calibration=x)
            proof = model.prove(x)
        key = model.verifying_key()
        got = zkgrad.verify(key, proof, commitment=model.digest)
    except zkgrad.InvalidProof as exc:
        return outcome("error", f"the verifier rejected an honest proof: {exc}")
    except zkgrad.UnsupportedModelError as exc:
        found = [*exc.problems, *(f"{n.op_type}: {n.reason or 'not supported'}" for n in exc.nodes)]
        return outcome("unsupported", str(exc), reasons=found)
    except zkgrad.ModelError as exc:
        return outcome("unsupported", str(exc), reasons=[str(exc)])
    except Exception as exc:  # anything else is not a clear error: a bug
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return outcome(
            "error",
            f"{type(exc).__name__}: {exc} (at {Path(where.filename).name}:{where.lineno})",
        )
    if isinstance(got, dict):  # several outputs, in the graph's order, flattened side by side
        got = np.concatenate([np.asarray(v, dtype=np.float64).reshape(-1) for v in got.values()])
    return _compare(case, model.report, np.asarray(got, dtype=np.float64), outcome)


def _compare(
    case: NodeCase, report: CompileReport, got: np.ndarray, outcome: Callable[..., Outcome]
) -> Outcome:
    """Passed, or failed with the element furthest beyond the tolerance (module doc)."""
    outputs = [np.asarray(o, dtype=np.float64) for o in case.outputs]
    expected = outputs[0] if len(outputs) == 1 else np.concatenate([o.reshape(-1) for o in outputs])
    if got.size != expected.size:
        return outcome(
            "failed",
            f"verified output has shape {list(got.shape)}, expected {list(expected.shape)}",
        )
    got = got.reshape(expected.shape)
    stated = float(report.max_abs_error or 0.0) + REPORT_ROUNDING
    allowed = stated + case.atol + case.rtol * np.abs(expected)
    excess = np.abs(got - expected) - allowed
    worst = int(np.argmax(excess))
    max_error = float(np.max(np.abs(got - expected)))
    numbers = {"max_error": max_error, "bound": float(np.max(allowed))}
    if excess.flat[worst] > 0:
        index = [int(i) for i in np.unravel_index(worst, expected.shape)]
        return outcome(
            "failed",
            f"element {index}: verified {got.flat[worst]:.6g}, expected "
            f"{expected.flat[worst]:.6g}, beyond the report's max |Δ| {stated:.3g} "
            f"plus ONNX's tolerance",
            **numbers,
        )
    relative = float(report.relative_error or 0.0)
    if relative > RELATIVE_ERROR_WARNING:
        return outcome(
            "failed",
            f"the compile report's relative error {relative:.1%} is above its "
            f"{RELATIVE_ERROR_WARNING:.0%} warning threshold",
            **numbers,
        )
    return outcome("passed", f"max |Δ| {max_error:.3g} (report: {stated:.3g})", **numbers)


def _child(case: NodeCase, mode: str, sender: Connection) -> None:
    with tempfile.TemporaryDirectory(prefix="zkgrad-conformance-") as tmp:
        try:
            sender.send(asdict(run_case(case, mode, Path(tmp))))
        except BaseException as exc:  # a Rust panic arrives as a BaseException
            detail = _one_line(f"{type(exc).__name__}: {exc}")
            sender.send(asdict(Outcome(case.name, case.op, mode, "error", detail, 0.0)))


def run_isolated(case: NodeCase, mode: str, timeout_s: float) -> Outcome:
    """:func:`run_case` in a forked child: a hang, a panic or an abort costs this test only."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(case, mode, sender), daemon=True)
    start = time.perf_counter()
    child.start()
    sender.close()
    result = None
    answered = receiver.poll(timeout_s)  # also True when the child died: recv then fails
    if answered:
        try:
            result = receiver.recv()
        except EOFError:
            result = None
    child.join(5)
    if child.is_alive():
        child.kill()
        child.join()
    seconds = round(time.perf_counter() - start, 2)
    if result is not None:
        return Outcome(**result)
    if not answered:
        detail = f"timed out after {timeout_s:g} s"
    else:
        detail = f"the test process died (exit code {child.exitcode})"
    return Outcome(case.name, case.op, mode, "error", detail, seconds)


def run_all(
    cases: Sequence[NodeCase], timeout_s: float, log: Callable[[str], None] = print
) -> list[Outcome]:
    """Every case as given, and adapted and with its inputs kept where those differ."""
    outcomes: list[Outcome] = []
    for number, case in enumerate(cases, 1):
        forms = [(MODES[0], case)]
        for mode, make in ((MODES[1], adapted), (MODES[2], inputs_kept)):
            other = make(case)
            if other is not None:
                forms.append((mode, other))
        for mode, form in forms:
            result = run_isolated(form, mode, timeout_s)
            outcomes.append(result)
            log(
                f"[{number}/{len(cases)}] {case.name} ({mode}): {result.status} "
                f"{result.seconds:.1f}s {result.detail[:160]}"
            )
    return outcomes


# --- the report ----------------------------------------------------------------------------------


def _counts(outcomes: Iterable[Outcome]) -> Counter[str]:
    return Counter(o.status for o in outcomes)


def _blank(text: str) -> str:
    """A reason with its names and numbers blanked, so that alike ones count as one."""
    text = re.sub(r"\('[^)]*\)", "(…)", text)
    text = re.sub(r"'[^']*'", "'…'", text)
    text = re.sub(r"\[[^\]]*\]", "[…]", text)
    text = re.sub(r"\b\d+(\.\d+)?\b", "N", text)
    return _one_line(text, 200)


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(outcomes: Sequence[Outcome], ops: Sequence[str], source: str, seconds: float) -> str:
    """``CONFORMANCE.md``: totals, per op, the common reasons, and every test's row."""
    by_mode = {mode: [o for o in outcomes if o.mode == mode] for mode in MODES}
    tests = sorted({o.test for o in outcomes})
    lines = [
        "# Conformance: ONNX node tests through compile → prove → verify",
        "",
        "Written by `make conformance` (`benches/conformance.py`; its docstring defines the forms,",
        "the outcomes and the tolerance). Every proof is zero-knowledge and verified from the",
        "verifying key with the model digest pinned.",
        "",
        f"- tests: {len(tests)} node tests of {len(ops)} claimed ops ({', '.join(ops)})",
        f"- source: {source}; onnx {onnx.__version__}, zkgrad {zkgrad.__version__}",
        f"- run time: {seconds / 60:.1f} min",
        "",
        "**passed**: within the compile report's max |Δ| plus ONNX's tolerance, report under "
        f"its {RELATIVE_ERROR_WARNING:.0%} warning; **failed**: a wrong answer; **unsupported**: "
        "a clear one-sentence error; **error**: a bug of another kind (not a zkgrad error, an "
        "honest proof rejected, a crash, a timeout). *Adapted*: inputs after the first as "
        "constants and a fixed leading dimension as a dynamic batch (only where that changes "
        "the test). *Inputs kept*: several inputs' shared leading dimension as a dynamic batch "
        "of all of them (only for such tests).",
        "",
        "## Totals",
        "",
        "| form | tests | passed | failed | unsupported | error |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for mode in MODES:
        c = _counts(by_mode[mode])
        lines.append(
            f"| {mode} | {len(by_mode[mode])} | " + " | ".join(str(c[s]) for s in STATUSES) + " |"
        )
    best = _best_per_test(outcomes)
    c = _counts(best.values())
    lines.append(f"| best of all | {len(best)} | " + " | ".join(str(c[s]) for s in STATUSES) + " |")
    lines += [
        "",
        "## Per op",
        "",
        "Each cell: as given / adapted / inputs kept. The adapted and inputs-kept counts cover "
        "only the tests that change in that form (— where none of the op's tests does); "
        "`tests` counts all of them.",
        "",
        "| op | tests | passed | failed | unsupported | error |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for op in ops:
        given = _counts(o for o in by_mode[MODES[0]] if o.op == op)
        forms = [[o for o in by_mode[mode] if o.op == op] for mode in MODES[1:]]
        others = [_counts(form) if form else None for form in forms]
        count = sum(given.values())
        cells = [
            " / ".join([str(given[s])] + ["—" if c is None else str(c[s]) for c in others])
            for s in STATUSES
        ]
        lines.append(f"| {op} | {count} | " + " | ".join(cells) + " |")
    lines += _reason_table(outcomes)
    lines += _bug_list(outcomes)
    lines += [
        "",
        "## Every test",
        "",
        "| test | op | form | outcome | detail |",
        "|---|---|---|---|---|",
    ]
    for o in sorted(outcomes, key=lambda o: (o.op, o.test, MODES.index(o.mode))):
        lines.append(f"| {o.test} | {o.op} | {o.mode} | {o.status} | {_escape(o.detail)} |")
    return "\n".join(lines) + "\n"


def _best_per_test(outcomes: Iterable[Outcome]) -> dict[str, Outcome]:
    """Per test, the better of its forms (passed > unsupported > failed > error)."""
    rank = {"passed": 0, "unsupported": 1, "failed": 2, "error": 3}
    best: dict[str, Outcome] = {}
    for o in outcomes:
        if o.test not in best or rank[o.status] < rank[best[o.test].status]:
            best[o.test] = o
    return best


def _reason_table(outcomes: Sequence[Outcome]) -> list[str]:
    counted = Counter(
        _blank(reason) for o in outcomes if o.status == "unsupported" for reason in set(o.reasons)
    )
    lines = [
        "",
        "## Most common reasons for 'unsupported'",
        "",
        "Each error split into its reasons (each graph-level problem, each node's op and why),",
        "names and numbers blanked; the count is of test runs (all forms) giving that reason.",
        "",
        "| count | reason |",
        "|---:|---|",
    ]
    lines += [f"| {n} | {_escape(reason)} |" for reason, n in counted.most_common(20)]
    return lines


def _bug_list(outcomes: Sequence[Outcome]) -> list[str]:
    bugs = [o for o in outcomes if o.status in ("failed", "error")]
    lines = ["", "## Wrong answers and errors", ""]
    if not bugs:
        return [*lines, "None."]
    return lines + [f"- `{o.test}` ({o.op}, {o.mode}): {o.status}: {o.detail}" for o in bugs]


# --- command line --------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the Markdown report")
    parser.add_argument("--json", type=Path, help="also write every outcome as JSON")
    parser.add_argument("--ops", help="comma-separated op types (default: every claimed op)")
    parser.add_argument("--tests", help="comma-separated test names (default: all of the ops)")
    parser.add_argument("--data", type=Path, help="ONNX's data/node directory to read instead")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds a test")
    args = parser.parse_args(argv)
    # Proving past a commitment's zero-knowledge budget only warns: a test model is thrown away.
    os.environ.setdefault("ZKGRAD_ZK_BUDGET", "warn")
    ops = tuple(args.ops.split(",")) if args.ops else CLAIMED_OPS
    start = time.perf_counter()
    if args.data is not None:
        cases = directory_cases(args.data, ops)
        source = f"the node test directories in {args.data}"
    else:
        cases = generated_cases(ops)
        source = "onnx.backend.test.case.node.collect_testcases() (the node tests, generated)"
    if args.tests:
        names = set(args.tests.split(","))
        missing = names - {c.name for c in cases}
        if missing:
            print(
                f"error: no node test of {', '.join(ops)} named {', '.join(sorted(missing))}",
                file=sys.stderr,
            )
            return 2
        cases = [c for c in cases if c.name in names]
    outcomes = run_all(cases, args.timeout)
    seconds = time.perf_counter() - start
    args.out.write_text(markdown(outcomes, ops, source, seconds))
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=1))
    totals = _counts(_best_per_test(outcomes).values())
    print(
        f"{len(cases)} tests: "
        + ", ".join(f"{totals[s]} {s}" for s in STATUSES)
        + f" (best form); wrote {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

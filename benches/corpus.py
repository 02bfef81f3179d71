"""``make corpus``: every model of EZKL's example corpus through compile → prove → verify.

    .venv/bin/python benches/corpus.py                        # writes benches/CORPUS.md
    .venv/bin/python benches/corpus.py --models 1l_mlp,1l_conv --out /tmp/CORPUS.md
    .venv/bin/python benches/corpus.py --from-json benches/corpus.json   # redraw only

The corpus folder is ``--corpus``, else ``$ZKGRAD_CORPUS``, else
``../shared/corpus/ezkl_examples`` next to the repository root (``SOURCE.md`` there says where
the files come from). Each model runs in its own process (``benches/corpus_one.py``), killed
past ``--timeout`` seconds or ``--memory-gib`` of resident memory, so one bad model cannot stop
the run. Proofs are zero-knowledge (always on); ``ZKGRAD_ZK_BUDGET=warn`` lets the run prove
past a commitment's zero-knowledge budget. The results go to ``benches/CORPUS.md`` (per model
the stage reached, prove time, proof size, the verified output's error against onnxruntime, or
the error; totals; the op types that block the most models) and ``benches/corpus.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "ezkl_examples"
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def corpus_folder(given: str | None) -> Path:
    """``--corpus``, ``$ZKGRAD_CORPUS`` or the default; an error if it holds no model."""
    folder = Path(given or os.environ.get("ZKGRAD_CORPUS") or DEFAULT_CORPUS)
    if not any(folder.glob("*/network.onnx")):
        sys.exit(f"corpus.py: no */network.onnx under {folder} (pass --corpus or ZKGRAD_CORPUS)")
    return folder


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` (0 once it is gone)."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_BYTES
    except (OSError, IndexError, ValueError):
        return 0


def run_model(folder: Path, timeout: float, memory_gib: float) -> dict[str, Any]:
    """Run one model in a child process under the limits; its record, with the kill reason."""
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        env = {**os.environ, "ZKGRAD_ZK_BUDGET": "warn", "PYTHONPATH": str(REPO / "python")}
        start = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, str(HERE / "corpus_one.py"), str(folder), str(result)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        killed = None
        peak = 0
        while child.poll() is None:
            peak = max(peak, rss_bytes(child.pid))
            if peak > memory_gib * 2**30:
                killed = f"killed: over the {memory_gib:g} GiB memory cap"
            elif time.perf_counter() - start > timeout:
                killed = f"killed: still running after {timeout:g} s"
            if killed:
                child.kill()
                break
            time.sleep(0.05)
        _, stderr = child.communicate()
        record: dict[str, Any] = {"model": folder.name, "passed": [], "stage": "import"}
        if result.is_file() and result.read_text().strip():
            record = json.loads(result.read_text())
        record["wall_s"] = round(time.perf_counter() - start, 2)
        record["peak_rss_mib"] = round(peak / 2**20)
        if killed:
            record["error"] = f"{killed} (in {record['stage']})"
        elif child.returncode != 0 and "error" not in record:
            last = (stderr or "").strip().splitlines()
            record["error"] = f"crashed (exit {child.returncode}): {last[-1] if last else ''}"
        return record


def outcome(record: dict[str, Any]) -> str:
    """``verified``, or the stage that failed."""
    if "verify" in record["passed"]:
        return "verified"
    return f"failed at {record['stage']}"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.3g} %"


def _relative(record: dict[str, Any]) -> str:
    """The max relative error, or why there is none (an all-zero float output)."""
    if record.get("float_max_abs") == 0:
        return f"— (float output is 0; max \\|Δ\\| {record['max_abs_error']:.3g})"
    return _pct(record.get("max_relative_error"))


def blocking_table(records: list[dict[str, Any]]) -> list[str]:
    """Op types (and graph-level problems) by how many models they keep from importing."""
    blocked = [r for r in records if r.get("blockers")]
    counts: Counter[str] = Counter()
    alone: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    for record in blocked:
        counts.update(record["blockers"])
        if len(record["blockers"]) == 1:
            alone[record["blockers"][0]] += 1
        for kind in record["blockers"]:
            examples.setdefault(kind, []).append(record["model"])
    lines = [
        "| blocks | models | the only blocker of | e.g. |",
        "|---|---:|---:|---|",
    ]
    for kind, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        shown = ", ".join(examples[kind][:4]) + (", …" if len(examples[kind]) > 4 else "")
        lines.append(f"| {_cell(kind)} | {count} | {alone[kind]} | {shown} |")
    return lines


def refusal_table(records: list[dict[str, Any]]) -> list[str]:
    """Why nodes of an op type were refused (attribute, placement), by how many models."""
    models: dict[tuple[str, str], list[str]] = {}
    for record in records:
        for op, reason in record.get("refusals", []):
            models.setdefault((op, reason), []).append(record["model"])
    lines = ["| op | refused because | models | e.g. |", "|---|---|---:|---|"]
    for (op, reason), names in sorted(models.items(), key=lambda item: (-len(item[1]), item[0])):
        shown = ", ".join(names[:3]) + (", …" if len(names) > 3 else "")
        lines.append(f"| {op} | {_cell(reason)} | {len(names)} | {shown} |")
    return lines


def report(records: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    """The text of CORPUS.md."""
    total = len(records)
    stages = Counter(outcome(r) for r in records)
    proved = sum("prove" in r["passed"] for r in records)
    verified = stages["verified"]
    imported = sum("import" in r["passed"] for r in records)
    compiled = sum("compile" in r["passed"] for r in records)
    kinds = meta.get("kinds", {})
    out = [
        "# Corpus: EZKL's example models through compile → prove → verify",
        "",
        f"Written by `make corpus` (`benches/corpus.py`) on {meta['date']}: zkgrad "
        f"{meta['zkgrad']} (commit {meta['commit']}), {meta['machine']}. Corpus: "
        f"`{meta['corpus']}` ({total} models; its `SOURCE.md` says where they come from).",
        "",
        "Each model runs in its own process, killed after "
        f"{meta['timeout']:g} s or above {meta['memory_gib']:g} GiB resident. Proofs are "
        "zero-knowledge (always on; `ZKGRAD_ZK_BUDGET=warn` for the run). A model is compiled "
        "with its own `input.json` as calibration data (as EZKL's examples calibrate on it), "
        "proved on that input and verified with the verifying key alone. *max rel. error*: "
        "max |verified − onnxruntime| over max |onnxruntime| on that input, for the output "
        "the proof states; *report*: the compile report's relative error (mean |Δ| over mean "
        "|float|) on the same input.",
        "",
        "## Totals",
        "",
        f"- **{verified} of {total} prove and verify** with zero knowledge "
        f"({proved} prove; {imported} import, {compiled} compile).",
    ]
    for name, count in sorted(stages.items()):
        if name != "verified":
            out.append(f"- {name}: {count}")
    out += [
        "",
        "## What blocks the models that do not import",
        "",
        "A model counts once per op type that it has an unsupported node of (a node with no "
        "import rule, or a supported op type with an unsupported attribute or placement), "
        "and once per graph-level problem (in parentheses). *the only blocker of*: models that "
        "would get past import if this alone were supported.",
        "",
        *blocking_table(records),
        "",
        "Of those, the nodes refused for a reason (an attribute, an operand that is not a "
        "constant, their place in the graph) rather than for having no import rule at all:",
        "",
        *refusal_table(records),
        "",
        "## Per model",
        "",
        "| model | kind | reached | prove | proof | max rel. error | report | error |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    order = {"verified": 0, "failed at verify": 1, "failed at prove": 2, "failed at compile": 3}
    for r in sorted(records, key=lambda r: (order.get(outcome(r), 4), r["model"])):
        kind = kinds.get(r["model"], "")
        prove = f"{r['prove_s']:.2f} s" if "prove_s" in r else ""
        size = f"{r['proof_bytes'] / 1024:.1f} KiB" if "proof_bytes" in r else ""
        error = r.get("error", "")
        if r.get("input") == "synthetic N(0,1)":
            error = ("no input.json: synthetic input. " + error).strip()
        out.append(
            f"| {r['model']} | {_cell(kind)} | {outcome(r)} | {prove} | {size} | "
            f"{_relative(r)} | {_pct(r.get('predicted_relative_error'))} | "
            f"{_cell(error)} |"
        )
    return "\n".join(out) + "\n"


def _meta(args: argparse.Namespace, corpus: Path) -> dict[str, Any]:
    sys.path.insert(0, str(REPO / "python"))
    import zkgrad

    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    manifest_file = corpus / "MANIFEST.json"
    manifest = json.loads(manifest_file.read_text()) if manifest_file.is_file() else {}
    shown = os.path.relpath(corpus, REPO) if corpus.is_absolute() else str(corpus)
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "zkgrad": zkgrad.__version__,
        "commit": commit or "unknown",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}",
        "corpus": shown,
        "timeout": args.timeout,
        "memory_gib": args.memory_gib,
        "kinds": {name: entry.get("kind", "") for name, entry in manifest.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", help="folder of <model>/network.onnx (+ input.json)")
    parser.add_argument("--models", help="comma-separated model names (default: all)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per model")
    parser.add_argument("--memory-gib", type=float, default=6.0, help="resident cap per model")
    parser.add_argument("--out", type=Path, default=HERE / "CORPUS.md")
    parser.add_argument("--json", type=Path, default=HERE / "corpus.json", help="raw results")
    parser.add_argument("--from-json", type=Path, help="run nothing; redraw --out from a JSON")
    args = parser.parse_args()
    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        args.out.write_text(report(saved["models"], saved["meta"]))
        return
    corpus = corpus_folder(args.corpus)
    names = sorted(p.parent.name for p in corpus.glob("*/network.onnx"))
    if args.models:
        wanted = args.models.split(",")
        missing = sorted(set(wanted) - set(names))
        if missing:
            sys.exit(f"corpus.py: not in {corpus}: {', '.join(missing)}")
        names = [n for n in names if n in wanted]
    meta = _meta(args, corpus)
    records = []
    for index, name in enumerate(names, 1):
        record = run_model(corpus / name, args.timeout, args.memory_gib)
        records.append(record)
        detail = record.get("error", "")[:90]
        print(f"[{index}/{len(names)}] {name}: {outcome(record)} ({record['wall_s']} s) {detail}")
        sys.stdout.flush()
    args.json.write_text(json.dumps({"meta": meta, "models": records}, indent=1) + "\n")
    args.out.write_text(report(records, meta))
    verified = sum(outcome(r) == "verified" for r in records)
    print(f"{verified} of {len(records)} prove and verify; wrote {args.out} and {args.json}")


if __name__ == "__main__":
    main()

"""zkgrad vs EZKL on the same ONNX files, in one run: writes RESULTS.md and results.png.

    benches/.venv/bin/python benches/run.py                 # all models (make bench)
    benches/.venv/bin/python benches/run.py --quick         # bc_mlp + mlp_small, 1 repetition
    benches/.venv/bin/python benches/run.py --models mlp_small,mlp_1m --reps 5

For each model and repetition the systems run one after the other (the order alternates
between repetitions): zkgrad (zero knowledge is always on, CNNs included) and EZKL. Every
step is its own process (zkgrad's under the package's virtualenv, EZKL's under benches/.venv),
watched by this one: killed past ``--step-timeout`` seconds or ``--mem-limit-gb`` of resident
memory, and recorded as such. Peak RSS is the step process's own ``ru_maxrss`` (from
``os.wait4``). A system that fails on a model is not retried on later repetitions of that model.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import models as bench_models  # noqa: E402

SYSTEMS = ("zkgrad", "ezkl")
LABELS = {"zkgrad": "zkgrad", "ezkl": "EZKL"}
STEPS = {
    "zkgrad": ("compile", "prove", "verify"),
    "ezkl": ("settings", "calibrate", "compile", "srs", "keygen", "witness", "prove", "verify"),
}
# Which steps make up each reported phase.
PHASES = {
    "zkgrad": {"setup": ("compile",), "prove": ("prove",), "verify": ("verify",)},
    "ezkl": {
        "setup": ("settings", "calibrate", "compile", "srs", "keygen"),
        "prove": ("witness", "prove"),
        "verify": ("verify",),
    },
}
QUICK_MODELS = ("bc_mlp", "mlp_small")
# The EZKL call behind each step, for the report.
EZKL_CALLS = {
    "settings": "gen_settings",
    "calibrate": "calibrate_settings",
    "compile": "compile_circuit",
    "srs": "gen_srs",
    "keygen": "setup",
    "witness": "gen_witness",
    "prove": "prove",
    "verify": "verify",
}
GIB = 1024**3


# ----------------------------------------------------------------------------- running steps


@dataclass
class StepResult:
    step: str
    status: str  # ok | failed | timeout | memory | unsupported | skipped | not run
    seconds: float | None = None  # the library call, measured inside the step process
    wall: float | None = None  # the whole process
    maxrss_kib: int | None = None
    cpu_s: float | None = None
    other_cores: float | None = None  # CPU used by everything else on the machine meanwhile
    info: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    total = sum(fields[:8])
    return total - idle, total


def _rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a running process, in KiB; zeros once it is gone."""
    rss = hwm = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return rss, hwm


def run_step(
    python: str,
    system: str,
    step: str,
    work: Path,
    onnx_path: Path,
    inputs: Path,
    timeout: float,
    mem_limit: int,
    env: dict[str, str],
) -> StepResult:
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logs / f"{step}.out", logs / f"{step}.err"
    cmd = [python, str(HERE / "steps.py"), system, step, str(work), str(onnx_path), str(inputs)]
    hz = os.sysconf("SC_CLK_TCK")
    busy0, _ = _cpu_ticks()
    start = time.monotonic()
    killed = None
    polled_hwm = 0
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, start_new_session=True)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            elapsed = time.monotonic() - start
            rss, hwm = _rss_kib(proc.pid)
            polled_hwm = max(polled_hwm, hwm)
            if killed is None and rss * 1024 > mem_limit:
                killed = (
                    f"memory: resident set passed {mem_limit / GIB:.0f} GiB after {elapsed:.0f} s"
                )
            elif killed is None and elapsed > timeout:
                killed = f"timeout: still running after {timeout:.0f} s"
            if killed:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02 if elapsed < 2 else 0.2)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4 already
    wall = time.monotonic() - start
    busy1, _ = _cpu_ticks()
    cpu = usage.ru_utime + usage.ru_stime
    other = max(0.0, ((busy1 - busy0) / hz - cpu) / wall) if wall > 0 else None
    result = StepResult(step, "ok", wall=wall, cpu_s=cpu, other_cores=other)
    stdout = out_path.read_text(errors="replace")
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            result.info = json.loads(line[len("RESULT ") :])
    result.seconds = result.info.pop("seconds", None)
    # Peak RSS of the step process since exec: its own VmHWM at the end, else the last one
    # polled (a killed process). wait4's ru_maxrss is kept for reference: on Linux it also
    # counts the parent's RSS at fork, so it is never below this harness's own size.
    result.maxrss_kib = result.info.pop("vmhwm_kib", None) or polled_hwm or None
    result.info["ru_maxrss_kib"] = usage.ru_maxrss
    if killed:
        result.status = killed.split(":", 1)[0]
        result.error = killed
    elif "unsupported" in result.info:
        result.status = "unsupported"
        result.error = result.info.pop("unsupported")
    elif proc.returncode != 0:
        result.status = "failed"
        lines = [ln for ln in err_path.read_text(errors="replace").splitlines() if ln.strip()]
        reason = lines[-1].strip() if lines else ""
        if proc.returncode < 0:
            reason = f"killed by signal {-proc.returncode} {reason}".strip()
        result.error = f"exit {proc.returncode}: {reason[:300]}"
    return result


# ----------------------------------------------------------------------------- one model


def float_inference(onnx_path: Path, inputs: Path) -> dict[str, Any]:
    """onnxruntime float32 inference of the proved input: the physical floor."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    x = (
        np.load(inputs)[0:1]
        .reshape([d if isinstance(d, int) else 1 for d in session.get_inputs()[0].shape])
        .astype(np.float32)
    )
    for _ in range(3):
        output = session.run(None, {name: x})[0]
    times = []
    deadline = time.perf_counter() + 2.0
    while len(times) < 500 and (len(times) < 10 or time.perf_counter() < deadline):
        t0 = time.perf_counter()
        session.run(None, {name: x})
        times.append(time.perf_counter() - t0)
    return {
        "seconds": statistics.median(times),
        "runs": len(times),
        "output": np.asarray(output, dtype=np.float64).reshape(-1).tolist(),
    }


def run_model(
    spec: bench_models.Spec, reps: int, args: argparse.Namespace, pythons: dict[str, str]
) -> dict[str, Any]:
    model_dir = args.out / "models"
    onnx_path, inputs = bench_models.write(spec, model_dir)
    print(f"\n== {spec.name}: {spec.title}, {spec.params:,} params, {reps} repetition(s)")
    floor = float_inference(onnx_path, inputs)
    print(f"   onnxruntime float inference: {floor['seconds'] * 1e3:.3f} ms")
    record: dict[str, Any] = {
        "name": spec.name,
        "title": spec.title,
        "params": spec.params,
        "kind": spec.kind,
        "reps_requested": reps,
        "inference": floor,
        "onnx_bytes": onnx_path.stat().st_size,
        "runs": {s: [] for s in args.systems},
    }
    failed: dict[str, bool] = {s: False for s in args.systems}
    for rep in range(reps):
        order = list(args.systems) if rep % 2 == 0 else list(reversed(args.systems))
        for system in order:
            if failed[system]:
                continue
            if f"{system}:{spec.name}" in args.skip:  # --skip: recorded as not run, never started
                why = f"left out of this run with --skip {system}:{spec.name}"
                record["runs"][system].append(
                    [asdict(StepResult(STEPS[system][0], "not run", error=why))]
                )
                failed[system] = True
                print(f"   rep {rep} {system:11s} not run ({why})", flush=True)
                continue
            work = args.out / "work" / spec.name / system / f"rep{rep}"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            env = dict(os.environ)
            env.pop("VIRTUAL_ENV", None)
            env["EZKL_REPO_PATH"] = str(args.out / "ezkl_home")  # EZKL's caches stay in here
            env["PYTHONDONTWRITEBYTECODE"] = "1"
            # Timing repeats proofs with one compiled model, past the weight commitment's
            # zero-knowledge budget (docs/SECURITY.md): measured, with a warning, not refused.
            env["ZKGRAD_ZK_BUDGET"] = "warn"
            if system.startswith("zkgrad") and args.snapshot:
                env["PYTHONPATH"] = str(args.snapshot)  # ahead of the editable install's .pth
            steps: list[StepResult] = []
            for step in STEPS[system]:
                if steps and steps[-1].status != "ok":
                    steps.append(StepResult(step, "skipped"))
                    continue
                res = run_step(
                    pythons[system],
                    system,
                    step,
                    work,
                    onnx_path,
                    inputs,
                    args.srs_timeout if step == "srs" else args.step_timeout,
                    args.mem_limit,
                    env,
                )
                steps.append(res)
                secs = (
                    f"{res.seconds:.3f} s" if res.seconds is not None else f"wall {res.wall:.1f} s"
                )
                rss = f"{(res.maxrss_kib or 0) / 1024:.0f} MiB"
                note = f"  {res.error}" if res.error else ""
                print(
                    f"   rep {rep} {system:11s} {step:9s} {res.status:11s} {secs:>14s} {rss:>9s}"
                    f"  (other load {res.other_cores or 0:.2f} cores){note}",
                    flush=True,
                )
            record["runs"][system].append([asdict(s) for s in steps])
            if any(s.status != "ok" for s in steps):
                failed[system] = True
            if system == "ezkl" and not args.keep_keys:
                for big in ("pk.key", "kzg.srs"):
                    (work / big).unlink(missing_ok=True)
    return record


# ----------------------------------------------------------------------------- summarising


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summarise(record: dict[str, Any], system: str) -> dict[str, Any]:
    """Medians per phase over the repetitions where every step succeeded."""
    runs = record["runs"].get(system, [])
    good = [r for r in runs if r and all(s["status"] == "ok" for s in r)]
    out: dict[str, Any] = {"reps_ok": len(good), "reps_run": len(runs)}
    bad = next((s for r in runs for s in r if s["status"] not in ("ok", "skipped")), None)
    if bad:
        out["failure"] = {
            "step": bad["step"],
            "status": bad["status"],
            "error": bad["error"],
            "wall": bad["wall"],
            "maxrss_kib": bad["maxrss_kib"],
        }
    if not good:
        return out
    by_step = {
        step: [next(s for s in r if s["step"] == step) for r in good] for step in STEPS[system]
    }
    out["steps"] = {
        step: {
            "seconds": _median([s["seconds"] for s in items]),
            "maxrss_kib": max(s["maxrss_kib"] for s in items),
            "cpu_per_wall": _median([s["cpu_s"] / s["wall"] for s in items if s["wall"]]),
            "other_cores": _median([s["other_cores"] or 0.0 for s in items]),
        }
        for step, items in by_step.items()
    }
    for phase, steps in PHASES[system].items():
        totals = [
            sum(next(s for s in r if s["step"] == st)["seconds"] for st in steps) for r in good
        ]
        out[phase] = _median(totals)
        out[f"{phase}_rss_kib"] = max(out["steps"][st]["maxrss_kib"] for st in steps)
    out["peak_rss_kib"] = max(v["maxrss_kib"] for v in out["steps"].values())
    last = good[-1]
    info = {s["step"]: s["info"] for s in last}
    if system.startswith("zkgrad"):
        # Runs from before zero knowledge record no "zk": their proofs were not zero-knowledge.
        out["zk"] = info["compile"].get("zk")
        out["proof_bytes"] = info["prove"]["proof_bytes"]
        out["soundness_bits"] = info["prove"].get("soundness_bits")
        out["model_file_bytes"] = info["compile"].get("model_file_bytes")
        out["verify_load_seconds"] = _median(
            [
                next(s for s in r if s["step"] == "verify")["info"].get("load_seconds", 0)
                for r in good
            ]
        )
        output = info["verify"].get("output")
    else:
        out["proof_bytes"] = info["prove"]["proof_bytes"]
        out["proof_file_bytes"] = info["prove"]["proof_file_bytes"]
        out["logrows"] = info["calibrate"].get("logrows")
        out["num_rows"] = info["calibrate"].get("num_rows")
        out["pk_bytes"] = info["keygen"].get("pk_bytes")
        out["vk_bytes"] = info["keygen"].get("vk_bytes")
        out["srs_seconds"] = out["steps"]["srs"]["seconds"]
        output = info["witness"].get("output")
    ref = record["inference"]["output"]
    if output and len(output) == len(ref):
        diff = np.abs(np.asarray(output) - np.asarray(ref))
        out["max_abs_err"] = float(diff.max())
        out["top1_same"] = int(np.argmax(output)) == int(np.argmax(ref))
    out["prove_over_inference"] = out["prove"] / record["inference"]["seconds"]
    return out


# ----------------------------------------------------------------------------- report


def _sh(cmd: list[str], cwd: Path = REPO) -> str:
    try:
        return subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, timeout=30
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def snapshot_package(out: Path) -> Path:
    """Copy python/zkgrad (with its native module) so that a rebuild during the run (other
    work on the same checkout) cannot mix two builds in one benchmark. Returns the directory
    to put on the zkgrad steps' PYTHONPATH."""
    dest = out / "zkgrad-snapshot"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(
        REPO / "python" / "zkgrad", dest / "zkgrad", ignore=shutil.ignore_patterns("__pycache__")
    )
    return dest


def environment(pythons: dict[str, str], package: Path) -> dict[str, Any]:
    lscpu = _sh(["lscpu"])
    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in lscpu.splitlines() if ln.startswith("Model name")),
        platform.processor(),
    )
    mem = next(
        int(ln.split()[1])
        for ln in Path("/proc/meminfo").read_text().splitlines()
        if ln.startswith("MemTotal")
    )
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True, check=False
    ).stdout
    dirty = [
        ln[3:] for ln in status.splitlines() if ln.strip() and not ln[3:].startswith("benches/")
    ]
    so = sorted((package / "zkgrad").glob("_native*.so"))
    native = {}
    if so:
        data = so[0].read_bytes()
        native = {
            "file": so[0].name,
            "sha256": hashlib.sha256(data).hexdigest()[:16],
            "mtime": dt.datetime.fromtimestamp(so[0].stat().st_mtime).isoformat(timespec="seconds"),
        }
    zk_version = _sh(
        [
            "env",
            f"PYTHONPATH={package}",
            pythons["zkgrad"],
            "-c",
            "import zkgrad; print(zkgrad.__version__)",
        ]
    )
    from importlib.metadata import version

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "mem_gib": mem / 1024**2,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "git_commit": _sh(["git", "rev-parse", "HEAD"]),
        "git_dirty": dirty,
        "zkgrad_version": zk_version,
        "zkgrad_native": native,
        "ezkl": version("ezkl"),
        "onnxruntime": version("onnxruntime"),
        "onnx": version("onnx"),
        "rustc": _sh(["rustc", "--version"]),
    }


def _fmt_s(v: float | None) -> str:
    if v is None:
        return "–"
    if v < 1e-3:
        return f"{v * 1e6:.0f} µs"
    if v < 1:
        return f"{v * 1e3:.1f} ms"
    if v < 100:
        return f"{v:.2f} s"
    return f"{v:.0f} s"


def _fmt_b(v: float | None) -> str:
    if v is None:
        return "–"
    for unit, scale in (("GiB", GIB), ("MiB", 1024**2), ("KiB", 1024)):
        if v >= scale:
            return f"{v / scale:.1f} {unit}"
    return f"{v:.0f} B"


def _fmt_mem(kib: float | None) -> str:
    return "–" if kib is None else _fmt_b(kib * 1024)


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "–"
    r = a / b
    if r >= 100:
        return f"{r:,.0f}×"
    if r >= 10:
        return f"{r:.0f}×"
    if r >= 0.1:
        return f"{r:.2f}×"
    return f"{r:.3f}×"


def _status(s: dict[str, Any]) -> str:
    f = s.get("failure")
    if not f:
        return f"ok ({s['reps_ok']}/{s['reps_run']} reps)"
    where = f"at `{f['step']}`"
    if f["status"] == "not run":
        return f"**not run** ({f['error']})"
    if f["status"] == "unsupported":
        return f"**unsupported** ({f['error']})"
    if f["status"] == "timeout":
        return f"**time limit** {where}: {f['error']}"
    if f["status"] == "memory":
        return f"**killed for memory** {where}: {f['error']}"
    return f"**failed** {where}: {f['error']}"


def model_table(record: dict[str, Any], z: dict[str, Any], e: dict[str, Any]) -> list[str]:
    """The per-model section: zkgrad vs EZKL."""
    inf = record["inference"]["seconds"]
    lines = [
        f"### {record['name']}: {record['title']} — {record['params']:,} parameters",
        "",
        f"onnxruntime float32 inference (batch 1, median of {record['inference']['runs']}): "
        f"**{_fmt_s(inf)}**. zkgrad: {_status(z)}. EZKL: {_status(e)}.",
        "",
        "| | zkgrad | EZKL | EZKL / zkgrad |",
        "|---|---:|---:|---:|",
    ]

    def row(label: str, zv: str, ev: str, ratio: str = "") -> None:
        lines.append(f"| {label} | {zv} | {ev} | {ratio} |")

    def g(s: dict[str, Any], k: str) -> Any:
        return s.get(k)

    es = e.get("steps", {})
    setup_detail = ""
    if es:
        setup_detail = (
            " ("
            + " + ".join(
                f"{EZKL_CALLS[k]} {_fmt_s(es[k]['seconds'])}" for k in PHASES["ezkl"]["setup"]
            )
            + ")"
        )
    row(
        "setup, median",
        _fmt_s(g(z, "setup")) + (" (compile + commit)" if "setup" in z else ""),
        _fmt_s(g(e, "setup")) + setup_detail,
        _ratio(g(e, "setup"), g(z, "setup")),
    )
    if es:
        no_srs = e["setup"] - e["srs_seconds"]
        row(
            "setup without SRS generation",
            _fmt_s(g(z, "setup")),
            _fmt_s(no_srs),
            _ratio(no_srs, g(z, "setup")),
        )
    prove_detail = ""
    if es:
        prove_detail = (
            f" (witness {_fmt_s(es['witness']['seconds'])} + "
            f"prove {_fmt_s(es['prove']['seconds'])})"
        )
    row(
        "**prove**, median",
        f"**{_fmt_s(g(z, 'prove'))}**",
        f"**{_fmt_s(g(e, 'prove'))}**" + prove_detail,
        f"**{_ratio(g(e, 'prove'), g(z, 'prove'))}**",
    )
    zv = _fmt_s(g(z, "verify"))
    if z.get("verify_load_seconds") is not None:
        zv += f" (+ {_fmt_s(z['verify_load_seconds'])} model load)"
    row("verify, median", zv, _fmt_s(g(e, "verify")), _ratio(g(e, "verify"), g(z, "verify")))
    ev = _fmt_b(g(e, "proof_bytes"))
    if e.get("proof_file_bytes"):
        ev += f" (proof.json {_fmt_b(e['proof_file_bytes'])})"
    row(
        "proof size",
        _fmt_b(g(z, "proof_bytes")),
        ev,
        _ratio(g(e, "proof_bytes"), g(z, "proof_bytes")),
    )
    for phase in ("setup", "prove", "verify"):
        key = f"{phase}_rss_kib"
        row(
            f"peak RSS, {phase}",
            _fmt_mem(g(z, key)),
            _fmt_mem(g(e, key)),
            _ratio(g(e, key), g(z, key)),
        )
    row(
        "peak RSS, any step",
        _fmt_mem(g(z, "peak_rss_kib")),
        _fmt_mem(g(e, "peak_rss_kib")),
        _ratio(g(e, "peak_rss_kib"), g(z, "peak_rss_kib")),
    )
    zo, eo = g(z, "prove_over_inference"), g(e, "prove_over_inference")
    row(
        "prove / float inference",
        f"{zo:,.0f}×" if zo else "–",
        f"{eo:,.0f}×" if eo else "–",
        _ratio(eo, zo),
    )
    row(
        "max abs error of the output vs float (top-1 same)",
        f"{z['max_abs_err']:.2g} ({'yes' if z['top1_same'] else 'no'})"
        if "max_abs_err" in z
        else "–",
        f"{e['max_abs_err']:.2g} ({'yes' if e['top1_same'] else 'no'})"
        if "max_abs_err" in e
        else "–",
    )
    extra_z = []
    if z.get("model_file_bytes"):
        extra_z.append(f"model file {_fmt_b(z['model_file_bytes'])}")
    if z.get("soundness_bits"):
        zk_text = "zero-knowledge" if z.get("zk") else "not zero-knowledge"
        extra_z.append(f"{z['soundness_bits']:.0f}-bit soundness, {zk_text}")
    extra_e = []
    if e.get("logrows"):
        extra_e.append(f"logrows {e['logrows']}, {e['num_rows']:,} rows")
    if e.get("pk_bytes"):
        extra_e.append(f"pk {_fmt_b(e['pk_bytes'])}, vk {_fmt_b(e['vk_bytes'])}")
    extra_e.append("KZG/BN254, zero-knowledge") if "steps" in e else None
    row("other", ", ".join(extra_z) or "–", ", ".join(extra_e) or "–")
    if es:
        load = statistics.mean(v["other_cores"] for v in es.values())
        zl = (
            statistics.mean(v["other_cores"] for v in z["steps"].values()) if "steps" in z else None
        )
        row(
            "CPU used by other processes meanwhile (mean over steps)",
            f"{zl:.2f} cores" if zl is not None else "–",
            f"{load:.2f} cores",
        )
    lines.append("")
    return lines


def summary_table(records: list[dict[str, Any]], sums: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "| model | params | float inference | zkgrad prove | EZKL prove | **prove ×** | "
        "zkgrad verify | EZKL verify | verify × | setup × | proof size × | peak RSS × |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in records:
        z, e = sums[r["name"]]["zkgrad"], sums[r["name"]]["ezkl"]

        def cell(s: dict[str, Any], key: str) -> str:
            if s.get(key) is not None:
                return _fmt_s(s[key])
            f = s.get("failure")
            if not f or key != "prove":
                return "–"
            return {
                "unsupported": "unsupported",
                "timeout": f"timeout at {f['step']}",
                "memory": f"OOM at {f['step']}",
                "not run": "not run",
            }.get(f["status"], f"failed at {f['step']}")

        prove_x = _ratio(e.get("prove"), z.get("prove"))
        verify_x = _ratio(e.get("verify"), z.get("verify"))
        lines.append(
            f"| {r['name']} | {r['params']:,} | {_fmt_s(r['inference']['seconds'])} | "
            f"{cell(z, 'prove')} | {cell(e, 'prove')} | **{prove_x}** | "
            f"{cell(z, 'verify')} | {cell(e, 'verify')} | {verify_x} | "
            f"{_ratio(e.get('setup'), z.get('setup'))} | "
            f"{_ratio(e.get('proof_bytes'), z.get('proof_bytes'))} | "
            f"{_ratio(e.get('peak_rss_kib'), z.get('peak_rss_kib'))} |"
        )
    return lines


def _span(values: list[float]) -> str:
    lo, hi = min(values), max(values)
    return _ratio(lo, 1) if len(values) == 1 else f"{_ratio(lo, 1)}–{_ratio(hi, 1)}"


def headline(records: list[dict[str, Any]], sums: dict[str, dict[str, Any]]) -> list[str]:
    """One generated paragraph: the ratio ranges and every model a system did not prove."""
    pair = ("zkgrad", "ezkl")
    both = [r for r in records if all(sums[r["name"]][s].get("prove") for s in pair)]
    out = []
    if both:

        def span(key: str, invert: bool = False) -> str:
            values = []
            for r in both:
                z, e = sums[r["name"]]["zkgrad"][key], sums[r["name"]]["ezkl"][key]
                values.append(z / e if invert else e / z)
            return _span(values)

        out.append(
            f"On the {len(both)} model(s) both systems proved "
            f"({', '.join(r['name'] for r in both)}), zkgrad proves "
            f"**{span('prove')} faster** "
            f"than EZKL, verifies {span('verify')} faster, sets up {span('setup')} faster "
            f"(EZKL's SRS generation included) and needs {span('peak_rss_kib')} less peak "
            f"memory; EZKL's proofs are {span('proof_bytes', invert=True)} smaller."
        )
    for r in records:
        for system in SYSTEMS:
            f = sums[r["name"]].get(system, {}).get("failure")
            if f and sums[r["name"]][system].get("prove") is None:
                out.append(
                    f"{LABELS[system]} did not prove {r['name']}: "
                    f"{_status(sums[r['name']][system])}."
                )
    return [" ".join(out), ""] if out else []


def write_report(
    path: Path,
    records: list[dict[str, Any]],
    sums: dict[str, dict[str, Any]],
    env_info: dict[str, Any],
    args: argparse.Namespace,
    started: dt.datetime,
    finished: dt.datetime,
    command: str,
) -> None:
    dirty = env_info["git_dirty"]
    native = env_info["zkgrad_native"]
    all_other = [
        s["other_cores"]
        for r in records
        for runs in r["runs"].values()
        for run in runs
        for s in run
        if s.get("other_cores") is not None
    ]
    zk_models = [r["name"] for r in records if sums[r["name"]]["zkgrad"].get("zk")]
    if zk_models:
        zk_text = (
            "zkgrad's proofs are **always zero-knowledge** (`docs/SECURITY.md`), like EZKL's "
            "(halo2, KZG on BN254), CNNs included."
        )
    else:
        zk_text = (
            "zkgrad's proofs are **not zero-knowledge yet** (`docs/SECURITY.md`: sumcheck "
            "messages and column evaluations are unmasked), while EZKL's (halo2, KZG on BN254) "
            "are."
        )
    lines = [
        "# zkgrad vs EZKL",
        "",
        f"Generated by `benches/run.py` on {started:%Y-%m-%d %H:%M} – {finished:%H:%M} "
        f"({(finished - started).total_seconds() / 60:.0f} min). Regenerate: `make bench` "
        "(see `README.md`). Raw per-step data: `benches/out/results.json`.",
        "",
        f"**Read first.** {zk_text} EZKL's defaults make the input and output public and the "
        "weights fixed in "
        "the circuit; zkgrad keeps the input and weights private (behind a commitment) and makes "
        "the output public. zkgrad's proofs are bigger (hash-based PCS, ~100-bit soundness) and "
        "need no trusted setup; EZKL's SRS here is generated locally with `ezkl.gen_srs` "
        '(single-party, "for testing"; normally downloaded), and its time is counted in '
        "EZKL's setup, also shown without it.",
        "",
        "## Summary (EZKL / zkgrad: > 1 means zkgrad is better)",
        "",
        *headline(records, sums),
        *summary_table(records, sums),
        "",
        "Times are medians of the library call inside each step's process (interpreter start "
        "and imports excluded). zkgrad prove = `Model.prove` (forward pass + proof); EZKL prove "
        "= `gen_witness` + `prove`. zkgrad setup = `zkgrad.compile` (import, calibrate, "
        "quantise, commit to the weights); EZKL setup = `gen_settings` + `calibrate_settings` + "
        "`compile_circuit` + `gen_srs` + `setup` (keygen). Verify: `zkgrad.verify` on a loaded "
        "model / `ezkl.verify` (which reads vk and SRS itself). Peak RSS: the step process's "
        "`VmHWM` (peak resident set since exec; includes ~40–100 MiB of Python, numpy, onnx "
        "imports).",
        "",
        "## Per model",
        "",
    ]
    for r in records:
        per = sums[r["name"]]
        lines += model_table(r, per["zkgrad"], per["ezkl"])
    lines += [
        "## Conditions",
        "",
        f"* Machine: {env_info['cpu']}, {env_info['cores']} cores, "
        f"{env_info['mem_gib']:.1f} GiB RAM, Linux {env_info['kernel']}, no GPU.",
        f"* **The CPU was shared** with other work (other engineers' cargo builds and tests): "
        f"other processes used on average {statistics.mean(all_other) if all_other else 0:.2f} "
        f"of the {env_info['cores']} cores while steps ran (max "
        f"{max(all_other) if all_other else 0:.2f}), measured from /proc/stat minus the "
        "step's own CPU time. Both systems were affected alike (they alternate), but absolute "
        "times are slower than on an idle machine; ratios are the number to read.",
        f"* Limits per step: {args.step_timeout:.0f} s (EZKL's local SRS generation, which "
        f"stands in for a download: {getattr(args, 'srs_timeout', args.step_timeout):.0f} s) "
        f"and {args.mem_limit / GIB:.0f} GiB resident "
        "(watchdog polling /proc, process group killed past either). A system that fails on a "
        "model is not retried in later repetitions.",
        f"* Repetitions: {args.reps} for small models, {args.big_reps} for the models marked big "
        "(cnn_lenet, mlp_1m, mlp_18m); the system that goes first alternates between repetitions.",
        "* Inputs: MNIST-shaped and larger models use random He-normal weights (fixed seeds, "
        "`models.py`) and inputs U[0,1); the breast-cancer MLP is the trained bundled model with "
        "its real standardised test rows. Both systems calibrate on the same 8 samples and "
        "prove sample 0, batch 1.",
        f"* zkgrad {env_info['zkgrad_version']} at git {env_info['git_commit'][:12]}"
        + (
            f" **with uncommitted changes** in {len(dirty)} file(s) "
            f"({', '.join(sorted(dirty)[:6])}{', …' if len(dirty) > 6 else ''})"
            if dirty
            else ""
        )
        + (
            f"; native module {native['file']} sha256 {native['sha256']}… built {native['mtime']}"
            if native
            else ""
        )
        + f"; {env_info['rustc']}.",
        f"* ezkl {env_info['ezkl']} (PyPI wheel), onnxruntime {env_info['onnxruntime']}, "
        f"onnx {env_info['onnx']}, Python {env_info['python']}. EZKL run with default "
        '`PyRunArgs` and `calibrate_settings(target="resources")`; its lookup-table cache '
        "lives in `benches/out/ezkl_home` (`EZKL_REPO_PATH`).",
        f"* Command: `{command}`",
        "",
        "![prove time vs parameters](results.png)",
        "",
    ]
    path.write_text("\n".join(lines))


def plot(
    path: Path, records: list[dict[str, Any]], sums: dict[str, dict[str, Any]], timeout: float
) -> None:
    """Log-log prove time vs parameters; failures drawn on the limit line or the bottom edge."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.5))
    colours = {"zkgrad": "tab:blue", "ezkl": "tab:red"}
    labels = LABELS
    times = [
        sums[r["name"]][s]["prove"]
        for r in records
        for s in SYSTEMS
        if sums[r["name"]].get(s, {}).get("prove") is not None
    ]
    bottom = min([*times, 1.0]) / 10
    ax.axhline(timeout, color="grey", ls="--", lw=1)
    ax.annotate(
        f"per-step limit {timeout:.0f} s",
        (0.01, timeout),
        xycoords=("axes fraction", "data"),
        xytext=(0, 3),
        textcoords="offset points",
        fontsize=8,
        color="grey",
        ha="left",
    )
    bottom_row = dict.fromkeys(SYSTEMS, 0)
    for system in SYSTEMS:
        pts = sorted(
            (r["params"], sums[r["name"]][system]["prove"], r["name"])
            for r in records
            if sums[r["name"]].get(system, {}).get("prove") is not None
        )
        mlp = [p for p in pts if not p[2].startswith("cnn")]
        if mlp:
            ax.plot(
                [p[0] for p in mlp],
                [p[1] for p in mlp],
                "o-",
                color=colours[system],
                label=f"{labels[system]}, MLPs",
            )
        cnn = [p for p in pts if p[2].startswith("cnn")]
        if cnn:
            ax.plot(
                [p[0] for p in cnn],
                [p[1] for p in cnn],
                "s",
                color=colours[system],
                markersize=8,
                label=f"{labels[system]}, LeNet CNN",
            )
        for p in pts:
            cnn_label = p[2].startswith("cnn")  # above-left, clear of the MLP line's labels
            ax.annotate(
                _fmt_s(p[1]),
                (p[0], p[1]),
                textcoords="offset points",
                xytext=(-8, 4) if cnn_label else (6, -11),
                ha="right" if cnn_label else "left",
                fontsize=8,
                color=colours[system],
            )
        for r in records:
            summ = sums[r["name"]].get(system, {})
            f = summ.get("failure")
            if not f or summ.get("prove") is not None:
                continue
            if f["status"] in ("timeout", "memory"):
                what = "time limit" if f["status"] == "timeout" else "memory limit"
                ax.plot([r["params"]], [timeout], "X", color=colours[system], markersize=11)
                ax.annotate(
                    f"{labels[system]} {r['name']}: {what}\nat {f['step']}, not proved",
                    (r["params"], timeout),
                    textcoords="offset points",
                    xytext=(-8, 6),
                    ha="right",
                    fontsize=8,
                    color=colours[system],
                )
            else:
                what = {"unsupported": "unsupported", "not run": "not run"}.get(
                    f["status"], f"failed at {f['step']}"
                )
                y = bottom * 1.5 ** (1 + bottom_row[system] + 2 * SYSTEMS.index(system))
                bottom_row[system] += 1
                ax.plot([r["params"]], [y], "X", color=colours[system], markersize=9)
                ax.annotate(
                    f"{labels[system]} {r['name']}: {what}",
                    (r["params"], y),
                    textcoords="offset points",
                    xytext=(-8, -3),
                    ha="right",
                    fontsize=8,
                    color=colours[system],
                )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(bottom, timeout * 3)
    xs = [r["params"] for r in records]
    ax.set_xlim(min(xs) / 3, max(xs) * 2)
    ax.set_xlabel("model parameters")
    ax.set_ylabel("prove time, batch 1, median (s)")
    ax.set_title("zkgrad vs EZKL: prove time vs model size (2-core CPU, shared)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(0, 0.86), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ----------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="zkgrad vs EZKL benchmark")
    parser.add_argument(
        "--models",
        default=",".join(bench_models.SPECS),
        help=f"comma-separated, from: {','.join(bench_models.SPECS)}",
    )
    parser.add_argument("--reps", type=int, default=3, help="repetitions for small models")
    parser.add_argument(
        "--big-reps", type=int, default=1, help="repetitions for cnn_lenet, mlp_1m and mlp_18m"
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"only {','.join(QUICK_MODELS)}, one repetition"
    )
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument(
        "--skip",
        default="",
        help="system:model pairs not to run, comma-separated, e.g. ezkl:mlp_18m (shown as not run)",
    )
    parser.add_argument("--step-timeout", type=float, default=600.0, help="seconds per step")
    parser.add_argument(
        "--srs-timeout",
        type=float,
        default=1800.0,
        help="seconds for EZKL's local SRS generation (a stand-in for a download)",
    )
    parser.add_argument("--mem-limit-gb", type=float, default=20.0, help="GiB resident per step")
    parser.add_argument(
        "--zkgrad-python",
        default=str(REPO / ".venv" / "bin" / "python"),
        help="interpreter with zkgrad installed (make setup builds it)",
    )
    parser.add_argument(
        "--out", type=Path, default=HERE / "out", help="models, work dirs, raw json"
    )
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--plot", type=Path, default=HERE / "results.png")
    parser.add_argument(
        "--no-snapshot",
        action="store_true",
        help="use python/zkgrad in place instead of a copy taken at the start of the run",
    )
    parser.add_argument("--keep-keys", action="store_true", help="keep EZKL pk.key and kzg.srs")
    parser.add_argument(
        "--from-json",
        type=Path,
        metavar="RESULTS_JSON",
        help="rerun nothing: redraw RESULTS.md and the plot from a results.json",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.models = ",".join(QUICK_MODELS)
        args.reps = args.big_reps = 1
    args.models = [m for m in args.models.split(",") if m]
    for m in args.models:
        if m not in bench_models.SPECS:
            parser.error(f"unknown model {m!r}")
    args.systems = [s for s in args.systems.split(",") if s]
    if not set(args.systems) <= set(SYSTEMS) or not args.systems:
        parser.error(f"--systems: choose from {','.join(SYSTEMS)}")
    args.skip = [p for p in args.skip.split(",") if p]
    for p in args.skip:
        system, _, model = p.partition(":")
        if system not in SYSTEMS or model not in bench_models.SPECS:
            parser.error(f"--skip: {p!r} is not system:model")
    args.mem_limit = int(args.mem_limit_gb * GIB)
    args.out = args.out.resolve()
    return args


def _json_args(args: argparse.Namespace) -> dict[str, Any]:
    keep = ("reps", "big_reps", "step_timeout", "srs_timeout", "mem_limit", "systems", "models")
    out = {k: getattr(args, k) for k in keep}
    out["skip"] = getattr(args, "skip", [])
    return out


def rerender(args: argparse.Namespace) -> None:
    raw = json.loads(args.from_json.read_text())
    records = raw["records"]
    sums = {r["name"]: {s: summarise(r, s) for s in SYSTEMS} for r in records}
    run_args = argparse.Namespace(**raw["args"]) if "args" in raw else args
    started = dt.datetime.fromisoformat(raw["started"])
    finished = (
        dt.datetime.fromisoformat(raw["finished"])
        if raw.get("finished")
        else dt.datetime.fromtimestamp(args.from_json.stat().st_mtime)
    )
    write_report(
        args.results, records, sums, raw["environment"], run_args, started, finished, raw["command"]
    )
    plot(args.plot, records, sums, run_args.step_timeout)
    print(f"wrote {args.results} and {args.plot} from {args.from_json}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.from_json:
        rerender(args)
        return
    pythons = {
        "zkgrad": args.zkgrad_python,
        "ezkl": sys.executable,
    }
    if not Path(pythons["zkgrad"]).exists():
        sys.exit(f"{pythons['zkgrad']} not found: run `make setup` first")
    command = " ".join(
        [
            os.path.relpath(sys.executable, REPO)
            if sys.executable.startswith(str(REPO))
            else sys.executable,
            os.path.relpath(__file__, REPO),
            *(argv or sys.argv[1:]),
        ]
    )
    if os.environ.get("MAKELEVEL"):
        command = f"make bench` → `{command}"
    started = dt.datetime.now()
    args.out.mkdir(parents=True, exist_ok=True)
    args.snapshot = None if args.no_snapshot else snapshot_package(args.out)
    env_info = environment(pythons, args.snapshot or REPO / "python")
    print(
        f"zkgrad {env_info['zkgrad_version']} @ {env_info['git_commit'][:12]}"
        f"{' (dirty)' if env_info['git_dirty'] else ''}, ezkl {env_info['ezkl']}; "
        f"{env_info['cpu']}, {env_info['cores']} cores, {env_info['mem_gib']:.1f} GiB"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    records = []
    for name in args.models:
        spec = bench_models.SPECS[name]
        reps = args.big_reps if spec.big else args.reps
        records.append(run_model(spec, reps, args, pythons))
        sums = {r["name"]: {s: summarise(r, s) for s in SYSTEMS if True} for r in records}
        raw = {
            "environment": env_info,
            "command": command,
            "started": started.isoformat(),
            "finished": dt.datetime.now().isoformat(),
            "args": _json_args(args),
            "records": records,
            "summary": sums,
        }
        (args.out / "results.json").write_text(json.dumps(raw, indent=1, default=str))
    finished = dt.datetime.now()
    sums = {r["name"]: {s: summarise(r, s) for s in SYSTEMS} for r in records}
    write_report(args.results, records, sums, env_info, args, started, finished, command)
    plot(args.plot, records, sums, args.step_timeout)
    print(f"\nwrote {args.results} and {args.plot}")


if __name__ == "__main__":
    main()

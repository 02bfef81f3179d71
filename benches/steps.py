"""One benchmark step, run in its own process by ``run.py`` (so its peak RSS is its own).

    python steps.py SYSTEM STEP WORKDIR MODEL.onnx INPUTS.npy

zkgrad steps (system ``zkgrad``: zero knowledge is always on) run under the package's
virtualenv (``../.venv/bin/python``), EZKL steps under
``benches/.venv/bin/python``. The step prints one JSON line prefixed with ``RESULT `` on
stdout: ``seconds`` (perf_counter around the library call only, not the interpreter start or
imports) plus step-specific facts. Any exception makes the process exit non-zero; its last
line of stderr is the reason ``run.py`` records.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np


def _peak_rss_kib() -> int | None:
    """VmHWM of this process since exec (ru_maxrss would include the parent's RSS at fork)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _emit(**fields: object) -> None:
    fields["vmhwm_kib"] = _peak_rss_kib()
    print("RESULT " + json.dumps(fields), flush=True)


def _timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - start


# --------------------------------------------------------------------------- zkgrad


def zkgrad_compile(work: Path, onnx_path: Path, samples: np.ndarray) -> None:
    """``zkgrad.compile`` (zero knowledge is always on)."""
    import zkgrad

    try:
        model, seconds = _timed(zkgrad.compile, str(onnx_path), calibration=samples)
    except zkgrad.UnsupportedModelError as exc:
        _emit(unsupported=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise SystemExit(3) from None
    _, save_s = _timed(model.save, work / "model.zkg")
    _emit(
        seconds=seconds,
        save_seconds=save_s,
        params=model.num_params,
        soundness_bits=model.soundness_bits,
        model_file_bytes=(work / "model.zkg").stat().st_size,
        digest=model.digest,
        module=zkgrad.__file__,
        zk=model.zk,
    )


def zkgrad_prove(work: Path, onnx_path: Path, samples: np.ndarray) -> None:
    import zkgrad

    model, load_s = _timed(zkgrad.Model.load, work / "model.zkg")
    proof, seconds = _timed(model.prove, samples[0])
    proof.save(work / "proof.zkp")
    _emit(
        seconds=seconds,
        load_seconds=load_s,
        proof_bytes=proof.size,
        proof_file_bytes=(work / "proof.zkp").stat().st_size,
        soundness_bits=proof.soundness_bits,
    )


def zkgrad_prove_next(work: Path, onnx_path: Path, samples: np.ndarray) -> None:
    """A second proof, in a fresh process, after ``prove``: the steady state. The model file's
    ledger numbers it into the same weight epoch, whose stored certificate it adopts, so it
    does not make the epoch's leaf and link again (the first proof of an epoch does)."""
    import zkgrad

    model, load_s = _timed(zkgrad.Model.load, work / "model.zkg")
    proof, seconds = _timed(model.prove, samples[1 % len(samples)])
    proof.save(work / "proof_next.zkp")
    _emit(seconds=seconds, load_seconds=load_s, proof_bytes=proof.size)


def zkgrad_verify(work: Path, onnx_path: Path, samples: np.ndarray) -> None:
    import zkgrad

    model, load_s = _timed(zkgrad.Model.load, work / "model.zkg")
    proof = zkgrad.Proof.load(work / "proof.zkp", model)
    output, seconds = _timed(zkgrad.verify, model, proof)
    _emit(
        seconds=seconds,
        load_seconds=load_s,
        verified=True,
        output=np.asarray(output, dtype=np.float64).reshape(-1).tolist(),
    )


# --------------------------------------------------------------------------- EZKL


def _ezkl_paths(work: Path) -> dict[str, str]:
    names = {
        "settings": "settings.json",
        "calib": "calibration.json",
        "input": "input.json",
        "compiled": "model.compiled",
        "srs": "kzg.srs",
        "vk": "vk.key",
        "pk": "pk.key",
        "witness": "witness.json",
        "proof": "proof.json",
    }
    return {k: str(work / v) for k, v in names.items()}


def _logrows(p: dict[str, str]) -> int:
    return int(json.loads(Path(p["settings"]).read_text())["run_args"]["logrows"])


def ezkl_settings(work: Path, onnx_path: Path, samples: np.ndarray) -> None:
    import ezkl

    p = _ezkl_paths(work)
    Path(p["calib"]).write_text(json.dumps({"input_data": [samples.reshape(-1).tolist()]}))
    Path(p["input"]).write_text(json.dumps({"input_data": [samples[0].reshape(-1).tolist()]}))
    run_args = ezkl.PyRunArgs()  # defaults: input/output public, params fixed
    ok, seconds = _timed(ezkl.gen_settings, str(onnx_path), p["settings"], py_run_args=run_args)
    if not ok:
        raise RuntimeError("gen_settings returned False")
    _emit(seconds=seconds)


def ezkl_calibrate(work: Path, onnx_path: Path, samples: np.ndarray) -> None:
    import ezkl

    p = _ezkl_paths(work)
    ok, seconds = _timed(
        ezkl.calibrate_settings, p["calib"], str(onnx_path), p["settings"], target="resources"
    )
    if not ok:
        raise RuntimeError("calibrate_settings returned False")
    settings = json.loads(Path(p["settings"]).read_text())
    _emit(
        seconds=seconds,
        logrows=settings["run_args"]["logrows"],
        num_rows=settings.get("num_rows"),
        input_scale=settings["run_args"].get("input_scale"),
        param_scale=settings["run_args"].get("param_scale"),
    )


def ezkl_compile(work: Path, onnx_path: Path, samples: np.ndarray) -> None:
    import ezkl

    p = _ezkl_paths(work)
    ok, seconds = _timed(ezkl.compile_circuit, str(onnx_path), p["compiled"], p["settings"])
    if not ok:
        raise RuntimeError("compile_circuit returned False")
    _emit(seconds=seconds)


def ezkl_srs(work: Path, onnx_path: Path, samples: np.ndarray) -> None:
    import ezkl

    p = _ezkl_paths(work)
    logrows = _logrows(p)
    # Local, single-party SRS ("testing purposes" in EZKL's docs); never downloaded here.
    _, seconds = _timed(ezkl.gen_srs, p["srs"], logrows)
    _emit(seconds=seconds, logrows=logrows, srs_bytes=Path(p["srs"]).stat().st_size)


def ezkl_keygen(work: Path, onnx_path: Path, samples: np.ndarray) -> None:
    import ezkl

    p = _ezkl_paths(work)
    ok, seconds = _timed(ezkl.setup, p["compiled"], p["vk"], p["pk"], srs_path=p["srs"])
    if not ok:
        raise RuntimeError("setup returned False")
    _emit(
        seconds=seconds,
        pk_bytes=Path(p["pk"]).stat().st_size,
        vk_bytes=Path(p["vk"]).stat().st_size,
    )


def ezkl_witness(work: Path, onnx_path: Path, samples: np.ndarray) -> None:
    import ezkl

    p = _ezkl_paths(work)
    _, seconds = _timed(
        ezkl.gen_witness,
        p["input"],
        p["compiled"],
        p["witness"],
        vk_path=p["vk"],
        srs_path=p["srs"],
    )
    witness = json.loads(Path(p["witness"]).read_text())
    outputs = (witness.get("pretty_elements") or {}).get("rescaled_outputs") or []
    flat = [float(v) for out in outputs for v in np.asarray(out, dtype=np.float64).reshape(-1)]
    _emit(seconds=seconds, output=flat)


def ezkl_prove(work: Path, onnx_path: Path, samples: np.ndarray) -> None:
    import ezkl

    p = _ezkl_paths(work)
    result, seconds = _timed(
        ezkl.prove, p["witness"], p["compiled"], p["pk"], p["proof"], srs_path=p["srs"]
    )
    if not result:
        raise RuntimeError("prove returned nothing")
    proof = json.loads(Path(p["proof"]).read_text())
    raw = proof.get("proof")
    if isinstance(raw, str):
        raw_len = len(bytes.fromhex(raw.removeprefix("0x")))
    else:
        raw_len = len(raw or [])
    _emit(seconds=seconds, proof_bytes=raw_len, proof_file_bytes=Path(p["proof"]).stat().st_size)


def ezkl_verify(work: Path, onnx_path: Path, samples: np.ndarray) -> None:
    import ezkl

    p = _ezkl_paths(work)
    ok, seconds = _timed(
        ezkl.verify, p["proof"], p["settings"], p["vk"], srs_path=p["srs"], reduced_srs=False
    )
    if not ok:
        raise RuntimeError("verify returned False")
    _emit(seconds=seconds, verified=True)


STEPS = {
    "zkgrad": {
        "compile": zkgrad_compile,
        "prove": zkgrad_prove,
        "prove_next": zkgrad_prove_next,
        "verify": zkgrad_verify,
    },
    "ezkl": {
        "settings": ezkl_settings,
        "calibrate": ezkl_calibrate,
        "compile": ezkl_compile,
        "srs": ezkl_srs,
        "keygen": ezkl_keygen,
        "witness": ezkl_witness,
        "prove": ezkl_prove,
        "verify": ezkl_verify,
    },
}


def main(argv: list[str]) -> None:
    system, step, work, onnx_path, inputs = argv
    samples = np.load(inputs)
    STEPS[system][step](Path(work), Path(onnx_path), samples)


if __name__ == "__main__":
    main(sys.argv[1:])

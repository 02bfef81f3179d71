"""VGG-16- and ResNet-18-shaped CNNs on CIFAR-10-shaped input (issue 14): compile, prove,
verify, proof size, peak memory and the error against onnxruntime.

    .venv/bin/python benches/cnn_shapes.py                         # both, full width
    .venv/bin/python benches/cnn_shapes.py --models vgg16 --div 8  # widths ÷ 8
    .venv/bin/python benches/cnn_shapes.py --div 8,4,2 --mem-limit-gb 11

Models are built with ``onnx.helper`` and numpy (fixed seeds, He-normal weights, small biases,
no BatchNorm: omitted, not folded — He scaling alone keeps the activations in range), opset 17,
input [1, 3, 32, 32] U[0, 1), ``--calibration`` samples (sample 0 is proved):

* ``vgg16``: 13 conv 3×3 pad 1 + ReLU in the CIFAR layout [64, 64, M, 128, 128, M, 256 ×3, M,
  512 ×3, M, 512 ×3, M], then the CIFAR classifier 512-512-512-10 with ReLU (Flatten of
  512×1×1): 15,245,130 parameters (14.7M in the convs), 313,725,952 multiply-adds
  (313,196,544 in the convs).
* ``resnet18``: the CIFAR ResNet-18: conv 3×3 stem (64) + ReLU, 4 stages × 2 basic blocks
  [64, 128, 256, 512] (conv 3×3 – ReLU – conv 3×3, + shortcut, ReLU), the first block of
  stages 2–4 strided with a 1×1 stride-2 conv shortcut (with bias), global average pool,
  fc 10: 11,169,162 parameters, 555,422,720 multiply-adds.

``--div D`` divides every width (not the input's 3 channels or the 10 classes) by D: the
scaled-down runs that show what fails and how time and memory grow with width.

Each step is ``benches/steps.py`` in its own process, watched by ``run.py``'s watchdog:
killed past ``--step-timeout`` or ``--mem-limit-gb`` resident, so one model never takes the
shared machine's memory. Peak RSS is the step's own VmHWM. Steps run one at a time:
``compile``; ``prove`` (the first proof of a weight epoch: it also makes the epoch's leaf and
link); ``prove_next`` (the next proof of that epoch in a fresh process: the steady state, 14 of
every 15 proofs); ``verify`` (of the first proof). ``ZKGRAD_PROFILE=1`` in the environment
passes through: the prover's phases land in ``benches/out/cnn/<model>/logs/prove*.err``.
Results: printed as a markdown table and written to ``benches/out/cnn/cnn_shapes.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from models import _finish  # noqa: E402

GIB = 1024**3
VGG16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
RESNET18_STAGES = [64, 128, 256, 512]
CLASSES = 10
INPUT = [1, 3, 32, 32]


class _Builder:
    """Collects nodes and initializers and counts parameters and multiply-adds."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.params = 0
        self.macs = 0
        self._n = 0

    def _name(self, kind: str) -> str:
        self._n += 1
        return f"{kind}{self._n}"

    def _const(self, name: str, a: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(a.astype(np.float32), name))
        self.params += a.size
        return name

    def conv(self, x: str, c_in: int, c_out: int, k: int, hw: int, stride: int = 1) -> str:
        """Conv k×k (pad k // 2) on an hw×hw input; returns its output."""
        name = self._name("conv")
        w = self.rng.standard_normal((c_out, c_in, k, k)) * np.sqrt(2.0 / (c_in * k * k))
        b = self.rng.standard_normal(c_out) * 0.01
        p = k // 2
        self.nodes.append(
            helper.make_node(
                "Conv",
                [x, self._const(f"{name}.w", w), self._const(f"{name}.b", b)],
                [name],
                name=name,
                kernel_shape=[k, k],
                pads=[p, p, p, p],
                strides=[stride, stride],
            )
        )
        out_hw = (hw + 2 * p - k) // stride + 1
        self.macs += c_out * out_hw * out_hw * c_in * k * k
        return name

    def gemm(self, x: str, fan_in: int, fan_out: int, out: str | None = None) -> str:
        name = out or self._name("fc")
        w = self.rng.standard_normal((fan_out, fan_in)) * np.sqrt(2.0 / fan_in)
        b = self.rng.standard_normal(fan_out) * 0.01
        self.nodes.append(
            helper.make_node(
                "Gemm",
                [x, self._const(f"{name}.w", w), self._const(f"{name}.b", b)],
                [name],
                name=name,
                transB=1,
            )
        )
        self.macs += fan_in * fan_out
        return name

    def op(self, kind: str, inputs: list[str], **attrs: object) -> str:
        name = self._name(kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [name], name=name, **attrs))
        return name

    def model(self, name: str, out: str) -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes,
            name,
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, INPUT)],
            [helper.make_tensor_value_info(out, TensorProto.FLOAT, [1, CLASSES])],
            self.inits,
        )
        return _finish(graph)


def build_vgg16(div: int = 1) -> tuple[onnx.ModelProto, int, int]:
    """CIFAR VGG-16 with widths ÷ div; returns (model, parameters, multiply-adds)."""
    b = _Builder(seed=16 * 7919 + div)
    x, c, hw = "input", INPUT[1], INPUT[2]
    for v in VGG16:
        if v == "M":
            x = b.op("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
            hw //= 2
        else:
            width = int(v) // div
            x = b.op("Relu", [b.conv(x, c, width, 3, hw)])
            c = width
    x = b.op("Flatten", [x], axis=1)
    fc = 512 // div
    x = b.op("Relu", [b.gemm(x, c * hw * hw, fc)])
    x = b.op("Relu", [b.gemm(x, fc, fc)])
    b.gemm(x, fc, CLASSES, out="output")
    return b.model(f"vgg16_div{div}", "output"), b.params, b.macs


def build_resnet18(div: int = 1) -> tuple[onnx.ModelProto, int, int]:
    """CIFAR ResNet-18 (no BatchNorm) with widths ÷ div; returns (model, params, MACs)."""
    b = _Builder(seed=18 * 7919 + div)
    hw = INPUT[2]
    c = RESNET18_STAGES[0] // div
    x = b.op("Relu", [b.conv("input", INPUT[1], c, 3, hw)])
    for stage, width in enumerate(RESNET18_STAGES):
        width //= div
        for block in range(2):
            stride = 2 if stage > 0 and block == 0 else 1
            h = b.op("Relu", [b.conv(x, c, width, 3, hw, stride)])
            out_hw = hw // stride
            h = b.conv(h, width, width, 3, out_hw)
            shortcut = b.conv(x, c, width, 1, hw, stride) if stride != 1 or c != width else x
            x = b.op("Relu", [b.op("Add", [h, shortcut])])
            c, hw = width, out_hw
    x = b.op("Flatten", [b.op("GlobalAveragePool", [x])], axis=1)
    b.gemm(x, c, CLASSES, out="output")
    return b.model(f"resnet18_div{div}", "output"), b.params, b.macs


BUILDERS = {"vgg16": build_vgg16, "resnet18": build_resnet18}


def write(name: str, div: int, samples: int, out: Path) -> tuple[Path, Path, int, int]:
    """NAME_divD.onnx and its inputs (U[0, 1), sample 0 proved) under ``out``."""
    model, params, macs = BUILDERS[name](div)
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / f"{name}_div{div}.onnx"
    npy_path = out / f"{name}_div{div}.inputs.npy"
    onnx.save(model, str(onnx_path))
    rng = np.random.default_rng(div * 31 + len(name))
    np.save(npy_path, rng.random((samples, *INPUT[1:])).astype(np.float32))
    return onnx_path, npy_path, params, macs


def reference(onnx_path: Path, inputs: Path) -> tuple[np.ndarray, float]:
    """onnxruntime's float output for sample 0 and its median inference time."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    x = np.load(inputs)[0:1]
    out = session.run(None, {"input": x})[0]
    times = []
    for _ in range(20):
        t = time.perf_counter()
        session.run(None, {"input": x})
        times.append(time.perf_counter() - t)
    return np.asarray(out, dtype=np.float64).reshape(-1), float(np.median(times))


def run_one(name: str, div: int, args: argparse.Namespace) -> dict[str, object]:
    from run import run_step  # the watchdog: timeout, memory limit, VmHWM

    tag = f"{name}_div{div}"
    onnx_path, inputs, params, macs = write(name, div, args.calibration, args.out / "models")
    ref, ref_s = reference(onnx_path, inputs)
    print(f"\n== {tag}: {params:,} params, {macs:,} multiply-adds", flush=True)
    work = args.out / tag
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.setdefault("ZKGRAD_ZK_BUDGET", "warn")
    record: dict[str, object] = {
        "model": name,
        "div": div,
        "params": params,
        "macs": macs,
        "onnxruntime_s": ref_s,
        "load_average": os.getloadavg(),
        "steps": {},
    }
    steps: dict[str, dict[str, object]] = {}
    for step in ("compile", "prove", "prove_next", "verify"):
        res = run_step(
            args.python,
            "zkgrad",
            step,
            work,
            onnx_path,
            inputs,
            args.step_timeout,
            int(args.mem_limit_gb * GIB),
            env,
        )
        steps[step] = asdict(res)
        rss = (res.maxrss_kib or 0) / 1024
        secs = f"{res.seconds:.2f} s" if res.seconds is not None else f"wall {res.wall:.1f} s"
        print(
            f"   {step:8s} {res.status:10s} {secs:>12s} {rss:8.0f} MiB"
            f"  (other load {res.other_cores or 0:.2f} cores)"
            + (f"  {res.error}" if res.error else ""),
            flush=True,
        )
        if res.status != "ok":
            err = (work / "logs" / f"{step}.err").read_text(errors="replace")
            record["error_tail"] = err[-3000:]
            break
    record["steps"] = steps
    verify = steps.get("verify", {})
    output = (verify.get("info") or {}).get("output") if verify.get("status") == "ok" else None
    if output is not None:
        got = np.asarray(output, dtype=np.float64)
        scale = float(np.max(np.abs(ref))) or 1.0
        record["max_abs_err"] = float(np.max(np.abs(got - ref)))
        record["max_rel_err"] = record["max_abs_err"] / scale  # relative to max |output|
        record["top1_same"] = int(np.argmax(got)) == int(np.argmax(ref))
        record["proof_bytes"] = steps["prove"]["info"].get("proof_bytes")
    return record


def _fmt(record: dict[str, object]) -> str:
    st = record["steps"]

    def cell(step: str) -> str:
        s = st.get(step)
        if not s:
            return "–"
        if s["status"] != "ok":
            return f"**{s['status']}** ({(s['maxrss_kib'] or 0) / 1024 / 1024:.1f} GiB)"
        return f"{s['seconds']:.2f} s"

    peak = max(((s.get("maxrss_kib") or 0) for s in st.values()), default=0) / 1024**2
    rss = " / ".join(f"{(st[s].get('maxrss_kib') or 0) / 1024**2:.2f}" for s in st)
    proof = record.get("proof_bytes")
    err = record.get("max_rel_err")
    return (
        f"| {record['model']} ÷{record['div']} | {record['params']:,} | "
        f"{record['macs'] / 1e6:,.1f}M | {cell('compile')} | {cell('prove')} | "
        f"{cell('prove_next')} | {cell('verify')} | "
        f"{f'{proof / 1024:,.0f} KiB' if proof else '–'} | {peak:.2f} ({rss}) | "
        f"{f'{err:.2e}' if err is not None else '–'}"
        f"{'' if record.get('top1_same', True) else ' (top-1 differs)'} |"
    )


HEADER = (
    "| model | params | MACs | compile | prove, first of an epoch | prove, next | verify | proof "
    "| peak RSS GiB (compile / prove / next / verify) | max rel. error vs onnxruntime |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="vgg16,resnet18")
    parser.add_argument("--div", default="1", help="width divisors, comma-separated, e.g. 8,4,2")
    parser.add_argument("--calibration", type=int, default=4, help="calibration samples")
    parser.add_argument("--step-timeout", type=float, default=1800.0)
    parser.add_argument("--mem-limit-gb", type=float, default=12.0)
    parser.add_argument("--python", default=str(REPO / ".venv" / "bin" / "python"))
    parser.add_argument("--out", type=Path, default=HERE / "out" / "cnn")
    parser.add_argument("--counts", action="store_true", help="print params and MACs only")
    args = parser.parse_args(argv)
    names = [m for m in args.models.split(",") if m]
    divs = [int(d) for d in args.div.split(",") if d]
    if args.counts:
        for name in names:
            for div in divs:
                _, params, macs = BUILDERS[name](div)
                print(f"{name} ÷{div}: {params:,} params, {macs:,} multiply-adds")
        return
    args.out = args.out.resolve()
    records = []
    for name in names:
        for div in divs:
            records.append(run_one(name, div, args))
            (args.out / "cnn_shapes.json").write_text(json.dumps(records, indent=1, default=str))
    print("\n" + HEADER)
    for r in records:
        print(_fmt(r))


if __name__ == "__main__":
    main()

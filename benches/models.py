"""Benchmark models: ONNX files built with onnx.helper (fixed seeds), plus their inputs.

Every model has one float32 input of batch 1 and one output. Both systems get the same
ONNX file, the same calibration samples and the same proved input.

    python benches/models.py [--out benches/out/models] [NAME ...]

writes NAME.onnx and NAME.inputs.npy (calibration samples; sample 0 is the proved input).
Needs only numpy and onnx (both virtualenvs have them).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BC_ONNX = REPO / "python" / "zkgrad" / "assets" / "breast_cancer_mlp.onnx"
BC_RECORDS = REPO / "python" / "zkgrad" / "assets" / "records.json"
CALIBRATION_SAMPLES = 8


@dataclass(frozen=True)
class Spec:
    name: str
    title: str
    kind: str  # "mlp" | "cnn" | "bundled"
    dims: tuple[int, ...] = ()
    big: bool = False  # expensive for at least one system: fewer repetitions by default

    @property
    def params(self) -> int:
        if self.kind == "cnn":
            return sum(w.size + b.size for w, b in _lenet_weights())
        if self.kind == "bundled":
            model = onnx.load(str(BC_ONNX))
            return int(sum(np.prod(t.dims) for t in model.graph.initializer))
        return sum(a * b + b for a, b in zip(self.dims, self.dims[1:], strict=False))


SPECS: dict[str, Spec] = {
    s.name: s
    for s in (
        Spec("bc_mlp", "breast-cancer MLP 30-16-8-2 (bundled, trained)", "bundled"),
        Spec("mlp_small", "MLP 784-128-10", "mlp", (784, 128, 10)),
        Spec("cnn_lenet", "LeNet-5 CNN (conv5x5-avgpool ×2, 120-84-10)", "cnn", big=True),
        Spec("mlp_1m", "MLP 1024-512-512-512-10", "mlp", (1024, 512, 512, 512, 10), big=True),
        Spec(
            "mlp_18m",
            "MLP 4096-2048-2048-2048-1024-10",
            "mlp",
            (4096, 2048, 2048, 2048, 1024, 10),
            big=True,
        ),
    )
}


def _seed(name: str) -> int:
    return sum(name.encode()) * 7919 % 2**31


def _dense(rng: np.random.Generator, fan_in: int, fan_out: int) -> tuple[np.ndarray, np.ndarray]:
    """He-normal weights [out, in] (Gemm transB=1) and small biases."""
    w = rng.standard_normal((fan_out, fan_in)) * np.sqrt(2.0 / fan_in)
    b = rng.standard_normal(fan_out) * 0.01
    return w.astype(np.float32), b.astype(np.float32)


def build_mlp(spec: Spec) -> onnx.ModelProto:
    rng = np.random.default_rng(_seed(spec.name))
    nodes, inits = [], []
    current = "input"
    layers = list(zip(spec.dims, spec.dims[1:], strict=False))
    for i, (fan_in, fan_out) in enumerate(layers):
        w, b = _dense(rng, fan_in, fan_out)
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        last = i == len(layers) - 1
        out = "output" if last else f"z{i}"
        nodes.append(helper.make_node("Gemm", [current, f"w{i}", f"b{i}"], [out], transB=1))
        if not last:
            nodes.append(helper.make_node("Relu", [out], [f"a{i}"]))
            current = f"a{i}"
    graph = helper.make_graph(
        nodes,
        spec.name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, spec.dims[0]])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, spec.dims[-1]])],
        inits,
    )
    return _finish(graph)


def _lenet_weights() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(_seed("cnn_lenet"))

    def conv(c_out: int, c_in: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        fan_in = c_in * k * k
        w = rng.standard_normal((c_out, c_in, k, k)) * np.sqrt(2.0 / fan_in)
        return w.astype(np.float32), (rng.standard_normal(c_out) * 0.01).astype(np.float32)

    return [
        conv(6, 1, 5),
        conv(16, 6, 5),
        _dense(rng, 400, 120),
        _dense(rng, 120, 84),
        _dense(rng, 84, 10),
    ]


def build_lenet() -> onnx.ModelProto:
    (c1, c1b), (c2, c2b), (f1, f1b), (f2, f2b), (f3, f3b) = _lenet_weights()
    inits = [
        numpy_helper.from_array(a, n)
        for a, n in [
            (c1, "c1"),
            (c1b, "c1b"),
            (c2, "c2"),
            (c2b, "c2b"),
            (f1, "f1"),
            (f1b, "f1b"),
            (f2, "f2"),
            (f2b, "f2b"),
            (f3, "f3"),
            (f3b, "f3b"),
        ]
    ]
    n = helper.make_node
    nodes = [
        # Every attribute explicit: EZKL 23 rejects a Conv without `strides`.
        n(
            "Conv",
            ["input", "c1", "c1b"],
            ["x1"],
            kernel_shape=[5, 5],
            pads=[2, 2, 2, 2],
            strides=[1, 1],
            dilations=[1, 1],
            group=1,
        ),
        n("Relu", ["x1"], ["r1"]),
        n("AveragePool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 0, 0]),
        n(
            "Conv",
            ["p1", "c2", "c2b"],
            ["x2"],
            kernel_shape=[5, 5],
            pads=[0, 0, 0, 0],
            strides=[1, 1],
            dilations=[1, 1],
            group=1,
        ),
        n("Relu", ["x2"], ["r2"]),
        n("AveragePool", ["r2"], ["p2"], kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 0, 0]),
        n("Flatten", ["p2"], ["flat"], axis=1),
        n("Gemm", ["flat", "f1", "f1b"], ["h1"], transB=1),
        n("Relu", ["h1"], ["a1"]),
        n("Gemm", ["a1", "f2", "f2b"], ["h2"], transB=1),
        n("Relu", ["h2"], ["a2"]),
        n("Gemm", ["a2", "f3", "f3b"], ["output"], transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "cnn_lenet",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 28, 28])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 10])],
        inits,
    )
    return _finish(graph)


def build_bundled() -> onnx.ModelProto:
    """The bundled breast-cancer MLP with its dynamic batch fixed to 1."""
    model = onnx.load(str(BC_ONNX))
    for vi in [*model.graph.input, *model.graph.output]:
        vi.type.tensor_type.shape.dim[0].dim_value = 1
    onnx.checker.check_model(model)
    return model


def _finish(graph: onnx.GraphProto) -> onnx.ModelProto:
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="zkgrad-benches"
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def build(spec: Spec) -> onnx.ModelProto:
    if spec.kind == "mlp":
        return build_mlp(spec)
    if spec.kind == "cnn":
        return build_lenet()
    return build_bundled()


def inputs(spec: Spec, model: onnx.ModelProto) -> np.ndarray:
    """Calibration samples [N, *input_shape] (float32); sample 0 is the proved input."""
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    if spec.kind == "bundled":
        rec = json.loads(BC_RECORDS.read_text())
        x = (np.asarray(rec["features"]) - np.asarray(rec["mean"])) / np.asarray(rec["std"])
        return x[:CALIBRATION_SAMPLES].reshape(-1, *shape).astype(np.float32)
    rng = np.random.default_rng(_seed(spec.name) + 1)
    return rng.random((CALIBRATION_SAMPLES, *shape)).astype(np.float32)


def write(spec: Spec, out: Path) -> tuple[Path, Path]:
    """Write NAME.onnx and NAME.inputs.npy into ``out`` (rebuilt every time)."""
    out.mkdir(parents=True, exist_ok=True)
    model = build(spec)
    onnx_path, npy_path = out / f"{spec.name}.onnx", out / f"{spec.name}.inputs.npy"
    onnx.save(model, str(onnx_path))
    np.save(npy_path, inputs(spec, model))
    return onnx_path, npy_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"one of {', '.join(SPECS)}")
    parser.add_argument("--out", type=Path, default=HERE / "out" / "models")
    args = parser.parse_args()
    for name in args.names or list(SPECS):
        if name not in SPECS:
            parser.error(f"unknown model {name!r}; choose from {', '.join(SPECS)}")
        spec = SPECS[name]
        onnx_path, _ = write(spec, args.out)
        print(f"{name}: {spec.title}, {spec.params:,} params -> {onnx_path}")


if __name__ == "__main__":
    main()

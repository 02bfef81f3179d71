# ruff: noqa
"""Hostile probes of the ONNX importer additions (softmax, norms, div, broadcasting,
padded max pool, single-channel conv, max/min, resize/convtranspose, reduce max/min,
unary lookups). Each probe builds a tiny ONNX model with onnx.helper, compiles it with
calibration samples, proves, verifies and compares against onnxruntime.

Run: .venv/bin/python scripts/probe_import.py [filter-substring ...]
"""

from __future__ import annotations

import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

import zkgrad

RNG = np.random.default_rng(0)
TMP = Path(tempfile.mkdtemp())
RESULTS: list[tuple[str, str, str]] = []


def save(name, nodes, inputs, outputs, inits=(), opset=13):
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in dict(inits).items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = TMP / f"{name}.onnx"
    onnx.save(model, path)
    return path


def probe(name, path, samples, n_prove=2, extra=None, tol_factor=1.5, abs_floor=1e-3):
    """compile / prove / verify / compare; record outcome."""
    t0 = time.time()
    status = "ok"
    detail = ""
    try:
        try:
            desc = zkgrad.inspect(path)
            inspect_ok = True
        except zkgrad.UnsupportedModelError as e:
            inspect_ok = False
            desc = e
        try:
            model = zkgrad.compile(path, calibration=samples)
        except (zkgrad.UnsupportedModelError, zkgrad.ModelError) as e:
            msg = str(e).splitlines()[0][:200]
            status = "refused" if not inspect_ok else "INSPECT-MISMATCH(compile refused)"
            RESULTS.append((name, status, msg))
            print(f"[{status}] {name}: {msg}", flush=True)
            return
        if not inspect_ok:
            status = "INSPECT-MISMATCH(inspect refused)"
            detail = str(desc).splitlines()[0][:150]
        rep = model.report
        sess = ort.InferenceSession(str(path))
        iname = sess.get_inputs()[0].name
        worst = 0.0
        maxabs = float(rep.get("max_abs_error", 0))
        rel = float(rep.get("relative_error", 0))
        xs = list(samples[:n_prove]) + (list(extra) if extra is not None else [])
        for x in xs:
            proof = model.prove(x)
            got = np.asarray(zkgrad.verify(model, proof)).reshape(-1)
            exp = sess.run(None, {iname: x.reshape(sess.get_inputs()[0].shape).astype(np.float32)})[
                0
            ].reshape(-1)
            err = float(np.max(np.abs(got - exp)))
            worst = max(worst, err)
        bound = max(tol_factor * maxabs, abs_floor, rel * float(np.max(np.abs(exp))) * tol_factor)
        if worst > bound:
            status = "WRONG" if status == "ok" else status + "+WRONG"
        detail = f"err={worst:.4g} report max_abs={maxabs:.3g} rel={rel:.3g} {detail}"
    except (zkgrad.UnsupportedModelError, zkgrad.ModelError) as e:
        status = "modelerror@prove"
        detail = str(e).splitlines()[0][:200]
    except zkgrad.InvalidProof as e:
        status = "HONEST-PROOF-REJECTED"
        detail = str(e)[:200]
    except Exception as e:  # noqa: BLE001
        status = "CRASH"
        detail = f"{type(e).__name__}: {str(e)[:200]}\n" + "".join(
            traceback.format_exc().splitlines(True)[-6:]
        )
    RESULTS.append((name, status, detail))
    print(f"[{status}] {name} ({time.time() - t0:.1f}s): {detail}", flush=True)


def cal(shape, n=24, scale=1.0):
    return RNG.normal(0, scale, (n, *shape)).astype(np.float32)


# ---------------------------------------------------------------- probes
PROBES = {}


def reg(f):
    PROBES[f.__name__] = f
    return f


@reg
def softmax_sizes():
    for n in (2, 5, 7, 13, 20):
        p = save(
            f"sm{n}",
            [helper.make_node("Softmax", ["x"], ["y"], name="sm")],
            [("x", [1, n])],
            [("y", [1, n])],
        )
        probe(f"softmax [1,{n}]", p, cal([1, n], scale=2))


@reg
def softmax_axes():
    for shape, axis, opset in [
        ([1, 3, 4], -1, 13),
        ([1, 3, 4], 2, 13),
        ([1, 3, 4], 1, 13),
        ([1, 3, 4], 1, 11),
        ([1, 6], 0, 11),
        ([1, 6], -2, 13),
        ([1, 12], 1, 11),
        ([1, 2, 3], 2, 11),
    ]:
        p = save(
            f"sma{len(shape)}{axis}{opset}",
            [helper.make_node("Softmax", ["x"], ["y"], name="sm", axis=axis)],
            [("x", shape)],
            [("y", shape)],
            opset=opset,
        )
        probe(f"softmax {shape} axis={axis} opset{opset}", p, cal(shape, scale=2))


@reg
def logsoftmax():
    p = save(
        "lsm",
        [helper.make_node("LogSoftmax", ["x"], ["y"], name="lsm")],
        [("x", [1, 6])],
        [("y", [1, 6])],
    )
    probe("logsoftmax [1,6]", p, cal([1, 6]))


@reg
def layernorm():
    for shape, axis, bias, eps in [
        ([1, 8], -1, True, 1e-5),
        ([1, 3, 4], -1, True, 1e-5),
        ([1, 3, 4], -2, True, 1e-5),
        ([1, 3, 4], -1, False, 1e-5),
        ([1, 8], -1, True, 0.5),
        ([1, 3, 4], 1, True, 1e-5),
        ([1, 2], -1, True, 1e-5),
        ([1, 4, 1], -1, True, 1e-5),
    ]:
        norm_shape = shape[axis:] if axis != 0 else shape
        ax = axis if axis >= 0 else len(shape) + axis
        norm_shape = shape[ax:]
        inits = {"g": RNG.uniform(0.5, 1.5, norm_shape).astype(np.float32)}
        ins = ["x", "g"]
        if bias:
            inits["b"] = RNG.normal(0, 0.3, norm_shape).astype(np.float32)
            ins.append("b")
        node = helper.make_node("LayerNormalization", ins, ["y"], name="ln", axis=axis, epsilon=eps)
        p = save(
            f"ln{len(shape)}{axis}{bias}{eps}",
            [node],
            [("x", shape)],
            [("y", shape)],
            inits,
            opset=17,
        )
        probe(f"layernorm {shape} axis={axis} bias={bias} eps={eps}", p, cal(shape, scale=2) + 1.0)


@reg
def instnorm():
    for shape in ([1, 2, 5], [1, 3, 2, 2], [1, 1, 6]):
        c = shape[1]
        inits = {
            "s": RNG.uniform(0.5, 1.5, [c]).astype(np.float32),
            "b": RNG.normal(0, 0.3, [c]).astype(np.float32),
        }
        node = helper.make_node(
            "InstanceNormalization", ["x", "s", "b"], ["y"], name="in", epsilon=1e-5
        )
        p = save(f"in{len(shape)}{c}", [node], [("x", shape)], [("y", shape)], inits)
        probe(f"instancenorm {shape}", p, cal(shape, scale=2))


@reg
def div():
    # divisor = x1 (second input element) through a matmul
    w = np.array([[1.0], [0.0]], np.float32)
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["d"]),
        helper.make_node("Div", ["x", "d"], ["y"], name="div"),
    ]
    p = save("divpos", nodes, [("x", [1, 2])], [("y", [1, 2])], {"w": w})
    s = np.abs(cal([1, 2])) + 0.5
    probe("div by positive activation", p, s)
    s2 = cal([1, 2])  # crosses zero
    probe("div by activation crossing zero", p, s2)
    s3 = np.abs(cal([1, 2])) * 0.01 + 1e-4
    probe("div by activation approaching zero", p, s3)
    s4 = -(np.abs(cal([1, 2])) + 0.5)
    probe("div by negative activation", p, s4)
    # div by sum (normalisation) with broadcasting
    nodes = [
        helper.make_node("ReduceSum", ["x"], ["s"], keepdims=1, axes=[-1]),
        helper.make_node("Div", ["x", "s"], ["y"], name="div"),
    ]
    p = save("divsum", nodes, [("x", [1, 4])], [("y", [1, 4])], opset=12)
    probe("div x/reducesum(x) positive", p, np.abs(cal([1, 4])) + 0.2)
    # scalar constant / activation
    nodes = [helper.make_node("Div", ["c", "x"], ["y"], name="div")]
    p = save("cdiv", nodes, [("x", [1, 3])], [("y", [1, 3])], {"c": np.array(2.0, np.float32)})
    probe("div const/x", p, np.abs(cal([1, 3])) + 0.5)
    # x / x
    p = save(
        "xdivx",
        [helper.make_node("Div", ["x", "x"], ["y"], name="div")],
        [("x", [1, 3])],
        [("y", [1, 3])],
    )
    probe("div x/x", p, np.abs(cal([1, 3])) + 0.5)


@reg
def broadcast():
    for a, b, op in [
        ([1, 3, 1], [1, 3, 4], "Add"),
        ([1, 1, 4], [1, 3, 4], "Mul"),
        ([1, 3, 4], [1, 1, 1], "Sub"),
        ([1, 3, 4], [1, 4], "Mul"),
        ([1, 3, 4], [4], "Add"),
        ([1, 3, 1], [1, 1, 4], "Add"),
        ([1, 3, 4], [1, 3, 1], "Div"),
        ([1, 1], [1, 5], "Sub"),
    ]:
        na, nb = int(np.prod(a)), int(np.prod(b))
        # one input x of size na+nb, split via slicing
        n = na + nb
        nodes = [
            helper.make_node("Slice", ["x", "s0", "e0", "ax"], ["xa"]),
            helper.make_node("Slice", ["x", "s1", "e1", "ax"], ["xb"]),
            helper.make_node("Reshape", ["xa", "sa"], ["A"]),
            helper.make_node("Reshape", ["xb", "sb"], ["B"]),
            helper.make_node(op, ["A", "B"], ["y"], name="bc"),
        ]
        out = list(np.broadcast_shapes(tuple(a), tuple(b)))
        inits = {
            "s0": np.array([0]),
            "e0": np.array([na]),
            "s1": np.array([na]),
            "e1": np.array([n]),
            "ax": np.array([1]),
            "sa": np.array(a),
            "sb": np.array(b),
        }
        p = save(f"bc{op}{na}{nb}{len(a)}{len(b)}", nodes, [("x", [1, n])], [("y", out)], inits)
        s = cal([1, n])
        if op == "Div":
            s = np.abs(s) + 0.5
        probe(f"broadcast {op} {a} vs {b}", p, s)


@reg
def maxpool():
    for shape, k, pads, strides, ceil in [
        ([1, 1, 5, 5], [3, 3], [1, 1, 1, 1], [1, 1], 0),
        ([1, 2, 5, 5], [3, 3], [0, 1, 1, 0], [1, 1], 0),
        ([1, 1, 6, 6], [3, 3], [1, 1, 1, 1], [2, 2], 0),
        ([1, 1, 5, 5], [2, 2], [0, 0, 0, 0], [2, 2], 1),
        ([1, 1, 5, 5], [3, 3], [1, 1, 1, 1], [2, 2], 1),
        ([1, 1, 4, 4], [2, 2], [1, 1, 0, 0], [2, 2], 0),
        ([1, 1, 4, 4], [2, 2], [1, 1, 1, 1], [1, 1], 0),
        ([1, 1, 7], [3], [1, 1], [2], 0),
        ([1, 1, 5, 5], [3, 3], [2, 2, 2, 2], [1, 1], 0),
    ]:
        attrs = dict(kernel_shape=k, pads=pads, strides=strides)
        if ceil:
            attrs["ceil_mode"] = 1
        node = helper.make_node("MaxPool", ["x"], ["y"], name="mp", **attrs)
        # compute out shape via ort by leaving output shape unspecified
        g = helper.make_graph(
            [node],
            "mp",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        )
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
        m.ir_version = 8
        try:
            out = (
                ort.InferenceSession(m.SerializeToString())
                .run(None, {"x": np.zeros(shape, np.float32)})[0]
                .shape
            )
        except Exception as e:
            print("ort refused", shape, attrs, e)
            continue
        p = save(
            f"mp{len(shape)}{k}{pads}{strides}{ceil}".replace(" ", "")
            .replace(",", "")
            .replace("[", "")
            .replace("]", ""),
            [node],
            [("x", shape)],
            [("y", list(out))],
        )
        probe(
            f"maxpool {shape} k={k} pads={pads} strides={strides} ceil={ceil}", p, cal(shape) - 1.0
        )


@reg
def conv1ch():
    for shape, k, pads, strides, dil in [
        ([1, 1, 5, 5], [3, 3], [1, 1, 1, 1], [1, 1], [1, 1]),
        ([1, 1, 6, 6], [3, 3], [0, 0, 0, 0], [2, 2], [1, 1]),
        ([1, 1, 6, 6], [2, 2], [1, 0, 0, 1], [2, 1], [1, 1]),
        ([1, 1, 7, 7], [3, 3], [0, 0, 0, 0], [1, 1], [2, 2]),
        ([1, 1, 8], [3], [1, 1], [2], [1]),
    ]:
        w = RNG.normal(0, 0.5, [1, 1, *k]).astype(np.float32)
        b = np.array([0.1], np.float32)
        node = helper.make_node(
            "Conv",
            ["x", "w", "b"],
            ["y"],
            name="conv",
            kernel_shape=k,
            pads=pads,
            strides=strides,
            dilations=dil,
        )
        g = helper.make_graph(
            [node],
            "c",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
            [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")],
        )
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
        m.ir_version = 8
        out = (
            ort.InferenceSession(m.SerializeToString())
            .run(None, {"x": np.zeros(shape, np.float32)})[0]
            .shape
        )
        p = save(
            f"c1{len(shape)}{k}{pads}{strides}{dil}".replace(" ", "")
            .replace(",", "")
            .replace("[", "")
            .replace("]", ""),
            [node],
            [("x", shape)],
            [("y", list(out))],
            {"w": w, "b": b},
        )
        probe(f"1ch conv {shape} k={k} pads={pads} strides={strides} dil={dil}", p, cal(shape))


@reg
def maxmin():
    for op, a, b in [
        ("Max", [1, 4], [1, 4]),
        ("Min", [1, 3, 1], [1, 1, 4]),
        ("Max", [1, 4], None),
        ("Min", [1, 2, 3], [3]),
    ]:
        if b is None:
            nodes = [helper.make_node(op, ["x", "c"], ["y"], name="mm")]
            p = save(f"mm{op}c", nodes, [("x", a)], [("y", a)], {"c": np.array(0.3, np.float32)})
            probe(f"{op} x vs scalar 0.3", p, cal(a))
            nodes = [helper.make_node(op, ["x", "c"], ["y"], name="mm")]
            cv = RNG.normal(0, 1, a).astype(np.float32)
            p = save(f"mm{op}cv", nodes, [("x", a)], [("y", a)], {"c": cv})
            probe(f"{op} x vs const tensor", p, cal(a))
            nodes = [helper.make_node(op, ["x", "x", "c"], ["y"], name="mm")]
            p = save(f"mm{op}3", nodes, [("x", a)], [("y", a)], {"c": np.array(0.3, np.float32)})
            probe(f"{op} variadic 3 inputs", p, cal(a))
            nodes = [helper.make_node(op, ["x"], ["y"], name="mm")]
            p = save(f"mm{op}1", nodes, [("x", a)], [("y", a)])
            probe(f"{op} single input", p, cal(a))
            continue
        na, nb = int(np.prod(a)), int(np.prod(b))
        n = na + nb
        nodes = [
            helper.make_node("Slice", ["x", "s0", "e0", "ax"], ["xa"]),
            helper.make_node("Slice", ["x", "s1", "e1", "ax"], ["xb"]),
            helper.make_node("Reshape", ["xa", "sa"], ["A"]),
            helper.make_node("Reshape", ["xb", "sb"], ["B"]),
            helper.make_node(op, ["A", "B"], ["y"], name="mm"),
        ]
        out = list(np.broadcast_shapes(tuple(a), tuple(b)))
        inits = {
            "s0": np.array([0]),
            "e0": np.array([na]),
            "s1": np.array([na]),
            "e1": np.array([n]),
            "ax": np.array([1]),
            "sa": np.array(a),
            "sb": np.array(b),
        }
        p = save(f"mm{op}{na}{nb}", nodes, [("x", [1, n])], [("y", out)], inits)
        probe(f"{op} {a} vs {b}", p, cal([1, n]))


@reg
def unary():
    cases = [
        ("Clip", {"min": -0.5}, 11, "min only opset11 input"),
        ("Clip", {"max": 0.5}, 11, "max only opset11 input"),
        ("Clip", {}, 11, "no bounds"),
        ("Clip", {"min_attr": -0.5, "max_attr": 0.5}, 6, "opset6 attrs"),
        ("Clip", {"min": 0.5, "max": -0.5}, 11, "min>max"),
        ("Celu", {"alpha": 0.5}, 12, ""),
        ("ThresholdedRelu", {"alpha": 0.3}, 10, ""),
        ("Shrink", {"lambd": 0.4, "bias": 0.2}, 9, ""),
        ("Shrink", {"lambd": 0.0, "bias": 0.0}, 9, "identity"),
        ("Mish", {}, 18, ""),
    ]
    for op, kw, opset, note in cases:
        inits = {}
        if op == "Clip" and opset >= 11:
            ins = ["x", "mn" if "min" in kw else "", "mx" if "max" in kw else ""]
            while ins and ins[-1] == "":
                ins.pop()
            if "min" in kw:
                inits["mn"] = np.array(kw["min"], np.float32)
            if "max" in kw:
                inits["mx"] = np.array(kw["max"], np.float32)
            node = helper.make_node(op, ins, ["y"], name="u")
        elif op == "Clip":
            node = helper.make_node(
                op, ["x"], ["y"], name="u", min=kw["min_attr"], max=kw["max_attr"]
            )
        else:
            node = helper.make_node(op, ["x"], ["y"], name="u", **kw)
        p = save(
            f"u{op}{opset}{len(kw)}{note.replace(' ', '')}".replace(">", "gt"),
            [node],
            [("x", [1, 6])],
            [("y", [1, 6])],
            inits,
            opset=opset,
        )
        probe(f"{op} {kw} opset{opset} {note}", p, cal([1, 6], scale=2))


@reg
def resize():
    for mode, ctm, scales, nearest in [
        ("nearest", "asymmetric", [1, 1, 2, 2], "floor"),
        ("nearest", "half_pixel", [1, 1, 2, 2], "round_prefer_floor"),
        ("linear", "half_pixel", [1, 1, 2, 2], None),
        ("linear", "align_corners", [1, 1, 2, 2], None),
        ("linear", "asymmetric", [1, 1, 1.5, 1.5], None),
        ("nearest", "asymmetric", [1, 1, 0.5, 0.5], "floor"),
        ("cubic", "half_pixel", [1, 1, 2, 2], None),
        ("linear", "pytorch_half_pixel", [1, 1, 3, 1], None),
    ]:
        attrs = {"mode": mode, "coordinate_transformation_mode": ctm}
        if nearest:
            attrs["nearest_mode"] = nearest
        shape = [1, 2, 3, 4]
        node = helper.make_node("Resize", ["x", "roi", "sc"], ["y"], name="rs", **attrs)
        inits = {"roi": np.array([], np.float32), "sc": np.array(scales, np.float32)}
        g = helper.make_graph(
            [node],
            "r",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
            [numpy_helper.from_array(v, k) for k, v in inits.items()],
        )
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
        m.ir_version = 8
        out = (
            ort.InferenceSession(m.SerializeToString())
            .run(None, {"x": np.zeros(shape, np.float32)})[0]
            .shape
        )
        p = save(f"rs{mode}{ctm}{scales[2]}", [node], [("x", shape)], [("y", list(out))], inits)
        probe(f"resize {mode} {ctm} scales={scales}", p, cal(shape))
    # Upsample opset 9
    node = helper.make_node("Upsample", ["x", "sc"], ["y"], name="up", mode="nearest")
    p = save(
        "ups",
        [node],
        [("x", [1, 1, 2, 3])],
        [("y", [1, 1, 4, 6])],
        {"sc": np.array([1, 1, 2, 2], np.float32)},
        opset=9,
    )
    probe("upsample opset9 nearest x2", p, cal([1, 1, 2, 3]))


@reg
def convtranspose():
    for shape, cin, cout, k, strides, pads, outpad, group in [
        ([1, 2, 3, 3], 2, 3, [3, 3], [2, 2], [1, 1, 1, 1], [1, 1], 1),
        ([1, 1, 4], 1, 2, [2], [2], [0, 0], [0], 1),
        ([1, 2, 3, 3], 2, 2, [2, 2], [1, 1], [0, 0, 0, 0], [0, 0], 2),
    ]:
        w = RNG.normal(0, 0.5, [cin, cout // group, *k]).astype(np.float32)
        node = helper.make_node(
            "ConvTranspose",
            ["x", "w"],
            ["y"],
            name="ct",
            strides=strides,
            pads=pads,
            output_padding=outpad,
            group=group,
        )
        g = helper.make_graph(
            [node],
            "ct",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
            [numpy_helper.from_array(w, "w")],
        )
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
        m.ir_version = 8
        out = (
            ort.InferenceSession(m.SerializeToString())
            .run(None, {"x": np.zeros(shape, np.float32)})[0]
            .shape
        )
        p = save(
            f"ct{len(shape)}{cin}{cout}{group}",
            [node],
            [("x", shape)],
            [("y", list(out))],
            {"w": w},
        )
        probe(
            f"convtranspose {shape} w={list(w.shape)} s={strides} p={pads} op={outpad} g={group}",
            p,
            cal(shape),
        )


@reg
def reduce_extreme():
    for op, shape, axes, keep, opset in [
        ("ReduceMax", [1, 6], [1], 1, 13),
        ("ReduceMin", [1, 3, 4], [-1], 0, 13),
        ("ReduceMax", [1, 3, 4], [1], 1, 13),
        ("ReduceMin", [1, 3, 4], None, 1, 13),
        ("ReduceMax", [1, 3, 4], [1, 2], 0, 13),
        ("ReduceMax", [1, 3, 4], [-1], 1, 18),
    ]:
        kw = {"keepdims": keep}
        inits = {}
        ins = ["x"]
        if axes is not None:
            if opset >= 18:
                inits["axes"] = np.array(axes, np.int64)
                ins.append("axes")
            else:
                kw["axes"] = axes
        node = helper.make_node(op, ins, ["y"], name="rd", **kw)
        g = helper.make_graph(
            [node],
            "r",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
            [numpy_helper.from_array(v, k) for k, v in inits.items()],
        )
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
        m.ir_version = 8
        out = (
            ort.InferenceSession(m.SerializeToString())
            .run(None, {"x": np.zeros(shape, np.float32)})[0]
            .shape
        )
        p = save(
            f"rd{op}{len(shape)}{axes}{keep}{opset}".replace(" ", "")
            .replace(",", "")
            .replace("[", "")
            .replace("]", "")
            .replace("-", "m"),
            [node],
            [("x", shape)],
            [("y", list(out))],
            inits,
            opset=opset,
        )
        probe(f"{op} {shape} axes={axes} keepdims={keep} opset{opset}", p, cal(shape))


def _outshape(nodes, shape, inits, opset):
    g = helper.make_graph(
        nodes,
        "o",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()],
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return list(
        ort.InferenceSession(m.SerializeToString())
        .run(None, {"x": np.zeros(shape, np.float32)})[0]
        .shape
    )


_N = [0]


def gen(label, nodes, shape, samples, inits=None, opset=13, extra=None):
    inits = inits or {}
    _N[0] += 1
    try:
        out = _outshape(nodes, shape, inits, opset)
    except Exception as e:  # noqa: BLE001
        print(f"[ort-refused] {label}: {str(e)[:150]}")
        return
    p = save(f"g{_N[0]}", nodes, [("x", shape)], [(nodes[-1].output[0], out)], inits, opset=opset)
    probe(label, p, samples, extra=extra)


@reg
def broadcast2():
    x = cal([1, 3, 4])
    for red, axes, op in [
        ("ReduceMean", [1], "Sub"),
        ("ReduceMean", [1], "Mul"),
        ("ReduceMax", [2], "Sub"),
        ("ReduceMean", [1, 2], "Sub"),
        ("ReduceMean", [1, 2], "Mul"),
        ("ReduceMean", [2], "Add"),
        ("ReduceMean", [1], "Max"),
        ("ReduceMean", [2], "Min"),
    ]:
        for order in (("x", "m"), ("m", "x")):
            nodes = [
                helper.make_node(red, ["x"], ["m"], axes=axes, keepdims=1),
                helper.make_node(op, list(order), ["y"], name="bc"),
            ]
            gen(f"broadcast {op}{order} {red}{axes}", nodes, [1, 3, 4], x)
    # keepdims=0 broadcasting rank-2 vs rank-3
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["m"], axes=[1], keepdims=0),
        helper.make_node("Sub", ["x", "m"], ["y"], name="bc"),
    ]
    gen("broadcast Sub x[1,3,4] - mean[1,4] (keepdims=0)", nodes, [1, 3, 4], x)
    # Div by broadcast sum
    nodes = [
        helper.make_node("ReduceSum", ["x"], ["m"], keepdims=1, axes=[2]),
        helper.make_node("Div", ["x", "m"], ["y"], name="bc"),
    ]
    gen("broadcast Div x / rowsum [1,3,1]", nodes, [1, 3, 4], np.abs(x) + 0.3, opset=12)
    nodes = [
        helper.make_node("ReduceSum", ["x"], ["m"], keepdims=1, axes=[1]),
        helper.make_node("Div", ["m", "x"], ["y"], name="bc"),
    ]
    gen("broadcast Div colsum [1,1,4] / x", nodes, [1, 3, 4], np.abs(x) + 0.3, opset=12)


@reg
def degenerate_calibration():
    z = np.zeros((8, 1, 10), np.float32)
    p = save(
        "smz",
        [helper.make_node("Softmax", ["x"], ["y"], name="sm")],
        [("x", [1, 10])],
        [("y", [1, 10])],
    )
    probe("softmax constant-zero calibration", p, z)
    probe("softmax big logits (scale 20)", p, cal([1, 10], scale=20))
    p = save(
        "lnc",
        [
            helper.make_node(
                "LayerNormalization", ["x", "g", "b"], ["y"], name="ln", axis=-1, epsilon=1e-5
            )
        ],
        [("x", [1, 12])],
        [("y", [1, 12])],
        {"g": np.ones(12, np.float32), "b": np.zeros(12, np.float32)},
        opset=17,
    )
    c = cal([1, 12])
    c[:3] = 0.7  # constant rows: variance 0
    probe("layernorm with constant rows in calibration", p, c)
    probe("layernorm [1,12]", p, cal([1, 12]))
    p = save(
        "lne",
        [
            helper.make_node(
                "LayerNormalization", ["x", "g"], ["y"], name="ln", axis=-1, epsilon=0.5
            )
        ],
        [("x", [1, 12])],
        [("y", [1, 12])],
        {"g": -np.linspace(0, 2, 12).astype(np.float32)},
        opset=17,
    )
    probe("layernorm eps=0.5 negative/zero scale no bias", p, cal([1, 12]))
    p = save(
        "lns",
        [
            helper.make_node(
                "LayerNormalization", ["x", "g", "b"], ["y"], name="ln", axis=-1, epsilon=1e-5
            )
        ],
        [("x", [1, 12])],
        [("y", [1, 12])],
        {"g": np.ones(12, np.float32), "b": np.zeros(12, np.float32)},
        opset=17,
    )
    probe("layernorm tiny-variance inputs (scale 1e-3)", p, cal([1, 12], scale=1e-3))
    probe("layernorm large inputs (scale 100)", p, cal([1, 12], scale=100))
    # LayerNorm with extra outputs Mean / InvStdDev consumed? just declared
    node = helper.make_node(
        "LayerNormalization", ["x", "g", "b"], ["y", "mean", "isd"], name="ln", axis=-1
    )
    g = helper.make_graph(
        [node],
        "l3",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 12])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 12])],
        [
            numpy_helper.from_array(np.ones(12, np.float32), "g"),
            numpy_helper.from_array(np.zeros(12, np.float32), "b"),
        ],
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    path = TMP / "ln3out.onnx"
    onnx.save(m, path)
    probe("layernorm with Mean/InvStdDev outputs", path, cal([1, 12]))
    # stash_type
    node = helper.make_node(
        "LayerNormalization", ["x", "g"], ["y"], name="ln", axis=-1, stash_type=0
    )
    gen(
        "layernorm stash_type=0",
        [node],
        [1, 12],
        cal([1, 12]),
        {"g": np.ones(12, np.float32)},
        opset=17,
    )


@reg
def div2():
    w = np.array([[1.0], [0.0]], np.float32)
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["d"]),
        helper.make_node("Div", ["x", "d"], ["y"], name="div"),
    ]
    p = save("div2", nodes, [("x", [1, 2])], [("y", [1, 2])], {"w": w})
    s = cal([1, 2], n=32)
    s[:, 0, 0] = np.abs(s[:, 0, 0]) + 0.05
    order = np.argsort(s[:, 0, 0])
    probe("div: divisor in [0.05, 3]; prove smallest-divisor rows", p, s[order])
    probe(
        "div: calibrated >0.05, prove divisor 0.001",
        p,
        s,
        extra=[np.array([[0.001, 1.0]], np.float32)],
    )
    probe(
        "div: calibrated >0.05, prove divisor -0.5",
        p,
        s,
        extra=[np.array([[-0.5, 1.0]], np.float32)],
    )
    probe(
        "div: calibrated >0.05, prove divisor 0", p, s, extra=[np.array([[0.0, 1.0]], np.float32)]
    )
    # integer-ish: Div with both ops constant-folded? divisor is a graph input directly
    nodes = [
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node("Div", ["r", "x"], ["y"], name="div"),
    ]
    gen("div relu(x)/x", nodes, [1, 4], np.abs(cal([1, 4])) + 0.5)


@reg
def pool2():
    x6 = cal([1, 1, 6, 6]) - 1
    for attrs in [
        dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2], ceil_mode=1),
        dict(kernel_shape=[3, 3], auto_pad="SAME_UPPER", strides=[2, 2]),
        dict(kernel_shape=[2, 2], auto_pad="SAME_LOWER", strides=[1, 1]),
        dict(kernel_shape=[3, 3], auto_pad="VALID", strides=[1, 1]),
        dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1], dilations=[2, 2]),
        dict(kernel_shape=[3, 2], pads=[1, 0, 1, 1], strides=[1, 2]),
        dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1], storage_order=1),
    ]:
        gen(
            f"maxpool [1,1,6,6] {attrs}",
            [helper.make_node("MaxPool", ["x"], ["y"], name="mp", **attrs)],
            [1, 1, 6, 6],
            x6,
        )
    x = cal([1, 4, 4, 4]) - 1
    gen(
        "maxpool 4ch 4x4 pads 1 k3 (padded 6: not pow2)",
        [
            helper.make_node(
                "MaxPool", ["x"], ["y"], name="mp", kernel_shape=[3, 3], pads=[1, 1, 1, 1]
            )
        ],
        [1, 4, 4, 4],
        x,
    )
    x = cal([1, 2, 6, 6]) - 1
    gen(
        "maxpool 2ch 6x6 pads 1 k3 s2 (padded 8)",
        [
            helper.make_node(
                "MaxPool",
                ["x"],
                ["y"],
                name="mp",
                kernel_shape=[3, 3],
                pads=[1, 1, 1, 1],
                strides=[2, 2],
            )
        ],
        [1, 2, 6, 6],
        x,
    )
    gen(
        "maxpool 2ch 7x7 pads[0,0,1,1] k2 s2 (padded 8)",
        [
            helper.make_node(
                "MaxPool",
                ["x"],
                ["y"],
                name="mp",
                kernel_shape=[2, 2],
                pads=[0, 0, 1, 1],
                strides=[2, 2],
            )
        ],
        [1, 2, 7, 7],
        cal([1, 2, 7, 7]) - 1,
    )
    # Relu -> padded pool (zero padding would be fine, -inf semantics)
    for attrs in [
        dict(kernel_shape=[3, 3], auto_pad="SAME_UPPER"),
        dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=1),
    ]:
        w = RNG.normal(0, 0.5, [1, 1, 3, 3]).astype(np.float32)
        a = {k: v for k, v in attrs.items()}
        gen(
            f"1ch conv {attrs}",
            [helper.make_node("Conv", ["x", "w"], ["y"], name="conv", **a)],
            [1, 1, 6, 6],
            x6,
            {"w": w},
        )
    w = RNG.normal(0, 0.5, [3, 1, 3, 3]).astype(np.float32)
    gen(
        "conv 1 in-ch -> 3 out-ch pads 1",
        [helper.make_node("Conv", ["x", "w"], ["y"], name="conv", pads=[1, 1, 1, 1])],
        [1, 1, 6, 6],
        x6,
        {"w": w},
    )
    w = RNG.normal(0, 0.5, [1, 1, 1, 1]).astype(np.float32)
    gen(
        "1ch conv 1x1 kernel stride 2",
        [helper.make_node("Conv", ["x", "w"], ["y"], name="conv", strides=[2, 2])],
        [1, 1, 6, 6],
        x6,
        {"w": w},
    )
    w = RNG.normal(0, 0.5, [1, 1, 6, 6]).astype(np.float32)
    gen(
        "1ch conv full-size kernel",
        [helper.make_node("Conv", ["x", "w"], ["y"], name="conv")],
        [1, 1, 6, 6],
        x6,
        {"w": w},
    )


@reg
def unary2():
    x = cal([1, 6], scale=5)
    cases = [
        (
            "Clip eq bounds",
            [helper.make_node("Clip", ["x", "a", "a"], ["y"], name="u")],
            {"a": np.array(0.2, np.float32)},
            13,
        ),
        (
            "Clip bounds as graph-input-derived (non-const) min",
            [
                helper.make_node("ReduceMin", ["x"], ["m"], keepdims=0),
                helper.make_node("Clip", ["x", "m"], ["y"], name="u"),
            ],
            {},
            13,
        ),
        (
            "Clip min shape [1]",
            [helper.make_node("Clip", ["x", "a"], ["y"], name="u")],
            {"a": np.array([0.2], np.float32)},
            13,
        ),
        ("Celu alpha 0.01", [helper.make_node("Celu", ["x"], ["y"], name="u", alpha=0.01)], {}, 13),
        ("Celu alpha 0", [helper.make_node("Celu", ["x"], ["y"], name="u", alpha=0.0)], {}, 13),
        (
            "ThresholdedRelu alpha -1",
            [helper.make_node("ThresholdedRelu", ["x"], ["y"], name="u", alpha=-1.0)],
            {},
            13,
        ),
        (
            "Shrink lambd -1",
            [helper.make_node("Shrink", ["x"], ["y"], name="u", lambd=-1.0, bias=0.5)],
            {},
            13,
        ),
        (
            "Shrink big bias",
            [helper.make_node("Shrink", ["x"], ["y"], name="u", lambd=0.1, bias=3.0)],
            {},
            13,
        ),
        ("Mish wide", [helper.make_node("Mish", ["x"], ["y"], name="u")], {}, 18),
        ("Max(x,x)", [helper.make_node("Max", ["x", "x"], ["y"], name="u")], {}, 13),
        (
            "Min(x, relu(x))",
            [
                helper.make_node("Relu", ["x"], ["r"]),
                helper.make_node("Min", ["x", "r"], ["y"], name="u"),
            ],
            {},
            13,
        ),
        (
            "Max(relu(x), x) reversed",
            [
                helper.make_node("Relu", ["x"], ["r"]),
                helper.make_node("Max", ["r", "x"], ["y"], name="u"),
            ],
            {},
            13,
        ),
        ("Max opset 6", [helper.make_node("Max", ["x", "x"], ["y"], name="u")], {}, 6),
        (
            "Min(x, -inf const)",
            [helper.make_node("Min", ["x", "a"], ["y"], name="u")],
            {"a": np.array(-np.inf, np.float32)},
            13,
        ),
        (
            "Max(x, nan const)",
            [helper.make_node("Max", ["x", "a"], ["y"], name="u")],
            {"a": np.array(np.nan, np.float32)},
            13,
        ),
        (
            "Clip min=inf",
            [helper.make_node("Clip", ["x", "a"], ["y"], name="u")],
            {"a": np.array(np.inf, np.float32)},
            13,
        ),
        (
            "Max(x, 1e6)",
            [helper.make_node("Max", ["x", "a"], ["y"], name="u")],
            {"a": np.array(1e6, np.float32)},
            13,
        ),
    ]
    for label, nodes, inits, opset in cases:
        gen(label, nodes, [1, 6], x, inits, opset)


@reg
def resize2():
    shape = [1, 2, 3, 4]
    x = cal(shape)

    def rs(label, attrs, inputs, inits, opset=13):
        gen(
            label,
            [helper.make_node("Resize", ["x", *inputs], ["y"], name="rs", **attrs)],
            shape,
            x,
            inits,
            opset,
        )

    e = np.array([], np.float32)
    rs(
        "resize sizes input nearest",
        {"mode": "nearest"},
        ["roi", "sc", "sz"],
        {"roi": e, "sc": e, "sz": np.array([1, 2, 5, 7], np.int64)},
    )
    rs(
        "resize sizes input linear",
        {"mode": "linear"},
        ["roi", "sc", "sz"],
        {"roi": e, "sc": e, "sz": np.array([1, 2, 5, 7], np.int64)},
    )
    rs(
        "resize channel axis x2",
        {"mode": "nearest"},
        ["roi", "sc"],
        {"roi": e, "sc": np.array([1, 2, 1, 1], np.float32)},
    )
    rs(
        "resize nearest round_prefer_ceil",
        {"mode": "nearest", "nearest_mode": "round_prefer_ceil"},
        ["roi", "sc"],
        {"roi": e, "sc": np.array([1, 1, 1.7, 2.5], np.float32)},
    )
    rs(
        "resize nearest ceil",
        {"mode": "nearest", "nearest_mode": "ceil"},
        ["roi", "sc"],
        {"roi": e, "sc": np.array([1, 1, 2, 2], np.float32)},
    )
    rs(
        "resize linear exclude_outside",
        {"mode": "linear", "exclude_outside": 1},
        ["roi", "sc"],
        {"roi": e, "sc": np.array([1, 1, 0.6, 0.6], np.float32)},
    )
    rs(
        "resize cubic a=-0.5 exclude_outside",
        {"mode": "cubic", "cubic_coeff_a": -0.5, "exclude_outside": 1},
        ["roi", "sc"],
        {"roi": e, "sc": np.array([1, 1, 2, 2], np.float32)},
    )
    rs(
        "resize tf_crop_and_resize",
        {
            "mode": "linear",
            "coordinate_transformation_mode": "tf_crop_and_resize",
            "extrapolation_value": 5.0,
        },
        ["roi", "sc"],
        {
            "roi": np.array([0, 0, 0.2, 0.2, 1, 1, 1.2, 0.8], np.float32),
            "sc": np.array([1, 1, 2, 2], np.float32),
        },
    )
    rs(
        "resize half_pixel_symmetric opset19",
        {"mode": "linear", "coordinate_transformation_mode": "half_pixel_symmetric"},
        ["roi", "sc"],
        {"roi": e, "sc": np.array([1, 1, 1.5, 1.5], np.float32)},
        19,
    )
    rs(
        "resize antialias downscale opset18",
        {"mode": "linear", "antialias": 1},
        ["roi", "sc"],
        {"roi": e, "sc": np.array([1, 1, 0.5, 0.5], np.float32)},
        18,
    )
    rs(
        "resize axes attr opset18",
        {"mode": "nearest", "axes": [2, 3]},
        ["roi", "sc"],
        {"roi": e, "sc": np.array([2, 2], np.float32)},
        18,
    )
    rs(
        "resize keep_aspect_ratio not_larger opset18",
        {"mode": "nearest", "keep_aspect_ratio_policy": "not_larger"},
        ["roi", "", "sz"],
        {"roi": e, "sz": np.array([1, 2, 6, 6], np.int64)},
        18,
    )
    rs(
        "resize opset10 scales only",
        {"mode": "linear"},
        ["sc"],
        {"sc": np.array([1, 1, 2, 2], np.float32)},
        10,
    )
    rs(
        "resize linear downscale 0.5 half_pixel",
        {"mode": "linear"},
        ["roi", "sc"],
        {"roi": e, "sc": np.array([1, 1, 0.5, 0.5], np.float32)},
    )
    gen(
        "upsample opset7 attr scales linear",
        [
            helper.make_node(
                "Upsample", ["x"], ["y"], name="up", mode="linear", scales=[1.0, 1.0, 2.0, 2.0]
            )
        ],
        shape,
        x,
        {},
        7,
    )
    gen(
        "upsample opset9 linear",
        [helper.make_node("Upsample", ["x", "sc"], ["y"], name="up", mode="linear")],
        shape,
        x,
        {"sc": np.array([1, 1, 2, 3], np.float32)},
        9,
    )
    # ConvTranspose extras
    w = RNG.normal(0, 0.5, [2, 2, 3, 3]).astype(np.float32)
    for attrs in [
        dict(strides=[2, 2], auto_pad="SAME_UPPER"),
        dict(strides=[2, 2], output_shape=[7, 9]),
        dict(dilations=[2, 2]),
        dict(strides=[2, 2], pads=[0, 1, 1, 0]),
        dict(strides=[3, 3], output_padding=[2, 1]),
    ]:
        gen(
            f"convtranspose {attrs}",
            [helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], name="ct", **attrs)],
            shape,
            x,
            {"w": w, "b": np.array([0.1, -0.2], np.float32)},
        )


@reg
def reduce2():
    x = cal([1, 3, 4])
    gen(
        "ReduceMax opset18 noop_with_empty_axes=1 no axes",
        [helper.make_node("ReduceMax", ["x"], ["y"], name="rd", noop_with_empty_axes=1)],
        [1, 3, 4],
        x,
        {},
        18,
    )
    gen(
        "ReduceMax opset18 empty axes input",
        [helper.make_node("ReduceMax", ["x", "a"], ["y"], name="rd")],
        [1, 3, 4],
        x,
        {"a": np.array([], np.int64)},
        18,
    )
    gen(
        "ReduceMin keepdims=0 all axes",
        [helper.make_node("ReduceMin", ["x"], ["y"], name="rd", keepdims=0)],
        [1, 3, 4],
        x,
    )
    gen(
        "ReduceMax axes=[0]",
        [helper.make_node("ReduceMax", ["x"], ["y"], name="rd", axes=[0])],
        [1, 3, 4],
        x,
    )
    gen(
        "ReduceMax axes=[2,1] unordered",
        [helper.make_node("ReduceMax", ["x"], ["y"], name="rd", axes=[2, 1])],
        [1, 3, 4],
        x,
    )
    gen(
        "ReduceMax axes=[-1,-1] dup",
        [helper.make_node("ReduceMax", ["x"], ["y"], name="rd", axes=[-1])],
        [1, 3, 4],
        x,
    )
    gen(
        "ReduceMax [1,3,5] odd row",
        [helper.make_node("ReduceMax", ["x"], ["y"], name="rd", axes=[2])],
        [1, 3, 5],
        cal([1, 3, 5]),
    )
    gen(
        "ReduceMin [1,7] then Sub (x - min)",
        [
            helper.make_node("ReduceMin", ["x"], ["m"], axes=[1]),
            helper.make_node("Sub", ["x", "m"], ["y"], name="s"),
        ],
        [1, 7],
        cal([1, 7]),
    )
    gen(
        "ReduceMax 4D [1,2,3,3] axes [2,3]",
        [helper.make_node("ReduceMax", ["x"], ["y"], name="rd", axes=[2, 3])],
        [1, 2, 3, 3],
        cal([1, 2, 3, 3]),
    )


@reg
def softmax2():
    # softmax after conv / flatten; softmax on [1,1,1,N]
    gen(
        "softmax [1,1,1,7] axis -1",
        [helper.make_node("Softmax", ["x"], ["y"], name="sm", axis=-1)],
        [1, 1, 1, 7],
        cal([1, 1, 1, 7], scale=2),
    )
    gen(
        "softmax [1,1,7] axis 1 opset11 (coerced 2D)",
        [helper.make_node("Softmax", ["x"], ["y"], name="sm", axis=1)],
        [1, 1, 7],
        cal([1, 1, 7], scale=2),
        opset=11,
    )
    gen(
        "softmax [1,7,1] axis 1 opset13",
        [helper.make_node("Softmax", ["x"], ["y"], name="sm", axis=1)],
        [1, 7, 1],
        cal([1, 7, 1], scale=2),
    )
    gen(
        "softmax [1,7] opset 1 default axis",
        [helper.make_node("Softmax", ["x"], ["y"], name="sm")],
        [1, 7],
        cal([1, 7], scale=2),
        opset=1 + 8,
    )
    gen(
        "softmax [1,3,4] opset11 default axis=1",
        [helper.make_node("Softmax", ["x"], ["y"], name="sm")],
        [1, 3, 4],
        cal([1, 3, 4], scale=2),
        opset=11,
    )
    gen(
        "softmax twice",
        [
            helper.make_node("Softmax", ["x"], ["s"], name="sm1"),
            helper.make_node("Softmax", ["s"], ["y"], name="sm2"),
        ],
        [1, 9],
        cal([1, 9], scale=2),
    )
    gen(
        "Exp/ReduceSum/Div manual softmax",
        [
            helper.make_node("Exp", ["x"], ["e"]),
            helper.make_node("ReduceSum", ["e"], ["s"], keepdims=1, axes=[1]),
            helper.make_node("Div", ["e", "s"], ["y"], name="d"),
        ],
        [1, 9],
        cal([1, 9]),
        opset=12,
    )


@reg
def float_run_chains():
    """Importer-made tensors calibrated by float_run after various producers."""
    x = cal([1, 2, 6, 6])
    w = RNG.normal(0, 0.4, [3, 2, 3, 3]).astype(np.float32)
    b = RNG.normal(0, 0.1, [3]).astype(np.float32)
    sm = helper.make_node("Softmax", ["f"], ["y"], name="sm", axis=-1)
    fl = helper.make_node("Flatten", ["h"], ["f"])
    for label, first, inits in [
        (
            "conv pads[0,1,1,0] s2",
            helper.make_node("Conv", ["x", "w", "b"], ["h"], pads=[0, 1, 1, 0], strides=[2, 2]),
            {"w": w, "b": b},
        ),
        (
            "avgpool pads1 count_include_pad=0",
            helper.make_node(
                "AveragePool", ["x"], ["h"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2]
            ),
            {},
        ),
        (
            "avgpool pads1 count_include_pad=1",
            helper.make_node(
                "AveragePool",
                ["x"],
                ["h"],
                kernel_shape=[3, 3],
                pads=[1, 1, 1, 1],
                strides=[2, 2],
                count_include_pad=1,
            ),
            {},
        ),
        (
            "maxpool pads[1,0,0,1] s2",
            helper.make_node(
                "MaxPool", ["x"], ["h"], kernel_shape=[2, 2], pads=[1, 0, 0, 1], strides=[2, 2]
            ),
            {},
        ),
        (
            "resize nearest x2",
            helper.make_node("Resize", ["x", "", "sc"], ["h"], mode="nearest"),
            {"sc": np.array([1, 1, 0.5, 0.5], np.float32)},
        ),
    ]:
        gen(f"{label} -> flatten -> softmax", [first, fl, sm], [1, 2, 6, 6], x * 2, inits)
        ln = helper.make_node("LayerNormalization", ["f", "g"], ["y"], name="ln", axis=-1)
        out = _outshape([first, fl], [1, 2, 6, 6], inits, 17)
        gen(
            f"{label} -> flatten -> layernorm",
            [first, fl, ln],
            [1, 2, 6, 6],
            x,
            {**inits, "g": np.ones(out[-1], np.float32)},
            opset=17,
        )


@reg
def misc3():
    x = cal([1, 12])
    gen(
        "layernorm [1,12] axis=0",
        [helper.make_node("LayerNormalization", ["x", "g"], ["y"], name="ln", axis=0)],
        [1, 12],
        x,
        {"g": np.ones([1, 12], np.float32)},
        opset=17,
    )
    gen(
        "layernorm [1,12] scale shape [1]",
        [helper.make_node("LayerNormalization", ["x", "g", "b"], ["y"], name="ln", axis=-1)],
        [1, 12],
        x,
        {"g": np.array([1.5], np.float32), "b": np.array([0.2], np.float32)},
        opset=17,
    )
    gen(
        "layernorm [1,3,4] axis=-3",
        [helper.make_node("LayerNormalization", ["x", "g"], ["y"], name="ln", axis=-3)],
        [1, 3, 4],
        cal([1, 3, 4]),
        {"g": np.ones([1, 3, 4], np.float32)},
        opset=17,
    )
    gen(
        "instancenorm [1,3,3,3]",
        [helper.make_node("InstanceNormalization", ["x", "s", "b"], ["y"], name="in")],
        [1, 3, 3, 3],
        cal([1, 3, 3, 3]),
        {"s": np.array([1, -1, 0.5], np.float32), "b": np.array([0, 1, 2], np.float32)},
    )
    gen(
        "div x[1,4] / const[3,4] (grows)",
        [helper.make_node("Div", ["x", "c"], ["y"], name="div")],
        [1, 4],
        cal([1, 4]),
        {"c": RNG.uniform(1, 2, [3, 4]).astype(np.float32)},
    )
    gen(
        "div const[3,1] / x[1,4] (grows)",
        [
            helper.make_node("Relu", ["x"], ["r"]),
            helper.make_node("Add", ["r", "one"], ["d"]),
            helper.make_node("Div", ["c", "d"], ["y"], name="div"),
        ],
        [1, 4],
        cal([1, 4]),
        {"c": RNG.uniform(1, 2, [3, 1]).astype(np.float32), "one": np.array(1.0, np.float32)},
    )
    gen(
        "max x[1,4] vs const [1,1,1]",
        [helper.make_node("Max", ["x", "c"], ["y"], name="mx")],
        [1, 4],
        cal([1, 4]),
        {"c": np.array([[[0.2]]], np.float32)},
    )
    gen(
        "clip x[1,4] min const [1,1,1]",
        [helper.make_node("Clip", ["x", "c"], ["y"], name="cl")],
        [1, 4],
        cal([1, 4]),
        {"c": np.array([[[0.2]]], np.float32)},
    )
    gen(
        "softmax [1,7,1] axis=-1 (single value)",
        [helper.make_node("Softmax", ["x"], ["y"], name="sm", axis=-1)],
        [1, 7, 1],
        cal([1, 7, 1]),
    )
    gen(
        "sub x - reducemax(x) keepdims=0 [1,12] -> [1]",
        [
            helper.make_node("ReduceMax", ["x"], ["m"], axes=[1], keepdims=0),
            helper.make_node("Sub", ["x", "m"], ["y"], name="s"),
        ],
        [1, 12],
        x,
    )
    gen(
        "x / reducemax(x) (positive)",
        [
            helper.make_node("ReduceMax", ["x"], ["m"], axes=[1], keepdims=1),
            helper.make_node("Div", ["x", "m"], ["y"], name="d"),
        ],
        [1, 12],
        np.abs(x) + 0.5,
    )
    gen(
        "convtranspose 1ch->1ch",
        [helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="ct", strides=[2, 2])],
        [1, 1, 3, 3],
        cal([1, 1, 3, 3]),
        {"w": RNG.normal(0, 0.5, [1, 1, 2, 2]).astype(np.float32)},
    )


if __name__ == "__main__":
    want = sys.argv[1:]
    for name, f in PROBES.items():
        if want and not any(w in name for w in want):
            continue
        print(f"=== {name}", flush=True)
        try:
            f()
        except Exception:
            traceback.print_exc()
    print("\n==== SUMMARY")
    for name, status, detail in RESULTS:
        if status not in ("ok", "refused"):
            print(f"{status}: {name}: {detail.splitlines()[0] if detail else ''}")

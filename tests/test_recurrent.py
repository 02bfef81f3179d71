"""RNN, GRU and LSTM unrolled over a fixed sequence (zkgrad.onnx_recurrent): each proves and
verifies to onnxruntime's outputs (Y, Y_h, Y_c) within the quantisation error, for several
steps, both directions, both layouts, nonzero initial states and GRU's two reset forms; what is
not supported is one clear error naming the node."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

import zkgrad
from zkgrad import InvalidProof, UnsupportedModelError
from zkgrad.onnx import import_onnx

RNG = np.random.default_rng(23)
GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}


def _model(
    tmp_path: Path,
    op: str,
    steps: int,
    size: int = 3,
    hidden: int = 4,
    *,
    layout: int = 0,
    initial: bool = False,
    outputs: tuple[str, ...] = ("Y", "Y_h"),
    **attrs: object,
) -> Path:
    """X [steps, 1, size] (layout 0) from the model input [1, steps·size], one recurrent node,
    and its outputs flattened to [1, n] each."""
    gates = GATES[op]
    consts = {
        "W": RNG.normal(0, 0.5, (1, gates * hidden, size)),
        "R": RNG.normal(0, 0.5, (1, gates * hidden, hidden)),
        "B": RNG.normal(0, 0.2, (1, 2 * gates * hidden)),
        "shape": np.array([steps, 1, size] if layout == 0 else [1, steps, size]),
    }
    inputs = ["X", "W", "R", "B", ""]
    if initial:
        consts["h0"] = RNG.normal(0, 0.5, (1, 1, hidden))
        inputs.append("h0")
        if op == "LSTM":
            consts["c0"] = RNG.normal(0, 0.5, (1, 1, hidden))
            inputs.append("c0")
    names = {"Y": "Y", "Y_h": "Y_h", "Y_c": "Y_c"}
    node_outputs = [
        names[k] if k in outputs else "" for k in ("Y", "Y_h", "Y_c")[: 3 if op == "LSTM" else 2]
    ]
    nodes = [
        helper.make_node("Reshape", ["x", "shape"], ["X"]),
        helper.make_node(
            op, inputs, node_outputs, name="cell", hidden_size=hidden, layout=layout, **attrs
        ),
    ]
    graph_outputs = []
    for k in outputs:
        flat = np.array([1, -1])
        consts[f"{k}_flat"] = flat
        nodes.append(helper.make_node("Reshape", [k, f"{k}_flat"], [f"out_{k}"]))
        n = steps * hidden if k == "Y" else hidden
        graph_outputs.append(helper.make_tensor_value_info(f"out_{k}", TensorProto.FLOAT, [1, n]))
    graph = helper.make_graph(
        nodes,
        "recurrent",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, steps * size])],
        graph_outputs,
        [
            numpy_helper.from_array(
                v.astype(np.int64 if k.endswith(("shape", "flat")) else np.float32), k
            )
            for k, v in consts.items()
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    onnx.checker.check_model(model)
    path = tmp_path / f"{op}.onnx"
    onnx.save(model, path)
    return path


def _check(path: Path, width: int, tolerance: float = 0.03) -> zkgrad.Model:
    samples = RNG.normal(0, 1, (16, width))
    model = zkgrad.compile(path, calibration=samples)
    try:
        session = ort.InferenceSession(str(path))
    except Exception:  # onnxruntime has no kernel for layout 1
        session = ReferenceEvaluator(str(path))
    names = [o.name for o in onnx.load(str(path)).graph.output]
    for x in samples[:2]:
        verified = zkgrad.verify(model, model.prove(x))
        got = verified if isinstance(verified, dict) else {names[0]: verified}
        expected = session.run(None, {"x": x[None].astype(np.float32)})
        for name, want in zip(names, expected, strict=True):
            np.testing.assert_allclose(
                np.asarray(got[name]).reshape(-1), want.reshape(-1), atol=tolerance
            )
    return model


@pytest.mark.parametrize("op", ["RNN", "GRU", "LSTM"])
def test_a_sequence_of_three_steps_proves_every_output(tmp_path: Path, op: str) -> None:
    outputs = ("Y", "Y_h", "Y_c") if op == "LSTM" else ("Y", "Y_h")
    _check(_model(tmp_path, op, 3, outputs=outputs), 9)


@pytest.mark.parametrize("op", ["RNN", "GRU", "LSTM"])
def test_reverse_direction_layout_one_and_initial_states(tmp_path: Path, op: str) -> None:
    path = _model(tmp_path, op, 2, layout=1, initial=True, direction="reverse")
    _check(path, 6)


def test_gru_resets_after_the_recurrence_too(tmp_path: Path) -> None:
    _check(_model(tmp_path, "GRU", 2, initial=True, linear_before_reset=1), 6)


def test_one_step_states_every_output_once(tmp_path: Path) -> None:
    """With one step Y and Y_h hold the same values: Y_h is stated through a copy."""
    model = _check(_model(tmp_path, "LSTM", 1, outputs=("Y", "Y_h", "Y_c")), 3)
    assert sorted(o["name"] for o in model.outputs) == ["out_Y", "out_Y_c", "out_Y_h"]


def test_a_tampered_recurrent_proof_is_rejected(tmp_path: Path) -> None:
    path = _model(tmp_path, "GRU", 2, outputs=("Y_h",))
    model = zkgrad.compile(path, calibration=RNG.normal(0, 1, (8, 6)))
    data = bytearray(model.prove(RNG.normal(0, 1, 6)).data)
    data[len(data) // 2] ^= 0x10
    with pytest.raises(InvalidProof):
        zkgrad.verify(model, bytes(data))


@pytest.mark.parametrize(
    ("attrs", "reason"),
    [
        ({"direction": "bidirectional"}, "direction bidirectional"),
        ({"clip": 1.0}, "clip"),
        ({"activations": ["Elu"]}, "activations"),
    ],
)
def test_what_is_not_supported_is_named(tmp_path: Path, attrs: dict, reason: str) -> None:
    path = _model(tmp_path, "RNN", 2, outputs=("Y_h",), **attrs)
    with pytest.raises(UnsupportedModelError, match=reason) as info:
        import_onnx(path)
    assert [node.name for node in info.value.nodes] == ["cell"]

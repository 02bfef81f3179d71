"""Inputs of mixed visibility (``zkgrad.public_inputs``): a model with two inputs — x public, y
private — two outputs and a residual Add proves and verifies from Python and from the CLI.
Every proof states x (the layer that cuts it out of the hidden input vector is a public extra
output), so a verifier checks it against the value it expects, and y stays hidden; a proof is
rejected against another x. Bad visibility dicts are one-sentence errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from typer.testing import CliRunner

import zkgrad
from zkgrad import InvalidProof, ModelError
from zkgrad.cli import app

RNG = np.random.default_rng(53)
MIXED = {"x": "public", "y": "private"}


def _model(tmp_path: Path) -> Path:
    """x → W1, y → W2, added, ReLU = 'r' (an output); r → W3 + r (residual) → W4 = 'logits'."""

    def w(name: str, *shape: int) -> onnx.TensorProto:
        return numpy_helper.from_array(RNG.normal(0, 0.4, shape).astype(np.float32), name)

    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"]),
        helper.make_node("MatMul", ["y", "w2"], ["g"]),
        helper.make_node("Add", ["h", "g"], ["s"]),
        helper.make_node("Relu", ["s"], ["r"]),
        helper.make_node("MatMul", ["r", "w3"], ["t"]),
        helper.make_node("Add", ["t", "r"], ["res"]),
        helper.make_node("MatMul", ["res", "w4"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "mixed",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8]),
            helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8]),
        ],
        [
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 3]),
            helper.make_tensor_value_info("r", TensorProto.FLOAT, [1, 8]),
        ],
        [w("w1", 8, 8), w("w2", 8, 8), w("w3", 8, 8), w("w4", 8, 3)],
    )
    path = tmp_path / "mixed.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def _inputs(n: int | None = None) -> dict[str, np.ndarray]:
    shape = (1, 8) if n is None else (n, 1, 8)
    return {"x": RNG.normal(0, 1, shape), "y": RNG.normal(0, 1, shape)}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, zkgrad.Model]:
    path = _model(tmp_path_factory.mktemp("mixed"))
    return path, zkgrad.compile(path, calibration=_inputs(16), input_visibility=MIXED)


def test_the_public_input_is_stated_and_checked(mixed: tuple[Path, zkgrad.Model]) -> None:
    path, model = mixed
    assert (model.input_visibility, model.public_inputs) == ("private", ["x"])
    x = _inputs()
    proof = model.prove(x)
    verified = zkgrad.verify(model.verifying_key(), proof, input={"x": x["x"]})
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    want = dict(
        zip(
            ["logits", "r"],
            session.run(None, {k: v.astype(np.float32) for k, v in x.items()}),
            strict=True,
        )
    )
    for name in ("logits", "r"):
        assert np.abs(verified[name] - want[name]).max() < 0.02 * np.abs(want[name]).max() + 0.01
    stated = model.stated_inputs(proof)
    assert list(stated) == ["x"]  # y is not stated
    assert np.abs(stated["x"] - x["x"]).max() <= 2.0**-model.input_scale_bits
    with pytest.raises(InvalidProof, match="public input 'x'"):
        zkgrad.verify(model, proof, input={"x": x["x"] + 2.0**-model.input_scale_bits * 3})
    # The private input is not part of the statement: only x is checked.
    zkgrad.verify(model, proof, input={"x": x["x"], "y": x["y"] + 1})


def test_a_batch_states_each_items_public_input(mixed: tuple[Path, zkgrad.Model]) -> None:
    _, model = mixed
    x = _inputs(3)
    proof = model.prove(x)
    verified = zkgrad.verify(model, proof, input={"x": x["x"]})
    assert verified["logits"].shape == (3, 3)
    assert model.stated_inputs(proof)["x"].shape == (3, 1, 8)
    swapped = {"x": x["x"][[1, 0, 2]]}
    with pytest.raises(InvalidProof):
        zkgrad.verify(model, proof, input=swapped)


def test_a_changed_statement_is_rejected(mixed: tuple[Path, zkgrad.Model]) -> None:
    # Every decodable single-byte change of the stated x (after the outputs) is rejected.
    _, model = mixed
    data = model.prove(_inputs()).data
    stated = zkgrad._native.proof_output(data)
    changed = 0
    for i in range(min(len(data), 600)):
        flipped = bytearray(data)
        flipped[i] ^= 1
        try:
            other = zkgrad._native.proof_output(bytes(flipped))
        except Exception:  # bytes that no longer decode
            continue
        if (
            other.size == stated.size
            and (other[:11] == stated[:11]).all()
            and (other != stated).any()
        ):
            changed += 1
            with pytest.raises(InvalidProof):
                zkgrad.verify(model, bytes(flipped))
    assert changed > 0


def test_bad_visibility_dicts_are_clear_errors(tmp_path: Path) -> None:
    path = _model(tmp_path)
    with pytest.raises(ModelError, match="'z', which is not an input"):
        zkgrad.compile(path, input_visibility={"x": "public", "z": "private"})
    with pytest.raises(ModelError, match="input 'y' is not given a visibility"):
        zkgrad.compile(path, input_visibility={"x": "public"})
    with pytest.raises(ModelError, match="share one visibility"):
        zkgrad.compile(path, input_visibility={"x": "private", "y": "committed"})
    with pytest.raises(ModelError, match="not one of"):
        zkgrad.compile(path, input_visibility={"x": "public", "y": "secret"})


def test_the_cli_compiles_proves_and_verifies_mixed_inputs(tmp_path: Path) -> None:
    path = _model(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["compile", str(path), "--input", "x=public,y=private"])
    assert result.exit_code == 0, result.output
    x = _inputs()
    np.savez(tmp_path / "in.npz", **{k: v.astype(np.float32) for k, v in x.items()})
    np.save(tmp_path / "x.npy", x["x"].astype(np.float32))
    model, proof = tmp_path / "mixed.zkg", tmp_path / "p.zkp"
    result = runner.invoke(app, ["prove", str(model), str(tmp_path / "in.npz"), "-o", str(proof)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["verify", str(model), str(proof), "--input", str(tmp_path / "x.npy"), "--json"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output.strip().splitlines()[-1])
    assert set(body["output"]) == {"logits", "r"} and set(body["public_inputs"]) == {"x"}
    np.save(tmp_path / "other.npy", (x["x"] + 1).astype(np.float32))
    result = runner.invoke(
        app, ["verify", str(model), str(proof), "--input", str(tmp_path / "other.npy")]
    )
    assert result.exit_code == 1 and "public input 'x'" in result.output

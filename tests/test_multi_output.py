"""Models with several outputs: every ONNX output is stated in the proof (the main one, computed
last, then the others: ``CircuitSpec::extra_outputs``) and comes back by name from ``run``,
``verify`` and the CLI, within the quantisation error of onnxruntime's answer. A proof whose
stated extra output was changed is rejected; an output that is the input itself gets a copy
block; two outputs that are one tensor are refused by name."""

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
from zkgrad import InvalidProof, ModelError, _native
from zkgrad.cli import app

RNG = np.random.default_rng(31)


def _const(name: str, *shape: int) -> onnx.TensorProto:
    return numpy_helper.from_array(RNG.normal(0, 0.5, shape).astype(np.float32), name)


def _save(
    tmp_path: Path,
    nodes: list[onnx.NodeProto],
    outputs: list[tuple[str, list[int]]],
    inits: list[onnx.TensorProto],
    width: int = 4,
) -> Path:
    graph = helper.make_graph(
        nodes,
        "several_outputs",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, width])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs],
        inits,
    )
    path = tmp_path / "several.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def _two_heads(tmp_path: Path) -> Path:
    """x → dense → relu = 'features' (an output) → residual dense + add → 'logits' (the other)."""
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"]),
        helper.make_node("Relu", ["h"], ["features"]),
        helper.make_node("MatMul", ["features", "w2"], ["g"]),
        helper.make_node("Add", ["g", "features"], ["res"]),
        helper.make_node("MatMul", ["res", "w3"], ["logits"]),
    ]
    inits = [_const("w1", 4, 6), _const("w2", 6, 6), _const("w3", 6, 3)]
    # ONNX order puts the earlier tensor first: the statement order (logits first) differs.
    return _save(tmp_path, nodes, [("features", [1, 6]), ("logits", [1, 3])], inits)


@pytest.fixture(scope="module")
def two_heads(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, zkgrad.Model]:
    path = _two_heads(tmp_path_factory.mktemp("two_heads"))
    samples = RNG.normal(0, 1, (32, 1, 4)).astype(np.float32)
    return path, zkgrad.compile(path, calibration=samples)


def test_every_output_comes_back_by_name_close_to_onnxruntime(
    two_heads: tuple[Path, zkgrad.Model],
) -> None:
    path, model = two_heads
    assert [o["name"] for o in model.outputs] == ["features", "logits"]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for x in RNG.normal(0, 1, (4, 1, 4)).astype(np.float32):
        want = dict(zip(["features", "logits"], session.run(None, {"x": x}), strict=True))
        got = model.run(x)
        assert list(got) == ["features", "logits"]
        for name in want:
            assert got[name].shape == want[name].shape
            np.testing.assert_allclose(got[name], want[name], atol=0.02 * np.abs(want[name]).max())


def test_one_and_a_batch_prove_and_verify(two_heads: tuple[Path, zkgrad.Model]) -> None:
    _, model = two_heads
    x = RNG.normal(0, 1, (1, 4)).astype(np.float32)
    proof = model.prove(x)
    verified = zkgrad.verify(model, proof)
    for name, value in model.run(x).items():
        np.testing.assert_array_equal(verified[name], value)
    batch = RNG.normal(0, 1, (3, 1, 4)).astype(np.float32)
    verified = zkgrad.verify(model.verifying_key(), model.prove(batch))
    assert {k: v.shape for k, v in verified.items()} == {"features": (3, 6), "logits": (3, 3)}
    np.testing.assert_array_equal(verified["features"][1], model.run(batch[1])["features"][0])


def test_a_changed_extra_output_is_rejected(two_heads: tuple[Path, zkgrad.Model]) -> None:
    _, model = two_heads
    x = RNG.normal(0, 1, (1, 4)).astype(np.float32)
    proof = model.prove(x).data
    stated = _native.proof_output(proof)
    assert stated.size == 3 + 6  # logits (main, computed last), then the features
    changed = 0
    for i in range(min(len(proof), 600)):
        flipped = bytearray(proof)
        flipped[i] ^= 1
        try:
            other = _native.proof_output(bytes(flipped))
        except Exception:  # bytes that no longer decode
            continue
        if other.size != stated.size or (other[:3] != stated[:3]).any():
            continue
        if (other[3:] != stated[3:]).any():  # only the extra output changed
            changed += 1
            with pytest.raises(InvalidProof):
                zkgrad.verify(model, bytes(flipped))
    assert changed > 0, "no byte of the extra output found to change"


def test_an_output_that_is_the_input_is_copied(tmp_path: Path) -> None:
    # 16 values: the input then has three readers (the Gemm and the copy's two operands), more
    # than a column of at most 8 values may have without revealing it.
    nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)]
    inits = [_const("w", 3, 16), _const("b", 3)]
    path = _save(tmp_path, nodes, [("y", [1, 3]), ("x", [1, 16])], inits, width=16)
    model = zkgrad.compile(path)
    x = RNG.normal(0, 1, (1, 16)).astype(np.float32)
    verified = zkgrad.verify(model, model.prove(x))
    np.testing.assert_allclose(verified["x"], x, atol=2**-model.input_scale_bits)


def test_two_outputs_that_are_one_tensor_are_refused_by_name(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1),
        helper.make_node("Identity", ["y"], ["y2"]),
    ]
    inits = [_const("w", 3, 4), _const("b", 3)]
    path = _save(tmp_path, nodes, [("y", [1, 3]), ("y2", [1, 3])], inits)
    with pytest.raises(ModelError, match="'y' and 'y2' are the same tensor"):
        zkgrad.compile(path)


def test_the_cli_shows_and_writes_every_output(tmp_path: Path) -> None:
    path = _two_heads(tmp_path)
    runner = CliRunner()
    assert runner.invoke(app, ["compile", str(path)]).exit_code == 0
    np.save(tmp_path / "x.npy", RNG.normal(0, 1, (1, 4)).astype(np.float32))
    model, proof = tmp_path / "several.zkg", tmp_path / "p.zkp"
    result = runner.invoke(app, ["prove", str(model), str(tmp_path / "x.npy"), "-o", str(proof)])
    assert result.exit_code == 0, result.output
    assert "features [[" in result.output and "logits [[" in result.output
    result = runner.invoke(app, ["verify", str(model), str(proof), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output.strip().splitlines()[-1])
    assert set(body["output"]) == {"features", "logits"}
    assert np.asarray(body["output"]["logits"]).shape == (1, 3)

"""Models with several graph inputs (issue 14): compiled to take their concatenation."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper
from typer.testing import CliRunner

import models
import zkgrad
from zkgrad import InvalidProof, ModelError, UnsupportedModelError, _native
from zkgrad.cli import app
from zkgrad.onnx_inputs import MERGED
from zkgrad.onnx_load import load, prepare

runner = CliRunner()
# The report rounds its max |Δ| to 6 digits.
ROUNDING = 1e-6


def _calibration(count: int = 16, seed: int = 5) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"x": rng.normal(size=(count, 1, 4)), "y": rng.normal(size=(count, 1, 4))}


@pytest.fixture(scope="module")
def private(onnx_path: Callable[[str], Path]) -> zkgrad.Model:
    return zkgrad.compile(onnx_path("two_inputs_gemm"), _calibration())


@pytest.fixture(scope="module")
def public(onnx_path: Callable[[str], Path]) -> zkgrad.Model:
    return zkgrad.compile(onnx_path("two_inputs_gemm"), _calibration(), input_visibility="public")


def _onnxruntime(path: Path, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {"x": x.astype(np.float32), "y": y.astype(np.float32)}
    return np.asarray(session.run(None, feed)[0], dtype=np.float64)


def test_the_rewritten_graph_is_valid_onnx_with_one_input(onnx_path: Callable[[str], Path]) -> None:
    prepared, main, problems = prepare(load(onnx_path("two_inputs_gemm")))
    assert (main, problems) == (MERGED, [])
    onnx.checker.check_model(prepared)
    assert [vi.name for vi in prepared.graph.input] == [MERGED]
    dims = [d.dim_value for d in prepared.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [1, 8]


@pytest.mark.parametrize("name", ["two_inputs_gemm", "two_inputs_add"])
def test_run_matches_onnxruntime_within_the_report(
    name: str, onnx_path: Callable[[str], Path]
) -> None:
    calibration = _calibration()
    model = zkgrad.compile(onnx_path(name), calibration)
    assert model.inputs == [("x", (1, 4)), ("y", (1, 4))]
    assert model.input_shape == (1, 8)
    bound = model.report.max_abs_error + ROUNDING
    for i in range(4):
        x, y = calibration["x"][i], calibration["y"][i]
        got = model.run({"x": x, "y": y})
        assert got.shape == (1, 3)
        assert np.max(np.abs(got - _onnxruntime(onnx_path(name), x, y))) <= bound
    # A list in graph order is the same input; a batch gives a row per sample.
    assert np.array_equal(model.run([x, y]), got)
    batch = model.run({"x": calibration["x"][:3], "y": calibration["y"][:3]})
    assert batch.shape == (3, 3)
    assert np.array_equal(
        batch[3 - 1], model.run({"x": calibration["x"][2], "y": calibration["y"][2]})[0]
    )


def test_private_inputs_prove_and_verify(private: zkgrad.Model) -> None:
    x, y = _calibration(1, seed=9).values()
    proof = private.prove({"x": x[0], "y": y[0]})
    assert proof.input_q is None
    key = private.verifying_key()
    assert key.inputs == private.inputs  # the layout is public: the key keeps it
    got = zkgrad.verify(key, proof, commitment=private.digest)
    assert np.allclose(got, private.run({"x": x[0], "y": y[0]}))


def test_public_inputs_are_stated_per_name_and_checked(public: zkgrad.Model) -> None:
    x, y = (v[0] for v in _calibration(1, seed=10).values())
    proof = public.prove({"y": y, "x": x})
    key = public.verifying_key()
    zkgrad.verify(key, proof, commitment=public.digest, input={"x": x, "y": y})
    stated = key.split_inputs(proof.input_q)
    assert np.array_equal(stated["x"], public.quantize({"x": x, "y": y})[:4].reshape(1, 4))
    assert stated["y"].shape == (1, 4)
    other = y.copy()
    other.flat[0] += 1.0
    with pytest.raises(InvalidProof, match="another input"):
        zkgrad.verify(key, proof, input={"x": x, "y": other})


def test_a_batch_of_three_proves_in_one_proof(private: zkgrad.Model) -> None:
    calibration = _calibration(3, seed=11)
    proof = private.prove(calibration)
    assert proof.batch == 3
    got = zkgrad.verify(private.verifying_key(), proof, commitment=private.digest)
    assert got.shape == (3, 3)
    assert np.allclose(got, private.run(calibration))


def test_a_tampered_proof_is_rejected(private: zkgrad.Model) -> None:
    x, y = (v[0] for v in _calibration(1, seed=12).values())
    proof = private.prove({"x": x, "y": y})
    data = bytearray(proof.data)
    data[len(data) // 2] ^= 0x10
    with pytest.raises(InvalidProof):
        zkgrad.verify(private.verifying_key(), bytes(data), commitment=private.digest)


def _with_stated_input_changed(data: bytes) -> bytes:
    """The proof with one value of its stated input changed (found by decoding: the first
    byte whose change keeps the input's length but changes a value)."""
    stated = _native.proof_input(data)
    assert stated is not None
    for at in range(len(data)):
        changed = bytearray(data)
        changed[at] ^= 0x01
        try:
            values = _native.proof_input(bytes(changed))
        except Exception:  # the proof no longer decodes: try the next byte
            continue
        if values is not None and len(values) == len(stated) and list(values) != list(stated):
            return bytes(changed)
    raise AssertionError("no byte of the proof holds the stated input")


def test_a_changed_stated_input_is_rejected(public: zkgrad.Model) -> None:
    x, y = (v[0] for v in _calibration(1, seed=13).values())
    proof = public.prove({"x": x, "y": y})
    forged = zkgrad.Proof(_with_stated_input_changed(proof.data), public, proof.epoch_certificate)
    key = public.verifying_key()
    claimed = key.split_inputs(forged.input_q)
    scale = 2.0**key.input_scale_bits
    with pytest.raises(InvalidProof):
        zkgrad.verify(key, forged, input={name: v / scale for name, v in claimed.items()})
    with pytest.raises(InvalidProof):
        zkgrad.verify(key, forged, input={"x": x, "y": y})


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"x": np.zeros(4)}, "input 'y' is missing: expected an array of shape \\[1, 4\\]"),
        ({"x": np.zeros(4), "y": np.zeros(4), "z": np.zeros(4)}, "'z' is not an input"),
        ({"x": np.zeros(4), "y": np.zeros(5)}, "input 'y' has shape \\[5\\]; the model expects"),
        ({"x": np.zeros((2, 4)), "y": np.zeros((3, 4))}, "input 'y' holds 3 samples"),
        ([np.zeros(4)], "takes 2 inputs \\('x' \\[1, 4\\], 'y' \\[1, 4\\]\\)"),
    ],
)
def test_wrong_or_missing_inputs_are_named(
    private: zkgrad.Model, given: object, message: str
) -> None:
    with pytest.raises(ModelError, match=message):
        private.prove(given)
    with pytest.raises(ModelError, match=message):
        private.run(given)


def test_calibration_with_a_missing_input_is_named(onnx_path: Callable[[str], Path]) -> None:
    with pytest.raises(ModelError, match="input 'x' is missing"):
        zkgrad.compile(onnx_path("two_inputs_add"), {"y": np.zeros((2, 4))})


def test_visibility_per_input(onnx_path: Callable[[str], Path]) -> None:
    # Mixed visibility is tested in full by tests/test_mixed_visibility.py.
    path = onnx_path("two_inputs_add")
    mixed = zkgrad.compile(path, input_visibility={"x": "public", "y": "private"})
    assert (mixed.input_visibility, mixed.public_inputs) == ("private", ["x"])
    with pytest.raises(ModelError, match="'z', which is not an input"):
        zkgrad.compile(path, input_visibility={"x": "public", "z": "public"})
    model = zkgrad.compile(path, input_visibility={"x": "public", "y": "public"})
    assert model.input_visibility == "public"


def test_committed_inputs_commit_to_the_concatenation(onnx_path: Callable[[str], Path]) -> None:
    model = zkgrad.compile(onnx_path("two_inputs_add"), input_visibility="committed")
    seed = bytes(range(32))
    x, y = (v[0] for v in _calibration(1, seed=14).values())
    digest = model.commit_input({"x": x, "y": y}, seed)
    assert digest == model.commit_input([x, y], seed)
    proof = model.prove({"x": x, "y": y}, input_seed=seed)
    zkgrad.verify(model.verifying_key(), proof, input_commitment=digest)


def test_an_integer_second_input_is_read_as_float_or_named(tmp_path: Path) -> None:
    def build(reader: str) -> Path:
        nodes = [
            helper.make_node("Cast", ["y"], ["yf"], name="/cast", to=TensorProto.FLOAT)
            if reader == "Cast"
            else helper.make_node("Div", ["y", "two"], ["yf"], name="/halve"),
            helper.make_node("Add", ["x", "yf"], ["out"], name="/add"),
        ]
        graph = helper.make_graph(
            nodes,
            "int_y",
            [
                helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4]),
                helper.make_tensor_value_info("y", TensorProto.INT64, [1, 4]),
            ],
            [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 4])],
            [helper.make_tensor(name="two", data_type=TensorProto.INT64, dims=[], vals=[2])],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", models.OPSET)])
        path = tmp_path / f"{reader}.onnx"
        onnx.save(model, str(path))
        return path

    model = zkgrad.compile(build("Cast"), {"x": np.ones((2, 4)), "y": np.ones((2, 4))})
    assert np.allclose(model.run({"x": np.ones(4), "y": np.full(4, 2.0)}), 3.0, atol=0.01)
    # An integer division of it (rounding toward zero) is refused, naming the node.
    with pytest.raises(UnsupportedModelError, match=r"(?s)'/halve'.*integer division"):
        zkgrad.compile(build("Div"))


@pytest.fixture(scope="module")
def cli_model(tmp_path_factory: pytest.TempPathFactory, onnx_path: Callable[[str], Path]) -> Path:
    work = tmp_path_factory.mktemp("multi_cli")
    np.savez(work / "calibration.npz", **_calibration(8, seed=15))
    result = runner.invoke(
        app,
        [
            "compile",
            str(onnx_path("two_inputs_gemm")),
            "-o",
            str(work / "model.zkg"),
            "--calibration",
            str(work / "calibration.npz"),
            "--input",
            "public",
        ],
    )
    assert result.exit_code == 0, result.output
    return work


def _cli_round_trip(work: Path, input_file: Path) -> None:
    proof = work / f"{input_file.stem}.zkp"
    result = runner.invoke(
        app, ["prove", str(work / "model.zkg"), str(input_file), "-o", str(proof)]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["verify", str(work / "model.zkg"), str(proof), "--input", str(input_file)]
    )
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_cli_proves_from_an_npz_with_one_array_per_input(cli_model: Path) -> None:
    x, y = (v[0] for v in _calibration(1, seed=16).values())
    np.savez(cli_model / "input.npz", x=x, y=y)
    _cli_round_trip(cli_model, cli_model / "input.npz")


def test_cli_proves_from_ezkl_input_json_with_two_entries(cli_model: Path) -> None:
    x, y = (v[0] for v in _calibration(1, seed=17).values())
    entries = [x.reshape(-1).tolist(), y.reshape(-1).tolist()]
    (cli_model / "input.json").write_text(json.dumps({"input_data": entries}))
    _cli_round_trip(cli_model, cli_model / "input.json")
    (cli_model / "named.json").write_text(json.dumps({"y": y.tolist(), "x": x.tolist()}))
    _cli_round_trip(cli_model, cli_model / "named.json")


def test_cli_names_a_missing_input(cli_model: Path) -> None:
    np.savez(cli_model / "only_x.npz", x=np.zeros(4))
    result = runner.invoke(
        app, ["prove", str(cli_model / "model.zkg"), str(cli_model / "only_x.npz")]
    )
    assert result.exit_code == 2, result.output
    assert "'y' is missing" in result.output
    assert "Traceback" not in result.output
    (cli_model / "three.json").write_text(json.dumps({"input_data": [[0.0] * 4] * 3}))
    result = runner.invoke(
        app, ["prove", str(cli_model / "model.zkg"), str(cli_model / "three.json")]
    )
    assert result.exit_code == 2, result.output
    assert "holds 3 entries but the model has 2 inputs" in result.output


def test_inspect_lists_each_input_and_only_the_models_nodes(
    cli_model: Path, onnx_path: Callable[[str], Path]
) -> None:
    result = runner.invoke(app, ["inspect", str(onnx_path("two_inputs_gemm"))])
    assert result.exit_code == 0, result.output
    assert "5 nodes" in result.output and "Slice" not in result.output
    result = runner.invoke(app, ["inspect", str(cli_model / "model.zkg")])
    assert result.exit_code == 0, result.output
    assert "input: 'x' [1, 4]" in result.output and "input: 'y' [1, 4]" in result.output


def test_an_input_too_large_to_slice_is_named(tmp_path: Path) -> None:
    # Each input is sliced out of the concatenation by a constant dense layer (total × size,
    # at most 2^22 weights: 3004 × 3000 is more).
    graph = helper.make_graph(
        [helper.make_node("ReduceSum", ["y"], ["ys"], name="/sum", keepdims=1)],
        "large_y",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4]),
            helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3000]),
        ],
        [helper.make_tensor_value_info("ys", TensorProto.FLOAT, [1, 1])],
    )
    path = tmp_path / "large_y.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    with pytest.raises(UnsupportedModelError) as info:
        zkgrad.compile(path)
    assert not info.value.nodes
    assert any(p.startswith("input 'y' cannot be taken apart") for p in info.value.problems)

"""compile -> prove -> verify for every test model, plus tampering and file round trips."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import models
import zkgrad
from zkgrad import InvalidProof, Model, ModelError, Proof
from zkgrad.onnx import import_onnx
from zkgrad.reference import run_float

Compiled = Callable[[str], tuple[Model, np.ndarray]]


@pytest.mark.parametrize("name", sorted(models.BUILDERS))
def test_prove_and_verify(name: str, compiled: Compiled) -> None:
    model, samples = compiled(name)
    x = samples[0]
    proof = model.prove(x)
    verified = zkgrad.verify(model, proof)
    assert verified.shape == model.output_shape
    # The proved output is exactly the integer reference semantics.
    np.testing.assert_array_equal(proof.output_q.reshape(-1), model.run_q(x))
    np.testing.assert_array_equal(verified, model.run(x))
    np.testing.assert_array_equal(verified, proof.output)
    assert proof.size > 0
    assert proof.soundness_bits is not None and proof.soundness_bits >= 100


def test_mlp_784_128_10_proof_agrees_with_onnxruntime(
    compiled: Compiled, onnx_path: Callable[[str], Path]
) -> None:
    model, samples = compiled("mlp_784_128_10")
    graph, onnx_model = import_onnx(onnx_path("mlp_784_128_10"))
    x = samples[1]
    expected = run_float(onnx_model, x[None], [graph.onnx_output])[graph.onnx_output][0]
    verified = zkgrad.verify(model, model.prove(x, threads=1))
    assert int(np.argmax(verified)) == int(np.argmax(expected))
    assert float(np.max(np.abs(verified - expected))) < 0.05


def test_files_round_trip(compiled: Compiled, tmp_path: Path) -> None:
    model, samples = compiled("matmul_add")
    model.save(tmp_path / "m.zkg")
    loaded = Model.load(tmp_path / "m.zkg")
    assert loaded.digest == model.digest
    assert loaded.report == model.report
    assert loaded.input_shape == model.input_shape
    proof = model.prove(samples[0])
    proof.save(tmp_path / "p.zkp")
    again = Proof.load(tmp_path / "p.zkp", loaded)
    np.testing.assert_array_equal(zkgrad.verify(loaded, again), zkgrad.verify(model, proof))
    assert again.data == proof.data


def test_tampered_proof_is_rejected(compiled: Compiled) -> None:
    model, samples = compiled("matmul_add")
    data = bytearray(model.prove(samples[0]).data)
    for position in (len(data) // 3, len(data) // 2, len(data) - 1):
        flipped = bytearray(data)
        flipped[position] ^= 0x01
        with pytest.raises(InvalidProof):
            zkgrad.verify(model, bytes(flipped))
    with pytest.raises(InvalidProof):
        zkgrad.verify(model, bytes(data[: len(data) // 2]))
    with pytest.raises(InvalidProof):
        zkgrad.verify(model, b"")


def test_proof_for_another_model_is_rejected(compiled: Compiled) -> None:
    mlp, mlp_samples = compiled("mlp_784_128_10")
    other, _ = compiled("matmul_add")
    with pytest.raises(InvalidProof):
        zkgrad.verify(other, mlp.prove(mlp_samples[0]))


def test_wrong_input_shape_is_a_clear_error(compiled: Compiled) -> None:
    model, _ = compiled("mlp_784_128_10")
    with pytest.raises(ModelError, match=r"expects \[1, 784\]"):
        model.prove(np.zeros(783))


def test_out_of_range_input_is_a_clear_error(compiled: Compiled) -> None:
    model, _ = compiled("mlp_784_128_10")
    with pytest.raises(ModelError, match="out of range"):
        model.prove(np.full(784, 1e6))


def test_batch_run(compiled: Compiled) -> None:
    model, samples = compiled("mlp_784_128_10")
    batch = model.run(samples[:3])
    assert batch.shape == (3, 10)
    np.testing.assert_array_equal(batch[1], model.run(samples[1]).reshape(-1))


def test_model_file_garbage_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.zkg"
    path.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="not a zkgrad model"):
        Model.load(path)

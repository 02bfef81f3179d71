"""Batch proofs (N inputs, one proof) and the accuracy/size precision targets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import models
import zkgrad


@pytest.fixture(scope="module")
def mlp_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return models.mlp_784_128_10(tmp_path_factory.mktemp("batch") / "mlp.onnx")


def test_batch_of_16_is_one_proof(mlp_path: Path) -> None:
    rng = np.random.default_rng(5)
    xs = rng.standard_normal((16, 784)).astype(np.float32)
    model = zkgrad.compile(mlp_path, calibration=xs)
    proof = model.prove(xs)
    verified = zkgrad.verify(model, proof)
    assert verified.shape == (16, 10)
    expected = np.stack([model.run(x[None, :]).reshape(10) for x in xs])
    np.testing.assert_array_equal(verified, expected)
    # One item's claimed output changed: the proof no longer verifies.
    other = model.prove(np.concatenate([xs[:15], xs[:1]]))
    assert not np.array_equal(zkgrad.verify(model, other), verified)


def test_size_target_gives_a_smaller_proof_that_still_agrees(mlp_path: Path) -> None:
    rng = np.random.default_rng(6)
    xs = rng.standard_normal((32, 784)).astype(np.float32)
    # Range checks go through two b/2-bit limbs (tables of 2^8 or 2^6 entries), so the 12-bit
    # target's proof is smaller by its narrower limbs and lookups (about 8% on this model; the
    # proofs' random parts vary by about 2%).
    accurate = zkgrad.compile(mlp_path, calibration=xs, target="accuracy")
    small = zkgrad.compile(mlp_path, calibration=xs, target="size")
    assert accurate.digest != small.digest
    assert (accurate.ir["act_bits"], small.ir["act_bits"]) == (16, 12)
    p_acc, p_small = accurate.prove(xs[:1]), small.prove(xs[:1])
    assert p_small.size < p_acc.size
    np.testing.assert_array_equal(zkgrad.verify(small, p_small), small.run(xs[:1]))
    agree = np.mean(
        [np.argmax(small.run(x[None, :])) == np.argmax(accurate.run(x[None, :])) for x in xs]
    )
    assert agree >= 0.9


def test_unknown_target_is_a_clear_error(mlp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown target"):
        zkgrad.compile(mlp_path, target="speed")

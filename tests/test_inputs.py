"""Reading inputs: file formats, shapes, and clear errors for bad data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from zkgrad import ModelError
from zkgrad.inputs import as_batch, as_single, quantize_input, read_array

SHAPE = (1, 6)


def test_read_npy_json_and_ezkl(tmp_path: Path) -> None:
    values = np.arange(6, dtype=np.float64) / 10
    np.save(tmp_path / "x.npy", values.reshape(SHAPE))
    (tmp_path / "x.json").write_text(json.dumps(values.tolist()))
    (tmp_path / "ezkl.json").write_text(json.dumps({"input_data": [values.tolist()]}))
    np.savez(tmp_path / "x.npz", first=values)
    for name in ("x.npy", "x.json", "ezkl.json", "x.npz"):
        np.testing.assert_array_equal(
            as_single(read_array(tmp_path / name), SHAPE), values.reshape(SHAPE)
        )


@pytest.mark.parametrize(
    ("shape", "count"),
    [((1, 6), 1), ((6,), 1), ((3, 6), 3), ((3, 1, 6), 3), ((12,), 2)],
)
def test_as_batch_shapes(shape: tuple[int, ...], count: int) -> None:
    batch = as_batch(np.zeros(shape), SHAPE)
    assert batch.shape == (count, *SHAPE)


def test_wrong_shape_is_a_clear_error() -> None:
    with pytest.raises(ModelError, match=r"shape \[5\]; the model expects \[1, 6\]"):
        as_batch(np.zeros(5), SHAPE)


def test_single_rejects_batches() -> None:
    with pytest.raises(ModelError, match="expected exactly one"):
        as_single(np.zeros((2, 6)), SHAPE)


@pytest.mark.parametrize("bad", [[1, "a"], [], [float("nan")] * 6, {"a": 1}])
def test_non_numeric_or_empty_input(bad: object) -> None:
    with pytest.raises(ModelError):
        as_batch(bad, SHAPE)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_array(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ModelError, match="cannot read"):
        read_array(tmp_path / "bad.json")
    (tmp_path / "obj.json").write_text('{"x": 1}')
    with pytest.raises(ModelError, match="input_data"):
        read_array(tmp_path / "obj.json")


def test_quantize_input_rounds_and_checks_range() -> None:
    q = quantize_input(np.array([0.5, -0.5, 1.25, 0.1]), 2, "x")
    np.testing.assert_array_equal(q, [2, -2, 5, 0])
    with pytest.raises(ModelError, match=r"input 'x'.*out of range"):
        quantize_input(np.array([9.0]), 12, "x")


def test_ezkl_json_with_two_inputs_is_refused_naming_the_file(tmp_path: Path) -> None:
    file = tmp_path / "input.json"
    file.write_text(json.dumps({"input_data": [[0.1] * 6, [0.2] * 6]}))
    with pytest.raises(ModelError, match=r"input\.json: 'input_data' holds 2 inputs") as info:
        read_array(file, "x")
    assert "the model has one input ('x')" in str(info.value)


def test_npz_with_several_arrays_is_refused_listing_them(tmp_path: Path) -> None:
    file = tmp_path / "data.npz"
    np.savez(file, features=np.zeros(6), labels=np.ones(6))
    with pytest.raises(ModelError, match=r"data\.npz holds 2 arrays \('features', 'labels'\)"):
        read_array(file)
    with pytest.raises(ModelError, match="an array named 'x'"):
        read_array(file, "x")


def test_npz_array_named_like_the_input_is_taken(tmp_path: Path) -> None:
    file = tmp_path / "data.npz"
    np.savez(file, labels=np.ones(6), x=np.arange(6.0))
    np.testing.assert_array_equal(read_array(file, "x"), np.arange(6.0))


@pytest.mark.parametrize(
    "value", [np.array([1 + 2j, 3]), [0.5, 1j], np.zeros(6, dtype=np.complex64)]
)
def test_complex_input_is_refused_not_truncated(value: object) -> None:
    with pytest.raises(ModelError, match=r"^input 'x': complex values are not supported"):
        as_batch(value, SHAPE, "input 'x'")


def test_complex_npy_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    np.save(tmp_path / "c.npy", np.full(SHAPE, 1 + 1j))
    with pytest.raises(ModelError, match=r"c\.npy: complex values"):
        read_array(tmp_path / "c.npy")


def test_none_and_text_are_not_numbers() -> None:
    with pytest.raises(ModelError, match=r"^input: no data given \(None\)"):
        as_batch(None, SHAPE)
    with pytest.raises(ModelError, match="not a numeric array"):
        as_batch(["0.5"] * 6, SHAPE)

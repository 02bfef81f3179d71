"""Reading tabular data for dataset commitments: ``.npy``, ``.npz``, ``.csv`` and ``.parquet``.

Every bad cell is one clear error naming the file, the row and the column; nothing is guessed
(a missing value is never filled, a non-numeric cell never dropped).

Example::

    table = read_table("patients.csv", label_column="diagnosis")
    table.features.shape, table.columns, table.labels
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zkgrad.errors import ModelError

__all__ = ["Table", "read_labels", "read_table"]


@dataclass
class Table:
    """Features (rows × columns, float), their column names, and labels if the file had them."""

    features: np.ndarray
    columns: list[str]
    labels: np.ndarray | None = None


def read_table(path: str | os.PathLike[str], label_column: str | None = None) -> Table:
    """Read a feature table; ``label_column`` names a column to take out as the labels."""
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{file}: no such file")
    suffix = file.suffix.lower()
    if suffix == ".csv":
        columns, rows = _read_csv(file)
    elif suffix == ".parquet":
        columns, rows = _read_parquet(file)
    elif suffix in (".npy", ".npz"):
        return _read_numpy(file, label_column)
    else:
        raise ModelError(f"{file}: unknown file type {suffix!r} (use .npy, .npz, .csv or .parquet)")
    values = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(columns))
    table = Table(values, columns)
    return _take_labels(file, table, label_column)


def read_labels(path: str | os.PathLike[str]) -> np.ndarray:
    """Read labels: one integer per row (a 1-column table, or a 1-D array)."""
    file = Path(path)
    table = read_table(file)
    if table.features.shape[1] != 1:
        raise ModelError(f"{file}: labels must be one column, found {table.features.shape[1]}")
    return _integer_labels(file, table.features[:, 0], table.columns[0])


def _take_labels(file: Path, table: Table, label_column: str | None) -> Table:
    if label_column is None:
        return table
    if label_column not in table.columns:
        raise ModelError(
            f"{file}: no column named {label_column!r} (columns: {', '.join(table.columns)})"
        )
    j = table.columns.index(label_column)
    labels = _integer_labels(file, table.features[:, j], label_column)
    keep = [i for i in range(len(table.columns)) if i != j]
    return Table(table.features[:, keep], [table.columns[i] for i in keep], labels)


def _integer_labels(file: Path, values: np.ndarray, column: str) -> np.ndarray:
    bad = np.flatnonzero((values != np.round(values)) | (values < 0))
    if bad.size:
        row = int(bad[0])
        raise ModelError(
            f"{file}: row {row + 1}, column {column!r}: the label {float(values[row]):g} is not a "
            "class index (a non-negative integer)"
        )
    return values.astype(np.int64)


def _cell(file: Path, text: str, row: int, column: str) -> float:
    """One CSV cell as a number, or an error naming its row (1 = first data row) and column."""
    stripped = text.strip()
    if stripped == "" or stripped.lower() in ("nan", "na", "null"):
        raise ModelError(f"{file}: row {row}, column {column!r}: missing value")
    try:
        value = float(stripped)
    except ValueError:
        raise ModelError(
            f"{file}: row {row}, column {column!r}: {stripped!r} is not a number"
        ) from None
    if not math.isfinite(value):
        raise ModelError(f"{file}: row {row}, column {column!r}: {stripped!r} is not finite")
    return value


def _read_csv(file: Path) -> tuple[list[str], list[list[float]]]:
    with open(file, newline="", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    lines = [line for line in lines if line]
    if not lines:
        raise ModelError(f"{file}: the file is empty")
    header = [h.strip() for h in lines[0]]
    has_header = any(not _is_number(h) for h in header)
    columns = header if has_header else [f"x{i}" for i in range(len(header))]
    body = lines[1:] if has_header else lines
    if not body:
        raise ModelError(f"{file}: no data rows")
    rows = []
    for r, line in enumerate(body, start=1):
        if len(line) != len(columns):
            raise ModelError(
                f"{file}: row {r} has {len(line)} cells, the header has {len(columns)}"
            )
        rows.append([_cell(file, text, r, columns[c]) for c, text in enumerate(line)])
    return columns, rows


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_parquet(file: Path) -> tuple[list[str], list[list[float]]]:
    try:
        import pyarrow.parquet as pq  # imported here: only parquet files need it
    except ImportError:
        raise ModelError(
            f"{file}: reading parquet needs pyarrow (pip install 'zkgrad[data]')"
        ) from None
    table = pq.read_table(file)
    columns = [str(c) for c in table.column_names]
    data = []
    for name in columns:
        col = table.column(name)
        if col.null_count:
            row = next(i for i, v in enumerate(col.to_pylist()) if v is None)
            raise ModelError(f"{file}: row {row + 1}, column {name!r}: missing value")
        values = col.to_pylist()
        for i, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ModelError(f"{file}: row {i + 1}, column {name!r}: {v!r} is not a number")
        data.append([float(v) for v in values])
    rows = [list(r) for r in zip(*data, strict=True)]
    if not rows:
        raise ModelError(f"{file}: no data rows")
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row):
            if not math.isfinite(v):
                raise ModelError(f"{file}: row {r}, column {columns[c]!r}: {v!r} is not finite")
    return columns, rows


def _read_numpy(file: Path, label_column: str | None) -> Table:
    try:
        if file.suffix.lower() == ".npy":
            x, y = np.load(file, allow_pickle=False), None
        else:
            with np.load(file, allow_pickle=False) as archive:
                names = archive.files
                xn = next((n for n in ("X", "x", "features") if n in names), None)
                if xn is None and len(names) == 1:
                    xn = names[0]
                if xn is None:
                    raise ModelError(
                        f"{file}: name the feature array X (and the labels y); it holds "
                        f"{', '.join(names)}"
                    )
                x = archive[xn]
                yn = next((n for n in ("y", "Y", "labels") if n in names), None)
                y = archive[yn] if yn else None
    except (ValueError, OSError) as exc:
        if isinstance(exc, ModelError):
            raise
        raise ModelError(f"{file}: cannot read an array ({exc})") from None
    if x.ndim == 1 and label_column is None and y is None:
        x = x.reshape(-1, 1)
    if x.ndim != 2:
        raise ModelError(f"{file}: features must be a 2-D array (rows × columns), got {x.shape}")
    if x.dtype.kind not in "iuf":
        raise ModelError(f"{file}: features must be numbers, got dtype {x.dtype}")
    x = x.astype(np.float64)
    bad = np.argwhere(~np.isfinite(x))
    if bad.size:
        r, c = (int(v) for v in bad[0])
        raise ModelError(f"{file}: row {r + 1}, column {c}: missing or non-finite value")
    table = Table(x, [f"x{i}" for i in range(x.shape[1])])
    if y is not None:
        table.labels = _integer_labels(file, np.asarray(y, dtype=np.float64).ravel(), "y")
    return _take_labels(file, table, label_column)

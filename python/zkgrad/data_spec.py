"""Property specs for data-property proofs: TOML (``docs/DATA.md``) or a mapping, converted to
the quantised integer statement the proof is about.

Bounds are converted so the quantised statement implies the real one: a range [lo, hi] at scale
2^b becomes [ceil(lo·2^b), floor(hi·2^b)]; a mean bound [a, b] over n rows becomes the sum bound
[ceil(a·2^b·n), floor(b·2^b·n)]; a variance bound [a, b] (population variance, real units) the
bound [ceil(a·4^b·n²), floor(b·4^b·n²)] on n·Σx² − (Σx)², clamped to what the range allows; a class
share [a, b] the count bound [ceil(a·n), floor(b·n)].

Example::

    spec = load_spec("props.toml")
    ranges, classes, sums, variances = quantise_spec(spec, dataset.public)
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zkgrad.errors import ModelError

if TYPE_CHECKING:
    from zkgrad.dataset import DatasetPublic

__all__ = ["load_spec", "quantise_spec"]

TOP_KEYS = {"rows", "features", "labels"}
FEATURE_KEYS = {"range", "mean", "variance"}
LABEL_KEYS = {"classes", "counts", "shares"}

Bounds = list[tuple[int, int, int]]
Classes = tuple[int, list[tuple[int, int]]] | None


def load_spec(spec: Mapping[str, Any] | str | os.PathLike[str]) -> Mapping[str, Any]:
    """A spec from a mapping, TOML text, or a ``.toml`` file."""
    if isinstance(spec, Mapping):
        return spec
    text, what = str(spec), "the spec"
    if isinstance(spec, os.PathLike) or (isinstance(spec, str) and spec.endswith(".toml")):
        file = Path(spec)
        if not file.is_file():
            raise FileNotFoundError(f"{file}: no such file")
        text, what = file.read_text(), str(file)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"{what}: not valid TOML ({exc})") from None


def _unknown(keys: Any, allowed: set[str], where: str) -> None:
    extra = sorted(set(keys) - allowed)
    if extra:
        raise ModelError(
            f"{where}: unknown key {extra[0]!r} (allowed: {', '.join(sorted(allowed))})"
        )


def _pair(value: Any, where: str) -> tuple[float, float]:
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        raise ModelError(f"{where}: expected [low, high], got {value!r}")
    lo, hi = float(value[0]), float(value[1])
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo:
        raise ModelError(f"{where}: [{lo:g}, {hi:g}] is not a finite interval with low ≤ high")
    return lo, hi


def _column(name: str, columns: list[str]) -> int:
    if name in columns:
        return columns.index(name)
    if name.isdigit() and int(name) < len(columns):
        return int(name)
    raise ModelError(
        f"the spec names the column {name!r}, which the dataset does not have "
        f"(columns: {', '.join(columns)})"
    )


def quantise_spec(
    spec: Mapping[str, Any], pub: DatasetPublic
) -> tuple[Bounds, Classes, Bounds, Bounds]:
    """The quantised statement: (ranges, classes, sums, variances) as the native prover takes
    them."""
    _unknown(spec, TOP_KEYS, "the spec")
    n = pub.rows
    if "rows" in spec and spec["rows"] != n:
        raise ModelError(f"the spec states {spec['rows']} rows but the dataset has {n}")
    ranges: Bounds = []
    sums: Bounds = []
    variances: Bounds = []
    features = spec.get("features", {})
    if not isinstance(features, Mapping):
        raise ModelError("the spec's [features] must be a table of column names")
    for name, props in features.items():
        f = _column(str(name), pub.columns)
        where = f"features.{name}"
        if not isinstance(props, Mapping):
            raise ModelError(f"{where}: expected a table with range, mean and/or variance")
        _unknown(props, FEATURE_KEYS, where)
        scale = 2.0 ** pub.scale_bits[f]
        if "range" not in props:
            raise ModelError(f"{where}: a mean or variance bound needs the feature's range too")
        lo, hi = _pair(props["range"], f"{where}.range")
        qlo, qhi = math.ceil(lo * scale), math.floor(hi * scale)
        if qhi < qlo:
            raise ModelError(f"{where}.range: no quantised value lies in [{lo:g}, {hi:g}]")
        if qhi - qlo >= 2**16:
            raise ModelError(
                f"{where}.range: [{lo:g}, {hi:g}] spans {qhi - qlo + 1} quantised values at scale "
                f"2^{pub.scale_bits[f]}, more than the 65536 a range check covers; commit with a "
                "smaller scale or declare a tighter range"
            )
        ranges.append((f, qlo, qhi))
        if "mean" in props:
            a, b = _pair(props["mean"], f"{where}.mean")
            slo = max(math.ceil(a * scale * n), qlo * n)
            shi = min(math.floor(b * scale * n), qhi * n)
            if shi < slo:
                raise ModelError(f"{where}.mean: [{a:g}, {b:g}] lies outside the range")
            sums.append((f, slo, shi))
        if "variance" in props:
            bits = pub.scale_bits[f]
            vlo, vhi = _variance(props["variance"], f"{where}.variance", n, qhi - qlo, bits)
            variances.append((f, vlo, vhi))
    classes: Classes = None
    labels = spec.get("labels")
    if labels is not None:
        if not isinstance(labels, Mapping):
            raise ModelError("the spec's [labels] must be a table")
        _unknown(labels, LABEL_KEYS, "labels")
        if not pub.labels:
            raise ModelError("the spec states label properties but the dataset has no labels")
        k = labels.get("classes")
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= 65536:
            raise ModelError(f"labels.classes: expected an integer from 1 to 65536, got {k!r}")
        counts = [(0, n)] * k
        if "counts" in labels and "shares" in labels:
            raise ModelError("labels: give counts or shares, not both")
        if "counts" in labels:
            given = labels["counts"]
            if not isinstance(given, list) or len(given) != k:
                raise ModelError(f"labels.counts: expected {k} counts, got {given!r}")
            counts = []
            for t, c in enumerate(given):
                if isinstance(c, list):
                    a, b = _pair(c, f"labels.counts[{t}]")
                    counts.append((math.ceil(a), math.floor(b)))
                elif isinstance(c, int) and not isinstance(c, bool) and c >= 0:
                    counts.append((c, c))
                else:
                    raise ModelError(f"labels.counts[{t}]: expected a count, got {c!r}")
        if "shares" in labels:
            given = labels["shares"]
            if not isinstance(given, list) or len(given) != k:
                raise ModelError(f"labels.shares: expected {k} [low, high] pairs, got {given!r}")
            counts = []
            for t, s in enumerate(given):
                a, b = _pair(s, f"labels.shares[{t}]")
                counts.append((max(0, math.ceil(a * n - 1e-9)), min(n, math.floor(b * n + 1e-9))))
        classes = (k, counts)
    return ranges, classes, sums, variances


def _variance(value: Any, where: str, n: int, width: int, bits: int) -> tuple[int, int]:
    """A population-variance bound [a, b] in real units, at scale 2^bits over n rows of a range
    ``width`` quantised values wide, as the bound on n·Σx² − (Σx)² over the quantised column:
    [ceil(a·4^bits·n²), floor(b·4^bits·n²)] (exact), clamped to [0, (n·width)²/4]."""
    a, b = _pair(value, where)
    if n * width >= 2**31:
        raise ModelError(
            f"{where}: {n} rows of a range {width} quantised values wide could wrap around the "
            "field (rows × width must be below 2^31); declare a tighter range or commit at a "
            "smaller scale"
        )
    factor = Fraction(n * n) * Fraction(2) ** (2 * bits)
    vmax = (n * width) ** 2 // 4
    vlo = max(math.ceil(Fraction(a) * factor), 0)
    vhi = min(math.floor(Fraction(b) * factor), vmax)
    if vhi < vlo:
        raise ModelError(
            f"{where}: [{a:g}, {b:g}] lies outside what the range allows "
            f"([0, {float(vmax / factor):g}] for these {n} rows)"
        )
    return vlo, vhi

"""The type stub ``_native.pyi`` names exactly what the native module provides."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import zkgrad
from zkgrad import _native

STUB = Path(zkgrad.__file__).parent / "_native.pyi"


def _stub_names() -> dict[str, set[str]]:
    tree = ast.parse(STUB.read_text())
    names: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names[node.name] = {
                item.name
                for item in node.body
                if isinstance(item, ast.FunctionDef) and not item.name.startswith("__")
            }
        elif isinstance(node, ast.FunctionDef):
            names[node.name] = set()
    return names


@pytest.mark.skipif(not STUB.exists(), reason="no _native.pyi yet")
def test_stub_matches_module() -> None:
    stub = _stub_names()
    public = {name for name in dir(_native) if not name.startswith("_")}
    assert set(stub) == public
    for name, members in stub.items():
        for member in members:
            assert hasattr(getattr(_native, name), member), f"{name}.{member}"

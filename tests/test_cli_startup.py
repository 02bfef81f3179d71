"""Start-up of the command line: commands that never read ONNX do not import onnx (1-2 s), and
none of them imports pydantic (~80 ms; typer would convert every option with it, see
zkgrad/cli_params.py), so that ``zkgrad verify`` of the demo proof takes ~0.2 s.

Each test runs the real entry point (``python -m zkgrad``) in a fresh interpreter and looks at
``sys.modules`` when the command is done, or at what ``python -X importtime`` lists. Neither
measures time: a loaded CI machine would make such a test flaky.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# Modules only compiling (onnx, onnxruntime), plotting or scikit-learn need, and pydantic.
HEAVY = ("onnx", "onnxruntime", "matplotlib", "sklearn", "skl2onnx", "pydantic")
# What `verify` does without, besides those: compiling, the progress bar, tables. It needs
# numpy: the native verifier returns the verified output as a numpy array.
NOT_FOR_VERIFY = (
    *HEAVY,
    "zkgrad.compiler",
    "zkgrad.onnx",
    "zkgrad.describe",
    "zkgrad.progress",
    "rich.progress",
    "rich.table",
)

# Runs `zkgrad ARGS...` as `python -m zkgrad` does, then prints the exit code and which heavy
# modules were imported, as JSON on the last line of stderr.
PROBE = """
import json, runpy, sys
heavy, args = json.loads(sys.argv[1]), json.loads(sys.argv[2])
sys.argv = ["zkgrad", *args]
code = 0
try:
    runpy.run_module("zkgrad", run_name="__main__")
except SystemExit as exc:
    code = exc.code or 0
loaded = sorted(name for name in heavy if name in sys.modules)
sys.stderr.write("\\n" + json.dumps({"code": code, "loaded": loaded}) + "\\n")
"""


def _probe(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(HEAVY), json.dumps(args)],
        capture_output=True,
        text=True,
        check=False,
    )
    return json.loads(done.stderr.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's model and proof, and the model's verifying key, made through the CLI."""
    out = tmp_path_factory.mktemp("demo")
    for args in (["demo", "--out", str(out)], ["export-vk", str(out / "model.zkg")]):
        done = subprocess.run(
            [sys.executable, "-m", "zkgrad", *args], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
    return out


def test_import_of_the_cli_loads_no_onnx() -> None:
    code = (
        "import sys, zkgrad.cli; print(sorted(m for m in sys.modules if m.split('.')[0] == 'onnx'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("source", ["model.vk", "model.zkg"])
def test_verify_loads_no_onnx(demo_dir: Path, source: str) -> None:
    result = _probe("verify", str(demo_dir / source), str(demo_dir / "proof.zkp"))
    assert result == {"code": 0, "loaded": []}


def _importtime(*args: str) -> list[tuple[int, str]]:
    """(depth, module) for each import of ``python -X importtime -m zkgrad ARGS``, in the
    order ``-X importtime`` lists them: a module after the modules it imported."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "zkgrad", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    imports = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and not line.rstrip().endswith("imported package"):
            name = line.split("|")[2][1:]  # two spaces per level after the one separator
            imports.append(((len(name) - len(name.lstrip())) // 2, name.strip()))
    return imports


def _chain(imports: list[tuple[int, str]], index: int) -> str:
    """``top <- ... <- imports[index]``: who imported the module."""
    depth, name = imports[index]
    names = [name]
    for later_depth, later in imports[index + 1 :]:
        if later_depth < depth:
            depth = later_depth
            names.append(later)
    return " -> ".join(reversed(names))


def test_verify_imports_nothing_it_does_not_need(demo_dir: Path) -> None:
    imports = _importtime("verify", str(demo_dir / "model.zkg"), str(demo_dir / "proof.zkp"))
    names = [name for _, name in imports]
    assert "zkgrad.cli" in names and "numpy" in names  # the list is read right
    first: dict[str, str] = {}  # per unwanted package, the chain of imports to it
    for index, name in enumerate(names):
        for top in NOT_FOR_VERIFY:
            if name == top or name.startswith(top + "."):
                first.setdefault(top, _chain(imports, index))
    assert not first, "verify imports:\n" + "\n".join(first.values())


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["commit", "{d}/model.vk"], 0),
        (["report", "{d}/model.zkg"], 0),
        (["prove", "{d}/model.zkg", "{d}/input.json", "-o", "{d}/again.zkp"], 0),
        (["export-vk", "{d}/model.zkg", "-o", "{d}/again.vk"], 0),
        (["--version"], 0),
        (["inspect", "{d}/model.vk"], 0),
        (["inspect", "{d}/model.zkg"], 0),
        (["verify", "{d}/proof.zkp", "{d}/model.vk"], 2),
    ],
)
def test_commands_without_onnx_files_load_no_onnx(
    demo_dir: Path, args: list[str], code: int
) -> None:
    result = _probe(*(arg.format(d=demo_dir) for arg in args))
    assert result == {"code": code, "loaded": []}


def test_inspect_of_an_onnx_file_still_works(demo_dir: Path) -> None:
    from zkgrad.demo import MODEL_ASSET, asset_path

    with asset_path(MODEL_ASSET) as onnx_file:
        result = _probe("inspect", str(onnx_file))
    assert result["code"] == 0
    assert "onnx" in result["loaded"]


def test_lazy_names_of_the_package_resolve() -> None:
    code = (
        "import sys, zkgrad; assert 'onnx' not in sys.modules; "
        "from zkgrad import compile, inspect, Description, from_sklearn; "
        "assert compile.__module__ == 'zkgrad.compiler' and 'onnx' in sys.modules; "
        "assert {'compile', 'inspect', 'from_sklearn'} <= set(dir(zkgrad))"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    missing = subprocess.run(
        [sys.executable, "-c", "import zkgrad; zkgrad.no_such_name"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "module 'zkgrad' has no attribute 'no_such_name'" in missing.stderr

"""Start-up of the command line: commands that never read ONNX do not import onnx (1-2 s).

Each test runs the real entry point (``python -m zkgrad``) in a fresh interpreter and looks at
``sys.modules`` when the command is done.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# Modules only compiling (onnx, onnxruntime), plotting or scikit-learn need.
HEAVY = ("onnx", "onnxruntime", "matplotlib", "sklearn", "skl2onnx")

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

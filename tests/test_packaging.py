"""Packaging: the README's supported-ops list is generated from the importer, and the wheel check
(scripts/check_wheel.py, run by CI after `make test`) notices a wheel that lacks package data."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import zkgrad
from zkgrad.onnx import _PASS_THROUGH, SUPPORTED_OPS, _Importer

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
PACKAGE = ROOT / "python" / "zkgrad"


def _script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``scripts/<name>`` as a user would, with this checkout's zkgrad importable."""
    env = {**os.environ, "PYTHONPATH": str(Path(zkgrad.__file__).resolve().parent.parent)}
    return subprocess.run(
        [sys.executable, str(SCRIPTS / name), *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def _load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name.removesuffix(".py"), SCRIPTS / name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_supported_ops_match_the_importer() -> None:
    done = _script("supported_ops.py", "--check")
    assert done.returncode == 0, done.stderr
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for op, conditions in SUPPORTED_OPS.items():
        assert f"| `{op}` | {conditions} |" in readme


def test_every_supported_op_has_an_import_rule() -> None:
    # The table is the importer's dispatch list: each entry has a handler or is a no-op.
    no_ops = {*_PASS_THROUGH, "Cast"}
    for op in SUPPORTED_OPS:
        assert op in no_ops or hasattr(_Importer, f"_op_{op.lower()}"), op


def test_stale_supported_ops_list_is_caught_and_regenerated(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    fresh = (ROOT / "README.md").read_text(encoding="utf-8")
    conv_row = f"| `Conv` | {SUPPORTED_OPS['Conv']} |\n"
    readme.write_text(fresh.replace(conv_row, ""), encoding="utf-8")

    stale = _script("supported_ops.py", "--check", "--readme", str(readme))
    assert stale.returncode == 1
    assert "differs from zkgrad.onnx.SUPPORTED_OPS" in stale.stderr

    assert _script("supported_ops.py", "--readme", str(readme)).returncode == 0
    assert readme.read_text(encoding="utf-8") == fresh


def test_readme_without_markers_is_a_clear_error(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# no markers here\n", encoding="utf-8")
    done = _script("supported_ops.py", "--check", "--readme", str(readme))
    assert done.returncode == 2
    assert "needs exactly one start and one end marker" in done.stderr
    assert "Traceback" not in done.stderr


def _fake_wheel(path: Path, leave_out: str) -> Path:
    """A wheel-shaped zip of the package's files, without ``leave_out``."""
    check_wheel = _load_script("check_wheel.py")
    with zipfile.ZipFile(path, "w") as archive:
        for name in check_wheel.package_files(PACKAGE):
            if name != leave_out:
                archive.writestr(name, b"")
        archive.writestr("zkgrad/_native.abi3.so", b"")
        archive.writestr(
            "zkgrad-0.1.0.dist-info/entry_points.txt",
            "[console_scripts]\nzkgrad=zkgrad.cli:app\n",
        )
    return path


def test_wheel_check_accepts_a_complete_wheel(tmp_path: Path) -> None:
    check_wheel = _load_script("check_wheel.py")
    wheel = _fake_wheel(tmp_path / "zkgrad-0.1.0-cp311-abi3-linux_x86_64.whl", leave_out="")
    assert check_wheel.missing_from_wheel(wheel, PACKAGE) == []


def test_wheel_check_names_a_missing_bundled_model(tmp_path: Path) -> None:
    check_wheel = _load_script("check_wheel.py")
    asset = "zkgrad/assets/breast_cancer_mlp.onnx"
    assert asset in check_wheel.package_files(PACKAGE)
    wheel = _fake_wheel(tmp_path / "zkgrad-0.1.0-cp311-abi3-linux_x86_64.whl", leave_out=asset)
    assert check_wheel.missing_from_wheel(wheel, PACKAGE) == [asset]


def test_wheel_check_of_a_missing_wheel_is_one_sentence(tmp_path: Path) -> None:
    done = _script("check_wheel.py", "--wheel", str(tmp_path / "nothing.whl"))
    assert done.returncode == 1
    assert "nothing.whl: no such file" in done.stderr
    assert "Traceback" not in done.stderr

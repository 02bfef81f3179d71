"""Check that a user can install zkgrad from a wheel, without the repository, and run the demo.

Builds the wheel with the maturin beside this Python (the one the Makefile pins; with the
target directory of the earlier build, only the extension module is relinked), checks that every
file of the package is in it, installs it into a new virtual environment and runs
``zkgrad demo`` and ``zkgrad verify`` from a directory outside the checkout, with no
``PYTHONPATH``, so nothing can come from the source tree. CI runs it after ``make test``.

Usage::

    .venv/bin/python scripts/check_wheel.py                 # build, install, run the demo
    .venv/bin/python scripts/check_wheel.py --wheel W.whl   # check an already built wheel
"""

from __future__ import annotations

import argparse
import configparser
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "python" / "zkgrad"
CONSOLE_SCRIPT = ("zkgrad", "zkgrad.cli:app")


class CheckFailed(Exception):
    """One step of the check failed; the message says which and why."""


def package_files(package_dir: Path) -> list[str]:
    """The wheel paths every source file of the package must have (built files excluded)."""
    skipped_suffixes = {".so", ".pyd", ".pyc"}
    return sorted(
        f"zkgrad/{path.relative_to(package_dir).as_posix()}"
        for path in package_dir.rglob("*")
        if path.is_file()
        and path.suffix not in skipped_suffixes
        and "__pycache__" not in path.parts
    )


def missing_from_wheel(wheel: Path, package_dir: Path) -> list[str]:
    """What the wheel lacks: package files (assets included), the native module, the script."""
    if not wheel.is_file():
        raise CheckFailed(f"{wheel}: no such file")
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = set(archive.namelist())
            entry_points = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
            scripts = configparser.ConfigParser()
            scripts.read_string(archive.read(entry_points[0]).decode() if entry_points else "")
    except (OSError, zipfile.BadZipFile) as exc:
        raise CheckFailed(f"{wheel}: cannot read the wheel ({exc})") from None
    missing = [name for name in package_files(package_dir) if name not in names]
    if not any(n.startswith("zkgrad/_native.") and n.endswith((".so", ".pyd")) for n in names):
        missing.append("zkgrad/_native (the compiled extension module)")
    name, target = CONSOLE_SCRIPT
    if scripts.get("console_scripts", name, fallback=None) != target:
        missing.append(f"the console script '{name} = {target}' in entry_points.txt")
    return missing


def _run(step: str, command: list[str], cwd: Path, env: dict[str, str]) -> str:
    """Run one step; its output, or CheckFailed with the step's name and its output's tail."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise CheckFailed(f"{step} failed (exit code {done.returncode}):\n{tail}")
    print(f"  {step}: {seconds:.1f} s", flush=True)
    return done.stdout


def build_wheel(out_dir: Path) -> Path:
    """``maturin build --release`` into ``out_dir``; the one wheel it wrote."""
    maturin = Path(sys.executable).parent / "maturin"
    if not maturin.exists():
        raise CheckFailed(f"{maturin}: no such file (run `make setup` first)")
    command = [str(maturin), "build", "--release", "--out", str(out_dir)]
    _run("maturin build --release", [*command, "--interpreter", sys.executable], ROOT, _env())
    wheels = sorted(out_dir.glob("zkgrad-*.whl"))
    if len(wheels) != 1:
        raise CheckFailed(f"{out_dir}: expected one zkgrad wheel, found {len(wheels)}")
    return wheels[0]


def _env() -> dict[str, str]:
    """The environment without anything that would put the checkout on the path."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def install_and_run_demo(wheel: Path, work: Path) -> None:
    """Install ``wheel`` into a new venv under ``work`` and run the demo from ``work``."""
    venv = work / "venv"
    env = _env()
    _run("python -m venv", [sys.executable, "-m", "venv", str(venv)], work, env)
    python, zkgrad = venv / "bin" / "python", venv / "bin" / "zkgrad"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run("pip install <wheel>", [*pip, str(wheel)], work, env)
    where = _run(
        "import zkgrad", [str(python), "-c", "import zkgrad; print(zkgrad.__file__)"], work, env
    )
    if not Path(where.strip()).is_relative_to(venv):
        raise CheckFailed(f"zkgrad was imported from {where.strip()}, not from the new venv")
    shown = _run("zkgrad demo", [str(zkgrad), "demo", "--out", "demo-out"], work, env)
    if "valid" not in shown or "prediction" not in shown:
        raise CheckFailed(f"zkgrad demo printed no verified prediction:\n{shown}")
    out = work / "demo-out"
    verify = [str(zkgrad), "verify", str(out / "model.zkg"), str(out / "proof.zkp")]
    _run("zkgrad verify", verify, work, env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="a built wheel (default: build one)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="zkgrad-wheel-") as tmp:
            work = Path(tmp)
            print("wheel check:", flush=True)
            wheel = args.wheel.resolve() if args.wheel else build_wheel(work / "dist")
            missing = missing_from_wheel(wheel, PACKAGE)
            if missing:
                raise CheckFailed(f"{wheel.name} lacks: {', '.join(missing)}")
            install_and_run_demo(wheel, work)
    except CheckFailed as exc:
        print(f"wheel check failed: {exc}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - start
    print(f"wheel check: {wheel.name} installs and runs the demo ({seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

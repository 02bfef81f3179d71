"""The ``zkgrad`` command line: compile, prove, verify, demo.

Exit codes: 0 success (for ``verify``: the proof is valid), 1 invalid proof,
2 bad usage, missing or unreadable files, or bad input.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape

import zkgrad
from zkgrad.errors import InvalidProof
from zkgrad.inputs import read_array
from zkgrad.model import Model, Proof

EXIT_INVALID = 1
EXIT_ERROR = 2

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Zero-knowledge proofs of ML inference for ONNX models.",
)
console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


@contextmanager
def _handled() -> Iterator[None]:
    """Turn expected failures into a one-line message and an exit code."""
    try:
        yield
    except InvalidProof as exc:
        errors.print(f"[bold red]invalid proof:[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_INVALID) from None
    except (ValueError, OSError) as exc:  # ModelError is a ValueError
        errors.print(f"[bold red]error:[/] {escape(str(exc) or type(exc).__name__)}")
        raise typer.Exit(EXIT_ERROR) from None
    except RuntimeError as exc:  # a prover failure that is not the input's fault
        errors.print(f"[bold red]internal error:[/] {escape(str(exc) or type(exc).__name__)}")
        raise typer.Exit(EXIT_ERROR) from None


@contextmanager
def _timed(label: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    elapsed = time.perf_counter() - start
    console.print(
        f"{label}: {elapsed:.3f} s" if elapsed >= 0.1 else f"{label}: {elapsed * 1e3:.1f} ms"
    )


def _show(values: np.ndarray) -> str:
    return escape(
        np.array2string(np.asarray(values), precision=5, separator=", ", max_line_width=10**6)
    )


def _show_report(report: dict[str, Any]) -> None:
    if "max_abs_error" not in report:
        console.print(f"accuracy report: {escape(str(report.get('error', 'none')))}")
        return
    line = (
        f"accuracy lost on {report['samples']} samples ({escape(str(report['source']))}): "
        f"max |Δ| {report['max_abs_error']:.4g}, mean |Δ| {report['mean_abs_error']:.4g} "
        f"(float outputs up to {report['float_max_abs']:.4g})"
    )
    if "argmax_agreement" in report:
        line += f", argmax agreement {report['argmax_agreement'] * 100:.1f}%"
    console.print(line)


@app.command("compile")
def compile_cmd(
    model: Annotated[Path, typer.Argument(metavar="MODEL.onnx", help="ONNX model file.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="Model file to write (default: MODEL with suffix .zkg)."
        ),
    ] = None,
    calibration: Annotated[
        Path | None,
        typer.Option(
            "--calibration", "-c", help="Sample inputs (.npy, .npz or .json) to choose scales."
        ),
    ] = None,
) -> None:
    """Import, quantise and commit an ONNX model."""
    target = output or model.with_suffix(".zkg")
    with _handled():
        with _timed("compile"):
            compiled = zkgrad.compile(model, calibration)
        compiled.save(target)
    console.print(
        f"wrote {escape(str(target))}: {compiled.num_params} parameters, input "
        f"{list(compiled.input_shape)}, output {list(compiled.output_shape)}"
    )
    console.print(f"model digest: {compiled.digest}")
    _show_report(compiled.report)


@app.command()
def prove(
    model: Annotated[Path, typer.Argument(metavar="MODEL.zkg", help="Compiled model (.zkg).")],
    input: Annotated[
        Path, typer.Argument(metavar="INPUT", help="Input: .npy, JSON list, or EZKL input.json.")
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="Proof file to write.")] = Path(
        "proof.zkp"
    ),
    threads: Annotated[
        int | None, typer.Option(help="Prover threads (default: all cores).")
    ] = None,
) -> None:
    """Run the model on INPUT and prove the result."""
    with _handled():
        with _timed("load"):
            loaded = Model.load(model)
            x = read_array(input)
        with _timed("prove"):
            proof = loaded.prove(x, threads)
        proof.save(output)
    console.print(f"output: {_show(proof.output)}")
    console.print(
        f"wrote {escape(str(output))}: proof size {proof.size} bytes, "
        f"soundness {loaded.soundness_bits:.1f} bits"
    )


@app.command()
def verify(
    model: Annotated[Path, typer.Argument(metavar="MODEL.zkg", help="Compiled model (.zkg).")],
    proof: Annotated[Path, typer.Argument(metavar="PROOF.zkp", help="Proof file (.zkp).")],
) -> None:
    """Verify PROOF against MODEL; exit 0 if valid, 1 if not."""
    with _handled():
        loaded = Model.load(model)
        data = Proof.load(proof, loaded)
        with _timed("verify"):
            output = loaded.verify(data)
    console.print(f"[bold green]valid[/] proof for model {loaded.digest}")
    console.print(f"verified output: {_show(output)}")


@app.command()
def demo(
    record: Annotated[int, typer.Option(help="Which bundled record to prove.")] = 0,
    out: Annotated[
        Path | None, typer.Option(help="Also write model, proof and input here.")
    ] = None,
) -> None:
    """Compile, prove and verify the bundled breast-cancer classifier."""
    from zkgrad.demo import run_demo

    with _handled():
        run_demo(console, record, out)


if __name__ == "__main__":
    app()

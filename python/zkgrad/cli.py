"""The ``zkgrad`` command line: compile, prove, verify, commit-input, demo.

Exit codes: 0 success (for ``verify``: the proof is valid), 1 invalid proof,
2 bad usage, missing or unreadable files, or bad input.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import zkgrad
from zkgrad.compiler import check_zk
from zkgrad.describe import Description, describe
from zkgrad.errors import InvalidProof, ModelError, QuantizationWarning
from zkgrad.inputs import read_array
from zkgrad.model import Model, Proof, load_verifier, parse_input_seed
from zkgrad.progress import Activity

EXIT_INVALID = 1
EXIT_ERROR = 2
MAX_OUTPUT_ROWS = 16

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
    per_output = report.get("per_output")
    if per_output:
        maxes, means = per_output["max_abs_error"], per_output["mean_abs_error"]
        if len(maxes) <= MAX_OUTPUT_ROWS:
            table = _table("output", "max |Δ|", "mean |Δ|")
            for index, (worst, mean) in enumerate(zip(maxes, means, strict=True)):
                table.add_row(f"#{index}", f"{worst:.4g}", f"{mean:.4g}")
            console.print(table)
        else:
            index = max(range(len(maxes)), key=maxes.__getitem__)
            console.print(
                f"per output: {len(maxes)} outputs, the worst is #{index} "
                f"(max |Δ| {maxes[index]:.4g}, mean |Δ| {means[index]:.4g})"
            )
    layers = report.get("layers")
    if layers:
        table = _table("layer", "op", "max |Δ|", "mean |Δ|", "relative")
        for layer in layers:
            table.add_row(
                escape(layer["node"]),
                layer["op"],
                f"{layer['max_abs_error']:.4g}",
                f"{layer['mean_abs_error']:.4g}",
                f"{layer['relative_error']:.3g}",
            )
        console.print(table)
    worst = report.get("worst_layer")
    if worst:
        console.print(
            f"most error added by: '{escape(worst['node'])}' ({worst['op']}, "
            f"tensor '{escape(worst['tensor'])}'); per-layer attribution is a heuristic"
        )
    if report.get("warning"):  # a QuantizationWarning at compile time, kept in the report
        errors.print(f"[bold yellow]warning:[/] {escape(report['warning'])}")


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
    precision: Annotated[
        str,
        typer.Option(
            "--target",
            help="accuracy: 16-bit activations; size: 12-bit activations, smaller faster proofs.",
        ),
    ] = "accuracy",
    input_visibility: Annotated[
        str,
        typer.Option(
            "--input",
            help="private: the input stays hidden; public: every proof states its input; "
            "committed: the input stays hidden and every proof carries a commitment to it "
            "(prove with --input-seed).",
        ),
    ] = "private",
    zk: Annotated[
        bool,
        # Hidden: kept only so that --no-zk gets a clear error instead of "no such option".
        typer.Option("--zk/--no-zk", hidden=True),
    ] = True,
    seed: Annotated[
        str | None,
        typer.Option(
            "--seed",
            metavar="HEX",
            help="Commitment seed (64 hex digits) for a reproducible model digest; default: "
            "fresh randomness. Keep it as secret as the weights.",
        ),
    ] = None,
) -> None:
    """Import, quantise and commit an ONNX model (proofs are always zero-knowledge)."""
    target = output or model.with_suffix(".zkg")
    with _handled():
        check_zk(zk, "--no-zk")
        with (
            _timed("compile"),
            Activity(errors, "compiling") as activity,
            warnings.catch_warnings(),
        ):
            # Printed with the report below, as one line instead of Python's warning format.
            warnings.simplefilter("ignore", QuantizationWarning)
            compiled = zkgrad.compile(
                model,
                calibration,
                target=precision,
                progress=activity.update,
                input_visibility=input_visibility,
                seed=seed,
            )
        compiled.save(target)
    console.print(
        f"wrote {escape(str(target))}: {compiled.num_params} parameters, input "
        f"{list(compiled.input_shape)}, output {list(compiled.output_shape)}"
    )
    console.print(f"model digest: {compiled.digest}")
    console.print(escape(compiled.soundness_line()), highlight=False, soft_wrap=True)
    if compiled.input_visibility == "committed":
        console.print("input: committed (prove with --input-seed)")
    _show_report(compiled.report)


INPUT_SEED_HELP = (
    "For a model with a committed input: the data owner's secret 32-byte seed, as 64 hex digits "
    "or a FILE holding them (or 32 raw bytes); prefer a file, e.g. `openssl rand -hex 32 > "
    "input.seed`, and keep it: the same input and seed give the same input commitment."
)


def _input_seed(value: str | None) -> bytes | None:
    return None if value is None else _read_input_seed(value)


def _read_input_seed(value: str) -> bytes:
    """``--input-seed``: 64 hex digits, or a file holding them or 32 raw bytes."""
    text = value.strip().lower().removeprefix("0x")
    if len(text) == 64 and all(c in "0123456789abcdef" for c in text):
        return bytes.fromhex(text)
    file = Path(value)
    if not file.is_file():
        raise ModelError(f"--input-seed: {value!r} is neither 64 hex digits nor a file")
    data = file.read_bytes()
    if len(data) == 32:
        return data
    try:
        return parse_input_seed(data.decode("ascii"))
    except (UnicodeDecodeError, ModelError):
        raise ModelError(
            f"{file}: not an input seed (64 hex digits or 32 raw bytes expected)"
        ) from None


def _need_input_seed(model: Path, loaded: Model, seed: bytes | None) -> None:
    if loaded.input_visibility == "committed" and seed is None:
        raise ModelError(
            f"{model}: the model's input is committed: give --input-seed HEX|FILE (the data "
            "owner's secret 32-byte seed)"
        )


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
    input_seed: Annotated[
        str | None, typer.Option("--input-seed", metavar="HEX|FILE", help=INPUT_SEED_HELP)
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also print the soundness and its weakest part.")
    ] = False,
) -> None:
    """Run the model on INPUT and prove the result."""
    with _handled():
        with _timed("load"):
            loaded = Model.load(model)
            seed = _input_seed(input_seed)
            _need_input_seed(model, loaded, seed)
            x = read_array(input)
        with _timed("prove"), Activity(errors, "proving"):
            proof = loaded.prove(x, threads, input_seed=seed)
        proof.save(output)
    console.print(f"output: {_show(proof.output)}")
    console.print(
        f"wrote {escape(str(output))}: proof size {proof.size} bytes, "
        f"soundness {proof.soundness_bits:.0f} bits"
    )
    if verbose and proof.soundness_line is not None:
        console.print(escape(proof.soundness_line), highlight=False, soft_wrap=True)
    if proof.input_commitment is not None:
        console.print(f"input commitment: {proof.input_commitment}")


@app.command("commit-input")
def commit_input(
    model: Annotated[Path, typer.Argument(metavar="MODEL.zkg", help="Compiled model (.zkg).")],
    input: Annotated[
        Path, typer.Argument(metavar="INPUT", help="Input: .npy, JSON list, or EZKL input.json.")
    ],
    input_seed: Annotated[
        str, typer.Option("--input-seed", metavar="HEX|FILE", help=INPUT_SEED_HELP)
    ],
) -> None:
    """Print the input commitment (hex) that proofs of INPUT with the seed will carry."""
    with _handled():
        loaded = Model.load(model)
        digest = loaded.commit_input(read_array(input), _read_input_seed(input_seed))
    console.print(digest)


@app.command()
def verify(
    model: Annotated[
        Path,
        typer.Argument(metavar="MODEL.zkg|KEY.vk", help="Compiled model or its verifying key."),
    ],
    proof: Annotated[Path, typer.Argument(metavar="PROOF.zkp", help="Proof file (.zkp).")],
    commitment: Annotated[
        str | None,
        typer.Option(
            "--commitment", help="Model digest (hex) to pin: reject if the model's differs."
        ),
    ] = None,
    expected_input: Annotated[
        Path | None,
        typer.Option(
            "--input",
            help="For a model with a public input: the input (.npy/.json) the proof must state.",
        ),
    ] = None,
    input_commitment: Annotated[
        str | None,
        typer.Option(
            "--input-commitment",
            metavar="HEX",
            help="For a model with a committed input: the input commitment (hex) to pin: "
            "reject if the proof carries another.",
        ),
    ] = None,
) -> None:
    """Verify PROOF against MODEL or its key; exit 0 if valid, 1 if not."""
    with _handled():
        verifier = load_verifier(model)
        data = Proof.load(proof, verifier)
        x = None if expected_input is None else read_array(expected_input)
        with _timed("verify"):
            output = zkgrad.verify(
                verifier, data, commitment, input=x, input_commitment=input_commitment
            )
    console.print(f"[bold green]valid[/] proof for model {verifier.digest}")
    if data.input_commitment is not None:
        console.print(f"input commitment: {data.input_commitment}")
    console.print(f"verified output: {_show(output)}")


@app.command()
def commit(
    model: Annotated[
        Path,
        typer.Argument(metavar="MODEL.zkg|KEY.vk", help="Compiled model or its verifying key."),
    ],
) -> None:
    """Print the model digest (hex): the weight commitment a verifier pins."""
    with _handled():
        verifier = load_verifier(model)
    console.print(verifier.digest)


@app.command("export-vk")
def export_vk(
    model: Annotated[Path, typer.Argument(metavar="MODEL.zkg", help="Compiled model (.zkg).")],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Key file to write (default: MODEL with suffix .vk)."),
    ] = None,
) -> None:
    """Write the public verifying key of MODEL: circuit and commitment, no weights."""
    target = output or model.with_suffix(".vk")
    with _handled():
        key = Model.load(model).export_vk(target)
    console.print(
        f"wrote {escape(str(target))}: verifying key, {target.stat().st_size} bytes (no weights)"
    )
    console.print(f"model digest: {key.digest}")


@app.command("report")
def report_cmd(
    model: Annotated[Path, typer.Argument(metavar="MODEL.zkg", help="Compiled model (.zkg).")],
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            help="Also draw the per-layer relative error and the output error distribution.",
        ),
    ] = None,
) -> None:
    """Show the accuracy report measured when MODEL was compiled."""
    from zkgrad.report import plot as draw

    with _handled():
        loaded = Model.load(model)
        _show_report(loaded.report)
        if plot is not None:
            draw(loaded.report, plot)
            console.print(f"wrote {escape(str(plot))}")


@app.command("inspect")
def inspect_cmd(
    path: Annotated[
        Path, typer.Argument(metavar="MODEL", help="ONNX model, compiled model (.zkg) or key.")
    ],
) -> None:
    """Describe a model: ops and support, parameters, shapes; for .zkg also scales and cost."""
    with _handled():
        info = describe(path)
    _show_description(info)


def _shape(shape: tuple[int | str, ...]) -> str:
    return escape("[" + ", ".join(str(d) for d in shape) + "]")


def _table(*columns: str) -> Table:
    table = Table(box=None, padding=(0, 2, 0, 0))
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _show_description(info: Description) -> None:
    kinds = {"onnx": "ONNX model", "model": "compiled zkgrad model", "key": "verifying key"}
    head = f"{escape(str(info.path))}: {kinds[info.kind]}"
    details = info.details
    if info.kind == "onnx":
        opsets = ", ".join(f"{k} {v}" for k, v in details["opsets"].items())
        producer = f"{details['producer']}, " if details["producer"] else ""
        head += f" ({escape(producer)}opset {escape(opsets)}), {details['nodes']} nodes"
    elif "source" in details:
        head += f" (from {escape(str(details['source']))}, zkgrad {details.get('zkgrad_version')})"
    console.print(head)
    ops = _table("op", "count", "zkgrad")
    for row in info.ops:
        style = "" if row.supported else "red"
        ops.add_row(escape(row.op_type), str(row.count), escape(row.status), style=style)
    console.print(ops)
    if info.kind == "onnx":
        console.print(
            f"parameters: {info.params} (initializer elements; "
            f"{details['constant_elements']} more in Constant nodes)"
        )
    elif info.kind == "model":
        console.print(f"parameters: {info.params} (weights and biases)")
    else:
        console.print(f"parameters: {info.params} (weight and bias entries of the circuit)")
    for label, tensors in (("input", info.inputs), ("output", info.outputs)):
        for tensor in tensors:
            scale = "" if tensor.scale_bits is None else f", {tensor.scale_bits} fractional bits"
            console.print(
                f"{label}: '{escape(tensor.name)}' {_shape(tensor.shape)} {tensor.dtype}{scale}"
            )
    if info.kind == "onnx":
        if info.error is None:
            layers = ", ".join(details["imported_layers"])
            console.print(
                f"supported: yes (imports as {layers}; "
                f"{details['imported_params']} weights and biases)"
            )
        else:
            console.print(f"supported: [red]no[/] ({escape(str(info.error))})")
        return
    _show_commitment(info)


INPUT_VISIBILITY_NOTES = {
    "private": "hidden",
    "public": "stated in every proof",
    "committed": "hidden; every proof carries a commitment to it",
}


def _show_commitment(info: Description) -> None:
    scales = _table("tensor", "kind", "fractional bits")
    for name, bits in info.scales.items():
        scales.add_row(escape(name), "activation", str(bits))
    for name, bits in info.const_scales.items():
        kind = "bias" if name.endswith(".bias") else "weight"
        scales.add_row(escape(name), kind, str(bits))
    console.print("scales (value = integer / 2^bits):")
    console.print(scales)
    console.print(f"activations: {info.details['act_bits']}-bit (lookup tables of that size)")
    visibility = info.details["input visibility"]
    console.print(f"input visibility: {visibility} ({INPUT_VISIBILITY_NOTES.get(visibility, '?')})")
    if info.zk_budget is None:
        console.print("zero knowledge: on")
    else:
        noun = "proof" if info.zk_budget == 1 else "proofs"
        console.print(
            f"zero knowledge: on; the weight commitment hides the weights for {info.zk_budget} "
            f"{noun} (the prover's ledger refuses more: docs/SECURITY.md)"
        )
    console.print(f"model digest: {info.digest}")
    console.print(f"circuit digest: {info.circuit_digest}")
    if info.soundness_line is not None:
        console.print(escape(info.soundness_line), highlight=False, soft_wrap=True)
    cost = info.cost
    if cost is not None:
        console.print(
            f"proving cost (rough estimate from the circuit shape): {cost.blocks} blocks, "
            f"{cost.multiply_adds} multiply-adds; {cost.weight_elements} weight elements "
            f"committed at compile time; per proof {cost.witness_elements} committed witness "
            f"elements and {cost.lookups} lookups into 2^{cost.table_bits}-entry tables"
        )
    report = info.details.get("report")
    if report:
        _show_report(report)


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

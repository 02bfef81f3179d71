"""The ``zkgrad`` command line: compile, prove, verify, commit-input, demo.

Exit codes (docs/CLI.md): 0 success (for ``verify``: the proof is valid), 1 invalid proof,
2 bad usage, missing or unreadable files, or bad input. ``--json`` (inspect, prove, verify,
commit, report) prints one JSON object on stdout instead of text, errors included.

Only what every command needs is imported here: the ONNX importer (``onnx`` takes 1-2 s to
import) is loaded by the commands that read ONNX files, so that ``verify`` starts fast.
"""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape

import zkgrad
from zkgrad.cli_params import PlainTypesTyper
from zkgrad.errors import InvalidProof, ModelError, QuantizationWarning
from zkgrad.inputs import read_inputs
from zkgrad.model import KEY_MAGIC, MODEL_MAGIC, Model, Proof, load_verifier, parse_input_seed
from zkgrad.public_inputs import parse_visibility, read_expected

if TYPE_CHECKING:
    from rich.table import Table

    from zkgrad.describe import Description
    from zkgrad.progress import Activity

EXIT_INVALID = 1
EXIT_ERROR = 2
MAX_OUTPUT_ROWS = 16
#: The first bytes of every proof (crates/zkgrad-core/src/proof.rs, MAGIC).
PROOF_MAGIC = b"ZKGP"
#: ``--threads`` above this is surely a typo (and would ask the OS for that many threads).
MAX_THREADS = 1024

EXIT_CODES_HELP = (
    "Exit codes: 0 success (verify: the proof is valid), 1 invalid proof, "
    "2 bad usage, missing or unreadable file, or bad input."
)
JSON_HELP = "Print one JSON object on stdout instead of text (keys: docs/CLI.md)."


class UsageError(ValueError):
    """A mistake in how the command was called (wrong file, swapped arguments): exit code 2."""


def _version(value: bool) -> None:
    if value:
        console.print(f"zkgrad {zkgrad.__version__}")
        raise typer.Exit()


# typer.Typer whose plain options skip pydantic: ~80 ms less start-up (zkgrad/cli_params.py)
app = PlainTypesTyper(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Zero-knowledge proofs of ML inference for ONNX models.",
    epilog=EXIT_CODES_HELP,
)
console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Zero-knowledge proofs of ML inference for ONNX models."""


class Output:
    """Where a command's results go: lines of text, or (``--json``) one JSON object on stdout."""

    def __init__(self, as_json: bool = False, **on_error: Any) -> None:
        self.as_json = as_json
        #: Fields the JSON object of a failure carries too (``verify``: ``valid: false``).
        self.on_error = on_error
        self.seconds: dict[str, float] = {}

    def print(self, text: str) -> None:
        """A line for people; dropped under ``--json``."""
        if not self.as_json:
            console.print(text)

    def emit(self, **fields: Any) -> None:
        """The JSON object of a success (nothing without ``--json``)."""
        if self.as_json:
            body = {"ok": True, **fields}
            if self.seconds:
                body["seconds"] = self.seconds
            _write_json(body)

    def fail(self, code: int, message: str) -> None:
        if self.as_json:
            _write_json({"ok": False, **self.on_error, "exit_code": code, "error": message})

    @contextmanager
    def timed(self, label: str) -> Iterator[None]:
        """Time the block; print ``label: time`` (kept as ``seconds[label]`` under ``--json``)."""
        start = time.perf_counter()
        yield
        elapsed = time.perf_counter() - start
        self.seconds[label] = round(elapsed, 6)
        self.print(
            f"{label}: {elapsed:.3f} s" if elapsed >= 0.1 else f"{label}: {elapsed * 1e3:.1f} ms"
        )


def _write_json(body: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(body, default=_jsonable) + "\n")
    sys.stdout.flush()


def _jsonable(value: object) -> object:
    """Values ``json`` does not know: numpy numbers and arrays, paths, sets."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


@contextmanager
def _handled(out: Output | None = None) -> Iterator[None]:
    """Turn expected failures into a one-line message and an exit code."""
    out = out or Output()
    try:
        yield
    except InvalidProof as exc:
        _fail(out, EXIT_INVALID, "invalid proof", str(exc))
    except (ValueError, OSError) as exc:  # ModelError and UsageError are ValueErrors
        _fail(out, EXIT_ERROR, "error", _os_message(exc) if isinstance(exc, OSError) else str(exc))
    except RuntimeError as exc:  # a prover failure that is not the input's fault
        _fail(out, EXIT_ERROR, "internal error", str(exc))


def _fail(out: Output, code: int, label: str, message: str) -> None:
    message = message or label
    errors.print(f"[bold red]{label}:[/] {escape(message)}")
    out.fail(code, message if label == "error" else f"{label}: {message}")
    raise typer.Exit(code) from None


def _os_message(exc: OSError) -> str:
    """``[Errno 21] Is a directory: 'x'`` -> ``x: is a directory`` (one sentence, no errno)."""
    if exc.filename is None or exc.strerror is None:
        return str(exc) or type(exc).__name__
    return f"{exc.filename}: {exc.strerror[:1].lower()}{exc.strerror[1:]}"


def _regular_file(path: Path, what: str) -> Path:
    """``path`` if it is a readable regular file; else say what it is instead of ``what``."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it as {what} ({_os_message(exc)})") from None
    if stat.S_ISDIR(mode):
        raise UsageError(f"{path} is a directory, not {what}")
    if not stat.S_ISREG(mode):
        kind = "a device"
        if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
            kind = "a pipe" if stat.S_ISFIFO(mode) else "a socket"
        raise UsageError(f"{path} is {kind}, not {what} (a regular file is needed)")
    if not os.access(path, os.R_OK):
        raise UsageError(f"{path}: permission denied, cannot read {what}")
    return path


def _magic(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(4)


def _model_file(path: Path) -> Path:
    """``path`` if it may be a compiled model; a key or a proof is named as what it is."""
    magic = _magic(_regular_file(path, "a zkgrad model file"))
    if magic == KEY_MAGIC:
        raise UsageError(f"{path} is a verifying key; this command needs the model file (.zkg)")
    if magic == PROOF_MAGIC:
        raise UsageError(f"{path} is a proof, not a zkgrad model file (.zkg)")
    return path


def _check_verify_files(model: Path, proof: Path) -> None:
    """Refuse a proof where the model goes and the other way round (exit 2 either way)."""
    model_magic = _magic(_regular_file(model, "a model or verifying key"))
    proof_magic = _magic(_regular_file(proof, "a proof"))
    keys = {MODEL_MAGIC: "a zkgrad model file", KEY_MAGIC: "a verifying key"}
    if model_magic == PROOF_MAGIC and proof_magic in keys:
        raise UsageError(
            f"arguments swapped: {model} is a proof and {proof} is {keys[proof_magic]}; "
            "give the model or key first: zkgrad verify MODEL.zkg|KEY.vk PROOF.zkp"
        )
    if proof_magic in keys:
        raise UsageError(f"{proof} is {keys[proof_magic]}, not a proof")
    if model_magic == PROOF_MAGIC:
        raise UsageError(f"{model} is a proof, not a model or verifying key")


def _check_threads(threads: int | None) -> None:
    if threads is not None and not 1 <= threads <= MAX_THREADS:
        raise UsageError(
            f"--threads must be a whole number from 1 to {MAX_THREADS} (this machine has "
            f"{os.cpu_count()} cores), not {threads}"
        )


def _report_of(model: Model) -> dict[str, Any]:
    """The accuracy report stored at compile time, as the JSON-ready dict in the model file."""
    return dict(model.meta.get("report") or {})


def _show(values: np.ndarray | dict[str, np.ndarray]) -> str:
    """An output for the terminal; a model's several outputs each by name."""
    if isinstance(values, dict):
        return "; ".join(f"{escape(name)} {_show(v)}" for name, v in values.items())
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


@app.command("compile", epilog=EXIT_CODES_HELP)
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
            "(prove with --input-seed). Per input of a model with several: NAME=VIS,NAME=VIS "
            "(e.g. x=public,y=private).",
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
    from zkgrad.compiler import check_zk  # imports onnx: only here, not for every command

    target = output or model.with_suffix(".zkg")
    out = Output()
    with _handled():
        check_zk(zk, "--no-zk")
        _regular_file(model, "an ONNX model")
        if calibration is not None:
            _regular_file(calibration, "calibration samples")
        from zkgrad.progress import Activity

        with (
            out.timed("compile"),
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
                input_visibility=parse_visibility(input_visibility),
                seed=seed,
            )
        compiled.save(target)
    inputs = ", ".join(f"'{name}' {list(shape)}" for name, shape in compiled.inputs)
    console.print(
        f"wrote {escape(str(target))}: {compiled.num_params} parameters, "
        f"{'inputs' if compiled.layout else 'input'} "
        f"{escape(inputs) if compiled.layout else list(compiled.input_shape)}, "
        f"output {list(compiled.output_shape)}"
    )
    console.print(f"model digest: {compiled.digest}")
    console.print(escape(compiled.soundness_line()), highlight=False, soft_wrap=True)
    if compiled.input_visibility == "committed":
        console.print("input: committed (prove with --input-seed)")
    _show_report(_report_of(compiled))


INPUT_HELP = (
    "Input: .npy, JSON list, or EZKL input.json; for a model with several inputs, an .npz "
    "with one array per input name, EZKL's input_data with one entry per input, or a JSON "
    "object {name: values}."
)

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


@app.command(epilog=EXIT_CODES_HELP)
def prove(
    model: Annotated[Path, typer.Argument(metavar="MODEL.zkg", help="Compiled model (.zkg).")],
    input: Annotated[Path, typer.Argument(metavar="INPUT", help=INPUT_HELP)],
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
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Run the model on INPUT (one input or a batch [N, ...]) and prove the result."""
    out = Output(as_json)
    with _handled(out):
        _check_threads(threads)
        with out.timed("load"):
            loaded = Model.load(_model_file(model))
            seed = _input_seed(input_seed)
            _need_input_seed(model, loaded, seed)
            x = read_inputs(_regular_file(input, "an input"), loaded.input_names)
        from zkgrad.progress import Activity  # rich.progress: only for the commands that show it

        with out.timed("prove"), Activity(errors, "proving") as activity:
            proof = _prove_in_stages(loaded, x, threads, seed, activity)
            activity.stage("writing the proof")
            proof.save(output)
    out.print(f"output: {_show(proof.output)}")
    out.print(
        f"wrote {escape(str(output))}: proof size {proof.size} bytes, "
        f"soundness {proof.soundness_bits:.0f} bits"
    )
    if verbose and proof.soundness_line is not None:
        out.print(escape(proof.soundness_line))
    if proof.input_commitment is not None:
        out.print(f"input commitment: {proof.input_commitment}")
    certificate = proof.certificate_path(output)
    if certificate is not None:
        out.print(f"epoch {list(proof.epoch[0])}: its certificate is {escape(str(certificate))}")
    out.emit(
        proof=str(output),
        epoch=None if proof.epoch is None else list(proof.epoch[0]),
        epoch_certificate=None if certificate is None else str(certificate),
        proof_bytes=proof.size,
        batch=proof.batch,
        output=proof.output,
        soundness_bits=proof.soundness_bits,
        soundness_line=proof.soundness_line,
        model_digest=loaded.digest,
        input_commitment=proof.input_commitment,
    )


def _prove_in_stages(
    model: Model, x: object, threads: int | None, seed: bytes | None, activity: Activity
) -> Proof:
    """Prove, saying on the status line which stage runs: the native prover reports its four
    stages (witness, commitments, sumchecks, openings) as each starts, and the bar moves one
    step per stage; the line also says how many inputs the one proof covers."""
    activity.stage("checking the input")
    count = model.samples(x)[0].shape[0]  # a bad shape fails here, named
    covers = f"{count} inputs in one proof" if count > 1 else "1 input"

    def report(stage: str, done: int, total: int) -> None:
        activity.stage(f"{covers}: {stage}", done, total)

    return model.prove(x, threads, input_seed=seed, progress=report)


@app.command("commit-input", epilog=EXIT_CODES_HELP)
def commit_input(
    model: Annotated[Path, typer.Argument(metavar="MODEL.zkg", help="Compiled model (.zkg).")],
    input: Annotated[Path, typer.Argument(metavar="INPUT", help=INPUT_HELP)],
    input_seed: Annotated[
        str, typer.Option("--input-seed", metavar="HEX|FILE", help=INPUT_SEED_HELP)
    ],
) -> None:
    """Print the input commitment (hex) that proofs of INPUT with the seed will carry."""
    with _handled():
        loaded = Model.load(_model_file(model))
        x = read_inputs(_regular_file(input, "an input"), loaded.input_names)
        digest = loaded.commit_input(x, _read_input_seed(input_seed))
    console.print(digest)


@app.command(epilog=EXIT_CODES_HELP)
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
    epoch_certificate: Annotated[
        Path | None,
        typer.Option(
            "--epoch-certificate",
            metavar="FILE.zke",
            help="The certificate of the proof's epoch (default: epochs/ beside the proof).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Verify PROOF against MODEL or its key; exit 0 if valid, 1 if not, 2 for a usage error.

    A proof file larger than the largest proof the key allows is invalid (exit 1) and is
    refused before it is read.
    """
    out = Output(as_json, valid=False)
    with _handled(out):
        _check_verify_files(model, proof)
        verifier = load_verifier(model)
        data = Proof.load(proof, verifier)  # checks the size against the key's bound first
        x = None
        if expected_input is not None:
            x = read_expected(_regular_file(expected_input, "an input"), verifier)
        with out.timed("verify"):
            certificate = None
            if epoch_certificate is not None:
                certificate = _regular_file(epoch_certificate, "an epoch certificate")
            output = zkgrad.verify(
                verifier,
                data,
                commitment,
                input=x,
                input_commitment=input_commitment,
                epoch_certificate=certificate,
            )
    out.print(f"[bold green]valid[/] proof for model {verifier.digest}")
    if data.input_commitment is not None:
        out.print(f"input commitment: {data.input_commitment}")
    out.print(f"verified output: {_show(output)}")
    stated = verifier.stated_inputs(data) if verifier.public_inputs else {}
    if stated:
        out.print(f"stated public inputs: {_show(stated)}")
    out.emit(
        valid=True,
        model_digest=verifier.digest,
        circuit_digest=verifier.circuit_digest,
        batch=data.batch,
        output=output,
        input_commitment=data.input_commitment,
        **({"public_inputs": stated} if stated else {}),
    )


@app.command(epilog=EXIT_CODES_HELP)
def commit(
    model: Annotated[
        Path,
        typer.Argument(metavar="MODEL.zkg|KEY.vk", help="Compiled model or its verifying key."),
    ],
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Print the model digest (hex): the weight commitment a verifier pins."""
    out = Output(as_json)
    with _handled(out):
        verifier = load_verifier(_regular_file(model, "a model or verifying key"))
    out.print(verifier.digest)
    out.emit(
        kind="model" if isinstance(verifier, Model) else "key",
        model_digest=verifier.digest,
        circuit_digest=verifier.circuit_digest,
    )


@app.command("export-vk", epilog=EXIT_CODES_HELP)
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
        key = Model.load(_model_file(model)).export_vk(target)
    console.print(
        f"wrote {escape(str(target))}: verifying key, {target.stat().st_size} bytes (no weights)"
    )
    console.print(f"model digest: {key.digest}")


@app.command("report", epilog=EXIT_CODES_HELP)
def report_cmd(
    model: Annotated[Path, typer.Argument(metavar="MODEL.zkg", help="Compiled model (.zkg).")],
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            help="Also draw the per-layer relative error and the output error distribution.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Show the accuracy report measured when MODEL was compiled."""
    out = Output(as_json)
    with _handled(out):
        loaded = Model.load(_model_file(model))
        report = _report_of(loaded)
        if not as_json:
            _show_report(report)
        if plot is not None:
            from zkgrad.report import plot as draw  # matplotlib: only when asked for

            draw(report, plot)
            out.print(f"wrote {escape(str(plot))}")
    out.emit(
        model=str(model),
        model_digest=loaded.digest,
        report=report,
        plot=None if plot is None else str(plot),
    )


@app.command("inspect", epilog=EXIT_CODES_HELP)
def inspect_cmd(
    path: Annotated[
        Path, typer.Argument(metavar="MODEL", help="ONNX model, compiled model (.zkg) or key.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Describe a model: ops and support, parameters, shapes; for .zkg also scales and cost."""
    out = Output(as_json)
    with _handled(out):
        _regular_file(path, "a model")
        if _magic(path) == PROOF_MAGIC:
            raise UsageError(f"{path} is a proof, not an ONNX model, zkgrad model or key")
        from zkgrad.describe import describe  # imports onnx

        info = describe(path)
    if as_json:
        out.emit(**_description_fields(info))
    else:
        _show_description(info)


def _description_fields(info: Description) -> dict[str, Any]:
    """``inspect --json``: the description as plain JSON values (docs/CLI.md)."""
    return {
        "path": str(info.path),
        "kind": info.kind,
        "supported": info.supported,
        "error": None if info.error is None else str(info.error),
        "params": info.params,
        "ops": [
            {"op_type": r.op_type, "count": r.count, "status": r.status, "supported": r.supported}
            for r in info.ops
        ],
        "inputs": [_tensor_fields(t) for t in info.inputs],
        "outputs": [_tensor_fields(t) for t in info.outputs],
        "scales": info.scales,
        "const_scales": info.const_scales,
        "model_digest": info.digest,
        "circuit_digest": info.circuit_digest,
        "soundness_bits": info.soundness_bits,
        "soundness_line": info.soundness_line,
        "zk_budget": info.zk_budget,
        "cost": None if info.cost is None else dataclasses.asdict(info.cost),
        "details": info.details,
    }


def _tensor_fields(tensor: Any) -> dict[str, Any]:
    return {
        "name": tensor.name,
        "shape": list(tensor.shape),
        "dtype": tensor.dtype,
        "scale_bits": tensor.scale_bits,
    }


def _shape(shape: tuple[int | str, ...]) -> str:
    return escape("[" + ", ".join(str(d) for d in shape) + "]")


def _table(*columns: str) -> Table:
    from rich.table import Table

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
            # the error spans several lines (one per op type), so it is not put in parentheses
            console.print(f"supported: [red]no[/]: {escape(str(info.error))}")
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
    if info.details.get("public inputs"):
        stated = ", ".join(f"'{name}'" for name in info.details["public inputs"])
        console.print(f"public inputs (stated in every proof, the others hidden): {escape(stated)}")
    if info.zk_budget is None:
        console.print("zero knowledge: on")
    else:
        noun = "proof" if info.zk_budget == 1 else "proofs"
        console.print(
            f"zero knowledge: on; each epoch's weight commitment hides the weights for "
            f"{info.zk_budget} {noun}, and every epoch is linked to the model digest by a "
            "zero-knowledge certificate, so the digest serves any number of proofs "
            "(docs/SECURITY.md)"
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


@app.command(epilog=EXIT_CODES_HELP)
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


# serve, query, prove-many: python/zkgrad/serve/cli.py (fastapi, uvicorn, ray load lazily there).
from zkgrad.serve import cli as _serve_cli  # noqa: E402

_serve_cli.register(app)

# `zkgrad data ...` (python/zkgrad/data_cli.py), registered last: it imports this module's helpers.
from zkgrad.data_cli import data_app  # noqa: E402

app.add_typer(data_app, name="data")

# `zkgrad attest ...` (python/zkgrad/attest_cli.py).
from zkgrad import attest_cli  # noqa: E402

attest_cli.register(app)

if __name__ == "__main__":
    app()

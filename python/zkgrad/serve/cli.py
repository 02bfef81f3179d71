"""``zkgrad serve``, ``zkgrad query`` and ``zkgrad prove-many``.

Registered on the main command line by :func:`register`. fastapi, uvicorn, httpx and ray are
imported inside the commands only, so every other command starts as fast as before.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

RAY_HELP = (
    "Prove on the Ray cluster at ADDRESS (ray://host:10001, host:6379, auto), or 'local' to "
    "start Ray on this machine. Needs pip install 'zkgrad[ray]'."
)


def _base() -> Any:
    from zkgrad import cli  # the main command line (its helpers), loaded by now

    return cli


def _need_serve_extra(
    what: str, modules: tuple[str, ...] = ("fastapi", "uvicorn", "httpx")
) -> None:
    try:
        for module in modules:
            importlib.import_module(module)
    except ImportError as exc:
        raise _base().UsageError(
            f"{what} needs the serve extra ({exc.name} is missing): pip install 'zkgrad[serve]'"
        ) from None


def read_api_keys(path: str | Path) -> list[bytes]:
    """API keys from a file: one per line; blank lines and ``#`` comments ignored."""
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{file}: no such API key file")
    keys = [
        line.strip().encode()
        for line in file.read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    if not keys:
        raise _base().UsageError(f"{file}: the API key file holds no key (one key per line)")
    return keys


def _default_threads(workers: int, threads: int | None) -> int:
    return threads or max(1, (os.cpu_count() or 1) // workers)


def serve(
    model: Annotated[Path, typer.Argument(metavar="MODEL.zkg", help="Compiled model (.zkg).")],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Prover processes (or Ray actors).")] = 1,
    max_batch: Annotated[
        int, typer.Option(help="Most samples in one batch proof (1: one proof per request).")
    ] = 16,
    max_queue: Annotated[
        int, typer.Option(help="Samples that may wait; beyond, 429 with Retry-After.")
    ] = 256,
    threads: Annotated[
        int | None, typer.Option(help="Prover threads per worker (default: cores / workers).")
    ] = None,
    api_key_file: Annotated[
        Path | None,
        typer.Option(help="File of API keys, one per line: /v1/predict needs a Bearer key."),
    ] = None,
    max_body_bytes: Annotated[int, typer.Option(help="Largest request body (413 above).")] = (
        1 << 20
    ),
    keep_proofs: Annotated[
        int, typer.Option(help="Recent proofs kept for GET /v1/proofs/{id}.")
    ] = 256,
    proof_dir: Annotated[
        Path | None,
        typer.Option(
            help="Also write every proof here (<id>.zkp, epochs/): kept, served, auditable."
        ),
    ] = None,
    shutdown_grace: Annotated[
        float, typer.Option(help="Seconds requests in flight get to finish at shutdown.")
    ] = 30.0,
    prove_timeout: Annotated[
        float,
        typer.Option(help="Seconds one batch proof may take; a hung worker is killed, retried."),
    ] = 600.0,
    ray: Annotated[str | None, typer.Option("--ray", metavar="ADDRESS", help=RAY_HELP)] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve MODEL over HTTP: every prediction comes with a proof (OpenAPI at /docs)."""
    base = _base()
    with base._handled():
        _need_serve_extra("zkgrad serve")
        for name, value in (("--workers", workers), ("--max-batch", max_batch)):
            if not 1 <= value <= 1024:
                raise base.UsageError(f"{name} must be from 1 to 1024, not {value}")
        if max_queue < max_batch:
            raise base.UsageError(f"--max-queue ({max_queue}) must be at least --max-batch")
        if not prove_timeout > 0:
            raise base.UsageError(f"--prove-timeout must be positive, not {prove_timeout}")
        base._check_threads(threads)
        from zkgrad.budget import POLICY_VARIABLE
        from zkgrad.serve.app import ServeConfig, create_app, serve_forever

        # Budgets are enforced (each epoch serves its own), never relaxed by the environment.
        os.environ[POLICY_VARIABLE] = "enforce"
        config = ServeConfig(
            model_path=str(base._model_file(model)),
            workers=workers,
            max_batch=max_batch,
            max_queue=max_queue,
            threads=_default_threads(workers, threads),
            api_keys=read_api_keys(api_key_file) if api_key_file else None,
            max_body_bytes=max_body_bytes,
            keep_proofs=keep_proofs,
            proof_dir=proof_dir,
            shutdown_grace=shutdown_grace,
            prove_timeout=prove_timeout,
            ray_address=ray,
        )
        app = create_app(config)
    serve_forever(app, host, port, log_level, shutdown_grace)


def query(
    url: Annotated[str, typer.Argument(help="The server, e.g. http://127.0.0.1:8000.")],
    input: Annotated[
        Path, typer.Argument(metavar="INPUT", help="Input: .npy, JSON list, or EZKL input.json.")
    ],
    commitment: Annotated[
        str, typer.Option(metavar="HEX", help="The model digest to pin (published by the owner).")
    ],
    api_key_file: Annotated[
        Path | None, typer.Option(help="File whose first key is sent as the Bearer API key.")
    ] = None,
    proof_out: Annotated[
        Path | None, typer.Option("-o", "--output", help="Also save the verified proof here.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")] = (
        False
    ),
) -> None:
    """Ask a zkgrad server for a prediction and verify its proof before printing it."""
    base = _base()
    out = base.Output(as_json)
    with base._handled(out):
        _need_serve_extra("zkgrad query", ("httpx",))
        from zkgrad.inputs import read_array
        from zkgrad.serve.client import Client, ServiceError

        x = read_array(base._regular_file(input, "an input"))
        key = read_api_keys(api_key_file)[0].decode() if api_key_file else None
        try:
            with Client(url, commitment, api_key=key) as client:
                y = client.predict(x)
                proof = client.last_proof
        except ServiceError as exc:
            raise base.UsageError(str(exc)) from None
        if proof_out is not None and proof is not None:
            proof.save(proof_out)
        out.print(f"output: {base._show(y)}")
        out.print(
            f"verified: proof of {proof.batch if proof else '?'} sample(s) for model "
            f"{client.commitment[:16]}…"
            + ("" if client.input_bound else " (private-input model: not bound to this input)")
        )
        out.emit(
            output=y,
            model_digest=client.commitment,
            input_bound=client.input_bound,
            proof=str(proof_out) if proof_out else None,
        )


def prove_many(
    model: Annotated[Path, typer.Argument(metavar="MODEL.zkg", help="Compiled model (.zkg).")],
    inputs: Annotated[
        Path, typer.Argument(metavar="INPUTS", help="A batch [N, ...]: .npz, .npy or JSON.")
    ],
    prove_timeout: Annotated[
        float,
        typer.Option(help="Seconds one batch proof may take; a hung worker is killed, retried."),
    ] = 600.0,
    ray: Annotated[str | None, typer.Option("--ray", metavar="ADDRESS", help=RAY_HELP)] = None,
    chunk: Annotated[int, typer.Option(help="Inputs per proof.")] = 64,
    workers: Annotated[int, typer.Option(help="Local prover processes (without --ray).")] = 2,
    threads: Annotated[int | None, typer.Option(help="Prover threads per proof.")] = None,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Folder to write (default: INPUTS-proofs)."),
    ] = None,
) -> None:
    """Prove a large batch as chunks, in parallel (on Ray with --ray); results in input order.

    Writes proof-NNNNN.zkp per chunk, outputs.npy (the verified outputs, in input order) and
    manifest.json (which rows each proof covers)."""
    base = _base()
    with base._handled():
        base._check_threads(threads)
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        import zkgrad
        from zkgrad.inputs import read_inputs
        from zkgrad.model import Model, Proof
        from zkgrad.serve.prove_many import prove_many as run

        loaded = Model.load(base._model_file(model))
        # A model with several inputs: their concatenation, as the circuit takes it.
        x, _ = loaded.samples(read_inputs(base._regular_file(inputs, "inputs"), loaded.input_names))
        folder = output or inputs.with_name(inputs.stem + "-proofs")
        count = len(x)
        columns = ("proving", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=base.errors, transient=True) as bar:
            task = bar.add_task("proving", total=count)
            parts = run(
                model,
                x,
                chunk,
                ray,
                workers,
                _default_threads(1, threads) if ray else threads,
                on_done=lambda n: bar.advance(task, n),
            )
        folder.mkdir(parents=True, exist_ok=True)
        outputs, manifest = [], []
        for index, part in enumerate(parts):
            name = f"proof-{index:05d}.zkp"
            proof = Proof(part.proof, loaded, part.certificate)
            verified = np.asarray(zkgrad.verify(loaded, proof))
            outputs.append(verified.reshape(part.stop - part.start, -1))
            proof.save(folder / name)
            manifest.append({"proof": name, "rows": [part.start, part.stop]})
        np.save(folder / "outputs.npy", np.concatenate(outputs))
        (folder / "manifest.json").write_text(
            json.dumps({"model_digest": loaded.digest, "chunks": manifest}, indent=1)
        )
    base.console.print(
        f"proved {count} inputs in {len(parts)} proofs (verified); wrote {folder}/ "
        "(proof-*.zkp, outputs.npy, manifest.json)"
    )


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``query`` and ``prove-many`` to the main command line."""
    epilog = _base().EXIT_CODES_HELP
    app.command("serve", epilog=epilog)(serve)
    app.command("query", epilog=epilog)(query)
    app.command("prove-many", epilog=epilog)(prove_many)

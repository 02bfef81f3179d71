"""``zkgrad data``: commit a dataset, export its public part, prove and verify its properties.

Exit codes as the other commands (docs/CLI.md): 0 success, 1 invalid proof, 2 bad input.
The dataset module (numpy only) is imported by the commands themselves, so ``zkgrad --help``
stays fast; so is ``zkgrad.cli``'s error handling, since ``zkgrad.cli`` imports this module
(``python -m zkgrad.cli`` runs it as ``__main__``: a module-level import back would be circular).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from zkgrad.cli_params import PlainTypesTyper

if TYPE_CHECKING:
    from zkgrad.cli import Output

EXIT_CODES_HELP = (
    "Exit codes: 0 success (verify: the proof is valid), 1 invalid proof, "
    "2 bad usage, missing or unreadable file, or bad input."
)
JSON_HELP = "Print one JSON object on stdout instead of text (keys: docs/CLI.md)."

data_app = PlainTypesTyper(
    no_args_is_help=True,
    help=(
        "Committed datasets: commit, export-pub, prove, verify, inspect; keygen, enroll and "
        "check-enrollment bind a digest to its owner (docs/DATA.md)."
    ),
    epilog=EXIT_CODES_HELP,
)


def _cli() -> Any:
    """``zkgrad.cli``'s output and error handling (imported when a command runs)."""
    import zkgrad.cli

    return zkgrad.cli


def _output(as_json: bool) -> Output:
    return _cli().Output(as_json)


def _handled(out: Output | None = None) -> Any:
    return _cli()._handled(out)


def _regular_file(path: Path, what: str) -> Path:
    return _cli()._regular_file(path, what)


def _write_new(target: Path, write: object) -> None:
    """Write to a temporary name and rename, so a failure leaves nothing behind."""
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        write(tmp)  # type: ignore[operator]
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


@data_app.command("commit", epilog=EXIT_CODES_HELP)
def commit(
    features: Annotated[
        Path, typer.Argument(metavar="FEATURES", help="Features: .npy, .npz, .csv or .parquet.")
    ],
    labels: Annotated[
        Path | None,
        typer.Argument(metavar="[LABELS]", help="Labels (one integer class per row), if separate."),
    ] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Owner file to write.")] = Path(
        "data.zkd"
    ),
    label_column: Annotated[
        str | None, typer.Option("--label-column", help="Take the labels from this column.")
    ] = None,
    scale_bits: Annotated[
        int | None,
        typer.Option(
            "--scale-bits", help="Quantise every feature as x·2^BITS (default: calibrated)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Quantise and commit a dataset; print its digest (the public identity)."""
    from zkgrad.dataset import Dataset
    from zkgrad.dataset_io import read_labels, read_table

    out = _output(as_json)
    with _handled(out):
        table = read_table(_regular_file(features, "a feature table"), label_column)
        y = table.labels
        if labels is not None:
            if y is not None:
                raise ValueError("give the labels as a file or as --label-column, not both")
            y = read_labels(_regular_file(labels, "a label file"))
        with out.timed("commit"):
            ds = Dataset.commit(table.features, y, scale_bits=scale_bits, columns=table.columns)
        _write_new(output, ds.save)
    worst = max(range(len(ds.columns)), key=lambda i: ds.quantization_error[i])
    out.print(f"digest: {ds.digest}")
    out.print(
        f"shape: {ds.public.rows} rows × {ds.public.features} features"
        + (", labels" if y is not None else ", no labels")
    )
    out.print(
        f"quantisation error: at most {ds.quantization_error[worst]:.4g} "
        f"(column {escape(ds.columns[worst])}, scale 2^{ds.scale_bits[worst]})"
    )
    out.print(f"zero-knowledge budget: {ds.public.budget_line}")
    out.print(
        f"wrote {escape(str(output))} (keep it private: it holds the data and the masks' seed)"
    )
    out.emit(
        digest=ds.digest,
        rows=ds.public.rows,
        features=ds.public.features,
        labels=y is not None,
        scale_bits=ds.scale_bits,
        quantization_error=ds.quantization_error,
        budget=ds.budget,
        proofs_per_epoch=ds.proofs_per_epoch,
        output=str(output),
    )


@data_app.command("export-pub", epilog=EXIT_CODES_HELP)
def export_pub(
    dataset: Annotated[Path, typer.Argument(metavar="DATA.zkd", help="The owner's dataset file.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Public file (default: DATA.pub).")
    ] = None,
) -> None:
    """Write the public part of a dataset: digest, shape, scales, schema."""
    from zkgrad.dataset import Dataset

    target = output or dataset.with_suffix(".pub")
    with _handled():
        ds = Dataset.load(_regular_file(dataset, "a dataset file"))
        _write_new(target, ds.export_pub)
    typer.echo(f"wrote {target}: dataset {ds.digest}")


@data_app.command("prove", epilog=EXIT_CODES_HELP)
def prove(
    dataset: Annotated[Path, typer.Argument(metavar="DATA.zkd", help="The owner's dataset file.")],
    spec: Annotated[Path, typer.Option("--spec", help="Property spec (TOML, docs/DATA.md).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Proof file to write.")] = Path(
        "props.zkp"
    ),
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Prove the properties in SPEC about the committed dataset, in zero knowledge."""
    from zkgrad.dataset import Dataset

    out = _output(as_json)
    with _handled(out):
        ds = Dataset.load(_regular_file(dataset, "a dataset file"))
        spec_file = _regular_file(spec, "a spec file")
        with out.timed("prove"):
            proof = ds.prove_properties(spec_file)
        _write_new(output, proof.save)
    used = ds._ledger.count(ds.digest)
    out.print(f"wrote {escape(str(output))}: {len(proof)} bytes")
    per = ds.proofs_per_epoch
    out.print(
        f"dataset digest: {used} of {ds.budget:.3g} zero-knowledge proofs used "
        f"(epoch {(used - 1) // per}, {per} proofs per epoch commitment)"
    )
    out.emit(output=str(output), bytes=len(proof), used=used, budget=ds.budget)


@data_app.command("verify", epilog=EXIT_CODES_HELP)
def verify(
    proof: Annotated[Path, typer.Argument(metavar="PROPS.zkp", help="Data-property proof.")],
    dataset: Annotated[Path, typer.Option("--dataset", help="The dataset's public file (.pub).")],
    digest: Annotated[
        str | None, typer.Option("--digest", help="Also pin this dataset digest (hex).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Verify a data-property proof; print the statement it establishes."""
    from zkgrad.dataset import DatasetPublic, verify_properties
    from zkgrad.errors import InvalidProof

    out = _output(as_json)
    with _handled(out):
        pub = DatasetPublic.load(_regular_file(dataset, "a dataset public file"))
        if digest is not None and digest.strip().lower() != pub.digest:
            raise InvalidProof(f"{dataset} is dataset {pub.digest}, not the pinned {digest}")
        with out.timed("verify"):
            statement = verify_properties(pub, _regular_file(proof, "a proof"))
    out.print("valid: the committed dataset has these properties")
    for line in statement.lines():
        out.print(f"  {escape(line)}")
    out.emit(valid=True, statement=statement.lines(), digest=statement.digest)


@data_app.command("inspect", epilog=EXIT_CODES_HELP)
def inspect(
    dataset: Annotated[
        Path, typer.Argument(metavar="DATA.zkd|DATA.pub", help="Dataset file or its public part.")
    ],
) -> None:
    """Show a dataset's identity, shape, scales and zero-knowledge budget."""
    from zkgrad.dataset import Dataset, DatasetPublic

    with _handled():
        file = _regular_file(dataset, "a dataset file")
        owner = file.read_bytes()[:2] == b"PK"
        ds = Dataset.load(file) if owner else None
        pub = ds.public if ds is not None else DatasetPublic.load(file)
    typer.echo(f"digest: {pub.digest}")
    typer.echo(f"shape: {pub.rows} rows × {pub.features} features, labels: {pub.labels}")
    for name, bits in zip(pub.columns, pub.scale_bits, strict=True):
        typer.echo(f"  {name}: scale 2^{bits}")
    line = f"zero-knowledge budget: {pub.budget_line}"
    if ds is not None:
        line += f", {ds._ledger.count(pub.digest)} used"
    typer.echo(line)


# --- enrollment: the digest bound to its owner's key (zkgrad.enrollment) -----------------------
def _dataset_public(file: Path) -> Any:
    """The public part of a dataset from its owner file (``.zkd``) or its ``.pub``."""
    from zkgrad.dataset import Dataset, DatasetPublic

    path = _regular_file(file, "a dataset file")
    if path.read_bytes()[:2] == b"PK":  # the owner file is a zip archive
        return Dataset.load(path).public
    return DatasetPublic.load(path)


@data_app.command("keygen", epilog=EXIT_CODES_HELP)
def keygen(
    prefix: Annotated[
        Path, typer.Argument(metavar="PREFIX", help="Writes PREFIX.key (private) and PREFIX.pub.")
    ],
) -> None:
    """Make an Ed25519 owner key pair for enrollment records."""
    with _handled():
        from zkgrad.enrollment import generate_owner_key

        private, public = generate_owner_key(prefix)
    typer.echo(f"wrote {private} (private, mode 0600: keep it secret) and {public} (share it)")


@data_app.command("enroll", epilog=EXIT_CODES_HELP)
def enroll(
    dataset: Annotated[
        Path, typer.Argument(metavar="DATA.zkd|DATA.pub", help="Dataset file or its public part.")
    ],
    key: Annotated[Path, typer.Option("--key", help="The owner's private key (PREFIX.key).")],
    owner: Annotated[str, typer.Option("--owner", help="The owner's name, as signed.")] = "",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Record (default: DATA.enroll.json).")
    ] = None,
) -> None:
    """Sign an enrollment record: this dataset digest is the owner's, committed now."""
    target = output or dataset.with_suffix(".enroll.json")
    with _handled():
        from zkgrad.enrollment import enroll as sign

        record = sign(_dataset_public(dataset), _regular_file(key, "a private key"), owner)
        _write_new(target, record.save)
    typer.echo(f"wrote {target}: dataset {record.digest} enrolled at {record.enrolled_at}")


@data_app.command("check-enrollment", epilog=EXIT_CODES_HELP)
def check_enrollment(
    record: Annotated[Path, typer.Argument(metavar="RECORD", help="Enrollment record (.json).")],
    dataset: Annotated[Path, typer.Option("--dataset", help="The dataset's public file (.pub).")],
    owner_key: Annotated[
        Path | None,
        typer.Option("--owner-key", help="Pin the owner's public key (PREFIX.pub)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Check an enrollment record against a dataset and (pinned) owner key."""
    out = _output(as_json)
    with _handled(out):
        from zkgrad.enrollment import Enrollment

        loaded = Enrollment.load(_regular_file(record, "an enrollment record"))
        pinned = _regular_file(owner_key, "a public key") if owner_key is not None else None
        loaded.verify(_dataset_public(dataset), pinned)
    out.print("valid: the owner signed this enrollment")
    for line in loaded.lines():
        out.print(f"  {escape(line)}")
    if owner_key is None:
        out.print(
            "  (no --owner-key: the key is the one in the record; pin it to know whose it is)"
        )
    out.emit(valid=True, statement=loaded.lines(), digest=loaded.digest, owner_key=loaded.owner_key)

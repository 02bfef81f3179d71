"""``zkgrad attest``: prove a model's accuracy on a committed dataset, and verify such a proof.

    zkgrad attest MODEL.zkg DATA.zkd -o acc.zkp
    zkgrad attest verify acc.zkp --model MODEL.vk --dataset DATA.pub

One command with a ``verify`` mode (the issue's syntax): a click group cannot take the model
and dataset as its own arguments and still have a ``verify`` subcommand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from zkgrad.data_cli import EXIT_CODES_HELP, JSON_HELP, _handled, _output, _regular_file, _write_new


def attest(
    targets: Annotated[
        list[str],
        typer.Argument(
            metavar="MODEL.zkg DATA.zkd | verify ACC.zkp",
            help="The model and the owner's dataset file; or 'verify' and an attestation.",
        ),
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Attestation file to write.")
    ] = Path("acc.zkp"),
    model: Annotated[
        Path | None, typer.Option("--model", help="verify: the model's key (.vk) or file.")
    ] = None,
    dataset: Annotated[
        Path | None, typer.Option("--dataset", help="verify: the dataset's public file (.pub).")
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option("--threshold", help="Prove only accuracy >= T (0..1), the count hidden."),
    ] = None,
    confusion: Annotated[
        bool,
        typer.Option("--confusion", help="Prove the confusion matrix too (label × prediction)."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Prove (in zero knowledge) how many rows of a committed dataset a model classifies
    correctly, or verify such a proof and print its statement (docs/DATA.md)."""
    from zkgrad.errors import ModelError

    out = _output(as_json)
    with _handled(out):
        if targets[:1] == ["verify"]:
            if len(targets) != 2 or model is None or dataset is None:
                raise ModelError(
                    "usage: zkgrad attest verify ACC.zkp --model MODEL.vk --dataset DATA.pub"
                )
            _verify(out, Path(targets[1]), model, dataset)
            return
        if len(targets) != 2:
            raise ModelError("usage: zkgrad attest MODEL.zkg DATA.zkd -o ACC.zkp")
        _prove(out, Path(targets[0]), Path(targets[1]), output, threshold, confusion)


def _prove(
    out: object,
    model_file: Path,
    data_file: Path,
    output: Path,
    threshold: float | None,
    confusion: bool = False,
) -> None:
    from zkgrad.dataset import Dataset
    from zkgrad.model import Model

    model = Model.load(_regular_file(model_file, "a model file"))
    ds = Dataset.load(_regular_file(data_file, "a dataset file"))
    with out.timed("prove"):  # type: ignore[attr-defined]
        att = model.attest(ds, threshold, confusion)
    _write_new(output, att.save)
    claim = att.claimed()
    used = ds._ledger.count(ds.digest)
    out.print(  # type: ignore[attr-defined]
        f"wrote {escape(str(output))}: {len(att)} bytes; "
        f"{'at least ' if claim.at_least else ''}{claim.correct} of {claim.rows} rows "
        "classified correctly"
    )
    out.print(f"dataset commitment: {used} of {ds.budget} openings used")  # type: ignore[attr-defined]
    out.emit(  # type: ignore[attr-defined]
        output=str(output),
        bytes=len(att),
        correct=claim.correct,
        at_least=claim.at_least,
        rows=claim.rows,
        used=used,
        confusion=None if claim.confusion is None else [list(r) for r in claim.confusion],
    )


def _verify(out: object, proof: Path, model: Path, dataset: Path) -> None:
    from zkgrad.attest import verify_attestation
    from zkgrad.dataset import DatasetPublic

    pub = DatasetPublic.load(_regular_file(dataset, "a dataset public file"))
    with out.timed("verify"):  # type: ignore[attr-defined]
        st = verify_attestation(
            _regular_file(model, "a model key"), pub, _regular_file(proof, "an attestation")
        )
    for line in st.lines():
        out.print(escape(line))  # type: ignore[attr-defined]
    out.emit(  # type: ignore[attr-defined]
        valid=True,
        model=st.model,
        dataset=st.dataset,
        rows=st.rows,
        classes=st.classes,
        correct=st.correct,
        at_least=st.at_least,
        accuracy=st.accuracy,
        confusion=None if st.confusion is None else [list(r) for r in st.confusion],
    )


def register(app: typer.Typer) -> None:
    app.command("attest", epilog=EXIT_CODES_HELP)(attest)

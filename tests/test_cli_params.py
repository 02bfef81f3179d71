"""The command line's pydantic-free conversion of values (zkgrad/cli_params.py) gives what
typer's own conversion gives: the same value of the same type, or the same error, for every
parameter of every command and many awkward values."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pytest
import typer
from typer._click import Context
from typer._click.exceptions import BadParameter
from typer._coercion import build_runtime_param
from typer.core import TyperGroup, _TyperParameter

from zkgrad.cli import app
from zkgrad.cli_params import PlainRuntimeParam, PlainTypesTyper

TEXTS = ["", "abc", " x ", "é", "\udcff", "-", "a\x00b", "--json", "0x10"]
NUMBERS = ["5", "-1", "+3", "007", "-0", " 5", "5 ", "1_000", "5.0", "x", "", "٣", "1e3"]
NUMBERS += ["999999999999999999", "99999999999999999999999", "True", 0, 7, True, 2.5, None]


def _values(annotation: Any, tmp: Path) -> list[Any]:
    if annotation is Path:
        unreadable = tmp / "unreadable"
        unreadable.write_text("x")
        unreadable.chmod(0)
        return [*TEXTS, str(tmp), str(tmp / "missing"), str(unreadable), tmp, "/dev/null", None]
    if annotation is int:
        return NUMBERS
    if annotation is bool:
        return [True, False, None, "true", "0", "yes", ""]
    return [*TEXTS, None, 5, b"bytes"]


def _outcome(convert: Any, value: Any, param: Any, ctx: Context) -> tuple[str, Any]:
    try:
        result = convert.coerce(value, param=param, ctx=ctx)
    except Exception as exc:  # the error is part of what must match
        return ("error", (type(exc).__name__, str(exc)))
    return (type(result).__name__, result)


def _commands() -> list[tuple[str, Any]]:
    group = typer.main.get_group(app)
    found = [("zkgrad", group)]
    found += [(f"zkgrad {name}", command) for name, command in group.commands.items()]
    return found


def _params(command: Any) -> list[_TyperParameter]:
    help_option = command.get_help_option(Context(command))
    return [p for p in [*command.params, help_option] if isinstance(p, _TyperParameter)]


def test_every_plain_parameter_converts_as_typer_does(tmp_path: Path) -> None:
    checked = 0
    for name, command in _commands():
        ctx = Context(command, info_name=name)
        for param in _params(command):
            plain = param.get_runtime_param()
            if not isinstance(plain, PlainRuntimeParam):
                continue
            typer_own = build_runtime_param(param.type_descriptor)
            for value in _values(param.type_descriptor.annotation, tmp_path):
                ours = _outcome(plain, value, param, ctx)
                theirs = _outcome(typer_own, value, param, ctx)
                assert ours == theirs, f"{name} {param.name}={value!r}"
                checked += 1
    assert checked > 300  # every command's options, not a few


def test_every_command_has_the_plain_conversion() -> None:
    """A command added with ``@app.command`` gets it without asking; ``--help`` too."""
    for name, command in _commands():
        for param in _params(command):
            annotation = param.type_descriptor.annotation
            if annotation in (str, Path, int, bool):
                runtime = param.get_runtime_param()
                assert isinstance(runtime, PlainRuntimeParam), f"{name} {param.name}"
        assert isinstance(command, TyperGroup) or type(command).__name__ == "PlainTypesCommand"


def test_a_range_or_a_parser_is_left_to_typer() -> None:
    """Options whose checks live in typer's pydantic adapter keep that adapter."""
    other = PlainTypesTyper()

    @other.command()
    def pick(
        count: Annotated[int, typer.Option(min=1, max=9)] = 1,
        unit: Annotated[str, typer.Option(parser=str.upper)] = "a",
        name: str = "b",
    ) -> None:
        """Two options typer must convert itself, one it need not."""

    @other.command()
    def other_command() -> None:
        """A second command, so that ``pick`` is a sub-command."""

    command = typer.main.get_group(other).commands["pick"]
    plain = {p.name: isinstance(p.get_runtime_param(), PlainRuntimeParam) for p in command.params}
    assert plain == {"count": False, "unit": False, "name": True}
    ctx = Context(command, info_name="pick")
    count, unit, _ = command.params
    with pytest.raises(BadParameter, match="greater than or equal to 1"):
        count.process_value(ctx, "0")
    assert unit.process_value(ctx, "kg") == "KG"

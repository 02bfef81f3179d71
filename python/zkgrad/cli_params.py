"""Command-line values converted without pydantic, so that ``zkgrad verify`` starts fast.

typer 0.29 converts every parameter's value through a pydantic ``TypeAdapter`` (even the
``--help`` flag's default): importing pydantic and building the adapters takes about 80 ms,
four times the verification of the demo proof. For the types zkgrad's commands take (``str``,
``Path``, ``int`` and flags, or ``None`` in their place) the conversion needs no pydantic:
:class:`PlainTypesTyper` gives those parameters a :class:`PlainRuntimeParam`, which converts an
ordinary value itself and hands any other value to typer's own (pydantic) conversion, so what a
command receives and every error message stay the same. Other parameters (ranges, choices,
files, lists, custom parsers) are left to typer. ``tests/test_cli_params.py`` checks the two
conversions against each other.

This leans on typer internals (``typer._coercion``, ``_TyperParameter._runtime_param``), which
is one reason typer is pinned exactly. If an upgrade moves them, nothing here applies (typer
converts as before, only slower) and ``tests/test_cli_startup.py`` fails, saying that
``verify`` imports pydantic again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

try:
    from typer._coercion import RuntimeParam, build_runtime_param
    from typer._param_types import coerce_cli_path
    from typer.core import _TyperParameter
except ImportError:  # another typer: keep its own conversion
    RuntimeParam = None  # type: ignore[assignment,misc]

#: An integer that pydantic and ``int()`` read alike: ASCII digits, an optional sign, short
#: enough for any machine word. Others ("1_000", " 5", "5.0", "x") go to pydantic, which
#: accepts some and words the error for the rest.
_PLAIN_INT = re.compile(r"[+-]?[0-9]{1,18}", re.ASCII)
_PLAIN_TYPES = (str, Path, int, bool)


def _make_plain(params: Iterable[Any]) -> None:
    if RuntimeParam is None:
        return
    for param in params:
        if isinstance(param, _TyperParameter) and param._runtime_param is None:
            plain = PlainRuntimeParam.for_param(param)
            if plain is not None:
                param._runtime_param = plain


class PlainTypesCommand(TyperCommand):
    """typer's command, whose plain parameters (and ``--help``) are converted without pydantic."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        _make_plain(self.params)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # made on first use, so plain it here
        _make_plain([option])
        return option


class PlainTypesGroup(TyperGroup):
    """typer's command group, whose own options (``--version``, ``--help``) skip pydantic."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        _make_plain(self.params)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        _make_plain([option])
        return option


class PlainTypesTyper(typer.Typer):
    """A ``typer.Typer`` whose group and commands are :class:`PlainTypesGroup` and
    :class:`PlainTypesCommand` unless ``cls=`` says otherwise. A sub-app added with
    ``add_typer`` should be one too, or its commands import pydantic."""

    def __init__(self, *, cls: type[TyperGroup] | None = None, **kwargs: Any) -> None:
        super().__init__(cls=cls or PlainTypesGroup, **kwargs)

    def command(
        self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **kwargs: Any
    ) -> Any:
        return super().command(name, cls=cls or PlainTypesCommand, **kwargs)


if RuntimeParam is not None:

    @dataclass(frozen=True)
    class PlainRuntimeParam(RuntimeParam):
        """Converts what the command line gives (a ``str``; a flag's ``bool``; a default) to
        ``str``, ``Path``, ``int`` or ``bool`` as typer's adapter would; any other value goes
        to typer's adapter itself."""

        @staticmethod
        def for_param(param: Any) -> PlainRuntimeParam | None:
            """The plain conversion of ``param``, or ``None`` when typer must convert it."""
            descriptor = param.type_descriptor
            info = descriptor.parameter_info
            annotation = descriptor.annotation
            if (
                descriptor.file_annotation is not None
                or info.parser is not None
                or param.multiple
                or param.nargs != 1
                or annotation not in _PLAIN_TYPES
                or (annotation is Path and info.path_type not in (None, Path))
                or (annotation is int and (info.min, info.max) != (None, None))
            ):
                return None
            return PlainRuntimeParam(parameter_info=info, annotation=annotation)

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            annotation = self.annotation
            if annotation is Path and isinstance(value, (str, Path)):
                # typer's adapter makes the Path with pydantic (which gives Path(value)), then
                # checks it in this function.
                path = value if isinstance(value, Path) else Path(value)
                try:
                    return coerce_cli_path(
                        path, self.parameter_info, path_type=Path, param=param, ctx=ctx
                    )
                except ValueError:  # "embedded null byte": pydantic words it, below
                    pass
            elif type(value) is annotation:  # a str for a str, a default 0 for an int, a flag
                return value
            if annotation is int and isinstance(value, str) and _PLAIN_INT.fullmatch(value):
                return int(value)
            typer_own = build_runtime_param(param.type_descriptor)
            return typer_own._coerce_value(value, param=param, ctx=ctx)

"""What every sync-cli command shares: the console, the error type that maps to exit code 1, JSON output."""

from __future__ import annotations

from typing import Any

import orjson
import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)


class CliError(Exception):
    """An operation failed for a reason the user can act on: printed as `Error: ...` with exit code 1."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


def print_json(data: Any) -> None:
    """Print one JSON document to stdout (pydantic models, datetimes and numpy values included)."""
    typer.echo(orjson.dumps(data, default=_default, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))


def print_json_line(data: Any) -> None:
    typer.echo(orjson.dumps(data, default=_default, option=orjson.OPT_SERIALIZE_NUMPY))


def _default(obj: Any) -> Any:
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if isinstance(obj, set | frozenset):
        return sorted(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__}")

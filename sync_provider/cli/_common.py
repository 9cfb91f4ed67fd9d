"""What every sync-cli command shares: the console, the error type that maps to exit code 1, JSON output,
the `--json` option, key=value parsing and the formatting of money and durations in tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from sync_provider.report.svg import fmt_duration as _fmt_duration
from sync_provider.report.svg import fmt_usd as _fmt_usd

console = Console()
err_console = Console(stderr=True)

# The `--json` flag every read command takes.
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table (for scripts).")]


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
    if hasattr(obj, "get_secret_value"):
        return "**********"
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def parse_tag(text: str) -> tuple[str, str]:
    """`key=value` -> (key, value); a usage error (exit 2) otherwise."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise typer.BadParameter(f"{text!r} is not key=value; write e.g. --tag team=growth")
    return key.strip(), value.strip()


def parse_tags(texts: Iterable[str] | None) -> dict[str, str]:
    return dict(parse_tag(t) for t in texts or ())


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A plain rich table; cells are converted with str() and None shows as an en dash."""
    t = Table(title=title, title_justify="left", header_style="bold", pad_edge=False)
    for col in columns:
        t.add_column(col, overflow="fold")
    for row in rows:
        t.add_row(*("–" if c is None else str(c) for c in row))
    return t


def fmt_usd(value: float | None) -> str | None:
    """Dollars as the HTML report shows them; None (unknown) stays None so tables print a dash."""
    return None if value is None else _fmt_usd(value)


def fmt_duration(seconds: float | None) -> str | None:
    """Durations as the HTML report shows them ('45 s', '12.5 min', '1 h 05 min')."""
    return None if seconds is None else _fmt_duration(seconds)


def minutes_to_seconds(minutes: float | None) -> float | None:
    if minutes is None:
        return None
    if minutes <= 0:
        raise typer.BadParameter(f"must be positive minutes, got {minutes}")
    return minutes * 60.0


def actor() -> str:
    """Who made a change from the command line (recorded with every config version)."""
    import getpass

    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        user = "unknown"
    return f"sync-cli:{user}"


# Set by the root callback: --debug shows tracebacks and library logs.
state: dict[str, bool] = {"debug": False}


def quiet_library_logs() -> None:
    """Keep Airflow's and the hooks' logs off stdout (where `--json` output goes): errors only, on stderr, and
    everything at INFO on stderr with --debug. Call after importing Airflow, which configures structlog on import."""
    import logging
    import sys
    import warnings

    import structlog

    level = logging.INFO if state["debug"] else logging.CRITICAL
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    root = logging.getLogger()
    root.setLevel(level)
    for handler in root.handlers:  # Airflow routes the standard library's logging to stdout
        if isinstance(handler, logging.StreamHandler) and getattr(handler, "stream", None) is sys.stdout:
            handler.setStream(sys.stderr)
    for name in ("airflow", "alembic", "botocore"):
        logging.getLogger(name).setLevel(level if name != "botocore" else max(level, logging.WARNING))
    if not state["debug"]:
        warnings.filterwarnings("ignore")

"""Helpers shared by the sync-cli tests."""

from __future__ import annotations

from typing import Any

import orjson
from typer.testing import Result


def json_of(result: Result) -> Any:
    """The JSON document a --json command printed on stdout (nothing else may be there)."""
    return orjson.loads(result.stdout)

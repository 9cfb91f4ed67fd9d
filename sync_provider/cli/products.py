"""`sync-cli products`: the platforms this version supports (the original CLI's first command after configure)."""

from __future__ import annotations

from typing import Any

from sync_provider import __version__
from sync_provider.cli._common import JsonOption, console, print_json, table

PRODUCTS: tuple[dict[str, Any], ...] = (
    {
        "name": "aws-databricks",
        "description": "Databricks on AWS: jobs and one-time runs, cluster logs delivered to S3 or DBFS",
        "commands": "sync-cli aws-databricks",
        "operators": "SyncDatabricksSubmitRunOperator, SyncPredictionOperator, ApplyRecommendationOperator",
    },
)


def products(json_out: JsonOption = False) -> None:
    """List the platforms this version of sync-cli supports.

    Example: sync-cli products --json
    """
    if json_out:
        print_json({"version": __version__, "products": list(PRODUCTS)})
        return
    rows = [(p["name"], p["description"], p["commands"]) for p in PRODUCTS]
    console.print(table(f"Supported platforms (sync-cli {__version__})", ["Product", "Description", "Commands"], rows))

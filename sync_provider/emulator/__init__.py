"""A local Databricks workspace: REST API, Spark workload simulator, cluster log delivery to S3/DBFS.

A separate subpackage that the engine never imports. The pure parts (workloads, simulator, event-log writer)
import without the web stack; `EmulatorServer` is loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sync_provider.emulator.server import DEFAULT_TOKEN, EmulatorServer

__all__ = ["EmulatorServer", "DEFAULT_TOKEN"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from sync_provider.emulator import server

        return getattr(server, name)
    raise AttributeError(name)

"""Airflow hooks of the Sync provider."""

from sync_provider.hooks.sync import SyncHook

__all__ = ["SyncHook"]

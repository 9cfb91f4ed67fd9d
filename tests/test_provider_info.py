"""Provider registration: the metadata validates against Airflow's own schema and the real CLI sees it."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

from sync_provider.get_provider_info import get_provider_info
from sync_provider.settings import SyncSettings


def _airflow(tmp_path: Path, *commands: tuple[str, ...]) -> list[str]:
    """Run several `airflow` CLI commands in parallel (each start-up takes seconds); return their outputs."""
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow"), "COLUMNS": "250"}
    exe = str(Path(sys.executable).parent / "airflow")
    procs = [
        subprocess.Popen([exe, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for args in commands
    ]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
        outputs.append(out)
    return outputs


def test_validates_against_airflow_provider_schema() -> None:
    from airflow.providers_manager import _create_provider_info_schema_validator

    _create_provider_info_schema_validator().validate(get_provider_info())


def test_conn_fields_are_settings_fields_and_modules_exist() -> None:
    info = get_provider_info()
    (conn,) = info["connection-types"]
    assert conn["connection-type"] == "sync" and conn["hook-class-name"] == "sync_provider.hooks.sync.SyncHook"
    # Every setting has a form field (the standard `extra` is hidden, so a setting without one could not be set
    # from the Connections UI at all).
    assert set(conn["conn-fields"]) == set(SyncSettings.model_fields)
    defaults = {k: v["schema"].get("default") for k, v in conn["conn-fields"].items() if "default" in v["schema"]}
    assert SyncSettings.from_extras(defaults) == SyncSettings()  # UI defaults are valid settings
    for field in ("preference", "plan", "compute_type", "apply_mode"):
        for value in conn["conn-fields"][field]["schema"]["enum"]:
            SyncSettings.from_extras({field: value})
    assert "host" in conn["ui-field-behaviour"]["hidden-fields"]
    importlib.import_module("sync_provider.hooks.sync")
    importlib.import_module("sync_provider.operators.databricks")


def test_airflow_cli_lists_provider_and_sync_connection_type(tmp_path) -> None:
    listed, hooks, widgets = _airflow(tmp_path, ("providers", "list"), ("providers", "hooks"), ("providers", "widgets"))
    assert "airflow-provider-sync" in listed
    assert any(line.split("|")[0].strip() == "sync" and "SyncHook" in line for line in hooks.splitlines())
    for field in (
        "store_url",
        "preference",
        "plan",
        "compute_type",
        "log_destination",
        "log_region",
        "init_script_path",
        "apply_mode",
        "catalog_override",
    ):
        assert f"extra__sync__{field}" in widgets


def test_connections_ui_metadata(tmp_path, monkeypatch) -> None:
    """What the Connections UI receives (the REST API's hook metadata service) for the `sync` type."""
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    (meta,) = [m for m in HookMetaService.hook_meta_data() if m.connection_type == "sync"]
    assert meta.hook_name == "Sync" and meta.hook_class_name == "sync_provider.hooks.sync.SyncHook"
    std = meta.standard_fields
    assert std.host.hidden and std.port.hidden and std.login.hidden and std.url_schema.hidden
    assert not std.password.hidden and std.password.title == "Store password (optional)"
    fields = meta.extra_fields
    assert fields["plan"]["schema"]["enum"] == ["standard", "premium", "enterprise"]
    assert fields["store_url"]["schema"]["title"] == "Store URL"
    assert fields["log_destination"]["description"].startswith("Where clusters deliver event logs")

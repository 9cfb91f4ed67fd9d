"""The CLI's configuration: ~/.sync/config (mode 0600) overlaid by environment variables.

The file is a JSON object holding the `sync` connection's fields (see `SyncSettings`) plus the few things only the
CLI needs: the Databricks workspace (`databricks_host`, `databricks_token`) and, inside an Airflow environment,
the id of a `sync` connection to read settings from (`sync_conn_id`). Precedence, lowest first: defaults, the
file (or the Airflow `sync` connection when `sync_conn_id` is set), environment variables.

The token is a secret: it is kept as a `SecretStr`, written only to the 0600 file and never printed.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr

from sync_provider.settings import STORE_URL_ENV, SettingsError, SyncSettings

CONFIG_ENV = "SYNC_CONFIG"
HOST_ENV = "DATABRICKS_HOST"
TOKEN_ENV = "DATABRICKS_TOKEN"
REGION_ENV = "AWS_REGION"
SYNC_CONN_ENV = "SYNC_CONN_ID"

# Keys of the file that are not SyncSettings fields.
CLI_KEYS = ("databricks_host", "databricks_token", "sync_conn_id")
# Environment variables with a name of their own; every other SyncSettings field is read from SYNC_<FIELD>.
_NAMED_ENV = {
    HOST_ENV: "databricks_host",
    TOKEN_ENV: "databricks_token",
    SYNC_CONN_ENV: "sync_conn_id",
    STORE_URL_ENV: "store_url",
    REGION_ENV: "log_region",
}


class ConfigError(SettingsError):
    """The config file or an environment variable holds something unusable; the message names it and the fix."""


class CliConfig(BaseModel):
    """Everything a command needs to know about the installation, with where each value came from."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    settings: SyncSettings
    databricks_host: str | None = None
    databricks_token: SecretStr | None = None
    sync_conn_id: str | None = None
    path: Path
    sources: dict[str, str] = {}

    def public(self) -> dict[str, Any]:
        """The configuration fit for printing: the token replaced by whether it is set and where from."""
        from sync_provider.settings import redact_url

        data = self.settings.model_dump(mode="json")
        if data.get("store_url"):
            data["store_url"] = redact_url(data["store_url"])
        data["resolved_store_url"] = redact_url(self.settings.resolved_store_url())
        data["databricks_host"] = self.databricks_host
        data["databricks_token"] = "set" if self.databricks_token else None
        data["sync_conn_id"] = self.sync_conn_id
        return {"path": str(self.path), "values": data, "sources": dict(self.sources)}


def config_path() -> Path:
    """$SYNC_CONFIG, else ~/.sync/config."""
    env = os.environ.get(CONFIG_ENV)
    return Path(env).expanduser() if env else Path.home() / ".sync" / "config"


def normalize_host(host: str) -> str:
    """A workspace URL with its scheme (https:// when none is given) and without a trailing slash."""
    host = host.strip().rstrip("/")
    if not host:
        raise ConfigError(
            "the Databricks host is empty; give the workspace URL, e.g. https://dbc-1234.cloud.databricks.com"
        )
    if "://" not in host:
        host = f"https://{host}"
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{host!r} is not a Databricks workspace URL; use e.g. https://dbc-1234.cloud.databricks.com")
    return host


def read_file(path: Path | None = None) -> dict[str, Any]:
    """The raw mapping stored in the config file ({} when it does not exist)."""
    p = path or config_path()
    if not p.exists():
        return {}
    text = p.read_text()
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        import yaml  # hand-written files may be YAML

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{p} is neither JSON nor YAML ({exc}); fix it or run `sync-cli configure`") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{p} must hold a mapping of settings, got {type(data).__name__}; run `sync-cli configure`")
    return dict(data)


def write_file(values: Mapping[str, Any], path: Path | None = None) -> Path:
    """Write the config atomically with mode 0600 (its directory 0700): the token must not be readable by others."""
    p = path or config_path()
    p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    clean = {k: v for k, v in values.items() if v is not None and v != ""}
    fd, tmp = tempfile.mkstemp(prefix=".config-", dir=p.parent)
    try:
        os.fchmod(fd, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "w") as fh:
            json.dump(clean, fh, indent=2, sort_keys=True)
            fh.write("\n")
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    os.chmod(p, stat.S_IRUSR | stat.S_IWUSR)
    return p


def env_values(environ: Mapping[str, str] | None = None) -> dict[str, tuple[str, str]]:
    """Values set through the environment: field -> (value, variable name)."""
    env = os.environ if environ is None else environ
    out: dict[str, tuple[str, str]] = {}
    for field in SyncSettings.model_fields:
        var = f"SYNC_{field.upper()}"
        if env.get(var):
            out[field] = (env[var], var)
    for var, field in _NAMED_ENV.items():
        if env.get(var):
            out[field] = (env[var], var)
    return out


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> CliConfig:
    """Defaults < file (or the Airflow `sync` connection named by `sync_conn_id`) < environment."""
    p = path or config_path()
    file_values = read_file(p)
    sources: dict[str, str] = {}
    env = env_values(environ)

    cli: dict[str, Any] = {k: file_values.pop(k, None) for k in CLI_KEYS}
    for key, value in cli.items():
        if value is not None:
            sources[key] = "file"
    sync_conn_id = env["sync_conn_id"][0] if "sync_conn_id" in env else cli["sync_conn_id"]

    if sync_conn_id:
        base = _airflow_settings(sync_conn_id)
        merged: dict[str, Any] = base.to_extras()
        origin = f"airflow connection {sync_conn_id!r}"
        sources.update({k: origin for k in merged})
    else:
        merged = dict(file_values)
        sources.update({k: "file" for k in file_values})
    for field, (value, var) in env.items():
        if field in CLI_KEYS:
            cli[field] = value
        else:
            merged[field] = value
        sources[field] = f"env {var}"
    try:
        settings = SyncSettings.from_extras(merged)
    except SettingsError as exc:
        culprits = {src for field, src in sources.items() if f"'{field}'" in str(exc) or field in str(exc)}
        where = ", ".join(sorted(str(p) if src == "file" else src for src in culprits)) or str(p)
        raise ConfigError(f"{exc} (set in {where}); fix it with `sync-cli configure` or unset the variable") from None
    host = normalize_host(cli["databricks_host"]) if cli["databricks_host"] else None
    token = SecretStr(str(cli["databricks_token"])) if cli["databricks_token"] else None
    return CliConfig(
        settings=settings,
        databricks_host=host,
        databricks_token=token,
        sync_conn_id=sync_conn_id or None,
        path=p,
        sources=sources,
    )


def _airflow_settings(conn_id: str) -> SyncSettings:
    """Settings from an Airflow `sync` connection (env var, secrets backend or the metadata database)."""
    try:
        from sync_provider.cli._common import quiet_library_logs
        from sync_provider.hooks.sync import SyncHook

        quiet_library_logs()
        hook = SyncHook(conn_id)
        settings = hook.settings
        url = hook.store_url()
    except SettingsError:
        raise
    except Exception as exc:  # noqa: BLE001 - Airflow raises several types for a missing connection
        raise ConfigError(
            f"cannot read the Airflow connection {conn_id!r}: {exc}; check it exists (`airflow connections get "
            f"{conn_id}`) or run `sync-cli configure` without --sync-conn-id"
        ) from None
    return settings.model_copy(update={"store_url": url})

"""`sync-cli configure`: write ~/.sync/config (mode 0600), interactively or from flags.

Only what the user gives is changed; everything else in the file is kept. Values are validated the same way as the
`sync` Airflow connection's fields before anything is written. The token is read without echo and never printed.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from sync_provider.cli._common import JsonOption, console, print_json, table
from sync_provider.cli.config_file import (
    ConfigError,
    config_path,
    load_config,
    normalize_host,
    read_file,
    write_file,
)
from sync_provider.engine.models import ApplyMode, ComputeType, Plan, Preference
from sync_provider.settings import SyncSettings, redact_url

# (config key, prompt) asked in interactive mode, in this order.
_PROMPTS: tuple[tuple[str, str], ...] = (
    ("store_url", "Store URL (SQLAlchemy URL; empty for the default SQLite file)"),
    ("preference", "Default preference (economy, balanced, performance)"),
    ("databricks_host", "Databricks workspace URL (empty to use an Airflow connection instead)"),
    ("log_destination", "Cluster log destination (s3://bucket/prefix or dbfs:/path)"),
    ("log_region", "AWS region"),
    ("plan", "Databricks plan (standard, premium, enterprise)"),
    ("compute_type", "Compute type (jobs, jobs_light, all_purpose)"),
)


def configure(
    store_url: Annotated[
        str | None,
        typer.Option(
            "--store-url",
            help="SQLAlchemy URL of the Sync store. With a password in it, prefer the prompt or $SYNC_STORE_URL: "
            "a flag is visible in the process list.",
        ),
    ] = None,
    preference: Annotated[
        Preference | None, typer.Option("--preference", help="Default preference of new projects.")
    ] = None,
    databricks_host: Annotated[
        str | None, typer.Option("--databricks-host", "--host", help="Databricks workspace URL.")
    ] = None,
    databricks_token: Annotated[
        str | None,
        typer.Option(
            "--databricks-token",
            "--token",
            help="Databricks token. Prefer the prompt or $DATABRICKS_TOKEN: a flag is visible in the process list.",
        ),
    ] = None,
    conn_id: Annotated[
        str | None,
        typer.Option("--conn-id", help="Use this Airflow Databricks connection instead of a host and token."),
    ] = None,
    sync_conn_id: Annotated[
        str | None,
        typer.Option("--sync-conn-id", help="Inside Airflow: read every Sync setting from this `sync` connection."),
    ] = None,
    aws_region: Annotated[str | None, typer.Option("--aws-region", help="AWS region of the log bucket.")] = None,
    log_destination: Annotated[
        str | None, typer.Option("--log-destination", help="Cluster log destination: s3://bucket/prefix or dbfs:/path.")
    ] = None,
    plan: Annotated[Plan | None, typer.Option("--plan", help="Databricks pricing plan.")] = None,
    compute_type: Annotated[
        ComputeType | None, typer.Option("--compute-type", "--compute", help="Compute type.")
    ] = None,
    apply_mode: Annotated[
        ApplyMode | None, typer.Option("--apply-mode", help="Default apply mode of new projects.")
    ] = None,
    aws_endpoint_url: Annotated[
        str | None, typer.Option("--aws-endpoint-url", help="S3-compatible endpoint (e.g. the emulator's).")
    ] = None,
    init_script_path: Annotated[
        str | None,
        typer.Option(
            "--init-script-path",
            help="Where the collector init script lives (see `aws-databricks upload-init-script`).",
        ),
    ] = None,
    show: Annotated[bool, typer.Option("--show", help="Print the effective configuration and exit.")] = False,
    json_out: JsonOption = False,
) -> None:
    """Write ~/.sync/config: store, defaults, the Databricks workspace and where cluster logs go.

    Without options it asks for each value (Enter keeps the current one; the token is read without echo).
    Environment variables override the file: DATABRICKS_HOST, DATABRICKS_TOKEN, SYNC_STORE_URL, AWS_REGION and
    SYNC_<FIELD> for every other field (e.g. SYNC_PREFERENCE). $SYNC_CONFIG points at another file.

    Example: sync-cli configure --databricks-host https://dbc-1234.cloud.databricks.com --plan premium
    --log-destination s3://my-logs/sync --aws-region us-east-1
    """
    if show:
        _show(json_out)
        return
    flags: dict[str, Any] = {
        "store_url": store_url,
        "preference": preference,
        "databricks_host": databricks_host,
        "databricks_token": databricks_token,
        "databricks_conn_id": conn_id,
        "sync_conn_id": sync_conn_id,
        "log_region": aws_region,
        "log_destination": log_destination,
        "plan": plan,
        "compute_type": compute_type,
        "apply_mode": apply_mode,
        "aws_endpoint_url": aws_endpoint_url,
        "init_script_path": init_script_path,
    }
    given = {k: (v.value if hasattr(v, "value") else v) for k, v in flags.items() if v is not None}
    current = read_file()
    values = dict(current)
    if given:
        values.update(given)
    else:
        values.update(_ask(current))
    if values.get("databricks_host"):
        values["databricks_host"] = normalize_host(values["databricks_host"])
    if given.get("databricks_host") and not values.get("databricks_token"):
        token = _prompt_token("Databricks token (Enter to rely on $DATABRICKS_TOKEN)")
        if token:
            values["databricks_token"] = token
    if given.get("databricks_conn_id") and "databricks_host" not in given:
        # An Airflow connection replaces the host and token kept in the file.
        values.pop("databricks_host", None)
        values.pop("databricks_token", None)
    _validate(values)
    path = write_file(values)
    if json_out:
        print_json(load_config(path).public())
    else:
        console.print(f"Configuration written to {path} (mode 0600).")


def _ask(current: dict[str, Any]) -> dict[str, Any]:
    """Prompt for each value; Enter keeps the current one. The token prompt never echoes nor shows a default."""
    answers: dict[str, Any] = {}
    for key, prompt in _PROMPTS:
        default = current.get(key)
        if default is None and key in SyncSettings.model_fields:
            field_default = SyncSettings.model_fields[key].default
            default = getattr(field_default, "value", field_default)
        if key == "store_url" and default:
            # The current URL is shown with its password masked; Enter (the masked default) keeps it as it is.
            shown = redact_url(str(default))
            answer = typer.prompt(prompt, default=shown, show_default=True)
            answers[key] = default if answer.strip() == shown else answer.strip() or None
            continue
        answer = typer.prompt(prompt, default=default if default is not None else "", show_default=True)
        answers[key] = answer.strip() or None
        if key == "databricks_host" and not answers[key]:
            conn = typer.prompt(
                "Airflow Databricks connection id", default=current.get("databricks_conn_id") or "databricks_default"
            )
            answers["databricks_conn_id"] = conn.strip() or None
            answers["databricks_token"] = None
        if key == "databricks_host" and answers[key]:
            has = "databricks_token" in current
            token = _prompt_token("Databricks token" + (" (Enter keeps the current one)" if has else ""))
            if token:
                answers["databricks_token"] = token
    return answers


def _prompt_token(prompt: str) -> str:
    """Read the token without echo; no input at all (a script with closed stdin) means none."""
    try:
        return typer.prompt(prompt, hide_input=True, default="", show_default=False).strip()
    except typer.Abort:
        return ""


def _validate(values: dict[str, Any]) -> None:
    """Refuse to write a file that would not load; the message names the field and what it accepts."""
    from sync_provider.cli.config_file import CLI_KEYS

    settings = {k: v for k, v in values.items() if k not in CLI_KEYS}
    try:
        SyncSettings.from_extras(settings)
    except ValueError as exc:
        raise ConfigError(f"{exc}; nothing was written to {config_path()}") from None


def _show(json_out: bool) -> None:
    cfg = load_config()
    public = cfg.public()
    if json_out:
        print_json(public)
        return
    rows = [(k, v, public["sources"].get(k, "default")) for k, v in public["values"].items()]
    console.print(table(f"Configuration ({public['path']})", ["Setting", "Value", "From"], rows))

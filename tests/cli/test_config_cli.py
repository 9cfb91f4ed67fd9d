"""`sync-cli configure` and the config file: 0600, env overrides, validation, the token never printed."""

from __future__ import annotations

import json
import os
import stat

import pytest

from sync_provider.cli.config_file import ConfigError, config_path, load_config, read_file, write_file
from sync_provider.engine.models import Plan, Preference
from tests.cli.helpers import json_of

TOKEN = "dapi-secret-0123456789abcdef"


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_configure_with_flags_writes_0600_file_and_never_prints_the_token(cli):
    res = cli(
        "configure",
        "--databricks-host", "dbc-1234.cloud.databricks.com/",
        "--databricks-token", TOKEN,
        "--preference", "balanced",
        "--plan", "enterprise",
        "--compute-type", "jobs_light",
        "--log-destination", "s3://my-logs/sync/",
        "--aws-region", "eu-west-1",
        "--json",
    )  # fmt: skip
    assert TOKEN not in res.output
    path = config_path()
    assert _mode(path) == 0o600 and _mode(path.parent) == 0o700
    stored = json.loads(path.read_text())
    assert stored["databricks_token"] == TOKEN
    assert stored["databricks_host"] == "https://dbc-1234.cloud.databricks.com"
    public = json_of(res)
    assert public["values"]["databricks_token"] == "set"
    assert public["values"]["log_destination"] == "s3://my-logs/sync"
    cfg = load_config()
    assert cfg.settings.preference is Preference.BALANCED and cfg.settings.plan is Plan.ENTERPRISE
    assert cfg.settings.log_region == "eu-west-1"
    assert cfg.databricks_token.get_secret_value() == TOKEN
    assert TOKEN not in repr(cfg) and TOKEN not in str(cfg.public())

    show = cli("configure", "--show")
    assert TOKEN not in show.output and "https://dbc-1234.cloud.databricks.com" in show.stdout


def test_configure_keeps_other_values_and_rewrites_with_0600(cli):
    cli("configure", "--preference", "performance")
    config_path().chmod(0o644)
    cli("configure", "--plan", "standard")
    cfg = load_config()
    assert cfg.settings.preference is Preference.PERFORMANCE and cfg.settings.plan is Plan.STANDARD
    assert _mode(config_path()) == 0o600


def test_interactive_configure_hides_the_token(cli):
    answers = "\n".join(
        [
            "",
            "economy",
            "https://example.cloud.databricks.com",
            TOKEN,
            "dbfs:/cluster-logs",
            "us-west-2",
            "premium",
            "jobs",
        ]
    )
    res = cli("configure", input=answers + "\n")
    assert TOKEN not in res.output
    cfg = load_config()
    assert cfg.databricks_host == "https://example.cloud.databricks.com"
    assert cfg.databricks_token.get_secret_value() == TOKEN
    assert cfg.settings.log_destination == "dbfs:/cluster-logs" and cfg.settings.log_region == "us-west-2"
    # A second run keeps the token when Enter is pressed at its prompt.
    cli("configure", input="\n\n\n\n\n\n\n\n")
    assert load_config().databricks_token.get_secret_value() == TOKEN


def test_interactive_configure_never_shows_the_store_password(cli):
    url = "postgresql+psycopg2://sync:hunter2@db.example.com/sync"
    write_file({"store_url": url, "preference": "economy"})
    res = cli("configure", input="\n" * 8)
    assert "hunter2" not in res.output and "sync:***@db.example.com" in res.output
    # Enter at the masked default keeps the URL as it was, password included.
    assert read_file()["store_url"] == url
    cli("configure", input="sqlite:////tmp/other.db\n" + "\n" * 7)
    assert read_file()["store_url"] == "sqlite:////tmp/other.db"


def test_environment_overrides_the_file(monkeypatch, tmp_path):
    write_file({"preference": "economy", "databricks_host": "https://a.example.com", "databricks_token": "file-token"})
    monkeypatch.setenv("DATABRICKS_HOST", "https://b.example.com")
    monkeypatch.setenv("DATABRICKS_TOKEN", "env-token")
    monkeypatch.setenv("SYNC_PREFERENCE", "performance")
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    monkeypatch.setenv("SYNC_STORE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    cfg = load_config()
    assert cfg.databricks_host == "https://b.example.com"
    assert cfg.databricks_token.get_secret_value() == "env-token"
    assert cfg.settings.preference is Preference.PERFORMANCE
    assert cfg.settings.log_region == "ap-south-1"
    assert cfg.settings.resolved_store_url().endswith("env.db")
    assert cfg.sources["databricks_token"] == "env DATABRICKS_TOKEN"
    assert cfg.sources["preference"] == "env SYNC_PREFERENCE"


def test_sync_config_env_points_at_another_file(monkeypatch, tmp_path):
    other = tmp_path / "elsewhere.json"
    monkeypatch.setenv("SYNC_CONFIG", str(other))
    write_file({"plan": "standard"})
    assert other.exists() and _mode(other) == 0o600
    assert load_config().settings.plan is Plan.STANDARD


def test_invalid_values_are_refused_naming_the_field(cli):
    res = cli("configure", "--log-destination", "ftp://nope", code=1)
    assert "log_destination" in res.stderr and "nothing was written" in res.stderr
    assert not config_path().exists()
    res = cli("configure", "--preference", "cheapest", code=2)
    assert "cheapest" in res.output
    res = cli("configure", "--databricks-host", "ftp://x", "--token", TOKEN, code=1)
    assert "not a Databricks workspace URL" in res.stderr and TOKEN not in res.output


def test_broken_file_or_env_names_the_cause(cli, monkeypatch):
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text("[1, 2")
    res = cli("projects", "list", code=1)
    assert "neither JSON nor YAML" in res.stderr and "Traceback" not in res.output
    config_path().write_text('{"preference": "cheap"}')
    with pytest.raises(ConfigError, match="preference"):
        load_config()
    config_path().unlink()
    monkeypatch.setenv("SYNC_PLAN", "gold")
    res = cli("projects", "list", code=1)
    assert "'plan'" in res.stderr and "SYNC_PLAN" in res.stderr


def test_conn_id_replaces_host_and_token(cli):
    cli("configure", "--databricks-host", "https://a.example.com", "--token", TOKEN)
    cli("configure", "--conn-id", "databricks_prod")
    stored = json.loads(config_path().read_text())
    assert "databricks_token" not in stored and stored["databricks_conn_id"] == "databricks_prod"
    assert load_config().settings.databricks_conn_id == "databricks_prod"


def test_sync_conn_id_reads_the_airflow_connection(cli, monkeypatch, tmp_path):
    extra = {"preference": "balanced", "store_url": f"sqlite:///{tmp_path / 'af.db'}", "plan": "enterprise"}
    monkeypatch.setenv("AIRFLOW_CONN_SYNC_PROD", json.dumps({"conn_type": "sync", "extra": extra}))
    monkeypatch.delenv("SYNC_STORE_URL")
    cli("configure", "--sync-conn-id", "sync_prod")
    cfg = load_config()
    assert cfg.settings.preference is Preference.BALANCED and cfg.settings.plan is Plan.ENTERPRISE
    assert cfg.sources["plan"] == "airflow connection 'sync_prod'"
    cli("projects", "create", "from-airflow")
    assert (tmp_path / "af.db").exists()
    res = cli("configure", "--sync-conn-id", "missing_conn", code=0)
    res = cli("projects", "list", code=1)
    assert "missing_conn" in res.stderr


def test_interactive_configure_with_an_airflow_connection_instead_of_a_token(cli):
    cli("configure", input="\n\n\nmy_databricks\n\n\n\n\n")
    stored = json.loads(config_path().read_text())
    assert stored["databricks_conn_id"] == "my_databricks"
    assert "databricks_host" not in stored and "databricks_token" not in stored
    assert load_config().settings.databricks_conn_id == "my_databricks"

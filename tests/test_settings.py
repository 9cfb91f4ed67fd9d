"""SyncSettings: the sync connection's extras parsed, normalised and refused with errors naming the field."""

from __future__ import annotations

import json

import pytest

from sync_provider.engine.models import ApplyMode, ComputeType, Plan, Preference
from sync_provider.settings import SettingsError, SyncSettings, redact_url


def test_defaults_and_sqlite_under_airflow_home(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "af"))
    s = SyncSettings.from_extras({})
    assert (s.preference, s.plan, s.compute_type, s.apply_mode) == (
        Preference.ECONOMY,
        Plan.PREMIUM,
        ComputeType.JOBS,
        ApplyMode.AUTO,
    )
    assert s.resolved_store_url() == f"sqlite:///{tmp_path / 'af' / 'sync_provider.db'}"
    monkeypatch.delenv("AIRFLOW_HOME")
    assert s.resolved_store_url().endswith("/home/.sync/sync.db")
    monkeypatch.setenv("SYNC_STORE_URL", "sqlite:////x/y.db")
    assert s.resolved_store_url() == "sqlite:////x/y.db"


def test_ui_prefixed_keys_labels_and_empty_strings() -> None:
    s = SyncSettings.from_extras(
        json.dumps(
            {
                "extra__sync__preference": "Balanced",
                "plan": "Enterprise",
                "compute_type": "Jobs Light",
                "apply_mode": "dry run",
                "log_destination": "s3://my-bucket/logs/",
                "log_region": "eu-west-1",
                "init_script_path": "",
                "dbu_usd": "0.12",
                "strict": "true",
            }
        )
    )
    assert s.preference is Preference.BALANCED and s.plan is Plan.ENTERPRISE
    assert s.compute_type is ComputeType.JOBS_LIGHT and s.apply_mode is ApplyMode.DRY_RUN
    assert s.log_destination == "s3://my-bucket/logs" and s.init_script_path is None
    assert s.dbu_usd == 0.12 and s.strict is True
    pricing = s.pricing()
    assert pricing.plan is Plan.ENTERPRISE and pricing.region == "eu-west-1" and pricing.effective_dbu_usd() == 0.12
    assert SyncSettings.from_extras(s.to_extras()) == s


@pytest.mark.parametrize(
    ("extras", "message"),
    [
        ('{"preference": "cheap"', "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ({"preference": "cheap"}, "'preference': unknown value 'cheap'; accepted: economy, balanced, performance"),
        ({"plan": "gold"}, "'plan'.*accepted: standard, premium, enterprise"),
        ({"compute_type": "serverless"}, "'compute_type'.*accepted: jobs, jobs_light, all_purpose"),
        ({"apply_mode": "yolo"}, "'apply_mode'.*accepted: auto, approval, dry-run"),
        ({"log_destination": "gs://bucket/x"}, "'log_destination'.*use s3://bucket/prefix.*or dbfs:/path"),
        ({"log_destination": "/tmp/logs"}, "'log_destination'"),
        ({"init_script_path": "ftp://x/y.sh"}, "'init_script_path'.*workspace:/"),
        ({"log_region": "mars-1"}, "'log_region'.*not an AWS region"),
        ({"store_url": "not a url"}, "'store_url'.*SQLAlchemy URL"),
        ({"spot_discount": 1.5}, "'spot_discount'"),
        ({"prefernce": "economy"}, "unknown sync connection field.*prefernce; accepted fields: store_url"),
    ],
)
def test_bad_extras_name_the_field(extras, message) -> None:
    with pytest.raises(SettingsError, match=message):
        SyncSettings.from_extras(extras)


def test_dbfs_destination_and_catalog_override(tmp_path) -> None:
    s = SyncSettings.from_extras(
        {
            "log_destination": "dbfs:/cluster-logs/sync",
            "catalog_override": json.dumps([{"instance_type": "m5.xlarge", "hourly_usd": 0.1}]),
        }
    )
    assert s.log_destination == "dbfs:/cluster-logs/sync"
    assert s.catalog().get("m5.xlarge").hourly_usd == 0.1
    bad = SyncSettings.from_extras({"catalog_override": str(tmp_path / "missing.csv")})
    with pytest.raises(SettingsError, match="'catalog_override'.*does not exist"):
        bad.catalog()


def test_open_store_and_redaction(tmp_path) -> None:
    s = SyncSettings(store_url=f"sqlite:///{tmp_path / 's.db'}")
    assert s.open_store().list_projects() == []
    assert redact_url("postgresql://u:hunter2@h/db") == "postgresql://u:***@h/db"
    # psycopg2 takes the password from the query string too.
    assert "hunter2" not in redact_url("postgresql+psycopg2://u@h/db?password=hunter2&sslmode=require")
    assert "hunter2" not in redact_url("postgresql://u@h/db?sslpassword=hunter2")

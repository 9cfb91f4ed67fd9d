"""`sync-cli projects ...` against a real SQLite store."""

from __future__ import annotations

from sync_provider.engine.models import ClusterConfig, CostBreakdown, RunObservation
from sync_provider.store import SyncStore
from tests.cli.helpers import json_of


def test_create_list_get_update_delete(cli, store_url):
    res = cli("projects", "create", "nightly-etl", "--job-id", "123", "--sla-minutes", "45", "--cost-target", "12.5",
              "--tag", "team=growth", "--tag", "tier=gold", "--apply-mode", "approval", "--max-workers", "16",
              "--instance-family", "m5", "--no-photon", "--json")  # fmt: skip
    created = json_of(res)
    assert created["goals"] == {"sla_seconds": 2700.0, "cost_target_usd": 12.5, "preference": "economy"}
    assert created["tags"] == {"team": "growth", "tier": "gold"} and created["apply_mode"] == "approval"
    assert created["constraints"]["max_workers"] == 16 and created["constraints"]["photon_allowed"] is False
    assert created["constraints"]["instance_families"] == ["m5"] and created["job_id"] == "123"
    cli("projects", "create", "other", "--tag", "team=core")

    listed = json_of(cli("projects", "list", "--json"))
    assert [p["name"] for p in listed] == ["nightly-etl", "other"]
    assert [p["name"] for p in json_of(cli("projects", "list", "--tag", "team=core", "--json"))] == ["other"]
    table = cli("projects", "list").stdout
    assert "nightly-etl" in table and "45 min" in table and "team=growth" in table

    assert json_of(cli("projects", "get", created["id"], "--json"))["name"] == "nightly-etl"
    assert "approval" in cli("projects", "get", "nightly-etl").stdout

    upd = json_of(cli("projects", "update", "nightly-etl", "--sla-minutes", "30", "--clear-cost-target",
                      "--preference", "balanced", "--remove-tag", "tier", "--tag", "team=data", "--json"))  # fmt: skip
    assert upd["goals"] == {"sla_seconds": 1800.0, "cost_target_usd": None, "preference": "balanced"}
    assert upd["tags"] == {"team": "data"} and upd["constraints"]["max_workers"] == 16

    cli("projects", "delete", "other", input="n\n", code=1)
    assert SyncStore(store_url).find_project("other") is not None
    cli("projects", "delete", "other", "--yes")
    assert SyncStore(store_url).find_project("other") is None


def test_project_errors_exit_1_with_cause_and_fix(cli):
    cli("projects", "create", "a")
    res = cli("projects", "create", "a", code=1)
    assert "already exists" in res.stderr and "projects update" in res.stderr and "Traceback" not in res.output
    res = cli("projects", "get", "nope", code=1)
    assert "'nope' not found" in res.stderr and "known projects: a" in res.stderr
    res = cli("projects", "delete", "nope", "--yes", code=1)
    assert "not found" in res.stderr


def test_project_usage_errors_exit_2(cli):
    cli("projects", "create", "a")
    assert "nothing to change" in cli("projects", "update", "a", code=2).output
    assert "not both" in cli("projects", "update", "a", "--sla-minutes", "3", "--clear-sla", code=2).output
    assert "key=value" in cli("projects", "create", "b", "--tag", "oops", code=2).output
    assert "positive" in cli("projects", "create", "b", "--sla-minutes", "-5", code=2).output
    assert "max_workers" in cli("projects", "create", "b", "--min-workers", "8", "--max-workers", "2", code=2).output
    cli("projects", "get", code=2)
    cli("projects", "create", "b", "--apply-mode", "sometimes", code=2)


def _seed_runs(store: SyncStore, project_id: str) -> None:
    small, big = (
        ClusterConfig(instance_type="m5.xlarge", num_workers=4),
        ClusterConfig(instance_type="m5.xlarge", num_workers=8),
    )
    store.append_config(project_id, small, expected_version=None, actor="test", reason="initial")
    store.record_run(
        project_id,
        RunObservation(config=small, runtime_s=3000, cost=CostBreakdown(cloud_usd=2.0, dbu_usd=1.0), config_version=1),
        external_run_id="101",
    )
    store.append_config(project_id, big, expected_version=1, status="pending", actor="engine", reason="faster")
    store.record_run(
        project_id,
        RunObservation(config=small, runtime_s=None, succeeded=False, config_version=1),
        external_run_id="102",
    )


def test_history_approve_and_rollback(cli, store_url):
    pid = json_of(cli("projects", "create", "etl", "--sla-minutes", "60", "--apply-mode", "approval", "--json"))["id"]
    store = SyncStore(store_url)
    _seed_runs(store, pid)

    runs = json_of(cli("projects", "history", "etl", "--json"))
    assert [r["external_run_id"] for r in runs] == ["101", "102"]
    assert runs[0]["runtime_s"] == 3000 and runs[0]["cost_usd"] == 3.0 and runs[0]["sla_met"] is True
    assert runs[1]["succeeded"] is False and runs[1]["sla_met"] is False
    text = cli("projects", "history", "etl").stdout
    assert "4 x m5.xlarge" in text and "50 min" in text and "$3.00" in text and "failed" in text

    assert json_of(cli("projects", "get", "etl", "--json"))["pending_versions"] == [2]
    approved = json_of(cli("projects", "approve", "etl", "--json"))
    assert approved["version"] == 3 and approved["approved_from"] == 2 and approved["config"]["num_workers"] == 8
    assert "no pending" in cli("projects", "approve", "etl", code=1).stderr
    assert "already approved" in cli("projects", "approve", "etl", "2", code=1).stderr

    back = json_of(cli("projects", "rollback", "etl", "--to", "1", "--reason", "too slow", "--json"))
    assert back["version"] == 4 and back["reverted_from"] == 1 and back["reason"] == "too slow"
    assert back["actor"].startswith("sync-cli:")
    versions = json_of(cli("projects", "history", "etl", "--versions", "--json"))
    assert [(v["version"], v["status"]) for v in versions] == [
        (1, "active"),
        (2, "pending"),
        (3, "active"),
        (4, "active"),
    ]
    assert "too slow" in cli("projects", "history", "etl", "--versions").stdout
    assert "no config version 9" in cli("projects", "rollback", "etl", "--to", "9", code=1).stderr


def test_unreachable_store_names_the_url_without_password(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("SYNC_STORE_URL", "postgresql+psycopg2://sync:s3cret-pw@127.0.0.1:1/sync")
    res = cli("projects", "list", code=1)
    assert "cannot open the Sync store" in res.stderr and "s3cret-pw" not in res.output
    assert "Traceback" not in res.output

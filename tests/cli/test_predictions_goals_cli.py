"""`sync-cli predictions ...` and `sync-cli goals ...` against a real SQLite store."""

from __future__ import annotations

from sync_provider.engine.models import (
    ClusterConfig,
    CostBreakdown,
    Phase,
    Prediction,
    Preference,
    RunObservation,
    Solution,
)
from sync_provider.store import SyncStore
from tests.cli.helpers import json_of


def _prediction(current: ClusterConfig) -> Prediction:
    def sol(pref: Preference, workers: int, runtime: float, cost: float) -> Solution:
        return Solution(
            preference=pref,
            config=ClusterConfig(instance_type="m5.2xlarge", num_workers=workers),
            predicted_runtime_s=runtime,
            predicted_runtime_p90_s=runtime * 1.2,
            cost=CostBreakdown(cloud_usd=cost * 0.6, dbu_usd=cost * 0.4),
            cost_low_usd=cost * 0.9,
            cost_high_usd=cost * 1.1,
            reason=f"{pref.value} pick",
        )

    return Prediction(
        current=current,
        solutions={
            Preference.ECONOMY: sol(Preference.ECONOMY, 3, 1500, 2.0),
            Preference.BALANCED: sol(Preference.BALANCED, 6, 900, 2.6),
            Preference.PERFORMANCE: sol(Preference.PERFORMANCE, 12, 500, 3.4),
        },
        phase=Phase.OPTIMIZING,
        reason="history of 3 runs",
        warnings=["input grew 20%"],
    )


def test_predictions_list_get_status(cli, store_url):
    store = SyncStore(store_url)
    p = store.create_project("etl", goals={"sla_seconds": 1800, "preference": "balanced"})
    other = store.create_project("other", goals={})
    current = ClusterConfig(instance_type="m5.xlarge", num_workers=8)
    rec = store.save_prediction(p.id, _prediction(current), run_id="77")
    store.save_prediction(other.id, _prediction(current))

    listed = json_of(cli("predictions", "list", "--json"))
    assert len(listed) == 2
    mine = json_of(cli("predictions", "list", "--project", "etl", "--platform", "aws-databricks", "--json"))
    assert [x["id"] for x in mine] == [rec.id]
    assert mine[0]["preference"] == "balanced" and mine[0]["recommended"] == "6 x m5.2xlarge"
    assert mine[0]["predicted_cost_usd"] == 2.6 and mine[0]["run_id"] == "77"
    assert rec.id in cli("predictions", "list").stdout
    assert "unknown platform" in cli("predictions", "list", "--platform", "gcp-dataproc", code=2).output

    full = json_of(cli("predictions", "get", rec.id, "--json"))
    assert set(full["prediction"]["solutions"]) == {"economy", "balanced", "performance"}
    one = json_of(cli("predictions", "get", rec.id, "--preference", "performance", "--json"))
    assert one["config"]["num_workers"] == 12 and one["predicted_runtime_s"] == 500
    text = cli("predictions", "get", rec.id).stdout
    assert "12 x m5.2xlarge" in text and "optimizing" in text and "input grew 20%" in text

    status = json_of(cli("predictions", "status", rec.id, "--json"))
    assert status["status"] == "new" and status["config_versions"] == []
    store.append_config(p.id, current, expected_version=None, status="pending", actor="t", reason="r",
                        prediction_id=rec.id)  # fmt: skip
    cli("projects", "approve", "etl")
    status = json_of(cli("predictions", "status", rec.id, "--json"))
    assert status["status"] == "applied"
    assert status["config_versions"] == [{"version": 1, "status": "pending"}, {"version": 2, "status": "active"}]

    res = cli("predictions", "get", "no-such-id", code=1)
    assert "'no-such-id' not found" in res.stderr and "predictions list" in res.stderr


def test_goals_set_and_show(cli, store_url):
    store = SyncStore(store_url)
    a = store.create_project("a", goals={}, tags={"team": "finance"})
    store.create_project("b", goals={"cost_target_usd": 1.0}, tags={"team": "finance", "tier": "gold"})
    store.create_project("c", goals={}, tags={"team": "web"})
    store.create_project("d", goals={})
    cfg = ClusterConfig(instance_type="m5.xlarge", num_workers=4)
    store.record_run(a.id, RunObservation(config=cfg, runtime_s=2400, cost=CostBreakdown(cloud_usd=1, dbu_usd=1)),
                     external_run_id="1")  # fmt: skip

    updated = json_of(cli("goals", "set", "--tag", "team=finance", "--sla-minutes", "30", "--json"))
    assert {u["name"] for u in updated} == {"a", "b"}
    assert all(u["goals"]["sla_seconds"] == 1800 for u in updated)
    assert store.get_project("b").goals.cost_target_usd == 1.0  # kept
    assert store.get_project("c").goals.sla_seconds is None  # other group untouched

    groups = {g["group"]: g["projects"] for g in json_of(cli("goals", "show", "--json"))}
    assert set(groups) == {"team=finance", "team=web", "tier=gold", "(untagged)"}
    fin = {p["project"]: p for p in groups["team=finance"]}
    assert fin["a"]["status"] == "sla missed" and fin["a"]["latest_runtime_s"] == 2400
    assert fin["a"]["latest_cost_usd"] == 2 and fin["b"]["status"] == "no runs"
    by_team = {g["group"] for g in json_of(cli("goals", "show", "--key", "team", "--json"))}
    assert by_team == {"team=finance", "team=web", "(untagged)"}
    only = json_of(cli("goals", "show", "--tag", "team=web", "--json"))
    assert [g["group"] for g in only] == ["team=web"] and only[0]["projects"][0]["project"] == "c"
    assert "sla missed" in cli("goals", "show").stdout

    cli("goals", "set", "--tag", "team=web", "--preference", "performance")
    assert store.get_project("c").goals.preference is Preference.PERFORMANCE
    assert "no project has the tag" in cli("goals", "set", "--tag", "team=nobody", "--sla-minutes", "5", code=1).stderr
    assert "give --sla-minutes" in cli("goals", "set", "--tag", "team=web", code=2).output
    cli("goals", "set", "--sla-minutes", "5", code=2)

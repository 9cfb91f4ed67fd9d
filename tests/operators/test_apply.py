"""ApplyRecommendationOperator: modes, guardrails, reverts and jobs/update, against a real store.

Databricks is faked at the HTTP boundary (jobs/get, jobs/update); XCom lives in a fake task instance.
"""

from __future__ import annotations

import copy

import pytest
from airflow.sdk import DAG

from sync_provider.engine.models import ApplyMode, ClusterConfig, Constraints, Goals, Phase
from sync_provider.operators.apply import ApplyError, ApplyRecommendationOperator, update_job_cluster
from sync_provider.settings import SyncSettings
from tests.triggers.fakes import FakeTI, context_for, make_prediction, sync_conn, workspace  # noqa: F401

BIG = ClusterConfig(instance_type="m5.4xlarge", num_workers=8)
SMALL = ClusterConfig(instance_type="m5.2xlarge", num_workers=4)
TINY = ClusterConfig(instance_type="m5.xlarge", num_workers=2)
MID = ClusterConfig(instance_type="m5.2xlarge", num_workers=6)


@pytest.fixture
def store(sync_conn):  # noqa: F811
    return SyncSettings(store_url=sync_conn()).open_store()


@pytest.fixture
def project(store):
    return store.create_project(
        "nightly-etl", goals=Goals(sla_seconds=3600), constraints=Constraints(min_workers=1, max_workers=32)
    )


def _apply(prediction_id: str | None = None, *, ti: FakeTI | None = None, **kwargs):
    with DAG("test_apply", schedule=None):
        op = ApplyRecommendationOperator(task_id="apply", project="nightly-etl", **kwargs)
    ti = ti or FakeTI({("sync_prediction", "prediction_id"): prediction_id} if prediction_id else {})
    return op.execute(context_for(ti))


def _save(store, project, current, new, **kwargs) -> str:
    return store.save_prediction(project.id, make_prediction(current, new, **kwargs)).id


def test_auto_mode_makes_the_recommendation_active_after_a_baseline(store, project):
    pid = _save(store, project, BIG, SMALL)
    out = _apply(pid)
    assert out["action"] == "applied"
    history = store.config_history(project.id)
    assert [(c.version, c.status, c.config) for c in history] == [(1, "active", BIG), (2, "active", SMALL)]
    assert history[1].prediction_id == pid and history[1].actor == "airflow:test_apply.apply"
    assert "prediction " + pid in history[1].reason
    assert store.active_config(project.id).config == SMALL
    assert store.get_prediction(pid).status == "applied"
    assert out["version"] == 2 and out["config"]["num_workers"] == 4 and out["previous"]["num_workers"] == 8


def test_same_configuration_changes_nothing(store, project):
    _apply(_save(store, project, BIG, SMALL))
    pid = _save(store, project, SMALL, SMALL, phase=Phase.STABLE)
    out = _apply(pid)
    assert out["action"] == "unchanged"
    assert len(store.config_history(project.id)) == 2
    assert store.get_prediction(pid).status == "unchanged"


def test_approval_mode_stages_a_pending_version_once_until_approved(store, project):
    pid = _save(store, project, BIG, SMALL)
    out = _apply(pid, apply_mode="approval")
    assert out["action"] == "pending"
    assert "sync-cli projects approve nightly-etl 1" in out["message"]
    assert store.active_config(project.id) is None  # the job keeps its own configuration
    # The next DAG run recommends the same thing: nothing new is staged, the wait is reported.
    again = _apply(_save(store, project, BIG, SMALL), apply_mode="approval")
    assert again["action"] == "pending" and again["version"] == 1
    assert len(store.config_history(project.id)) == 1
    store.approve(project.id, 1, actor="alice")
    assert store.active_config(project.id).config == SMALL


def test_a_different_recommendation_while_waiting_reports_how_long(store, project):
    _apply(_save(store, project, BIG, SMALL), apply_mode="approval")
    out = _apply(_save(store, project, BIG, MID), apply_mode="approval")
    assert out["action"] == "pending" and out["version"] == 2
    assert out["awaiting_approval"] == [1, 2]
    assert "2 version(s) await approval since" in out["message"]


def test_dry_run_records_but_never_activates(store, project):
    pid = _save(store, project, BIG, SMALL)
    out = _apply(pid, apply_mode=ApplyMode.DRY_RUN)
    assert out["action"] == "dry-run"
    assert [c.status for c in store.config_history(project.id)] == ["dry-run"]
    assert store.active_config(project.id) is None
    assert out["message"].startswith("dry-run: would change 8 x m5.4xlarge -> 4 x m5.2xlarge")


def test_project_apply_mode_is_the_default(store, project):
    store.update_project(project.id, apply_mode=ApplyMode.APPROVAL)
    assert _apply(_save(store, project, BIG, SMALL))["action"] == "pending"


def test_rollback_reverts_to_the_version_of_the_last_good_configuration(store, project):
    _apply(_save(store, project, BIG, SMALL))  # v1 BIG (baseline), v2 SMALL
    _apply(_save(store, project, SMALL, TINY))  # v3 TINY
    pid = _save(store, project, TINY, SMALL, phase=Phase.ROLLBACK, reason="run 7 failed on 1 x m5.xlarge")
    out = _apply(pid, apply_mode="approval")  # a revert does not wait for approval
    assert out["action"] == "reverted" and out["reverted"] is True
    latest = store.latest_config(project.id)
    assert (latest.version, latest.status, latest.config, latest.reverted_from) == (4, "active", SMALL, 2)
    assert "rollback: run 7 failed" in latest.reason
    assert "back to version 2" in out["message"]


def test_rollback_to_a_configuration_that_predates_sync_appends_it(store, project):
    _apply(_save(store, project, BIG, SMALL), apply_mode="approval")
    store.approve(project.id, 1, actor="bob")  # v1 pending, v2 active (SMALL); BIG never had a version
    out = _apply(_save(store, project, SMALL, BIG, phase=Phase.ROLLBACK))
    assert out["action"] == "reverted"
    assert store.active_config(project.id).config == BIG


def test_rollback_in_dry_run_only_logs(store, project):
    _apply(_save(store, project, BIG, SMALL))
    out = _apply(_save(store, project, SMALL, BIG, phase=Phase.ROLLBACK), apply_mode="dry-run")
    assert out["action"] == "dry-run"
    assert store.active_config(project.id).config == SMALL


@pytest.mark.parametrize(
    ("new", "kwargs", "expected"),
    [
        (ClusterConfig(instance_type="m5.xlarge", num_workers=40), {}, "outside the project's bounds"),
        (ClusterConfig(instance_type="m5.xlarge", num_workers=1), {"max_worker_step": 2}, "exceeds the step limit"),
        (ClusterConfig(instance_type="m5.xlarge", num_workers=4, photon=True), {}, "Photon is not allowed"),
        (ClusterConfig(instance_type="m5.xlarge", num_workers=4, spot=True), {}, "spot workers are not allowed"),
    ],
)
def test_guardrails_block_a_change_and_keep_the_configuration(store, project, new, kwargs, expected):
    store.update_project(project.id, constraints=Constraints(min_workers=1, max_workers=32, photon_allowed=False))
    pid = _save(store, project, BIG, new)
    out = _apply(pid, **kwargs)
    assert out["action"] == "blocked"
    assert expected in out["message"] and "keeps 8 x m5.4xlarge" in out["message"]
    assert store.config_history(project.id) == []
    assert store.get_prediction(pid).status == "blocked"


def test_guardrail_refuses_a_change_predicted_to_miss_the_sla(store, project):
    out = _apply(_save(store, project, BIG, SMALL, meets_sla=False))
    assert out["action"] == "blocked" and "misses the 3600 s SLA" in out["message"]
    assert _apply(_save(store, project, BIG, SMALL, meets_sla=False), require_meets_sla=False)["action"] == "applied"


def test_missing_prediction_is_a_clear_warning_and_changes_nothing(store, project):
    ti = FakeTI({("sync_prediction", "summary"): {"status": "failed", "error": "no run_id in XCom of 'submit'"}})
    out = _apply(ti=ti)
    assert out["action"] == "skipped"
    assert "the prediction task 'sync_prediction' failed: no run_id in XCom of 'submit'" in out["message"]
    assert store.config_history(project.id) == []
    out = _apply(ti=FakeTI(), task_to_predict="predict")
    assert "no prediction_id in the XCom of task 'predict'" in out["message"]


def test_strict_mode_fails_the_task(store, project):
    with pytest.raises(ApplyError, match="no prediction_id in the XCom"):
        _apply(ti=FakeTI(), strict=True)


def test_unknown_project_is_named_and_non_strict_by_default(store):
    out = _apply("does-not-matter")
    assert out["action"] == "skipped" and "project 'nightly-etl' not found" in out["message"]


def test_a_prediction_of_another_project_is_refused(store, project):
    other = store.create_project("other", goals=Goals(sla_seconds=60))
    pid = store.save_prediction(other.id, make_prediction(BIG, SMALL)).id
    out = _apply(pid)
    assert out["action"] == "skipped" and "belongs to another project" in out["message"]


# ---------------------------------------------------------------------- Databricks-defined jobs (run-now)

JOB = {
    "job_id": 42,
    "settings": {
        "name": "nightly",
        "job_clusters": [
            {
                "job_cluster_key": "main",
                "new_cluster": {
                    "spark_version": "14.3.x-scala2.12",
                    "node_type_id": "m5.4xlarge",
                    "autoscale": {"min_workers": 2, "max_workers": 8},
                    "init_scripts": [{"workspace": {"destination": "/Shared/init.sh"}}],
                    "custom_tags": {"team": "data"},
                },
            },
            {"job_cluster_key": "side", "new_cluster": {"node_type_id": "r5.xlarge", "num_workers": 2}},
        ],
        "tasks": [
            {"task_key": "etl", "job_cluster_key": "main"},
            {"task_key": "report", "new_cluster": {"node_type_id": "c5.xlarge", "num_workers": 1}},
        ],
    },
}


@pytest.fixture
def job(workspace):  # noqa: F811
    state = copy.deepcopy(JOB)

    def update(body):
        for k, v in body["new_settings"].items():
            state["settings"][k] = v  # top-level fields replaced, as jobs/update does for what it is given
        return {}

    workspace.on("GET", "/api/2.1/jobs/get", lambda body: copy.deepcopy(state))
    workspace.on("POST", "/api/2.1/jobs/update", update)
    return state


def test_run_now_job_is_updated_in_place_keyed_by_job_cluster(store, project, workspace, job):  # noqa: F811
    out = _apply(_save(store, project, BIG, SMALL), job_id=42, job_cluster_key="main")
    assert out["action"] == "applied" and out["job_updated"] is True
    (body,) = workspace.calls_to("/api/2.1/jobs/update")
    assert body["job_id"] == 42
    clusters = body["new_settings"]["job_clusters"]
    assert [c["job_cluster_key"] for c in clusters] == ["main", "side"]  # the whole list, nothing concatenated
    main = clusters[0]["new_cluster"]
    assert (main["node_type_id"], main["num_workers"], "autoscale" in main) == ("m5.2xlarge", 4, False)
    assert main["init_scripts"] == [{"workspace": {"destination": "/Shared/init.sh"}}]  # user lists kept as is
    assert main["custom_tags"] == {"team": "data", "sync:project-id": project.id, "sync:config-version": "2"}
    assert clusters[1] == JOB["settings"]["job_clusters"][1]
    # The next DAG run with nothing new: the job already matches, no jobs/update call.
    _apply(_save(store, project, SMALL, SMALL), job_id=42, job_cluster_key="main")
    assert len(workspace.calls_to("/api/2.1/jobs/update")) == 1


def test_run_now_job_keyed_by_task_and_reconciled_after_a_late_approval(store, project, workspace, job):  # noqa: F811
    store.update_project(project.id, job_id="42", task_key="report")
    out = _apply(_save(store, project, BIG, TINY), apply_mode="approval")
    assert out["action"] == "pending" and workspace.calls_to("/api/2.1/jobs/update") == []
    store.approve(project.id, 1, actor="carol")
    out = _apply(_save(store, project, TINY, TINY, phase=Phase.STABLE), apply_mode="approval")
    (body,) = workspace.calls_to("/api/2.1/jobs/update")
    tasks = body["new_settings"]["tasks"]
    assert [t["task_key"] for t in tasks] == ["etl", "report"]
    assert tasks[1]["new_cluster"]["node_type_id"] == "m5.xlarge" and tasks[0] == JOB["settings"]["tasks"][0]
    assert "Databricks job 42 updated to version 2" in out["message"]


def test_a_refused_job_update_is_reported_not_hidden_as_a_skip(store, project, workspace, job):  # noqa: F811
    # The store applies the new version; Databricks then refuses jobs/update (a permission, a locked job).
    workspace.on("POST", "/api/2.1/jobs/update", lambda body: (403, {"error_code": "PERMISSION_DENIED"}))
    out = _apply(_save(store, project, BIG, SMALL), job_id=42, job_cluster_key="main")
    assert out["action"] == "applied" and out["job_updated"] is False
    assert "could not be updated" in out["message"] and "403" in out["job_update_error"]
    assert store.active_config(project.id).version == out["version"] == 2  # what was decided stays recorded
    # Once Databricks accepts it, the next apply brings the job to the active version.
    workspace.on("POST", "/api/2.1/jobs/update", lambda body: {})
    assert _apply(_save(store, project, SMALL, SMALL), job_id=42, job_cluster_key="main")["job_updated"] is True
    workspace.on("POST", "/api/2.1/jobs/update", lambda body: (403, {"error_code": "PERMISSION_DENIED"}))
    with pytest.raises(ApplyError, match="could not be updated"):
        _apply(_save(store, project, SMALL, TINY), job_id=42, job_cluster_key="main", strict=True)


def test_run_now_job_with_an_unknown_key_names_the_keys(store, project, workspace, job):  # noqa: F811
    out = _apply(_save(store, project, BIG, SMALL), job_id=42, job_cluster_key="nope")
    assert out["action"] == "skipped"
    assert "has no job cluster 'nope' (job clusters: ['main', 'side'])" in out["message"]
    # Found before anything is recorded: neither the store nor the job moves ahead of the other.
    assert store.config_history(project.id) == [] and workspace.calls_to("/api/2.1/jobs/update") == []
    with pytest.raises(ApplyError, match="has no job cluster 'nope'"):
        _apply(_save(store, project, BIG, SMALL), job_id=42, job_cluster_key="nope", strict=True)


def test_update_job_cluster_follows_a_task_to_its_job_cluster(sync_conn, workspace, job):  # noqa: F811
    from airflow.providers.databricks.hooks.databricks import DatabricksHook

    from sync_provider.hooks.databricks_api import databricks_api

    api = databricks_api(DatabricksHook())
    assert update_job_cluster(api, "42", SMALL, task_key="etl") is True
    (body,) = workspace.calls_to("/api/2.1/jobs/update")
    assert body["new_settings"]["job_clusters"][0]["new_cluster"]["node_type_id"] == "m5.2xlarge"
    with pytest.raises(ApplyError, match="several clusters"):
        update_job_cluster(api, "42", SMALL)


def test_a_concurrent_apply_is_retried_on_top_of_the_other_writer_never_over_it(store, project, monkeypatch):
    """Two DAG runs of one project apply at once: the loser re-reads and appends after the winner."""
    from sync_provider.store import SyncStore

    original = SyncStore.append_config
    raced: list[int] = []

    def racing_append(self, project_id, config, **kwargs):
        if not raced:  # the other DAG run's apply lands between this one's read and its write
            raced.append(original(store, project_id, TINY, expected_version=None, actor="other-run", reason="race"))
        return original(self, project_id, config, **kwargs)

    monkeypatch.setattr(SyncStore, "append_config", racing_append)
    out = _apply(_save(store, project, BIG, SMALL))
    assert out["action"] == "applied" and out["previous"]["num_workers"] == TINY.num_workers
    history = store.config_history(project.id)
    assert [(c.version, c.actor, c.config) for c in history] == [
        (1, "other-run", TINY),
        (2, "airflow:test_apply.apply", SMALL),
    ]

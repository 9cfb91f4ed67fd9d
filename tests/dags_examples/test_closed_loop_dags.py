"""The closed loop through real Airflow: `airflow dags test` subprocesses against the Databricks emulator.

One AIRFLOW_HOME is migrated once per session and shared; each test has its own Sync store. The recipe DAG (a)
runs a short loop on a job that starts oversized, whose data grows by half at run 2 and which crashes the first
time from run 3 on that it tries a new configuration; the checks are the ones the closed loop promises: the
configuration changed, cost fell, the SLA held after the data growth, the failed run caused a revert. The
run-now (b) and goal-group (c) examples run for real as well.
"""

from __future__ import annotations

import uuid

import pytest

from tests.dags_examples.airflow_helpers import dags_test, growing_workload, store_of

pytestmark = pytest.mark.integration

SLA_MINUTES = 15
GROWTH_RUN, CRASH_FROM, MAX_RUNS = 2, 3, 7


@pytest.fixture
def env(env):
    return {**env, "SYNC_RECIPE_SLA_MINUTES": str(SLA_MINUTES)}


def _runs_a_changed_config(store, project: str, sla: float) -> bool:
    """Whether the next DAG run will try a configuration other than the last run's and the last good run's: a
    crash then must send the job back to that last good configuration."""
    p = store.get_project(project)
    active, runs = store.active_config(p.id), store.list_runs(p.id)
    good = [r for r in runs if r.observation.succeeded and r.observation.runtime_s <= sla]
    return bool(active and good and active.config not in (good[-1].observation.config, runs[-1].observation.config))


def test_recipe_dag_closes_the_loop(env, emu):
    tag = uuid.uuid4().hex[:8]
    project, workload = f"loop-{tag}", f"/Shared/sync/tests/loop_{tag}"
    emu.upload_workload(workload + ".yaml", growing_workload(f"loop_{tag}", GROWTH_RUN))
    conf = {"project": project, "workload": workload, "node_type": "m5.4xlarge", "num_workers": 16}
    store, sla = store_of(env), SLA_MINUTES * 60
    crash_run = None
    for i in range(MAX_RUNS):
        # The crash goes to the first run from CRASH_FROM on that tries a new configuration (when the loop holds
        # still there is nothing to revert to); one more run then shows where the loop went after it.
        if crash_run is None and i >= CRASH_FROM and _runs_a_changed_config(store, project, sla):
            emu.crash_next_run()
            crash_run = i
        # Odd runs wait in the triggerer (deferrable sensor), even runs poke: both modes run for real.
        deferrable = "true" if i % 2 else "false"
        dags_test({**env, "SYNC_RECIPE_DEFERRABLE": deferrable}, "sync_recipe", f"2026-01-{i + 1:02d}", conf)
        if crash_run is not None and i > crash_run:
            break

    p = store.get_project(project)
    runs = store.list_runs(p.id)
    truth = [emu.truth(r.external_run_id) for r in runs]
    configs = [r.observation.config for r in runs]
    table = [(t["config"], t.get("runtime_s"), t.get("cost_usd"), t.get("succeeded")) for t in truth]
    for i, (r, t) in enumerate(zip(runs, truth, strict=True)):  # shown with -s, and in CI logs on failure
        print(
            f"run {i}: {r.observation.config.describe():>24} v{r.observation.config_version} "
            f"runtime {t.get('runtime_s') or 0:7.0f} s  true cost ${t.get('cost_usd') or 0:6.2f}  "
            f"ok={t.get('succeeded')}"
        )
    assert crash_run is not None, f"the loop never tried a new configuration after run {CRASH_FROM}: {table}"
    assert len(runs) == crash_run + 2, [r.external_run_id for r in runs]

    # The configuration changed after the first run, and the true cost of the job fell.
    assert configs[1] != configs[0], table
    first_cost = truth[0]["cost_usd"]
    later = [t["cost_usd"] for t in truth[1:] if t.get("succeeded")]
    assert min(later) < 0.8 * first_cost, table

    # The SLA held after the data grew (the growth run itself may be re-planned from; the runs after it hold),
    # and some run after it succeeded at all (only the injected crash may fail).
    after_growth = list(zip(runs, truth, strict=True))[GROWTH_RUN + 1 :]
    assert any(t.get("succeeded") for _, t in after_growth), table
    for run, t in after_growth:
        if t.get("succeeded"):
            assert run.observation.runtime_s <= sla and t["runtime_s"] <= sla, table

    # A failed configuration is never run again blindly, and the crash sent the job back to the last good one,
    # a revert carried out before the next run.
    for i, t in enumerate(truth[:-1]):
        if not t.get("succeeded"):
            assert runs[i].observation.succeeded is False and configs[i + 1] != configs[i], table
    last_good = [r for r in runs[:crash_run] if r.observation.succeeded and r.observation.runtime_s <= sla][-1]
    history = store.config_history(p.id)
    reverts = [c for c in history if c.reverted_from is not None]
    assert reverts, [(c.version, c.status, c.reason) for c in history]
    assert reverts[-1].created_at >= runs[crash_run].recorded_at
    assert configs[crash_run + 1] == reverts[-1].config == last_good.observation.config, table
    assert {c.actor for c in history} == {"airflow:sync_recipe.apply_recommendation"}
    assert all(c.reason for c in history)


def test_run_now_dag_updates_the_databricks_job_in_place(env, emu):
    tag = uuid.uuid4().hex[:8]
    env = {**env, "SYNC_RUN_NOW_PROJECT": f"run-now-{tag}", "SYNC_RUN_NOW_JOB_NAME": f"run-now-{tag}"}
    for day in (1, 2):
        dags_test(env, "sync_run_now", f"2026-02-{day:02d}")
    store = store_of(env)
    p = store.get_project(f"run-now-{tag}")
    runs = store.list_runs(p.id)
    assert len(runs) == 2 and p.job_id
    active = store.active_config(p.id)
    assert active is not None and runs[0].observation.config != active.config
    job = emu.http.get("/api/2.1/jobs/get", params={"job_id": p.job_id}).json()
    (cluster,) = job["settings"]["job_clusters"]
    assert cluster["new_cluster"]["node_type_id"] == active.config.instance_type
    assert int(cluster["new_cluster"]["num_workers"]) == active.config.num_workers
    assert cluster["new_cluster"]["custom_tags"]["sync:project-id"] == p.id
    assert runs[1].observation.config == store.config_history(p.id)[1].config  # run 2 ran what was applied


def test_goal_groups_dag_optimises_each_job_for_its_own_goal(env):
    prefix = f"g{uuid.uuid4().hex[:6]}-"
    env = {**env, "SYNC_GROUPS_PREFIX": prefix, "SYNC_GROUPS_TAG": prefix}
    out = dags_test(env, "sync_goal_groups", "2026-03-01")
    store = store_of(env)
    group = store.list_projects(tag=("group", prefix))
    assert sorted(p.name for p in group) == [f"{prefix}feature-build", f"{prefix}orders-etl"], out[-2000:]
    by_name = {p.name.removeprefix(prefix): p for p in group}
    assert by_name["orders-etl"].goals.sla_seconds == 1800 and by_name["orders-etl"].goals.preference == "economy"
    assert by_name["feature-build"].goals.cost_target_usd == 4.0
    assert by_name["feature-build"].goals.preference == "performance"
    for p in group:
        assert len(store.list_runs(p.id)) == 1 and store.list_predictions(p.id)

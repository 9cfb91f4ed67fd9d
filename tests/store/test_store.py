"""SyncStore behaviour on SQLite and PostgreSQL: projects, runs, predictions, append-only config versions."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from sync_provider.engine.models import (
    ApplyMode,
    ClusterConfig,
    Constraints,
    CostBreakdown,
    Goals,
    Phase,
    Prediction,
    Preference,
    RunObservation,
    Solution,
    SpotPolicy,
)
from sync_provider.store import (
    ConcurrentUpdateError,
    InvalidTransition,
    PredictionNotFound,
    ProjectExists,
    ProjectNotFound,
    SyncStore,
    SyncStoreError,
    migrate,
)

M5 = ClusterConfig(instance_type="m5.xlarge", num_workers=4)
R5 = ClusterConfig(instance_type="r5.xlarge", num_workers=2, photon=True)
C5 = ClusterConfig(instance_type="c5.2xlarge", num_workers=8, spot=True)


def _obs(config: ClusterConfig, runtime: float = 600.0, *, version: int | None = None, ok: bool = True):
    return RunObservation(
        config=config,
        runtime_s=runtime,
        succeeded=ok,
        input_bytes=10**9,
        cost=CostBreakdown(cloud_usd=1.0, dbu_usd=0.5),
        config_version=version,
    )


def _prediction(config: ClusterConfig) -> Prediction:
    sol = Solution(
        preference=Preference.ECONOMY,
        config=config,
        predicted_runtime_s=500,
        predicted_runtime_p90_s=550,
        cost=CostBreakdown(cloud_usd=1, dbu_usd=1),
        cost_low_usd=1.8,
        cost_high_usd=2.2,
    )
    return Prediction(current=M5, solutions={Preference.ECONOMY: sol}, phase=Phase.LEARNING, reason="explore")


def test_schema_is_migrated_to_head_with_own_version_table(store: SyncStore) -> None:
    names = set(inspect(store.engine).get_table_names())
    assert {"sync_projects", "sync_runs", "sync_predictions", "sync_config_versions"} <= names
    assert migrate.VERSION_TABLE in names and "alembic_version" not in names
    assert migrate.current_revision(store.engine) == migrate.head_revision()
    # Opening the same database again is a no-op, not a second migration.
    again = SyncStore(store.url)
    assert again.list_projects() == []


def test_project_lifecycle(store: SyncStore) -> None:
    p = store.create_project(
        "nightly-etl",
        goals=Goals(sla_seconds=3600, preference=Preference.BALANCED),
        constraints=Constraints(instance_families=["m5", "r5"], max_workers=16, spot_policy=SpotPolicy.ALLOWED),
        tags={"team": "data", "tier": "gold"},
        apply_mode=ApplyMode.APPROVAL,
        job_id=123,
        job_cluster_key="main",
    )
    assert p.created_at.tzinfo is not None
    assert store.get_project(p.id) == p
    assert store.get_project("nightly-etl") == p
    assert p.job_id == "123" and p.constraints.max_workers == 16 and p.goals.preference is Preference.BALANCED

    with pytest.raises(ProjectExists, match="nightly-etl"):
        store.create_project("nightly-etl", goals=Goals())
    with pytest.raises(ProjectNotFound, match="known projects: nightly-etl"):
        store.get_project("missing")
    assert store.find_project("missing") is None

    other = store.create_project("adhoc", goals=Goals(), tags={"team": "ml"})
    assert [x.name for x in store.list_projects()] == ["nightly-etl", "adhoc"]
    assert [x.name for x in store.list_projects(tag=("team", "ml"))] == ["adhoc"]

    updated = store.update_project(
        "nightly-etl", goals={"sla_seconds": 1800, "cost_target_usd": 5}, constraints=Constraints(max_workers=8)
    )
    assert updated.goals.sla_seconds == 1800 and updated.goals.cost_target_usd == 5
    assert updated.constraints.max_workers == 8 and updated.updated_at >= p.updated_at
    with pytest.raises(SyncStoreError, match="cannot update project field.*created_at"):
        store.update_project("nightly-etl", created_at=datetime.now(UTC))
    with pytest.raises(ProjectExists):
        store.update_project("nightly-etl", name="adhoc")

    store.record_run(p.id, _obs(M5), external_run_id="1")
    store.append_config(p.id, M5, expected_version=None, actor="test", reason="seed")
    store.save_prediction(p.id, _prediction(R5))
    store.delete_project(p.id)
    assert [x.id for x in store.list_projects()] == [other.id]
    assert store.list_predictions() == []
    with pytest.raises(ProjectNotFound):
        store.history(p.id)


def test_get_or_create_is_race_safe(store: SyncStore) -> None:
    barrier = threading.Barrier(4)
    results: list[str] = []

    def worker() -> None:
        barrier.wait()
        results.append(SyncStore(store.url).get_or_create_project("shared", goals=Goals(sla_seconds=60)).id)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and len(set(results)) == 1
    assert len(store.list_projects()) == 1


def test_record_run_is_idempotent_and_history_is_ordered(store: SyncStore) -> None:
    p = store.create_project("job", goals=Goals())
    report = {"a": 1, "at": datetime(2026, 1, 1, tzinfo=UTC), "mode": ApplyMode.AUTO}
    first = store.record_run(p.id, _obs(M5, 700, version=1), external_run_id="101", sla_met=True, report=report)
    assert first.report == {"a": 1, "at": "2026-01-01T00:00:00Z", "mode": "auto"}
    again = store.record_run(p.name, _obs(R5, 100), external_run_id=101)
    assert again == first
    store.record_run(p.id, _obs(R5, 400, version=2), external_run_id="102", sla_met=False)
    assert [r.external_run_id for r in store.list_runs(p.id)] == ["101", "102"]
    history = store.history(p.id)
    assert [h.runtime_s for h in history] == [700, 400]
    assert history[0].run_id == "101" and history[0].config == M5
    assert store.get_run(p.id, "102").sla_met is False
    assert store.get_run(p.id, "999") is None


def test_predictions(store: SyncStore) -> None:
    p = store.create_project("job", goals=Goals())
    rec = store.save_prediction(p.id, _prediction(R5), run_id="101")
    assert store.get_prediction(rec.id).prediction.for_preference("economy").config == R5
    assert store.set_prediction_status(rec.id, "applied").status == "applied"
    assert [x.id for x in store.list_predictions(p.name)] == [rec.id]
    with pytest.raises(PredictionNotFound, match="nope"):
        store.get_prediction("nope")


def test_config_versions_are_append_only_with_optimistic_concurrency(store: SyncStore) -> None:
    p = store.create_project("job", goals=Goals())
    assert store.active_config(p.id) is None and store.latest_config(p.id) is None
    v1 = store.append_config(p.id, M5, expected_version=None, actor="operator", reason="baseline")
    assert v1.version == 1 and v1.status == "active"

    with pytest.raises(ConcurrentUpdateError, match="expected latest version None, found 1"):
        store.append_config(p.id, R5, expected_version=None, actor="other", reason="stale")
    assert [c.version for c in store.config_history(p.id)] == [1]

    v2 = store.append_config(p.id, R5, expected_version=1, status="pending", actor="engine", reason="cheaper")
    assert store.active_config(p.id).version == 1 and store.latest_config(p.id).version == 2
    v3 = store.approve(p.id, v2.version, actor="alice")
    assert (v3.version, v3.status, v3.approved_from, v3.config) == (3, "active", 2, R5)
    with pytest.raises(InvalidTransition, match="already approved"):
        store.approve(p.id, 2, actor="alice")
    with pytest.raises(InvalidTransition, match="only 'pending'"):
        store.approve(p.id, 1, actor="alice")
    with pytest.raises(SyncStoreError, match="unknown config status"):
        store.append_config(p.id, M5, expected_version=3, status="bogus", actor="x", reason="")

    # History is never rewritten: v2 is still the pending record it was.
    assert [(c.version, c.status) for c in store.config_history(p.id)] == [(1, "active"), (2, "pending"), (3, "active")]


def test_rollback_to_last_good_and_explicit(store: SyncStore) -> None:
    p = store.create_project("job", goals=Goals(sla_seconds=900))
    with pytest.raises(InvalidTransition, match="no earlier version"):
        store.rollback(p.id, actor="ctl", reason="nothing to go back to")
    store.append_config(p.id, M5, expected_version=None, actor="op", reason="v1")
    store.record_run(p.id, _obs(M5, 800, version=1), external_run_id="1", sla_met=True)
    store.append_config(p.id, C5, expected_version=1, actor="engine", reason="v2")
    store.record_run(p.id, _obs(C5, 1200, version=2), external_run_id="2", sla_met=False)
    store.append_config(p.id, R5, expected_version=2, actor="engine", reason="v3")
    store.record_run(p.id, _obs(R5, 100, version=3, ok=False), external_run_id="3")

    back = store.rollback(p.id, actor="controller", reason="v3 failed")
    assert (back.version, back.config, back.reverted_from) == (4, M5, 1)
    assert store.active_config(p.id).config == M5

    explicit = store.rollback(p.id, to_version=3, actor="bob", reason="try again")
    assert (explicit.version, explicit.config, explicit.reverted_from) == (5, R5, 3)
    with pytest.raises(InvalidTransition, match="no config version 42"):
        store.rollback(p.id, to_version=42, actor="bob", reason="")


def test_database_enforces_unique_version(store: SyncStore) -> None:
    p = store.create_project("job", goals=Goals())
    store.append_config(p.id, M5, expected_version=None, actor="op", reason="v1")
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO sync_config_versions (project_id, version, config, status, actor, reason, created_at) "
                "VALUES (:p, 1, '{}', 'active', 'sneaky', '', CURRENT_TIMESTAMP)"
            ),
            {"p": p.id},
        )


def _race(url: str, project_id: str, expected: int | None, reason: str) -> list[str]:
    """Two writers (own store objects and connections) append on the same expected version at the same moment."""
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def writer(name: str, cfg: ClusterConfig) -> None:
        s = SyncStore(url)
        barrier.wait()
        try:
            s.append_config(project_id, cfg, expected_version=expected, actor=name, reason=reason)
            outcomes.append("won")
        except ConcurrentUpdateError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=writer, args=(n, c)) for n, c in (("a", M5), ("b", R5))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_racing_writers_one_wins_per_version(store: SyncStore) -> None:
    """Two DAG runs read the same latest version and both try to append: exactly one succeeds each round."""
    p = store.create_project("job", goals=Goals())
    rounds = 5
    for r in range(rounds):
        latest = store.latest_config(p.id)
        outcomes = _race(store.url, p.id, latest.version if latest else None, f"round {r}")
        assert sorted(outcomes) == ["conflict", "won"], outcomes
    assert [c.version for c in store.config_history(p.id)] == list(range(1, rounds + 1))


def test_retrying_writers_lose_no_update(store: SyncStore) -> None:
    """Writers that re-read and retry on conflict: every intended change lands once, versions stay contiguous."""
    p = store.create_project("job", goals=Goals())
    per_writer = 6
    conflicts = {"n": 0}

    def writer(name: str) -> None:
        s = SyncStore(store.url)
        for i in range(per_writer):
            while True:
                latest = s.latest_config(p.id)
                try:
                    s.append_config(
                        p.id,
                        ClusterConfig(instance_type="m5.xlarge", num_workers=i + 1),
                        expected_version=latest.version if latest else None,
                        actor=name,
                        reason=f"{name}-{i}",
                    )
                    break
                except ConcurrentUpdateError:
                    conflicts["n"] += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    history = store.config_history(p.id)
    assert [c.version for c in history] == list(range(1, 2 * per_writer + 1))
    assert sorted(c.reason for c in history) == sorted(f"{n}-{i}" for n in "ab" for i in range(per_writer))


def test_unreachable_store_is_a_clear_error() -> None:
    with pytest.raises(SyncStoreError, match=r"cannot open the Sync store at postgresql\+psycopg2://u:\*\*\*@"):
        SyncStore("postgresql+psycopg2://u:secret@127.0.0.1:1/nope?connect_timeout=2")


def test_a_schema_newer_than_this_package_is_a_clear_error(tmp_path) -> None:
    from sync_provider.store import migrate

    url = f"sqlite:///{tmp_path / 'newer.db'}"
    SyncStore(url).get_or_create_project("etl")
    with SyncStore(url).engine.begin() as conn:  # what a newer sync_provider's migration leaves behind
        conn.execute(text(f"UPDATE {migrate.VERSION_TABLE} SET version_num = 'f00dfeed0099'"))
    migrate._migrated.clear()
    with pytest.raises(SyncStoreError, match="revision f00dfeed0099, which this sync_provider does not know"):
        SyncStore(url)
    with create_engine(url).connect() as conn:  # nothing recorded is lost
        assert conn.execute(text("SELECT count(*) FROM sync_projects")).scalar() == 1


def test_a_missing_database_driver_is_a_clear_error() -> None:
    with pytest.raises(SyncStoreError, match=r"driver is not installed.*install it on every worker") as info:
        SyncStore("mysql+mysqldb://u:secret@db.example.com/sync")
    assert "secret" not in str(info.value)


def _process_writer(url: str, name: str, count: int, start, results) -> None:
    """A separate worker process: opens the (possibly brand-new) store, finds or creates the project, appends."""
    start.wait()
    s = SyncStore(url)
    p = s.get_or_create_project("multi-worker", goals=Goals(sla_seconds=600))
    conflicts = 0
    for i in range(count):
        while True:
            latest = s.latest_config(p.id)
            try:
                s.append_config(
                    p.id,
                    ClusterConfig(instance_type="m5.xlarge", num_workers=i + 1),
                    expected_version=latest.version if latest else None,
                    actor=name,
                    reason=f"{name}-{i}",
                )
                break
            except ConcurrentUpdateError:
                conflicts += 1
    results.put((name, conflicts))


def test_worker_processes_on_a_fresh_store(store_url: str) -> None:
    """Two worker processes hit an empty database at once: one schema migration, one project, no lost update."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_process_writer, args=(store_url, n, 4, start, results)) for n in ("w1", "w2")]
    for proc in procs:
        proc.start()
    start.set()
    for proc in procs:
        proc.join(timeout=120)
        assert proc.exitcode == 0
    assert sorted(results.get(timeout=5)[0] for _ in procs) == ["w1", "w2"]
    store = SyncStore(store_url)
    (project,) = store.list_projects()
    history = store.config_history(project.id)
    assert [c.version for c in history] == list(range(1, 9))
    assert sorted(c.reason for c in history) == sorted(f"{n}-{i}" for n in ("w1", "w2") for i in range(4))


def test_models_match_migrations(store: SyncStore) -> None:
    """The ORM models and the shipped migrations describe the same schema (autogenerate finds nothing to do)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from sync_provider.store.models import Base

    with store.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"version_table": migrate.VERSION_TABLE}), Base.metadata
        )
    assert diff == []


def test_forked_child_uses_its_own_connections(store: SyncStore) -> None:
    """A worker forked after the parent opened the store (Celery prefork) gets fresh connections, not the parent's."""
    import multiprocessing

    p = store.create_project("forked", goals=Goals())
    parent_pid = _backend_pid(store)
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    child = ctx.Process(target=_fork_child, args=(store, p.id, results))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    child_pid = results.get(timeout=5)
    if parent_pid is not None:  # PostgreSQL: a different server backend, i.e. a different connection
        assert child_pid != parent_pid
    assert store.active_config(p.id).reason == "from the forked child"
    assert _backend_pid(store) == parent_pid  # the parent's pooled connection still works


def _backend_pid(store: SyncStore) -> int | None:
    if store.engine.dialect.name != "postgresql":
        return None
    with store.engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar()


def _fork_child(store: SyncStore, project_id: str, results) -> None:
    results.put(_backend_pid(store))
    store.append_config(project_id, M5, expected_version=None, actor="child", reason="from the forked child")


def test_history_measures_the_input_of_runs_recorded_before_the_data_size_counted_reads_once(store: SyncStore) -> None:
    from sync_provider.engine.evidence.profile import JobProfile, Profile, StageProfile

    p = store.create_project("cached-training", goals=Goals())
    # A loop that re-read half its cached input twice: recorded (by an older version) as 200 bytes of input.
    stages = [StageProfile(stage_id=i, name="pass", num_tasks=8, input_bytes=100 if i == 0 else 50) for i in range(3)]
    profile = Profile(stages=stages, jobs=[JobProfile(job_id=i, stage_ids=[i]) for i in range(3)], input_bytes=200)
    old = _obs(M5).model_copy(update={"input_bytes": 200, "profile": profile})
    store.record_run(p.id, old, external_run_id="1")
    store.record_run(p.id, _obs(R5), external_run_id="2")  # no profile: kept as recorded
    assert [o.input_bytes for o in store.history(p.id)] == [100, 10**9]
    assert store.list_runs(p.id)[0].observation.input_bytes == 200  # the record itself is not rewritten


def test_a_new_connection_waits_for_the_lock_to_switch_a_fresh_file_to_wal(monkeypatch) -> None:
    # SQLite answers a journal-mode change on a file another worker holds mid-migration with "database is locked"
    # at once, without its busy wait: the switch is retried (seen in CI: one of two workers opening a fresh store
    # under load failed). Any other error is not retried.
    import sqlite3

    from sync_provider.store import migrate

    class Cursor:
        def __init__(self, errors: list[str]) -> None:
            self.errors, self.calls = errors, 0

        def execute(self, sql: str) -> None:
            self.calls += 1
            if self.errors:
                raise sqlite3.OperationalError(self.errors.pop(0))

    monkeypatch.setattr(migrate.time, "sleep", lambda _s: None)
    locked = Cursor(["database is locked", "database is locked"])
    migrate._set_wal(locked)
    assert locked.calls == 3
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        migrate._set_wal(Cursor(["disk I/O error"]))

"""The workspace's run noise: repeatable per workload and run count, whatever order parallel jobs submit in."""

from __future__ import annotations

from pathlib import Path

from emulator_helpers import new_cluster, task

from sync_provider.emulator.clock import SimClock
from sync_provider.emulator.workspace import Workspace


def _seeds(tmp: Path, order: list[str]) -> dict[tuple[str, int], int]:
    ws = Workspace(tmp, SimClock(), seed=7)
    try:
        seeds = {}
        for name in order:
            run_id = ws.submit({"run_name": name, "tasks": [task("main", name, new_cluster())]})
            t = ws.runs[run_id]["tasks"][0]
            seeds[(name, t["run_index"])] = t["seed"]
        return seeds
    finally:
        ws.shutdown()


def test_a_runs_noise_depends_on_its_workload_and_run_count_not_on_what_else_ran(tmp_path):
    # Two jobs that run in parallel reach the workspace in either order; each one's runs must see the same noise
    # (a demo with two parallel jobs gave different costs from one session to the next before).
    a = _seeds(tmp_path / "a", ["join_etl", "aggregation", "join_etl", "aggregation"])
    b = _seeds(tmp_path / "b", ["aggregation", "aggregation", "join_etl", "join_etl"])
    assert a == b
    assert len(set(a.values())) == 4

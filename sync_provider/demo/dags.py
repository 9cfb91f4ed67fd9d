"""The example DAGs the demo runs, and what the demo must set up around each (projects, goals, workloads).

The DAG files live in the repository's dags_examples/ (they are examples for users to copy, not package code);
the demo copies them into its private DAGs folder and runs them unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sync_provider
from sync_provider.demo.emulator import DemoWorkspace
from sync_provider.demo.errors import DemoError
from sync_provider.demo.scenario import (
    DEMO_CONSTRAINTS,
    DEMO_GOALS,
    DEMO_WORKLOAD,
    OVERSIZED_START,
    demo_workload,
    resolve_workload,
)
from sync_provider.emulator.workloads import Workload, load_workload
from sync_provider.engine.models import ClusterConfig, Constraints, Goals
from sync_provider.store import ProjectNotFound, SyncStore

DAGS_FOLDER_ENV = "SYNC_DEMO_DAGS_FOLDER"


def examples_folder() -> Path:
    """dags_examples/ of the checkout the package runs from (or $SYNC_DEMO_DAGS_FOLDER)."""
    override = os.environ.get(DAGS_FOLDER_ENV)
    folder = Path(override) if override else Path(sync_provider.__file__).resolve().parents[1] / "dags_examples"
    if not folder.is_dir():
        raise DemoError(
            f"the example DAGs folder {folder} does not exist",
            hint=f"run the demo from a checkout of the repository, or set {DAGS_FOLDER_ENV} to its dags_examples/",
        )
    return folder


@dataclass
class DemoDag:
    """One example DAG: its file and id, the Sync projects it optimises and the workload each one runs."""

    file: Path
    dag_id: str
    projects: list[str]
    workloads: dict[str, Workload]
    goals: dict[str, Goals] = field(default_factory=dict)
    constraints: dict[str, Constraints] = field(default_factory=dict)
    notebook_paths: dict[str, str] = field(default_factory=dict)
    start_configs: dict[str, ClusterConfig] = field(default_factory=dict)
    conf: dict[str, Any] | None = None
    env: dict[str, str] = field(default_factory=dict)
    workload_note: str = ""

    def prepare(self, store: SyncStore, workspace: DemoWorkspace) -> None:
        """Create the projects whose goals the demo sets, and install custom workloads in the workspace.

        Projects without goals here are created by the DAG itself on its first run (from the operator's goals).
        """
        for name in self.projects:
            try:
                store.get_project(name)
            except ProjectNotFound:
                if name not in self.goals:
                    continue
                store.create_project(
                    name,
                    goals=self.goals[name],
                    constraints=self.constraints.get(name),
                    tags={"demo": "sync_provider"},
                    description=f"{self.dag_id} (sync-cli demo)",
                )
            path = self.notebook_paths.get(name)
            if path is not None:
                workspace.install_workload(path, self.workloads[name])


# dags_examples/sync_recipe.py takes its project, notebook and starting cluster as DAG params (`dags test -c`).
RECIPE_FILE = "sync_recipe.py"
RECIPE_DAG_ID = "sync_recipe"
RECIPE_PROJECT = "daily-orders-etl"
RECIPE_NOTEBOOK = "/Shared/sync-demo/daily_orders_etl"
#: How often the submit task and the sensor look, in seconds: the emulator's runs take about a second.
POLL_ENV = {"SYNC_EXAMPLE_POLL_SECONDS": "1"}


def recipe_dag(workload_name: str | None = None, *, fail_at: Sequence[int] = ()) -> DemoDag:
    """Example (a): submit -> sensor -> prediction -> apply, on the demo's oversized daily ETL."""
    if workload_name in (None, "", DEMO_WORKLOAD):
        workload = demo_workload(fail_at=fail_at)
        note = (
            "the demo's daily orders x customers ETL: starts on 24 x r5.4xlarge, data +50% on day 6, "
            "code change on day 10"
        )
    else:
        workload = resolve_workload(workload_name)
        if fail_at:
            scenario = workload.scenario.model_copy(update={"fail_at_runs": sorted(d - 1 for d in fail_at)})
            workload = workload.model_copy(update={"scenario": scenario})
        note = f"{workload.name}: {workload.description}".rstrip(": ")
    if fail_at:
        note += f"; injected failure on day {', '.join(map(str, sorted(fail_at)))}"
    return DemoDag(
        file=examples_folder() / RECIPE_FILE,
        dag_id=RECIPE_DAG_ID,
        projects=[RECIPE_PROJECT],
        workloads={RECIPE_PROJECT: workload},
        goals={RECIPE_PROJECT: DEMO_GOALS},
        constraints={RECIPE_PROJECT: DEMO_CONSTRAINTS},
        notebook_paths={RECIPE_PROJECT: RECIPE_NOTEBOOK},
        start_configs={RECIPE_PROJECT: OVERSIZED_START},
        conf={
            "project": RECIPE_PROJECT,
            "workload": RECIPE_NOTEBOOK,
            "node_type": OVERSIZED_START.instance_type,
            "num_workers": OVERSIZED_START.num_workers,
            "apply_mode": "auto",
        },
        env={
            **POLL_ENV,
            "SYNC_RECIPE_SLA_MINUTES": f"{(DEMO_GOALS.sla_seconds or 0) / 60:g}",
            "SYNC_RECIPE_MAX_WORKERS": str(DEMO_CONSTRAINTS.max_workers),
        },
        workload_note=note,
    )


# dags_examples/sync_goal_groups.py: its jobs, their goals and their (built-in) workloads are defined in the DAG.
GROUP_FILE = "sync_goal_groups.py"
GROUP_DAG_ID = "sync_goal_groups"
GROUP_JOBS = {"orders-etl": "join_etl", "feature-build": "iterative_ml"}


def group_dag() -> DemoDag:
    """Example (c): two jobs grouped by a tag, one SLA-driven and one cost-driven, each with its own loop."""
    return DemoDag(
        file=examples_folder() / GROUP_FILE,
        dag_id=GROUP_DAG_ID,
        projects=list(GROUP_JOBS),
        workloads={name: load_workload(workload) for name, workload in GROUP_JOBS.items()},
        env=dict(POLL_ENV),
        workload_note="built-in emulator workloads " + ", ".join(f"{w} ({n})" for n, w in GROUP_JOBS.items()),
    )

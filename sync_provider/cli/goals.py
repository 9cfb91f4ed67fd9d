"""`sync-cli goals ...`: business goals for groups of jobs at once, grouped by a project tag.

Platform teams think in groups ("every team=finance job must finish in 30 minutes"), not per job: `goals set`
changes the goals of every project carrying a tag; `goals show` lists each group's jobs with their latest run
against the goal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from sync_provider.cli._common import (
    CliError,
    JsonOption,
    console,
    fmt_duration,
    fmt_usd,
    minutes_to_seconds,
    parse_tag,
    print_json,
    table,
)
from sync_provider.cli.context import get_context
from sync_provider.cli.projects import run_sla_met
from sync_provider.engine.models import Goals, Preference

if TYPE_CHECKING:
    from sync_provider.store import ProjectRecord, SyncStore

app = typer.Typer(no_args_is_help=True, help="Goals for groups of jobs, selected by a project tag.")


@app.command("set")
def set_(
    tag: Annotated[str, typer.Option("--tag", help="Projects with this tag key=value.", show_default=False)],
    sla_minutes: Annotated[float | None, typer.Option("--sla-minutes", help="Runtime goal in minutes.")] = None,
    cost_target: Annotated[float | None, typer.Option("--cost-target", help="Cost goal per run in USD.")] = None,
    preference: Annotated[
        Preference | None, typer.Option("--preference", help="Which solution the group follows.")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Set the goals of every project with a tag; goals not given are kept.

    The goals are written to the projects that carry the tag now; a project tagged later keeps its own goals
    until the command is run again.

    Example: sync-cli goals set --tag team=finance --sla-minutes 30
    """
    if sla_minutes is None and cost_target is None and preference is None:
        raise typer.BadParameter("give --sla-minutes, --cost-target or --preference")
    if cost_target is not None and cost_target <= 0:
        raise typer.BadParameter(f"--cost-target must be positive, got {cost_target}")
    key, value = parse_tag(tag)
    store = get_context().store
    projects = store.list_projects(tag=(key, value))
    if not projects:
        raise CliError(
            f"no project has the tag {key}={value}",
            hint=f"tag projects with `sync-cli projects update NAME --tag {key}={value}`",
        )
    updated = []
    for project in projects:
        goals = project.goals.model_dump()
        if sla_minutes is not None:
            goals["sla_seconds"] = minutes_to_seconds(sla_minutes)
        if cost_target is not None:
            goals["cost_target_usd"] = cost_target
        if preference is not None:
            goals["preference"] = preference
        updated.append(store.update_project(project.id, goals=Goals.model_validate(goals)))
    if json_out:
        print_json([{"id": p.id, "name": p.name, "goals": p.goals.model_dump(mode="json")} for p in updated])
        return
    console.print(
        f"Updated the goals of {len(updated)} project(s) tagged {key}={value}: " + _goal_text(updated[0].goals)
    )


@app.command("show")
def show(
    tag: Annotated[str | None, typer.Option("--tag", help="Only the group with this tag key=value.")] = None,
    key: Annotated[str | None, typer.Option("--key", help="Group by this tag key only (e.g. team).")] = None,
    json_out: JsonOption = False,
) -> None:
    """List the groups (tag key=value) with their jobs' latest runtime and cost against the goal.

    Example: sync-cli goals show --key team
    """
    store = get_context().store
    projects = store.list_projects(tag=parse_tag(tag) if tag else None)
    groups: dict[str, list[dict[str, Any]]] = {}
    for project in projects:
        row = _status(store, project)
        pairs = [f"{k}={v}" for k, v in sorted(project.tags.items()) if key is None or k == key]
        if tag:
            pairs = [tag.strip()]
        for group in pairs or ["(untagged)"]:
            groups.setdefault(group, []).append(row)
    if json_out:
        print_json([{"group": g, "projects": rows} for g, rows in sorted(groups.items())])
        return
    rows = []
    for group, members in sorted(groups.items()):
        for m in members:
            rows.append(
                (
                    group,
                    m["project"],
                    fmt_duration(m["sla_seconds"]),
                    fmt_usd(m["cost_target_usd"]),
                    fmt_duration(m["latest_runtime_s"]),
                    fmt_usd(m["latest_cost_usd"]),
                    _verdict(m["status"]),
                )
            )
    console.print(
        table("Goals by group", ["Group", "Project", "SLA", "Cost target", "Last runtime", "Last cost", "Status"], rows)
    )


def _status(store: SyncStore, project: ProjectRecord) -> dict[str, Any]:
    """A project's goals and how its latest run compares."""
    runs = store.list_runs(project.id)
    latest = runs[-1] if runs else None
    obs = latest.observation if latest else None
    cost = obs.cost.total_usd if obs and obs.cost else None
    if latest is None:
        status = "no runs"
    elif not obs.succeeded:
        status = "failed"
    else:
        sla_ok = run_sla_met(project, latest)
        cost_ok = (
            None if project.goals.cost_target_usd is None or cost is None else cost <= project.goals.cost_target_usd
        )
        if sla_ok is False:
            status = "sla missed"
        elif cost_ok is False:
            status = "over cost target"
        elif sla_ok is None and cost_ok is None:
            status = "no goal"
        else:
            status = "meets goals"
    return {
        "project": project.name,
        "project_id": project.id,
        "sla_seconds": project.goals.sla_seconds,
        "cost_target_usd": project.goals.cost_target_usd,
        "preference": project.goals.preference.value,
        "latest_run_id": latest.external_run_id if latest else None,
        "latest_runtime_s": obs.runtime_s if obs else None,
        "latest_cost_usd": cost,
        "status": status,
    }


def _verdict(status: str) -> str:
    colour = {"meets goals": "green", "sla missed": "yellow", "over cost target": "yellow", "failed": "red"}
    return f"[{colour[status]}]{status}[/{colour[status]}]" if status in colour else status


def _goal_text(goals: Goals) -> str:
    parts = [
        f"SLA {fmt_duration(goals.sla_seconds) or 'none'}",
        f"cost target {fmt_usd(goals.cost_target_usd) or 'none'}",
    ]
    return ", ".join(parts) + f", preference {goals.preference.value}"

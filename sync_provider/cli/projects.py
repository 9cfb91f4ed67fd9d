"""`sync-cli projects ...`: create, inspect and change projects (one recurring job each) and their configuration
versions: history of runs, approval of pending recommendations, rollback."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError

from sync_provider.cli._common import (
    CliError,
    JsonOption,
    actor,
    console,
    fmt_duration,
    fmt_usd,
    minutes_to_seconds,
    parse_tag,
    parse_tags,
    print_json,
    table,
)
from sync_provider.cli.context import get_context
from sync_provider.engine.models import ApplyMode, Constraints, Goals, Preference, SpotPolicy

if TYPE_CHECKING:
    from sync_provider.store import ConfigVersionRecord, ProjectRecord, RunRecord

app = typer.Typer(
    no_args_is_help=True,
    help="Projects: one recurring job each, with its goals, constraints and configuration versions.",
)

ProjectArg = Annotated[str, typer.Argument(metavar="PROJECT", help="Project name or id.", show_default=False)]
Description = Annotated[str | None, typer.Option("--description", help="Free text shown in listings.")]
JobId = Annotated[str | None, typer.Option("--job-id", help="Databricks job id (the RunNow pattern).")]
JobClusterKey = Annotated[
    str | None, typer.Option("--job-cluster-key", help="Job cluster of the job that Sync manages.")
]
TaskKey = Annotated[str | None, typer.Option("--task-key", help="Task whose new_cluster Sync manages.")]
SlaMinutes = Annotated[float | None, typer.Option("--sla-minutes", help="Runtime goal in minutes.")]
CostTarget = Annotated[float | None, typer.Option("--cost-target", help="Cost goal per run in USD.")]
PreferenceOpt = Annotated[Preference | None, typer.Option("--preference", help="Which solution to follow.")]
Tags = Annotated[list[str] | None, typer.Option("--tag", help="Grouping tag key=value (repeatable).")]
ApplyModeOpt = Annotated[ApplyMode | None, typer.Option("--apply-mode", help="How recommendations are applied.")]
MinWorkers = Annotated[int | None, typer.Option("--min-workers", min=0, help="Fewest workers Sync may choose.")]
MaxWorkers = Annotated[int | None, typer.Option("--max-workers", min=0, help="Most workers Sync may choose.")]
Families = Annotated[
    list[str] | None, typer.Option("--instance-family", help="Allowed instance family, e.g. m5 (repeatable).")
]
Types = Annotated[list[str] | None, typer.Option("--instance-type", help="Allowed instance type (repeatable).")]
Photon = Annotated[bool | None, typer.Option("--photon/--no-photon", help="Whether Sync may turn Photon on.")]
Spot = Annotated[SpotPolicy | None, typer.Option("--spot-policy", help="Whether workers may run on spot.")]
Driver = Annotated[str | None, typer.Option("--driver-instance-type", help="Pin the driver's instance type.")]


def _constraints(base: Constraints, **changes: Any) -> Constraints:
    data = base.model_dump()
    data.update({k: v for k, v in changes.items() if v is not None})
    for key in ("instance_families", "instance_types"):
        if key in changes and changes[key] == []:
            data[key] = None
    try:
        return Constraints.model_validate(data)
    except ValidationError as exc:
        raise typer.BadParameter(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Project name (unique).", show_default=False)],
    description: Description = None,
    job_id: JobId = None,
    job_cluster_key: JobClusterKey = None,
    task_key: TaskKey = None,
    sla_minutes: SlaMinutes = None,
    cost_target: CostTarget = None,
    preference: PreferenceOpt = None,
    tag: Tags = None,
    apply_mode: ApplyModeOpt = None,
    min_workers: MinWorkers = None,
    max_workers: MaxWorkers = None,
    instance_family: Families = None,
    instance_type: Types = None,
    photon: Photon = None,
    spot_policy: Spot = None,
    driver_instance_type: Driver = None,
    json_out: JsonOption = False,
) -> None:
    """Create a project. Preference and apply mode default to the configured ones.

    Example: sync-cli projects create nightly-etl --job-id 123 --sla-minutes 45 --tag team=growth
    """
    ctx = get_context()
    goals = Goals(
        sla_seconds=minutes_to_seconds(sla_minutes),
        cost_target_usd=_positive(cost_target, "--cost-target"),
        preference=preference or ctx.settings.preference,
    )
    constraints = _constraints(
        Constraints(),
        min_workers=min_workers,
        max_workers=max_workers,
        instance_families=instance_family or None,
        instance_types=instance_type or None,
        photon_allowed=photon,
        spot_policy=spot_policy,
        driver_instance_type=driver_instance_type,
    )
    if ctx.store.find_project(name) is not None:
        raise CliError(
            f"a project named {name!r} already exists",
            hint=f"pick another name, or change it with `sync-cli projects update {name} ...`",
        )
    project = ctx.store.create_project(
        name,
        goals=goals,
        constraints=constraints,
        tags=parse_tags(tag),
        apply_mode=apply_mode or ctx.settings.apply_mode,
        description=description or "",
        job_id=job_id,
        job_cluster_key=job_cluster_key,
        task_key=task_key,
    )
    _print_project(project, json_out, created=True)


@app.command("list")
def list_(
    tag: Annotated[str | None, typer.Option("--tag", help="Only projects with this tag key=value.")] = None,
    json_out: JsonOption = False,
) -> None:
    """List projects with their goals and active configuration.

    Example: sync-cli projects list --tag team=growth --json
    """
    ctx = get_context()
    store = ctx.store
    projects = store.list_projects(tag=parse_tag(tag) if tag else None)
    if json_out:
        print_json([p.model_dump(mode="json") for p in projects])
        return
    rows = []
    for p in projects:
        active = store.active_config(p.id)
        rows.append(
            (
                p.name,
                p.job_id,
                fmt_duration(p.goals.sla_seconds),
                fmt_usd(p.goals.cost_target_usd),
                p.goals.preference.value,
                p.apply_mode.value,
                f"v{active.version}: {active.config.describe()}" if active else None,
                _tags(p.tags),
                p.id,
            )
        )
    console.print(
        table(
            f"{len(projects)} project(s)",
            ["Name", "Job", "SLA", "Cost target", "Preference", "Apply", "Active config", "Tags", "Id"],
            rows,
        )
    )


@app.command("get")
def get(project: ProjectArg, json_out: JsonOption = False) -> None:
    """Show a project: goals, constraints, active and pending configuration versions.

    Example: sync-cli projects get nightly-etl --json
    """
    _print_project(get_context().store.get_project(project), json_out)


@app.command("update")
def update(
    project: ProjectArg,
    name: Annotated[str | None, typer.Option("--name", help="Rename the project.")] = None,
    description: Description = None,
    job_id: JobId = None,
    job_cluster_key: JobClusterKey = None,
    task_key: TaskKey = None,
    sla_minutes: SlaMinutes = None,
    cost_target: CostTarget = None,
    clear_sla: Annotated[bool, typer.Option("--clear-sla", help="Remove the runtime goal.")] = False,
    clear_cost_target: Annotated[bool, typer.Option("--clear-cost-target", help="Remove the cost goal.")] = False,
    preference: PreferenceOpt = None,
    tag: Tags = None,
    remove_tag: Annotated[list[str] | None, typer.Option("--remove-tag", help="Tag key to remove.")] = None,
    apply_mode: ApplyModeOpt = None,
    min_workers: MinWorkers = None,
    max_workers: MaxWorkers = None,
    instance_family: Families = None,
    instance_type: Types = None,
    photon: Photon = None,
    spot_policy: Spot = None,
    driver_instance_type: Driver = None,
    json_out: JsonOption = False,
) -> None:
    """Change a project's goals, constraints, tags, apply mode or job identifiers; the rest is kept.

    Example: sync-cli projects update nightly-etl --sla-minutes 30 --apply-mode approval
    """
    if sla_minutes is not None and clear_sla:
        raise typer.BadParameter("give --sla-minutes or --clear-sla, not both")
    if cost_target is not None and clear_cost_target:
        raise typer.BadParameter("give --cost-target or --clear-cost-target, not both")
    store = get_context().store
    current = store.get_project(project)
    changes: dict[str, Any] = {}
    for key, value in (
        ("name", name),
        ("description", description),
        ("job_id", job_id),
        ("job_cluster_key", job_cluster_key),
        ("task_key", task_key),
        ("apply_mode", apply_mode),
    ):
        if value is not None:
            changes[key] = value
    goals = current.goals.model_dump()
    if sla_minutes is not None or clear_sla:
        goals["sla_seconds"] = None if clear_sla else minutes_to_seconds(sla_minutes)
    if cost_target is not None or clear_cost_target:
        goals["cost_target_usd"] = None if clear_cost_target else _positive(cost_target, "--cost-target")
    if preference is not None:
        goals["preference"] = preference
    if goals != current.goals.model_dump():
        changes["goals"] = Goals.model_validate(goals)
    constraints = _constraints(
        current.constraints,
        min_workers=min_workers,
        max_workers=max_workers,
        instance_families=instance_family or None,
        instance_types=instance_type or None,
        photon_allowed=photon,
        spot_policy=spot_policy,
        driver_instance_type=driver_instance_type,
    )
    if constraints != current.constraints:
        changes["constraints"] = constraints
    if tag or remove_tag:
        tags = dict(current.tags)
        for key in remove_tag or ():
            tags.pop(key, None)
        tags.update(parse_tags(tag))
        changes["tags"] = tags
    if not changes:
        raise typer.BadParameter("nothing to change; give at least one option (see --help)")
    _print_project(store.update_project(current.id, **changes), json_out)


@app.command("delete")
def delete(
    project: ProjectArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a project with its runs, predictions and configuration versions.

    Example: sync-cli projects delete nightly-etl --yes
    """
    store = get_context().store
    record = store.get_project(project)
    if not yes:
        typer.confirm(
            f"Delete project {record.name!r} with its runs, predictions and configuration versions?", abort=True
        )
    store.delete_project(record.id)
    console.print(f"Deleted project {record.name} ({record.id}).")


@app.command("history")
def history(
    project: ProjectArg,
    versions: Annotated[bool, typer.Option("--versions", help="List configuration versions instead of runs.")] = False,
    json_out: JsonOption = False,
) -> None:
    """A project's runs (configuration, runtime, cost, SLA met), or with --versions its configuration versions.

    Example: sync-cli projects history nightly-etl --versions
    """
    store = get_context().store
    record = store.get_project(project)
    if versions:
        _print_versions(record, store.config_history(record.id), json_out)
        return
    runs = [_run_row(record, r) for r in store.list_runs(record.id)]
    if json_out:
        print_json(runs)
        return
    rows = [
        (
            r["external_run_id"],
            r["config"],
            None if r["config_version"] is None else f"v{r['config_version']}",
            fmt_duration(r["runtime_s"]),
            fmt_usd(r["cost_usd"]),
            "yes" if r["succeeded"] else "[red]failed[/red]",
            {True: "met", False: "[yellow]missed[/yellow]", None: None}[r["sla_met"]],
        )
        for r in runs
    ]
    console.print(
        table(
            f"Runs of {record.name} (SLA {fmt_duration(record.goals.sla_seconds) or 'none'})",
            ["Run", "Configuration", "Version", "Runtime", "Cost", "Succeeded", "SLA"],
            rows,
        )
    )


@app.command("approve")
def approve(
    project: ProjectArg,
    version: Annotated[
        int | None,
        typer.Argument(metavar="[VERSION]", help="Pending version to approve (default: the newest pending one)."),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Approve a pending configuration version (apply mode `approval`): it becomes the next active version.

    Example: sync-cli projects approve nightly-etl 3
    """
    store = get_context().store
    record = store.get_project(project)
    if version is None:
        history = store.config_history(record.id)
        approved = {c.approved_from for c in history}
        pending = [c for c in history if c.status == "pending" and c.version not in approved]
        if not pending:
            raise CliError(
                f"project {record.name!r} has no pending configuration version",
                hint=f"see its versions with `sync-cli projects history {record.name} --versions`",
            )
        version = pending[-1].version
    new = store.approve(record.id, version, actor=actor())
    if new.prediction_id:
        store.set_prediction_status(new.prediction_id, "applied")
    _print_change(record, new, f"Approved version {version}", json_out)


@app.command("rollback")
def rollback(
    project: ProjectArg,
    to: Annotated[int | None, typer.Option("--to", help="Version to return to (default: the last good one).")] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why, recorded with the new version.")] = "manual rollback",
    json_out: JsonOption = False,
) -> None:
    """Make an earlier configuration active again (appended as a new version; nothing is rewritten).

    Example: sync-cli projects rollback nightly-etl --to 2 --reason "spot interruptions"
    """
    store = get_context().store
    record = store.get_project(project)
    new = store.rollback(record.id, to_version=to, actor=actor(), reason=reason)
    _print_change(record, new, f"Rolled back to version {new.reverted_from}", json_out)


# ---------------------------------------------------------------------- output


def _positive(value: float | None, flag: str) -> float | None:
    if value is not None and value <= 0:
        raise typer.BadParameter(f"{flag} must be positive, got {value}")
    return value


def _tags(tags: dict[str, str]) -> str | None:
    return ", ".join(f"{k}={v}" for k, v in sorted(tags.items())) or None


def run_sla_met(project: ProjectRecord, run: RunRecord) -> bool | None:
    """The recorded verdict, else the run's runtime against the project's current SLA."""
    if run.sla_met is not None:
        return run.sla_met
    obs = run.observation
    if not obs.succeeded:
        return False
    if project.goals.sla_seconds is None or obs.runtime_s is None:
        return None
    return obs.runtime_s <= project.goals.sla_seconds


def _run_row(project: ProjectRecord, run: RunRecord) -> dict[str, Any]:
    obs = run.observation
    return {
        "external_run_id": run.external_run_id,
        "config": obs.config.describe(),
        "cluster_config": obs.config.model_dump(mode="json"),
        "config_version": obs.config_version,
        "runtime_s": obs.runtime_s,
        "cost_usd": obs.cost.total_usd if obs.cost else None,
        "cost": obs.cost.model_dump(mode="json") if obs.cost else None,
        "succeeded": obs.succeeded,
        "sla_met": run_sla_met(project, run),
        "input_bytes": obs.input_bytes,
        "recorded_at": run.recorded_at.isoformat(),
    }


def _print_project(project: ProjectRecord, json_out: bool, *, created: bool = False) -> None:
    store = get_context().store
    active = store.active_config(project.id)
    history = store.config_history(project.id)
    approved = {c.approved_from for c in history}
    pending = [c.version for c in history if c.status == "pending" and c.version not in approved]
    if json_out:
        data = project.model_dump(mode="json")
        data["active_config"] = active.model_dump(mode="json") if active else None
        data["pending_versions"] = pending
        print_json(data)
        return
    g, c = project.goals, project.constraints
    rows = [
        ("Id", project.id),
        ("Description", project.description or None),
        ("Platform", project.platform),
        ("Databricks job", _job(project)),
        ("SLA", fmt_duration(g.sla_seconds)),
        ("Cost target", fmt_usd(g.cost_target_usd)),
        ("Preference", g.preference.value),
        ("Apply mode", project.apply_mode.value),
        ("Workers", f"{c.min_workers}-{c.max_workers}"),
        ("Instance families", ", ".join(c.instance_families or []) or "any"),
        ("Instance types", ", ".join(c.instance_types or []) or "any"),
        ("Photon allowed", "yes" if c.photon_allowed else "no"),
        ("Spot", c.spot_policy.value),
        ("Tags", _tags(project.tags)),
        ("Active config", f"v{active.version}: {active.config.describe()}" if active else None),
        ("Pending versions", ", ".join(f"v{v}" for v in pending) or None),
    ]
    title = f"{'Created project' if created else 'Project'} {project.name}"
    console.print(table(title, ["Field", "Value"], rows))


def _job(project: ProjectRecord) -> str | None:
    if project.job_id is None:
        return None
    keys = [f"{k}={v}" for k, v in (("cluster", project.job_cluster_key), ("task", project.task_key)) if v]
    return project.job_id + (f" ({', '.join(keys)})" if keys else "")


def _print_versions(project: ProjectRecord, versions: list[ConfigVersionRecord], json_out: bool) -> None:
    if json_out:
        print_json([v.model_dump(mode="json") for v in versions])
        return
    rows = [
        (
            f"v{v.version}",
            v.status,
            v.config.describe(),
            v.actor,
            v.reason,
            v.created_at.strftime("%Y-%m-%d %H:%M"),
        )
        for v in versions
    ]
    console.print(
        table(f"Configuration versions of {project.name}", ["Version", "Status", "Config", "By", "Why", "At"], rows)
    )


def _print_change(project: ProjectRecord, new: ConfigVersionRecord, what: str, json_out: bool) -> None:
    if json_out:
        print_json(new.model_dump(mode="json"))
        return
    console.print(f"{what} of {project.name}: version {new.version} is now active ({new.config.describe()}).")

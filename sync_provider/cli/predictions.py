"""`sync-cli predictions ...`: the recommendations the engine made, one solution per preference."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from sync_provider.cli._common import JsonOption, console, fmt_duration, fmt_usd, print_json, table
from sync_provider.cli.context import get_context
from sync_provider.cli.products import PRODUCTS
from sync_provider.engine.models import Preference, Solution

if TYPE_CHECKING:
    from sync_provider.store import PredictionRecord, SyncStore

app = typer.Typer(no_args_is_help=True, help="Predictions: the engine's recommendations, one solution per preference.")

PredictionArg = Annotated[str, typer.Argument(metavar="PREDICTION_ID", help="Prediction id.", show_default=False)]


@app.command("list")
def list_(
    project: Annotated[str | None, typer.Option("--project", help="Only this project's (name or id).")] = None,
    platform: Annotated[str | None, typer.Option("--platform", help="Only projects on this platform.")] = None,
    json_out: JsonOption = False,
) -> None:
    """List predictions, oldest first.

    Example: sync-cli predictions list --project nightly-etl --json
    """
    store = get_context().store
    projects = {p.id: p for p in store.list_projects()}
    records = store.list_predictions(store.get_project(project).id if project else None)
    if platform:
        names = [p["name"] for p in PRODUCTS]
        if platform not in names:
            raise typer.BadParameter(f"unknown platform {platform!r}; accepted: {', '.join(names)}")
        records = [r for r in records if projects[r.project_id].platform == platform]
    if json_out:
        print_json([_summary(r, projects[r.project_id].name, store) for r in records])
        return
    rows = []
    for r in records:
        s = _summary(r, projects[r.project_id].name, store)
        rows.append(
            (
                r.id,
                s["project"],
                s["created_at"][:16].replace("T", " "),
                s["phase"],
                s["recommended"],
                fmt_duration(s["predicted_runtime_s"]),
                fmt_usd(s["predicted_cost_usd"]),
                s["status"],
            )
        )
    console.print(
        table(
            f"{len(records)} prediction(s)",
            ["Id", "Project", "Created", "Phase", "Recommended", "Runtime", "Cost", "Status"],
            rows,
        )
    )


@app.command("get")
def get(
    prediction_id: PredictionArg,
    preference: Annotated[
        Preference | None, typer.Option("--preference", help="Only the solution for this preference.")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Show a prediction: the current configuration and the solution for each preference.

    Example: sync-cli predictions get 4f1c... --preference economy
    """
    store = get_context().store
    record = store.get_prediction(prediction_id)
    pred = record.prediction
    solutions = [pred.for_preference(preference)] if preference else list(pred.solutions.values())
    if json_out:
        if preference:
            print_json(solutions[0].model_dump(mode="json"))
        else:
            print_json(record.model_dump(mode="json"))
        return
    project = store.get_project(record.project_id)
    run = next((r.external_run_id for r in store.list_runs(project.id) if r.id == record.run_id), record.run_id)
    console.print(
        f"Prediction {record.id} for [bold]{project.name}[/bold] (run {run or '–'}): "
        f"phase {pred.phase.value}. {pred.reason}",
        highlight=False,
    )
    if pred.current:
        console.print(f"Current configuration: {pred.current.describe()}", highlight=False)
    console.print(_solutions_table(solutions))
    for warning in pred.warnings:
        console.print(f"[yellow]Warning:[/yellow] {warning}", highlight=False)


@app.command("status")
def status(prediction_id: PredictionArg, json_out: JsonOption = False) -> None:
    """Whether a prediction is new, pending approval or applied, and which configuration version it became.

    Example: sync-cli predictions status 4f1c... --json
    """
    store = get_context().store
    record = store.get_prediction(prediction_id)
    versions = [v for v in store.config_history(record.project_id) if v.prediction_id == record.id]
    data = {
        "id": record.id,
        "project_id": record.project_id,
        "status": record.status,
        "phase": record.prediction.phase.value,
        "created_at": record.created_at.isoformat(),
        "config_versions": [{"version": v.version, "status": v.status} for v in versions],
    }
    if json_out:
        print_json(data)
        return
    applied = ", ".join(f"v{v.version} ({v.status})" for v in versions) or "none"
    console.print(f"Prediction {record.id}: {record.status} (phase {data['phase']}); configuration versions: {applied}")


def _solutions_table(solutions: list[Solution]) -> Any:
    rows = [
        (
            s.preference.value,
            s.config.describe(),
            fmt_duration(s.predicted_runtime_s),
            fmt_duration(s.predicted_runtime_p90_s),
            fmt_usd(s.cost.total_usd),
            f"{fmt_usd(s.cost_low_usd)}-{fmt_usd(s.cost_high_usd)}",
            "yes" if s.meets_sla else "[yellow]no[/yellow]",
            s.reason,
        )
        for s in solutions
    ]
    return table(
        None, ["Preference", "Configuration", "Runtime", "p90", "Cost", "Cost range", "Meets SLA", "Why"], rows
    )


def _summary(record: PredictionRecord, project_name: str, store: SyncStore) -> dict[str, Any]:
    """One line of `predictions list`: the solution of the project's preference."""
    project = store.get_project(record.project_id)
    pred = record.prediction
    pref = project.goals.preference if project.goals.preference in pred.solutions else next(iter(pred.solutions))
    sol = pred.for_preference(pref)
    return {
        "id": record.id,
        "project": project_name,
        "project_id": record.project_id,
        "run_id": record.run_id,
        "created_at": record.created_at.isoformat(),
        "phase": pred.phase.value,
        "status": record.status,
        "preference": pref.value,
        "recommended": sol.config.describe(),
        "config": sol.config.model_dump(mode="json"),
        "predicted_runtime_s": sol.predicted_runtime_s,
        "predicted_cost_usd": sol.cost.total_usd,
    }

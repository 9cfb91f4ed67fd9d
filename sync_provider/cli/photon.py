"""`sync-cli photon-roi`: the speedup Photon needs on a cluster to pay for itself, and (with an event log) whether
the job's own operator mix and time split make that likely."""

from __future__ import annotations

import math

import typer
from rich.markup import escape
from rich.table import Table

from sync_provider.cli._common import CliError, console, print_json
from sync_provider.engine.limits import MAX_WORKERS
from sync_provider.engine.models import ComputeType, Plan

# Sanity bounds of the price flags (list prices: $0.07-0.70 per DBU, Photon multipliers 2-3).
MAX_DBU_USD = 100.0
MAX_PHOTON_MULTIPLIER = 100.0


def _bounded(maximum: float, example: str):
    """A typer callback: None (omitted) or a finite number in [0, maximum]; 0 is a value, not "omitted".

    Checked here rather than with min=/max= because click lets inf through and refuses nan as "not >= 0".
    """

    def check(value: float | None) -> float | None:
        if value is not None and not (math.isfinite(value) and 0 <= value <= maximum):
            raise typer.BadParameter(f"must be a finite number from 0 to {maximum:g}, got {value:g}; e.g. {example}")
        return value

    return check


def photon_roi(
    instance_type: str = typer.Option(..., "--instance-type", help="Worker node type, e.g. m5.2xlarge."),
    workers: int = typer.Option(..., "--workers", min=0, max=MAX_WORKERS, help="Number of workers."),
    driver: str | None = typer.Option(None, "--driver", help="Driver node type (default: the worker type)."),
    plan: Plan | None = typer.Option(None, "--plan", help="Databricks pricing plan (default: the configured one)."),
    compute_type: ComputeType | None = typer.Option(
        None, "--compute", "--compute-type", help="Databricks compute type (default: the configured one)."
    ),
    photon_multiplier: float | None = typer.Option(
        None,
        "--photon-multiplier",
        callback=_bounded(MAX_PHOTON_MULTIPLIER, "2.9"),
        help="Photon DBU multiplier (list value when omitted).",
    ),
    dbu_usd: float | None = typer.Option(
        None, "--dbu-usd", callback=_bounded(MAX_DBU_USD, "0.15"), help="Negotiated $ per DBU."
    ),
    eventlog: str | None = typer.Option(None, "--eventlog", help="A run's event log, to estimate its speedup."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Break-even Photon speedup for a cluster and, with --eventlog, whether Photon pays for this job.

    Prices come from `sync-cli configure` (plan, compute type, negotiated $/DBU, catalog override); the flags
    override them for this command only.

    Example: sync-cli photon-roi --instance-type m5.2xlarge --workers 8 --plan premium --eventlog ./eventlog.zst
    """
    from sync_provider.cli.context import get_context
    from sync_provider.engine.evidence.catalog import UnknownInstanceType
    from sync_provider.engine.evidence.cost import CostModel
    from sync_provider.engine.evidence.photon import (
        cluster_rates,
        estimate_photon_speedup,
        operator_share,
        ran_on_photon,
    )

    try:
        configured = get_context().cost_model(plan, compute_type)
        given = {"photon_dbu_multiplier": photon_multiplier, "dbu_usd": dbu_usd}
        overrides = {k: v for k, v in given.items() if v is not None}  # 0 is a value (free DBUs), not "omitted"
        pricing = configured.pricing.model_copy(update=overrides) if overrides else configured.pricing
        model = CostModel(configured.catalog, pricing)
        rates = cluster_rates(instance_type, workers, model, driver)
    except UnknownInstanceType as exc:
        raise CliError(str(exc)) from None
    result: dict = {
        "instance_type": instance_type,
        "workers": workers,
        "driver": driver or instance_type,
        "plan": pricing.plan.value,
        "compute_type": pricing.compute_type.value,
        "dbu_usd": pricing.effective_dbu_usd(),
        "photon_dbu_multiplier": pricing.effective_photon_multiplier(),
        "cloud_usd_per_hour": round(rates.cloud_usd_per_hour, 4),
        "dbu_usd_per_hour": round(rates.dbu_usd_per_hour, 4),
        "dbu_usd_per_hour_photon": round(rates.dbu_usd_per_hour_photon, 4),
        "break_even_speedup": round(rates.break_even, 4),
        "estimated_speedup": None,
        "photon_operator_share": None,
        "eventlog_ran_photon": None,
        "photon_pays": None,
        "estimated_cost_change_pct": None,
    }
    if eventlog:
        from sync_provider.cli.eventlog import load_profile

        profile = load_profile(eventlog)
        speedup = estimate_photon_speedup(profile)
        photon_hourly = rates.cloud_usd_per_hour + rates.dbu_usd_per_hour_photon
        plain_hourly = rates.cloud_usd_per_hour + rates.dbu_usd_per_hour
        result.update(
            estimated_speedup=round(speedup, 4),
            photon_operator_share=round(operator_share(profile), 4),
            eventlog_ran_photon=ran_on_photon(profile),
            photon_pays=speedup > rates.break_even,
            estimated_cost_change_pct=round((photon_hourly / speedup / plain_hourly - 1.0) * 100.0, 2),
        )
    if json_out:
        print_json(result)
        return
    table = Table(title="Photon ROI", show_header=True, header_style="bold")
    table.add_column("item")
    table.add_column("value", justify="right")
    for key, value in result.items():
        if value is not None:
            table.add_row(key, escape(str(value)))
    console.print(table)
    verdict = (
        f"Photon must make this cluster {rates.break_even:.2f}x faster to cost no more."
        if result["estimated_speedup"] is None
        else f"Estimated speedup {result['estimated_speedup']:.2f}x vs break-even {rates.break_even:.2f}x: "
        + ("Photon pays." if result["photon_pays"] else "Photon does not pay.")
    )
    console.print(verdict)

"""Renders ReportData into one self-contained HTML file: inline CSS and SVG, no script, no external URL.

The template and stylesheet are package data (`sync_provider/report/*`) so the report looks the same wherever
the package is installed, and the file opens offline (a laptop, a ticket attachment, a CI artifact).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from jinja2 import Environment, StrictUndefined, select_autoescape
from markupsafe import Markup

from sync_provider.report import charts
from sync_provider.report.model import JobSeries, ReportData, RunPoint
from sync_provider.report.svg import fmt_duration, fmt_usd


@dataclass(frozen=True)
class Summary:
    """Headline figures of one job, shown as cards above the charts."""

    runs: int
    first_cost: float | None
    last_cost: float | None
    cost_change_pct: float | None
    sla_met: int
    sla_judged: int
    config_changes: int
    reverts: int
    failures: int
    first_config: str
    final_config: str
    total_cost: float
    baseline_total: float | None
    saved_pct: float | None


def summarize(job: JobSeries) -> Summary:
    """Headline figures: cost of the first vs the last successful run, SLA record, changes and reverts."""
    costed = [p for p in job.runs if p.true_cost_usd is not None and p.succeeded]
    first = costed[0].true_cost_usd if costed else None
    last = costed[-1].true_cost_usd if costed else None
    change = (last - first) / first * 100 if first and last is not None else None
    judged = [p for p in job.runs if p.sla_met is not None]
    versions = [p.config_version for p in job.runs]
    changes = sum(1 for a, b in zip(versions, versions[1:], strict=False) if a != b)
    total = sum(p.true_cost_usd or 0.0 for p in job.runs)
    baselines = [p.baseline_cost_usd for p in job.runs]
    baseline_total = sum(b for b in baselines if b is not None) if all(b is not None for b in baselines) else None
    return Summary(
        runs=len(job.runs),
        first_cost=first,
        last_cost=last,
        cost_change_pct=change,
        sla_met=sum(1 for p in judged if p.sla_met),
        sla_judged=len(judged),
        config_changes=changes,
        reverts=sum(1 for i, p in enumerate(job.runs) if p.reverted and (i == 0 or not job.runs[i - 1].reverted)),
        failures=sum(1 for p in job.runs if not p.succeeded),
        first_config=job.runs[0].config_label if job.runs else "–",
        final_config=job.runs[-1].config_label if job.runs else "–",
        total_cost=total,
        baseline_total=baseline_total if job.runs else None,
        saved_pct=(1 - total / baseline_total) * 100 if baseline_total else None,
    )


def _environment() -> Environment:
    env = Environment(
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["usd"] = lambda v: "–" if v is None else fmt_usd(v)
    env.filters["duration"] = lambda v: "–" if v is None else fmt_duration(v)
    return env


def _asset(name: str) -> str:
    return resources.files("sync_provider.report").joinpath(name).read_text(encoding="utf-8")


def _run_status(point: RunPoint) -> str:
    if not point.succeeded:
        return "failed"
    if point.sla_met is False:
        return "miss"
    return "ok"


def render_report(data: ReportData) -> str:
    """The report as one HTML string (charts inline, CSS inline, no external resources)."""
    if not data.primary.runs:
        raise ValueError(f"no runs to report for job {data.primary.name!r}: run the demo (or the DAG) at least once")
    template = _environment().from_string(_asset("template.html"))
    primary = data.primary
    return template.render(
        data=data,
        css=Markup(_asset("report.css")),
        job=primary,
        summary=summarize(primary),
        cost_svg=Markup(charts.cost_chart(primary)),
        runtime_svg=Markup(charts.runtime_chart(primary)),
        timeline_svg=Markup(charts.timeline_chart(primary)),
        scatter_svg=Markup(charts.scatter_chart(data.group)) if data.group else None,
        group=[(job, summarize(job)) for job in data.group],
        status=_run_status,
    )


def write_report(path: str | os.PathLike[str], data: ReportData) -> Path:
    """Render and write the report atomically (a half-written file never replaces a good one); returns the path."""
    target = Path(path).expanduser().resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(render_report(data), encoding="utf-8")
    tmp.replace(target)
    return target

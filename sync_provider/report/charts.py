"""The report's charts as inline SVG: cost and runtime per run against the goals, the configuration timeline,
and the cost-vs-runtime scatter of a group of jobs coloured by goal.

Per-run charts share the same horizontal layout (margins and run slots) so they line up when stacked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sync_provider.report.model import JobSeries, RunPoint
from sync_provider.report.svg import Bands, Linear, Svg, fmt_duration, fmt_usd, nice_ticks, x_run_axis, y_axis

WIDTH = 1160
LEFT = 118
RIGHT = 28

COLOURS = {
    "ok": "#3b82f6",
    "miss": "#f59e0b",
    "failed": "#ef4444",
    "goal": "#16a34a",
    "sla": "#dc2626",
    "baseline": "#94a3b8",
    "event": "#7c3aed",
    "line": "#1e293b",
}
PHASE_COLOURS = {
    "learning": "#93c5fd",
    "optimizing": "#86efac",
    "stable": "#22c55e",
    "rollback": "#fca5a5",
    "relearning": "#fdba74",
}
HALO = {"paint_order": "stroke", "stroke": "#fff", "stroke_width": 3, "stroke_linejoin": "round"}
GOAL_COLOURS = {"SLA-driven": "#2563eb", "cost-driven": "#d97706", "SLA + cost": "#7c3aed"}
INSTANCE_PALETTE = ["#6366f1", "#0ea5e9", "#14b8a6", "#f59e0b", "#ec4899", "#84cc16", "#a855f7", "#f97316"]


def _status(point: RunPoint) -> str:
    if not point.succeeded:
        return "failed"
    return "miss" if point.sla_met is False else "ok"


def _tooltip(point: RunPoint) -> str:
    bits = [f"Run {point.run}: {point.config_label}"]
    if point.runtime_s is not None:
        bits.append(f"runtime {fmt_duration(point.runtime_s)}")
    if point.true_cost_usd is not None:
        bits.append(f"cost {fmt_usd(point.true_cost_usd)}")
    if not point.succeeded:
        bits.append("FAILED")
    elif point.sla_met is False:
        bits.append("SLA missed")
    if point.phase:
        bits.append(f"phase {point.phase}")
    if point.events:
        bits.append("; ".join(point.events))
    return " · ".join(bits)


def _events(svg: Svg, bands: Bands, runs: Sequence[RunPoint], top: float, bottom: float) -> None:
    """A dashed vertical marker before each run hit by a scenario event, labelled at the top."""
    for i, point in enumerate(runs):
        if not point.events:
            continue
        x = bands.start(i)
        svg.line(x, top - 4, x, bottom, stroke=COLOURS["event"], stroke_width=1.2, stroke_dasharray="4 3")
        svg.text(x + 4, top + 6, " · ".join(point.events), font_size=11, fill=COLOURS["event"], font_weight=600, **HALO)


def _hline(svg: Svg, y: float, label: str, colour: str, *, dash: str = "6 4", below: bool = False) -> None:
    svg.line(LEFT, y, WIDTH - RIGHT, y, stroke=colour, stroke_width=1.6, stroke_dasharray=dash)
    svg.text(
        WIDTH - RIGHT - 4,
        y + (14 if below else -6),
        label,
        text_anchor="end",
        font_size=11,
        fill=colour,
        font_weight=600,
        **HALO,
    )


def _legend(svg: Svg, items: Sequence[tuple[str, str, str]], y: float) -> None:
    """Legend entries (shape, colour, label) laid out left to right from the plot's left edge."""
    x = LEFT
    for shape, colour, label in items:
        if shape == "dash":
            svg.line(x, y - 4, x + 18, y - 4, stroke=colour, stroke_width=1.8, stroke_dasharray="5 3")
            x += 24
        elif shape == "dot":
            svg.circle(x + 5, y - 4, 5, fill=colour)
            x += 16
        else:
            svg.rect(x, y - 10, 12, 12, fill=colour, rx=2)
            x += 18
        svg.text(x, y, label, font_size=11, fill="#475569")
        x += 9 + 6.4 * len(label)


def cost_chart(job: JobSeries) -> str:
    """Bars of the true cost of each run, with the cost goal and the first run's cost as reference lines."""
    runs = job.runs
    height, top, bottom = 300, 46, 262
    svg = Svg(WIDTH, height, f"True cost per run of {job.name}")
    costs = [p.true_cost_usd for p in runs if p.true_cost_usd is not None]
    baseline = [p.baseline_cost_usd for p in runs]
    has_baseline = any(b is not None for b in baseline)
    peak = max(
        costs + [b for b in baseline if b is not None] + ([job.cost_target_usd] if job.cost_target_usd else []) + [0.01]
    )
    ticks = nice_ticks(0, peak * 1.08)
    y = Linear((0, ticks[-1]), (bottom, top))
    bands = Bands(len(runs), LEFT, WIDTH - RIGHT, padding=0.28)
    y_axis(svg, y, ticks, LEFT, WIDTH - RIGHT, fmt_usd)
    for i, point in enumerate(runs):
        status = _status(point)
        if point.true_cost_usd is None:
            svg.text(bands.centre(i), bottom - 6, "×", text_anchor="middle", font_size=16, fill=COLOURS["failed"])
            continue
        top_y = y(point.true_cost_usd)
        bar = min(bands.width, 64.0)
        svg.rect(
            bands.centre(i) - bar / 2,
            top_y,
            bar,
            bottom - top_y,
            title=_tooltip(point),
            fill=COLOURS[status],
            rx=2,
        )
        if point.reverted:
            svg.text(bands.centre(i), top_y - 5, "↺", text_anchor="middle", font_size=13, fill=COLOURS["sla"])
    if has_baseline:
        _baseline_steps(svg, bands, baseline, y, job.baseline_label)
    elif costs:
        _hline(svg, y(costs[0]), f"run 1: {fmt_usd(costs[0])}", COLOURS["baseline"], dash="2 3")
    if job.cost_target_usd:
        _hline(svg, y(job.cost_target_usd), f"cost goal {fmt_usd(job.cost_target_usd)}", COLOURS["goal"], below=True)
    _events(svg, bands, runs, top, bottom)
    svg.line(LEFT, bottom, WIDTH - RIGHT, bottom, stroke="#94a3b8")
    x_run_axis(svg, bands, [p.run for p in runs], bottom + 18)
    svg.text(LEFT - 8, bottom + 18, "run", text_anchor="end", font_size=11, fill="#64748b")
    _legend(
        svg,
        [
            ("box", COLOURS["ok"], "SLA met"),
            ("box", COLOURS["miss"], "SLA missed"),
            ("box", COLOURS["failed"], "failed"),
            ("dash", COLOURS["goal"], "cost goal"),
            ("dash", COLOURS["baseline"], "without Sync" if has_baseline else "first run"),
            ("dash", COLOURS["event"], "scenario event"),
        ],
        18,
    )
    return svg.render()


def _baseline_steps(svg: Svg, bands: Bands, baseline: Sequence[float | None], y: Linear, label: str) -> None:
    """What each run would have cost on the job's original cluster: a dashed step line across the slots."""
    points: list[tuple[float, float]] = []
    for i, value in enumerate(baseline):
        if value is None:
            continue
        points += [(bands.start(i), y(value)), (bands.start(i + 1), y(value))]
    if len(points) < 2:
        return
    svg.polyline(points, stroke=COLOURS["baseline"], stroke_width=1.6, stroke_dasharray="5 4")
    last = next(v for v in reversed(baseline) if v is not None)
    text = f"without Sync{f' ({label})' if label else ''}: {fmt_usd(last)}"
    svg.text(
        points[-1][0] - 4,
        points[-1][1] - 6,
        text,
        text_anchor="end",
        font_size=11,
        fill="#64748b",
        font_weight=600,
        **HALO,
    )


def _duration_ticks(peak: float) -> tuple[list[float], Callable[[float], str]]:
    """Ticks in seconds, placed on round minutes when the range is long enough."""
    unit = 60.0 if peak >= 300 else 1.0
    ticks = [t * unit for t in nice_ticks(0, peak / unit)]
    return ticks, (lambda t: f"{t / unit:g} min") if unit == 60 else (lambda t: f"{t:g} s")


def runtime_chart(job: JobSeries) -> str:
    """The true runtime of each run as a line, points coloured by whether they met the SLA, and the SLA line."""
    runs = job.runs
    height, top, bottom = 300, 46, 262
    svg = Svg(WIDTH, height, f"Runtime per run of {job.name}")
    times = [p.runtime_s for p in runs if p.runtime_s is not None]
    peak = max(times + ([job.sla_seconds] if job.sla_seconds else []) + [1.0]) * 1.08
    ticks, fmt = _duration_ticks(peak)
    y = Linear((0, ticks[-1]), (bottom, top))
    bands = Bands(len(runs), LEFT, WIDTH - RIGHT)
    y_axis(svg, y, ticks, LEFT, WIDTH - RIGHT, fmt)
    if job.sla_seconds:
        _hline(svg, y(job.sla_seconds), f"SLA {fmt_duration(job.sla_seconds)}", COLOURS["sla"])
    segment: list[tuple[float, float]] = []
    for i, point in enumerate(runs):
        if point.runtime_s is None:
            if len(segment) > 1:
                svg.polyline(segment, stroke=COLOURS["line"], stroke_width=1.8)
            segment = []
            continue
        segment.append((bands.centre(i), y(point.runtime_s)))
    if len(segment) > 1:
        svg.polyline(segment, stroke=COLOURS["line"], stroke_width=1.8)
    for i, point in enumerate(runs):
        if point.runtime_s is None:
            svg.text(
                bands.centre(i),
                bottom - 6,
                "×",
                text_anchor="middle",
                font_size=18,
                fill=COLOURS["failed"],
                font_weight=700,
            )
            continue
        colour = COLOURS["failed"] if not point.succeeded else COLOURS["sla"] if point.sla_met is False else "#16a34a"
        svg.circle(
            bands.centre(i),
            y(point.runtime_s),
            5.5,
            title=_tooltip(point),
            fill=colour,
            stroke="#fff",
            stroke_width=1.5,
        )
    _events(svg, bands, runs, top, bottom)
    svg.line(LEFT, bottom, WIDTH - RIGHT, bottom, stroke="#94a3b8")
    x_run_axis(svg, bands, [p.run for p in runs], bottom + 18)
    svg.text(LEFT - 8, bottom + 18, "run", text_anchor="end", font_size=11, fill="#64748b")
    _legend(
        svg,
        [
            ("dot", "#16a34a", "within SLA"),
            ("dot", COLOURS["sla"], "SLA missed"),
            ("dash", COLOURS["sla"], "SLA"),
            ("dash", COLOURS["event"], "scenario event"),
        ],
        18,
    )
    return svg.render()


def _segments(values: Sequence[str]) -> list[tuple[int, int, str]]:
    """Contiguous runs of equal values as (first index, last index, value)."""
    out: list[tuple[int, int, str]] = []
    for i, value in enumerate(values):
        if out and out[-1][2] == value:
            out[-1] = (out[-1][0], i, value)
        else:
            out.append((i, i, value))
    return out


def _instance_colours(runs: Sequence[RunPoint]) -> dict[str, str]:
    seen: dict[str, str] = {}
    for point in runs:
        if point.instance_type not in seen:
            seen[point.instance_type] = INSTANCE_PALETTE[len(seen) % len(INSTANCE_PALETTE)]
    return seen


def timeline_chart(job: JobSeries) -> str:
    """One row per setting (instance type, workers, Photon, spot, phase, config version), one column per run."""
    runs = job.runs
    rows = ["Instance type", "Workers", "Photon", "Spot", "Phase", "Config version"]
    row_h, gap, top = 30, 6, 12
    height = top + len(rows) * (row_h + gap) + 30
    svg = Svg(WIDTH, height, f"Configuration timeline of {job.name}")
    bands = Bands(len(runs), LEFT, WIDTH - RIGHT, padding=0.08)
    pad = (bands.step - bands.width) / 2
    for r, label in enumerate(rows):
        svg.text(
            LEFT - 10,
            top + r * (row_h + gap) + row_h / 2 + 4,
            label,
            text_anchor="end",
            font_size=12,
            fill="#334155",
            font_weight=600,
        )

    def row_y(r: int) -> float:
        return top + r * (row_h + gap)

    def segment_row(r: int, values: Sequence[str], colours: dict[str, str], text_fill: str) -> None:
        for first, last, value in _segments(values):
            x0 = bands.start(first) + pad
            width = bands.start(last + 1) - pad - x0
            svg.rect(
                x0,
                row_y(r),
                width,
                row_h,
                title=f"runs {runs[first].run}-{runs[last].run}: {value}",
                fill=colours.get(value, "#cbd5e1"),
                rx=4,
            )
            size = next((f for f in (11.5, 10.0, 8.5) if width > 0.6 * f * len(value) + 6), None)
            if size is not None:
                svg.text(
                    x0 + width / 2,
                    row_y(r) + row_h / 2 + 4,
                    value,
                    text_anchor="middle",
                    font_size=size,
                    fill=text_fill,
                    font_weight=600,
                )

    segment_row(0, [p.instance_type for p in runs], _instance_colours(runs), "#fff")
    most = max([p.num_workers for p in runs] + [1])
    for i, point in enumerate(runs):
        x0 = bands.start(i) + pad
        shade = 0.15 + 0.75 * point.num_workers / most
        svg.rect(
            x0,
            row_y(1),
            bands.width,
            row_h,
            title=f"run {point.run}: {point.num_workers} workers",
            fill="#0ea5e9",
            fill_opacity=round(shade, 2),
            rx=3,
        )
        svg.text(
            bands.centre(i),
            row_y(1) + row_h / 2 + 4,
            str(point.num_workers),
            text_anchor="middle",
            font_size=11.5,
            fill="#0f172a" if shade < 0.6 else "#fff",
            font_weight=600,
        )
        for r, on in ((2, point.photon), (3, point.spot)):
            svg.rect(
                x0,
                row_y(r),
                bands.width,
                row_h,
                fill="#f59e0b" if on else "#f1f5f9",
                rx=3,
                title=f"run {point.run}: {'on' if on else 'off'}",
            )
            if on:
                svg.text(
                    bands.centre(i),
                    row_y(r) + row_h / 2 + 4,
                    "on",
                    text_anchor="middle",
                    font_size=11,
                    fill="#fff",
                    font_weight=600,
                )
        version = "" if point.config_version is None else f"v{point.config_version}"
        changed = i > 0 and point.config_version != runs[i - 1].config_version
        svg.rect(
            x0,
            row_y(5),
            bands.width,
            row_h,
            rx=3,
            fill="#fee2e2" if point.reverted else "#f8fafc",
            stroke="#334155" if changed else "#e2e8f0",
            stroke_width=1.4 if changed else 1,
            title=f"run {point.run}: {version or 'default config'}{' (reverted)' if point.reverted else ''}"
            + (f" · {point.changed}" if point.changed else ""),
        )
        svg.text(
            bands.centre(i),
            row_y(5) + row_h / 2 + 4,
            (("↺ " if point.reverted else "") + version) or "–",
            text_anchor="middle",
            font_size=11,
            fill="#b91c1c" if point.reverted else "#0f172a",
        )
    segment_row(4, [p.phase or "–" for p in runs], PHASE_COLOURS, "#0f172a")
    x_run_axis(svg, bands, [p.run for p in runs], height - 10)
    svg.text(LEFT - 10, height - 10, "run", text_anchor="end", font_size=11, fill="#64748b")
    return svg.render()


def scatter_chart(jobs: Sequence[JobSeries]) -> str:
    """Cost vs runtime of every run of every job, coloured by the job's goal, with each job's goal line."""
    height, top, bottom, left = 420, 48, 370, LEFT
    svg = Svg(WIDTH, height, "Cost vs runtime per run, coloured by goal")
    points = [(p.runtime_s, p.true_cost_usd) for j in jobs for p in j.runs if p.runtime_s and p.true_cost_usd]
    max_t = max([t for t, _ in points] + [j.sla_seconds or 0 for j in jobs] + [1.0]) * 1.08
    max_c = max([c for _, c in points] + [j.cost_target_usd or 0 for j in jobs] + [0.01]) * 1.08
    x_ticks, x_fmt = _duration_ticks(max_t)
    y_ticks = nice_ticks(0, max_c)
    x = Linear((0, x_ticks[-1]), (left, WIDTH - RIGHT))
    y = Linear((0, y_ticks[-1]), (bottom, top))
    y_axis(svg, y, y_ticks, left, WIDTH - RIGHT, fmt_usd)
    for tick in x_ticks:
        svg.line(x(tick), top, x(tick), bottom, stroke="#f1f5f9")
        svg.text(x(tick), bottom + 18, x_fmt(tick), text_anchor="middle", font_size=11, fill="#64748b")
    svg.line(left, bottom, WIDTH - RIGHT, bottom, stroke="#94a3b8")
    svg.text((left + WIDTH - RIGHT) / 2, bottom + 40, "runtime", text_anchor="middle", font_size=12, fill="#475569")
    svg.text(left - 8, top - 14, "cost per run", text_anchor="end", font_size=12, fill="#475569")
    for job in jobs:
        colour = GOAL_COLOURS.get(job.goal_kind, "#64748b")
        if job.sla_seconds:
            svg.line(
                x(job.sla_seconds),
                top,
                x(job.sla_seconds),
                bottom,
                stroke=colour,
                stroke_dasharray="6 4",
                stroke_width=1.4,
            )
            svg.text(x(job.sla_seconds) + 4, top + 10, f"{job.name} SLA", font_size=11, fill=colour)
        if job.cost_target_usd:
            svg.line(
                left,
                y(job.cost_target_usd),
                WIDTH - RIGHT,
                y(job.cost_target_usd),
                stroke=colour,
                stroke_dasharray="6 4",
                stroke_width=1.4,
            )
            svg.text(
                WIDTH - RIGHT - 4,
                y(job.cost_target_usd) - 6,
                f"{job.name} cost goal",
                text_anchor="end",
                font_size=11,
                fill=colour,
            )
        track = [(x(p.runtime_s), y(p.true_cost_usd)) for p in job.runs if p.runtime_s and p.true_cost_usd]
        if len(track) > 1:
            svg.polyline(track, stroke=colour, stroke_width=1.2, stroke_opacity=0.35)
        for n, (px, py) in enumerate(track):
            last = n == len(track) - 1
            run = [p for p in job.runs if p.runtime_s and p.true_cost_usd][n]
            svg.circle(
                px,
                py,
                8 if last else 5.5,
                title=f"{job.name} ({job.goal_kind}) · {_tooltip(run)}",
                fill=colour,
                fill_opacity=round(0.3 + 0.7 * (n + 1) / len(track), 2),
                stroke="#0f172a" if last else "#fff",
                stroke_width=1.5,
            )
        if track:
            svg.text(track[-1][0] + 11, track[-1][1] + 4, job.name, font_size=11.5, fill=colour, font_weight=600)
    kinds = list(dict.fromkeys(j.goal_kind for j in jobs))
    _legend(
        svg,
        [("dot", GOAL_COLOURS.get(k, "#64748b"), k) for k in kinds]
        + [("dot", "#0f172a", "latest run (outlined); earlier runs fade")],
        18,
    )
    return svg.render()

"""The HTML report: valid, self-contained (no external URL, no script), charts present and data shown."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from sync_provider.report import JobSeries, ReportData, RunPoint, render_report, summarize, write_report
from sync_provider.report.svg import fmt_duration, fmt_usd, nice_ticks

VOID = {"meta", "br", "img", "input", "link", "hr", "area", "base", "col", "embed", "source", "track", "wbr"}


class _Balance(HTMLParser):
    """Checks that every non-void element is closed in order (a cheap well-formedness check of the HTML)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
        else:
            self.stack.pop()


def _parse(html: str) -> _Balance:
    parser = _Balance()
    parser.feed(html)
    parser.close()
    return parser


def test_report_is_well_formed_html(report_data):
    html = render_report(report_data)
    assert html.startswith("<!DOCTYPE html>")
    parsed = _parse(html)
    assert parsed.errors == []
    assert parsed.stack == []


def test_report_is_self_contained(report_data):
    html = render_report(report_data)
    tags = _parse(html).tags
    assert not [t for t, _ in tags if t in {"script", "link", "img", "iframe"}]
    for _, attrs in tags:
        for name in ("src", "href"):
            assert name not in attrs, f"external resource attribute {name}={attrs[name]}"
    # the only URL allowed is the SVG namespace identifier, which is never fetched
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", html))
    assert urls <= {"http://www.w3.org/2000/svg"}
    assert "@import" not in html and "url(" not in html


def test_each_chart_is_valid_svg_with_a_mark_per_run(report_data):
    html = render_report(report_data)
    svgs = re.findall(r"<svg .*?</svg>", html, flags=re.S)
    labels = [ET.fromstring(s).attrib["aria-label"] for s in svgs]
    assert labels == [
        "True cost per run of daily-etl",
        "Runtime per run of daily-etl",
        "Configuration timeline of daily-etl",
        "Cost vs runtime per run, coloured by goal",
    ]
    ns = {"s": "http://www.w3.org/2000/svg"}
    cost, runtime, _, scatter = (ET.fromstring(s) for s in svgs)
    ran = [p for p in report_data.primary.runs if p.true_cost_usd is not None]
    bars = [r for r in cost.iter(f"{{{ns['s']}}}rect") if r.find("s:title", ns) is not None]
    assert len(bars) == len(ran)
    dots = [c for c in runtime.iter(f"{{{ns['s']}}}circle") if c.find("s:title", ns) is not None]
    assert len(dots) == len([p for p in report_data.primary.runs if p.runtime_s is not None])
    scatter_dots = [c for c in scatter.iter(f"{{{ns['s']}}}circle") if c.find("s:title", ns) is not None]
    assert len(scatter_dots) == sum(len([p for p in j.runs if p.runtime_s]) for j in report_data.group)


def test_report_shows_goals_events_and_reverts(report_data):
    html = render_report(report_data)
    assert "SLA 40 min" in html
    assert "cost goal $12.00" in html
    assert "data +50%" in html and "code change" in html
    assert "reverted" in html and "↺" in html
    assert "SLA-driven" in html and "cost-driven" in html
    assert "16 x r5.4xlarge" in html and "8 x m5.2xlarge (photon)" in html


def test_text_is_escaped():
    job = JobSeries(
        name="<script>alert(1)</script>",
        runs=[RunPoint(run=1, instance_type="m5.xlarge", num_workers=2, runtime_s=60, true_cost_usd=1.0)],
    )
    html = render_report(ReportData(primary=job, meta={"note": "<b>x</b>"}))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<b>x</b>" not in html


def test_group_section_absent_without_group(report_data):
    html = render_report(ReportData(primary=report_data.primary))
    assert "coloured by goal" not in html
    assert html.count("<svg ") == 3


def test_no_runs_is_a_clear_error():
    with pytest.raises(ValueError, match="no runs to report for job 'empty'"):
        render_report(ReportData(primary=JobSeries(name="empty")))


def test_write_report_creates_parents_and_replaces(tmp_path, report_data):
    target = tmp_path / "deep" / "dir" / "report.html"
    assert write_report(target, report_data) == target.resolve()
    first = target.read_text()
    write_report(target, report_data)
    assert target.read_text() == first
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


def test_summary_figures(report_data):
    s = summarize(report_data.primary)
    runs = report_data.primary.runs
    assert s.runs == 15
    assert s.first_cost == runs[0].true_cost_usd
    assert s.last_cost == runs[-1].true_cost_usd
    assert s.cost_change_pct == pytest.approx((runs[-1].true_cost_usd - 30.0) / 30.0 * 100)
    assert (s.sla_met, s.sla_judged, s.failures) == (13, 14, 1)
    assert s.reverts == 1
    assert s.config_changes == 6  # v1..v6 are five changes, then the revert to v5


@pytest.mark.parametrize(("lo", "hi"), [(0, 1), (0, 37.2), (0, 2400), (0.001, 0.0042), (5, 5)])
def test_nice_ticks_cover_the_range(lo, hi):
    ticks = nice_ticks(lo, hi)
    assert ticks[0] <= lo and ticks[-1] >= hi
    assert 2 <= len(ticks) <= 12
    steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) == 1


def test_formatters():
    assert fmt_usd(0.0421) == "$0.042"
    assert fmt_usd(12.5) == "$12.50"
    assert fmt_usd(1234) == "$1,234"
    assert fmt_duration(45) == "45 s"
    assert fmt_duration(150) == "2.5 min"
    assert fmt_duration(2400) == "40 min"
    assert fmt_duration(3900) == "1 h 05 min"


def test_baseline_shows_what_the_job_would_have_cost(report_data):
    html = render_report(report_data)
    assert "without Sync (16 x r5.4xlarge): $36.00" in html
    s = summarize(report_data.primary)
    assert s.baseline_total == 5 * 30.0 + 10 * 36.0
    # The 14 runs that have a cost (run 12 failed), as the fixture prices them: $30 falling $1.40 a run to run 13.
    assert s.total_cost == pytest.approx(sum(30.0 - 1.4 * min(i, 12) for i in range(15) if i != 11))
    assert s.saved_pct == pytest.approx((1 - s.total_cost / s.baseline_total) * 100)
    assert f"{s.saved_pct:.0f}% saved" in html


def test_without_baseline_the_first_run_is_the_reference():
    job = JobSeries(
        name="j", runs=[RunPoint(run=1, instance_type="m5.xlarge", num_workers=2, runtime_s=60, true_cost_usd=1.0)]
    )
    html = render_report(ReportData(primary=job))
    assert "run 1: $1.00" in html and "without Sync" not in html and "saved" not in html

"""Self-contained HTML report of a closed-loop run: cost and runtime per run against the goals, the
configuration timeline and, for a group of jobs, cost vs runtime coloured by goal. Works offline."""

from sync_provider.report.model import JobSeries, ReportData, RunPoint
from sync_provider.report.render import Summary, render_report, summarize, write_report

__all__ = ["JobSeries", "ReportData", "RunPoint", "Summary", "render_report", "summarize", "write_report"]

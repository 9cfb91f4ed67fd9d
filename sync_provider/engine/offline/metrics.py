"""Scoring episodes against the oracle: the figures `backtest` and `bench/` print.

- single shot: among episodes the oracle can improve (its cost at least `IMPROVABLE` below the start's), the
  share whose first recommended run succeeded within the SLA at a lower expected cost than the start; the
  median cost change of that run and of the oracle, and the ratio of the two savings; and, over every episode,
  the share whose first recommended run failed or missed the SLA (what trusting one recommendation risks).
- closed loop after K runs: the share of episodes whose configuration at run K is expected to meet the SLA at
  a cost within 10% (5%) of the oracle's for that run.
- SLA violations: share of the policy's runs (every run after the start) that failed or missed the SLA;
  failed runs: how many of them failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from statistics import median
from typing import Any

from sync_provider.engine.offline.episodes import Episode

IMPROVABLE = 0.03
CHECKPOINTS = (3, 5, 10)


#: Expected runtimes are compared with this relative tolerance (an oracle's own runtime can equal the SLA).
EXPECTED_TOLERANCE = 1.0001


def within_sla(runtime_s: float | None, sla_seconds: float | None, tolerance: float = 1.0) -> bool:
    """A run (None = failed) met the SLA; `tolerance` > 1 for expected runtimes."""
    return runtime_s is not None and (sla_seconds is None or runtime_s <= sla_seconds * tolerance)


def is_improvable(ep: Episode) -> bool:
    """The oracle's first-run cost is at least IMPROVABLE below the start's: a single shot has something to win."""
    return len(ep.runs) > 1 and ep.oracle_costs[1] < ep.expected_costs[0] * (1 - IMPROVABLE)


def _meets(ep: Episode, k: int) -> bool:
    return within_sla(ep.expected_runtimes[k], ep.sla_seconds, EXPECTED_TOLERANCE)


def summarize(episodes: Sequence[Episode], checkpoints: Iterable[int] = CHECKPOINTS) -> dict[str, Any]:
    """Metrics of one policy's episodes."""
    out: dict[str, Any] = {"episodes": len(episodes)}
    improvable = [e for e in episodes if is_improvable(e)]
    wins, changes, oracle_changes = 0, [], []
    for e in improvable:
        first = e.runs[1]
        if within_sla(first.runtime_s, e.sla_seconds) and e.expected_costs[1] < e.expected_costs[0]:
            wins += 1
        changes.append(e.expected_costs[1] / e.expected_costs[0] - 1.0)
        oracle_changes.append(e.oracle_costs[1] / e.expected_costs[0] - 1.0)
    med, omed = (median(changes), median(oracle_changes)) if changes else (None, None)
    firsts = [(e, e.runs[1]) for e in episodes if len(e.runs) > 1]
    first_bad = sum(1 for e, r in firsts if not within_sla(r.runtime_s, e.sla_seconds))
    out["single_shot"] = {
        "improvable_episodes": len(improvable),
        "cheaper_within_sla": wins / len(improvable) if improvable else None,
        "median_cost_change": med,
        "oracle_median_cost_change": omed,
        "saving_vs_oracle": (med / omed) if med is not None and omed else None,
        "sla_violations": first_bad / len(firsts) if firsts else None,
    }
    closed = {}
    for k in checkpoints:
        eps = [e for e in episodes if len(e.runs) > k]
        if not eps:
            continue
        w10 = sum(1 for e in eps if _meets(e, k) and e.expected_costs[k] <= e.oracle_costs[k] * 1.10)
        w5 = sum(1 for e in eps if _meets(e, k) and e.expected_costs[k] <= e.oracle_costs[k] * 1.05)
        closed[f"after_{k}"] = {"within_10pct": w10 / len(eps), "within_5pct": w5 / len(eps)}
    out["closed_loop"] = closed
    runs = [(e, r) for e in episodes for r in e.runs[1:]]
    bad = sum(1 for e, r in runs if not within_sla(r.runtime_s, e.sla_seconds))
    failed = sum(1 for _, r in runs if r.runtime_s is None)
    out["sla_violation_rate"] = bad / len(runs) if runs else None
    out["failed_runs"] = failed
    out["runs"] = len(runs)
    return out

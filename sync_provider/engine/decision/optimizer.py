"""Pick one candidate per preference from predicted runtimes and costs.

- economy: the cheapest (expected cost) candidate whose p90 runtime meets the SLA and, when a cost target is
  set too, whose expected cost meets it; ties within 0.5% go to the faster one.
- performance: the fastest (p50) candidate that meets the SLA and the cost target; without a cost target, the
  fastest whose expected cost is at most `PERFORMANCE_COST_CAP` times the economy choice's (beyond that, speed is
  bought at a price nobody asked to pay).
- balanced: the candidate with the smallest cost x runtime product among those meeting both goals and costing at
  most `PERFORMANCE_COST_CAP` times the economy choice, i.e. a 1% saving is worth a 1% slower run.

When no candidate meets the SLA, every preference gets the fastest candidate by p90, flagged meets_sla=False.
When the SLA and the cost target cannot both be met, the SLA wins and the answer is flagged
meets_cost_target=False.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sync_provider.engine.models import Goals, Preference

PERFORMANCE_COST_CAP = 1.5
TIE_TOLERANCE = 0.005


@dataclass(frozen=True)
class Choice:
    """Index of the chosen candidate and whether it meets each goal (by prediction)."""

    index: int
    meets_sla: bool
    meets_cost_target: bool


def _argmin_masked(values: np.ndarray, mask: np.ndarray, tiebreak: np.ndarray | None = None) -> int:
    vals = np.where(mask, values, np.inf)
    best = float(vals.min())
    if tiebreak is None:
        return int(np.argmin(vals))
    near = vals <= best * (1 + TIE_TOLERANCE)
    return int(np.argmin(np.where(near, tiebreak, np.inf)))


def choose(
    p50: np.ndarray,
    p90: np.ndarray,
    cost: np.ndarray,
    goals: Goals,
    allowed: np.ndarray | None = None,
    sla_runtime: np.ndarray | None = None,
) -> dict[Preference, Choice]:
    """Choices for all three preferences. `sla_runtime` (default p90) is what must stay under the SLA."""
    n = len(p50)
    allowed = np.ones(n, dtype=bool) if allowed is None else allowed
    if not allowed.any():
        raise ValueError("no allowed candidate")
    check = p90 if sla_runtime is None else sla_runtime
    sla_ok = check <= goals.sla_seconds if goals.sla_seconds else np.ones(n, dtype=bool)
    cost_ok = cost <= goals.cost_target_usd if goals.cost_target_usd else np.ones(n, dtype=bool)
    sla_ok &= allowed
    if not sla_ok.any():
        i = _argmin_masked(check, allowed)
        c = Choice(i, False, bool(cost_ok[i]))
        return {p: c for p in Preference}
    both = sla_ok & cost_ok
    feasible = both if both.any() else sla_ok
    meets_cost = bool(both.any())

    econ = _argmin_masked(cost, feasible, tiebreak=p90)
    if goals.cost_target_usd and meets_cost:
        perf_mask = feasible
    else:
        perf_mask = feasible & (cost <= cost[econ] * PERFORMANCE_COST_CAP)
    perf = _argmin_masked(p50, perf_mask, tiebreak=cost)
    bal_mask = feasible & (cost <= cost[econ] * PERFORMANCE_COST_CAP)
    bal = _argmin_masked(cost * p50, bal_mask, tiebreak=cost)
    return {
        Preference.ECONOMY: Choice(econ, True, meets_cost),
        Preference.PERFORMANCE: Choice(perf, True, meets_cost),
        Preference.BALANCED: Choice(bal, True, meets_cost),
    }


def objective(preference: Preference, p50: np.ndarray | float, cost: np.ndarray | float) -> np.ndarray | float:
    """What each preference minimises; used by the controller's hysteresis to size a predicted gain."""
    if preference is Preference.ECONOMY:
        return cost
    if preference is Preference.PERFORMANCE:
        return p50
    return np.asarray(cost) * np.asarray(p50)

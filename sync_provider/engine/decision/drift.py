"""Drift detection from the history alone: input growth trends and code changes (a new stage structure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import theilslopes

from sync_provider.engine.models import RunObservation

#: Runs looked at for the input trend, and the smallest growth per run that counts as a trend.
TREND_WINDOW = 8
MIN_GROWTH_PER_RUN = 0.02
STEP_CHANGE = 0.25


@dataclass(frozen=True)
class InputTrend:
    """Robust (Theil-Sen) trend of input bytes per run."""

    last_bytes: float | None
    growth_per_run: float  # relative to the fitted current level
    projected_bytes: float | None  # expected input of the next run (level + one step)
    lookahead_bytes: float | None  # a few runs ahead: what a plan must survive to re-plan in time

    @property
    def growing(self) -> bool:
        return self.growth_per_run >= MIN_GROWTH_PER_RUN


def input_trend(runs: Sequence[RunObservation], lookahead: int = 3) -> InputTrend:
    """Trend of the input size over the last runs. Needs 3 runs with input_bytes; one big run is not a trend."""
    points = [(i, float(r.input_bytes)) for i, r in enumerate(runs) if r.input_bytes][-TREND_WINDOW:]
    if not points:
        return InputTrend(None, 0.0, None, None)
    # A step (the input jumping by a quarter or more from one run to the next) is a new level, not a trend:
    # the trend is measured from the last step on.
    steps = [k for k in range(1, len(points)) if abs(points[k][1] / points[k - 1][1] - 1.0) > STEP_CHANGE]
    if steps:
        points = points[steps[-1] :]
    last = points[-1][1]
    if len(points) < 3:
        return InputTrend(last, 0.0, last, last)
    x = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points])
    slope, _, _, _ = theilslopes(y, x)
    # Inputs of recurring jobs move like a random walk with drift: the next run starts from the last input
    # (a step change persists), and the robust slope adds the drift.
    growth = float(slope / max(last, 1.0))
    if growth < MIN_GROWTH_PER_RUN:
        return InputTrend(last, max(growth, 0.0), last, last)
    return InputTrend(last, growth, last + slope, last + lookahead * slope)


def structure_segment(runs: Sequence[RunObservation]) -> tuple[int, bool]:
    """Index where the current code structure starts, and whether a change was seen at all.

    The structure of a run is its profile's `structure_fingerprint`; runs without a profile (and failed runs,
    whose profile may be cut short) inherit the structure of the run before them. A change starts a new
    segment: older runs describe other code.
    """
    current: str | None = None
    start = 0
    changed = False
    for i, r in enumerate(runs):
        fp = r.profile.structure_fingerprint if r.profile is not None and r.succeeded else ""
        if not fp:
            continue
        if current is not None and fp != current:
            start = i
            changed = True
        current = fp
    return start, changed

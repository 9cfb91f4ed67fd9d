"""A bounded per-stage sample of task times: exact min/max/mean, quantiles from a fixed-size reservoir.

A stage can have millions of tasks; keeping every task time would make memory grow with tasks. A reservoir of
at most `capacity` values (Vitter's algorithm R, seeded per stage so results are reproducible) keeps quantile
errors around 1-2% of rank while memory stays constant per stage, and it is freed when the stage completes.
"""

from __future__ import annotations

import random
from array import array

from sync_provider.engine.evidence.profile import Quantiles

DEFAULT_CAPACITY = 2048


class TaskTimeSketch:
    """Streaming summary of one stage attempt's task durations (seconds)."""

    __slots__ = ("capacity", "count", "total", "min", "max", "_sample", "_rng")

    def __init__(self, seed: int = 0, capacity: int = DEFAULT_CAPACITY):
        self.capacity = capacity
        self.count = 0
        self.total = 0.0
        self.min = float("inf")
        self.max = 0.0
        self._sample = array("d")
        self._rng = random.Random(seed)

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value
        if len(self._sample) < self.capacity:
            self._sample.append(value)
        else:
            j = self._rng.randrange(self.count)
            if j < self.capacity:
                self._sample[j] = value

    def quantiles(self) -> Quantiles:
        if not self.count:
            return Quantiles()
        data = sorted(self._sample)

        def q(p: float) -> float:
            pos = p * (len(data) - 1)
            lo = int(pos)
            hi = min(lo + 1, len(data) - 1)
            return data[lo] + (data[hi] - data[lo]) * (pos - lo)

        return Quantiles(
            min=self.min,
            p25=q(0.25),
            p50=q(0.5),
            p75=q(0.75),
            p90=q(0.9),
            p99=q(0.99),
            max=self.max,
            mean=self.total / self.count,
        )

    def release(self) -> None:
        """Drop the reservoir once the stage is final (min/max/mean stay exact)."""
        self._sample = array("d")

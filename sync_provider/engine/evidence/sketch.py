"""A bounded per-stage sample of task times: exact min/max/mean, quantiles from a fixed-size reservoir.

A stage can have millions of tasks; keeping every task time would make memory grow with tasks. A reservoir of
at most `capacity` values (Vitter's algorithm R, seeded per stage so results are reproducible) keeps quantile
errors around 1-2% of rank while memory stays constant per stage, and it is freed when the stage completes.
Values arrive in batches and are folded with numpy.
"""

from __future__ import annotations

import numpy as np

from sync_provider.engine.evidence.profile import Quantiles

DEFAULT_CAPACITY = 2048


class TaskTimeSketch:
    """Streaming summary of one stage attempt's task durations (seconds)."""

    __slots__ = ("capacity", "count", "total", "min", "max", "_sample", "_size", "_rng")

    def __init__(self, seed: int = 0, capacity: int = DEFAULT_CAPACITY):
        self.capacity = capacity
        self.count = 0
        self.total = 0.0
        self.min = float("inf")
        self.max = 0.0
        self._sample = np.empty(0, dtype=np.float64)
        self._size = 0
        self._rng = np.random.default_rng(seed)

    def add(self, value: float) -> None:
        self.add_many(np.array([value], dtype=np.float64))

    def add_many(self, values: np.ndarray) -> None:
        n = len(values)
        if not n:
            return
        self.total += float(values.sum())
        self.min = min(self.min, float(values.min()))
        self.max = max(self.max, float(values.max()))
        room = min(n, self.capacity - self._size)
        if room > 0:
            if len(self._sample) < self.capacity:
                grown = np.empty(self.capacity, dtype=np.float64)
                grown[: self._size] = self._sample[: self._size]
                self._sample = grown
            self._sample[self._size : self._size + room] = values[:room]
            self._size += room
        rest = values[room:]
        if len(rest):
            # algorithm R: the i-th value overall (1-based) replaces a random slot with probability capacity / i
            seen = np.arange(self.count + room + 1, self.count + n + 1)
            slots = (self._rng.random(len(rest)) * seen).astype(np.int64)
            keep = slots < self.capacity
            self._sample[slots[keep]] = rest[keep]
        self.count += n

    def quantiles(self) -> Quantiles:
        if not self.count:
            return Quantiles()
        q = np.quantile(self._sample[: self._size], [0.25, 0.5, 0.75, 0.9, 0.99])
        return Quantiles(
            min=self.min,
            p25=float(q[0]),
            p50=float(q[1]),
            p75=float(q[2]),
            p90=float(q[3]),
            p99=float(q[4]),
            max=self.max,
            mean=self.total / self.count,
        )

    def release(self) -> None:
        """Drop the reservoir once the stage is final (min/max/mean stay exact)."""
        self._sample = np.empty(0, dtype=np.float64)

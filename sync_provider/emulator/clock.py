"""The simulated clock: simulated time runs `time_scale` times faster than the wall clock."""

from __future__ import annotations

import threading
import time


class SimClock:
    """Epoch milliseconds on the simulated timeline; starts at `start_ms` (default: now) and never goes back."""

    def __init__(self, time_scale: float = 1000.0, start_ms: int | None = None):
        if time_scale <= 0:
            raise ValueError(f"time_scale must be positive, got {time_scale}")
        self.time_scale = float(time_scale)
        self._base_ms = max(int(time.time() * 1000), start_ms or 0)
        self._base_wall = time.monotonic()
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        with self._lock:
            return self._base_ms + int((time.monotonic() - self._base_wall) * 1000 * self.time_scale)

    def wall_seconds_until(self, sim_ms: int) -> float:
        return max(0.0, (sim_ms - self.now_ms()) / 1000.0 / self.time_scale)

    def resume_from(self, sim_ms: int) -> None:
        """After a restart: continue from the last simulated time seen, so persisted runs stay in the past."""
        with self._lock:
            now = self._base_ms + int((time.monotonic() - self._base_wall) * 1000 * self.time_scale)
            if sim_ms > now:
                self._base_ms, self._base_wall = sim_ms, time.monotonic()

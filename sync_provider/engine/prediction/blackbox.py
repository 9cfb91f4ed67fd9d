"""Black-box runtime model for jobs without event logs: an Ernest-style scaling law fitted to the runs seen.

    runtime = serial + work * data_scale / effective_parallelism + coordination * log(nodes)

`effective_parallelism` is task slots times per-core speed (times the Photon CPU factor). The three
non-negative coefficients are fitted by least squares on relative error, pulled towards a prior so that a single
run already gives a sensible first move: the prior says the run was about 85% parallel work and 15% serial
(start-up, driver, skew), which makes halving the cluster roughly 1.85x slower rather than 2x or 1x.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import lsq_linear

from sync_provider.engine.prediction.replay import PHOTON_DEFAULT_SHARE, photon_cpu_factor
from sync_provider.engine.prediction.resources import ConfigArrays

#: Prior share of a run's wall time that does not shrink with more slots.
PRIOR_SERIAL_SHARE = 0.15
#: How strongly the prior holds each coefficient (in units of one observed run).
PRIOR_WEIGHT = 0.6


def _parallelism(arrays: ConfigArrays) -> np.ndarray:
    return arrays.slots * arrays.speed / photon_cpu_factor(PHOTON_DEFAULT_SHARE, arrays.photon)


def _design(arrays: ConfigArrays, data_scale: np.ndarray) -> np.ndarray:
    nodes = np.maximum(arrays.workers, 0) + 1.0
    return np.column_stack([np.ones(len(arrays)), data_scale / _parallelism(arrays), np.log(nodes)])


@dataclass(frozen=True)
class ScalingModel:
    """Fitted coefficients (serial s, work s*slot, coordination s per e-fold of nodes)."""

    coef: np.ndarray

    @classmethod
    def fit(
        cls,
        arrays: ConfigArrays,
        runtimes: np.ndarray,
        data_scale: np.ndarray,
        weights: np.ndarray,
        anchor: int = -1,
    ) -> ScalingModel:
        """Fit on observed runs; `anchor` is the run whose split into serial/parallel sets the prior."""
        X = _design(arrays, data_scale)
        t0 = float(runtimes[anchor])
        p0 = float(_parallelism(arrays)[anchor])
        d0 = float(data_scale[anchor])
        prior = np.array([PRIOR_SERIAL_SHARE * t0, (1 - PRIOR_SERIAL_SHARE) * t0 * p0 / d0, 0.0])
        scale = np.array([t0, t0 * p0 / d0, 0.05 * t0])  # how far a coefficient may move for one unit of weight
        rows = X / runtimes[:, None] * np.sqrt(weights)[:, None]
        rhs = np.sqrt(weights)
        prior_rows = np.diag(np.sqrt(PRIOR_WEIGHT) / scale)
        A = np.vstack([rows, prior_rows])
        b = np.concatenate([rhs, np.sqrt(PRIOR_WEIGHT) * prior / scale])
        res = lsq_linear(A, b, bounds=(0.0, np.inf), method="bvls")
        return cls(coef=res.x)

    def predict(self, arrays: ConfigArrays, data_scale: float | np.ndarray = 1.0) -> np.ndarray:
        scale = np.broadcast_to(np.asarray(data_scale, dtype=float), (len(arrays),))
        return np.maximum(_design(arrays, scale) @ self.coef, 1e-3)


def distinct(configs: Sequence) -> int:
    """Number of distinct configurations among `configs`."""
    return len({c.key() for c in configs})

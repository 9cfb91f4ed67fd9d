"""Learned correction of the base runtime model from the project's own runs, with its uncertainty.

Residuals are log(actual / base prediction) at the configurations that ran. The correction has two parts:

- a global part: a recency-weighted median of the residuals while the history is short (robust to one odd
  run), an xgboost regressor on configuration features once there are `XGB_MIN_RUNS` runs;
- a local part: a kernel average of what is left at nearby configurations, so that a configuration that
  already ran is predicted from its own runs, and its neighbours partly so.

The spread (log scale) combines run-to-run noise (pooled over repeated configurations, with a prior) and model
error that grows with the distance from the nearest configuration that ran.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sync_provider.engine.prediction.resources import ConfigArrays

#: Runs needed before the global correction switches from a weighted median to xgboost.
XGB_MIN_RUNS = 20
#: Prior run-to-run noise (log scale, one standard deviation) and its weight in pseudo-observations. One
#: pseudo-observation: from the second repeated run on, the job's own spread outweighs the prior (jobs differ:
#: in the benchmark a skewed job varies ~10% run to run, a CPU-bound one ~3%); that converged better than weight
#: 3, and a wider prior (8%) made the engine timid (fewer episodes near the oracle) without fewer misses.
NOISE_PRIOR = 0.06
NOISE_PRIOR_WEIGHT = 1.0
#: Kernel length scale in feature units (about a factor 1.5 in task slots).
KERNEL_LENGTH = 0.4
#: Pseudo-weight that shrinks a group's mean residual towards zero (one run of a group counts for half).
GROUP_SHRINK = 1.0
#: Bounds of the kernel's pseudo-weight (noise variance over model variance, as in a Gaussian process): how
#: much one run at a configuration is trusted over the base model there.
KERNEL_SHRINK_BOUNDS = (0.05, 1.0)


def distance_features(arrays: ConfigArrays, data_scale: np.ndarray | float = 1.0) -> np.ndarray:
    """Features in which distance means 'how different the run would be' (log slots and log input dominate)."""
    scale = np.broadcast_to(np.asarray(data_scale, dtype=float), (len(arrays),))
    return np.column_stack(
        [
            np.log(arrays.slots),
            np.log(np.maximum(scale, 1e-6)),
            0.5 * np.log(arrays.vcpus),
            np.log(arrays.mem_per_core_gib),
            2.0 * np.log(arrays.speed),
            0.8 * arrays.photon.astype(float),
            0.4 * arrays.arm.astype(float),
            0.3 * np.log(arrays.disk_per_core_mbps),
        ]
    )


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cum = np.cumsum(w)
    return float(v[np.searchsorted(cum, 0.5 * cum[-1])])


def _noise(keys: list, residuals: np.ndarray) -> float:
    """Pooled within-configuration spread of the residuals, shrunk towards the prior."""
    groups: dict = {}
    for k, r in zip(keys, residuals, strict=True):
        groups.setdefault(k, []).append(r)
    ss = dof = 0.0
    for vals in groups.values():
        if len(vals) > 1:
            # The plain spread: a slow run is evidence of how slow the next one may be. A median-based spread
            # that discounted it came out below the true noise on a few repeats, and the p90 band with it.
            arr = np.asarray(vals)
            ss += float(((arr - arr.mean()) ** 2).sum())
            dof += len(vals) - 1
    return float(np.sqrt((NOISE_PRIOR_WEIGHT * NOISE_PRIOR**2 + ss) / (NOISE_PRIOR_WEIGHT + dof)))


@dataclass
class Correction:
    """A fitted correction: call `apply` on candidate features to get (log correction, model spread)."""

    feats: np.ndarray
    residual_left: np.ndarray
    weights: np.ndarray
    global_shift: float
    group_shifts: dict
    noise: float
    base_spread: float
    booster: object | None = None

    @classmethod
    def fit(
        cls,
        arrays: ConfigArrays,
        data_scale: np.ndarray,
        residuals: np.ndarray,
        weights: np.ndarray,
        *,
        base_spread: float,
    ) -> Correction:
        feats = distance_features(arrays, data_scale)
        noise = _noise([c.key() for c in arrays.configs], residuals)
        booster = None
        if len(residuals) >= XGB_MIN_RUNS and len({c.key() for c in arrays.configs}) >= 4:
            booster = _fit_xgb(_xgb_features(arrays, data_scale), residuals, weights)
            fitted = booster.predict(_xgb_features(arrays, data_scale))
            shift = 0.0
            left = residuals - fitted
        else:
            n = len(residuals)
            shift = _weighted_median(residuals, weights) * n / (n + 1.0) if n else 0.0
            left = residuals - shift
        groups = {}
        if booster is None:
            # What the base model gets wrong for a whole group (Photon on/off, an instance family) is learned from
            # that group's runs and applied to its untried members; shrunk like a random effect.
            for name, codes in _groups(arrays).items():
                for code in np.unique(codes):
                    m = codes == code
                    w = weights[m]
                    groups[(name, int(code))] = float((w * left[m]).sum() / (w.sum() + GROUP_SHRINK))
                left = left - _lookup(groups, name, codes)
        return cls(feats, left, weights, shift, groups, noise, base_spread, booster)

    def apply(self, arrays: ConfigArrays, data_scale: float | np.ndarray = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """(log-scale correction, log-scale standard deviation) for every candidate."""
        feats = distance_features(arrays, data_scale)
        d2 = ((feats[:, None, :] - self.feats[None, :, :]) ** 2).sum(axis=2)
        k = np.exp(-0.5 * d2 / KERNEL_LENGTH**2) * self.weights[None, :]
        ksum = k.sum(axis=1)
        shrink = float(np.clip((self.noise / self.base_spread) ** 2, *KERNEL_SHRINK_BOUNDS))
        local = (k @ self.residual_left) / (ksum + shrink)
        corr = self.global_shift + local
        for name, codes in _groups(arrays).items():
            corr = corr + _lookup(self.group_shifts, name, codes)
        if self.booster is not None:
            scale = np.broadcast_to(np.asarray(data_scale, dtype=float), (len(arrays),))
            corr = corr + self.booster.predict(_xgb_features(arrays, scale))
        # Model error: the base spread far from any run, shrinking as nearby runs accumulate.
        nearest = np.sqrt(d2.min(axis=1)) if d2.size else np.full(len(arrays), 3.0)
        model = self.base_spread * np.minimum(1.0, 0.25 + nearest / 0.7) / np.sqrt(1.0 + ksum)
        spread = np.sqrt(self.noise**2 + model**2)
        return corr, spread


def _groups(arrays: ConfigArrays) -> dict[str, np.ndarray]:
    return {"photon": arrays.photon.astype(int), "family": arrays.family_code}


def _lookup(shifts: dict, name: str, codes: np.ndarray) -> np.ndarray:
    """Each code's shift in group `name` (0 for codes no run belonged to), vectorised."""
    uniq, inv = np.unique(codes, return_inverse=True)
    return np.array([shifts.get((name, int(c)), 0.0) for c in uniq])[inv]


def _xgb_features(arrays: ConfigArrays, data_scale: np.ndarray | float) -> np.ndarray:
    scale = np.broadcast_to(np.asarray(data_scale, dtype=float), (len(arrays),))
    return np.column_stack([arrays.feature_matrix(), np.log(np.maximum(scale, 1e-6))])


class _Booster:
    """A trained xgboost booster with a numpy-in, numpy-out predict (the low-level API: no wrapper overhead)."""

    def __init__(self, booster):
        self.booster = booster

    def predict(self, X: np.ndarray) -> np.ndarray:
        import xgboost as xgb

        return self.booster.predict(xgb.DMatrix(X, nthread=1))


def _fit_xgb(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> _Booster:
    """A small, heavily regularised booster: the residuals are few and noisy."""
    import xgboost as xgb

    params = {
        "max_depth": 3,
        "eta": 0.1,
        "min_child_weight": 2.0,
        "lambda": 5.0,
        "nthread": 1,
        "tree_method": "exact",
        "verbosity": 0,
        "objective": "reg:squarederror",
    }
    dtrain = xgb.DMatrix(X, label=y, weight=w, nthread=1)
    return _Booster(xgb.train(params, dtrain, num_boost_round=60))

"""The runtime model the optimizer asks: base model (profile replay or black-box scaling) + learned correction.

`RuntimeModel.fit(runs)` takes the successful runs of one code structure (the controller drops runs from before
a code change); `predict(arrays, input_bytes)` returns p50/p90 runtimes for every candidate at the expected
input size. With at least one profiled run the base is the replay of the newest profiles; otherwise it is the
black-box scaling law. Recent runs weigh more, and much more when the input is growing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from sync_provider.engine.models import RunObservation
from sync_provider.engine.prediction.blackbox import ScalingModel
from sync_provider.engine.prediction.correction import Correction
from sync_provider.engine.prediction.replay import (
    StageWork,
    memory_risk,
    observed_photon_share,
    replay,
    spill_disk_ratio,
    survived_by_luck,
)
from sync_provider.engine.prediction.resources import ConfigArrays, ResourceTable

Z90 = 1.2816
#: Largest log residual the correction learns from (a factor of e^1.5 = 4.5).
MAX_RESIDUAL = 1.5
#: Runs (newest first) the correction learns from; older runs add little and cost latency.
MAX_RUNS = 60
#: Profiles replayed and averaged (newest first): averaging damps the noise of any one run.
MAX_REFERENCES = 3
#: Spread of the base model far from any observed run (log scale), per mode.
BASE_SPREAD = {"profile": 0.10, "blackbox": 0.15}
#: Spot workers: interruptions cost a little time on average and add variance.
SPOT_SLOWDOWN = 1.03
SPOT_EXTRA_SPREAD = 0.05
#: Extra spread for what no run has tried yet: Photon on/off (its gain varies 1.2-4x by job) and CPU architecture.
#: With a profile the replay estimates the job's own Photon gain from its operators. Without one (black box) the
#: Photon factor is a single prior (1.25x) for a gain anywhere from 1x (RDD, Python UDFs) to about 3x (SQL-heavy
#: jobs, the upper end of public figures): 0.5 puts 3x at the p95, so a first move does not turn Photon off blind.
#: Measured (216 episodes of engine-bb, seeds 7 to 23): first recommendations missing the SLA 11.6% -> 2.3%, all
#: runs missing it 9.6% -> 9.0%, first-move saving 40% -> 34% of the oracle's, @5 27% -> 29%.
UNSEEN_PHOTON_SPREAD = {"profile": 0.2, "blackbox": 0.5}
UNSEEN_ARCH_SPREAD = 0.08
#: Extra spread for Photon on an instance family the job has not run with Photon (profile mode): the replay's
#: Photon gain, from the profile's operators on one family's cores, memory and disk, carries over to another only
#: roughly. Not in black-box mode, whose Photon factor is one prior for all families (measured: the extra spread
#: helped the profiled engine and cost the black-box one an episode and a miss in the benchmark).
UNSEEN_PHOTON_FAMILY_SPREAD = 0.1
#: Memory per core this close to what has carried the input counts as proven too: the biggest task's need moves
#: more than that from run to run with the data layout, and the risk rule's threshold is only a prior (a 7.6 GiB
#: per core i3 next to an 8 GiB r5 is the same bet, not a riskier one).
PROVEN_MEMORY_MARGIN = 0.9
#: Profiled runs per configuration judged for luck (the newest ones): enough to remember a lucky run that is no
#: longer a reference, few enough that a long history of one configuration stays cheap.
LUCK_RUNS_PER_CONFIG = 3


@dataclass(frozen=True)
class RuntimeEstimate:
    """Runtimes (seconds) for each candidate: median, 90th percentile and the log-scale spread behind them."""

    p50: np.ndarray
    p90: np.ndarray
    sigma: np.ndarray

    def quantile(self, z: float) -> np.ndarray:
        """Runtime at `z` standard deviations (log scale) above the median."""
        return self.p50 * np.exp(z * self.sigma)


def recency_weights(n: int, half_life: float) -> np.ndarray:
    """Weights for n runs, oldest first: the newest weighs 1, one half-life older weighs 0.5."""
    age = np.arange(n - 1, -1, -1, dtype=float)
    return 0.5 ** (age / half_life)


def input_growing(inputs: Sequence[float | None]) -> bool:
    """True when the recent inputs vary enough that old runs describe a different job size."""
    vals = np.array([v for v in inputs[-6:] if v], dtype=float)
    return len(vals) >= 3 and float(np.std(vals) / np.mean(vals)) > 0.1


def job_photon_share(profiled: Sequence[tuple[int, RunObservation]]) -> float | None:
    """What the newest run with Photon on showed Photon took over (None without one): it holds for every
    reference, since which operators Photon can run is a property of the job's code, not of the cluster. It
    only lowers the names' prior: operator counts say what Photon left to Spark, not how much of the CPU time
    the operators it took carry, and the prior's coverage already discounts for that."""
    for _, r in reversed(profiled):
        if r.config.photon and r.profile is not None:
            share = observed_photon_share(r.profile)
            if share is not None:
                return share
    return None


def job_spill_disk_ratio(profiled: Sequence[tuple[int, RunObservation]]) -> float | None:
    """What the newest run that spilled wrote to disk per byte spilled from memory (None: no run spilled): it
    holds for references that did not spill, since how well spilled rows compress is a property of the data."""
    for _, r in reversed(profiled):
        ratio = spill_disk_ratio(r.profile) if r.profile is not None else None
        if ratio is not None:
            return ratio
    return None


class RuntimeModel:
    """Predicts runtimes of candidate configurations for one job from its recent successful runs."""

    def __init__(self, resources: ResourceTable):
        self.resources = resources
        self.mode: Literal["profile", "blackbox"] = "blackbox"
        self.reference_input: float | None = None
        self._refs: list[tuple[StageWork, ConfigArrays, float, float | None, float]] = []
        self._scaling: ScalingModel | None = None
        self._correction: Correction | None = None
        self.runs: list[RunObservation] = []
        # What the runs have tried, for the extra spread on what they have not (set by fit).
        self._seen_photon: list[bool] = []
        self._seen_arm: list[bool] = []
        self._photon_families = np.zeros(0, dtype=int)

    def fit(self, runs: Sequence[RunObservation]) -> RuntimeModel:
        """Fit on successful runs (oldest first). Raises ValueError when there is none."""
        runs = [r for r in runs if r.succeeded and r.runtime_s][-MAX_RUNS:]
        if not runs:
            raise ValueError("no successful run with a runtime to learn from")
        self.runs = runs
        inputs = [float(r.input_bytes) if r.input_bytes else None for r in runs]
        self.reference_input = next((v for v in reversed(inputs) if v), None)
        half_life = 3.0 if input_growing(inputs) else 10.0
        weights = recency_weights(len(runs), half_life)
        arrays = self.resources.arrays([r.config for r in runs])
        runtimes = np.array([r.runtime_s for r in runs], dtype=float)
        scales = np.array([self._scale(v) for v in inputs])

        profiled = [(i, r) for i, r in enumerate(runs) if r.profile is not None and r.profile.stages]
        self._refs = []
        share = job_photon_share(profiled)
        spill_ratio = job_spill_disk_ratio(profiled)
        for i, r in profiled[-MAX_REFERENCES:]:
            work = StageWork.from_profile(r.profile)
            if share is not None and share < work.photon_share:
                work = replace(work, photon_share=share)
            if work.spill_disk_ratio is None and spill_ratio is not None:
                work = replace(work, spill_disk_ratio=spill_ratio)
            self._refs.append((work, arrays.take([i]), r.runtime_s, inputs[i], weights[i]))
        if self._refs:
            self.mode = "profile"
            base = self._base_log(arrays, scales)
        else:
            self.mode = "blackbox"
            self._scaling = ScalingModel.fit(arrays, runtimes, scales, weights)
            base = np.log(self._scaling.predict(arrays, scales))
        base = base + np.log(np.where(arrays.spot, SPOT_SLOWDOWN, 1.0))
        # Clipped: one absurd base prediction must not drag every other candidate with it.
        residuals = np.clip(np.log(runtimes) - base, -MAX_RESIDUAL, MAX_RESIDUAL)
        self._correction = Correction.fit(arrays, scales, residuals, weights, base_spread=BASE_SPREAD[self.mode])
        self._seen_photon = sorted({bool(p) for p in arrays.photon})
        self._seen_arm = sorted({bool(a) for a in arrays.arm[-5:]})
        self._photon_families = np.unique(arrays.family_code[arrays.photon])
        return self

    def _scale(self, input_bytes: float | None) -> float:
        if not input_bytes or not self.reference_input:
            return 1.0
        return float(input_bytes) / self.reference_input

    def _base_log(self, arrays: ConfigArrays, data_scale: float | np.ndarray) -> np.ndarray:
        if self.mode == "blackbox":
            assert self._scaling is not None
            return np.log(self._scaling.predict(arrays, data_scale))
        data_scale = np.asarray(data_scale, dtype=float)
        total = np.zeros(len(arrays))
        wsum = 0.0
        for work, ref, runtime, ref_input, w in self._refs:
            # Scales are relative to the newest input; each reference replays from its own input size.
            rel = self.reference_input / ref_input if self.reference_input and ref_input else 1.0
            scale = data_scale * rel
            total += w * np.log(replay(work, ref, arrays, observed_runtime_s=runtime, data_scale=scale))
            wsum += w
        return total / wsum

    def _photon_on_unseen_family(self, arrays: ConfigArrays) -> np.ndarray:
        """Photon candidates of an instance family no run of the job has used with Photon (profile mode only)."""
        if self.mode != "profile":
            return np.zeros(len(arrays), dtype=bool)
        return arrays.photon & ~np.isin(arrays.family_code, self._photon_families)

    def memory_risk(self, arrays: ConfigArrays, input_bytes: float | None = None) -> np.ndarray:
        """Candidates where the newest profile's biggest tasks risk running out of memory (profile mode only)."""
        if self.mode != "profile":
            return np.zeros(len(arrays), dtype=bool)
        work, _, _, ref_input, _ = self._refs[-1]
        scale = float(input_bytes) / ref_input if input_bytes and ref_input else 1.0
        # Memory per core that already carried (nearly) this much input is known to be safe, unless the run's
        # biggest tasks spilled far beyond their slots there: it survived, and the next run's skew may not.
        floor = 0.9 * float(input_bytes or 0)
        lucky = self._lucky_configs()
        proven = [
            r.config for r in self.runs if (not r.input_bytes or r.input_bytes >= floor) and r.config.key() not in lucky
        ]
        safe = self.resources.arrays(proven).mem_per_core_gib.min() if proven else np.inf
        # No more memory per core than a run that survived by luck had is a risk whatever the newest profile says.
        luck = [r.config for r in self.runs if r.config.key() in lucky]
        lucky_mem = self.resources.arrays(luck).mem_per_core_gib.max() if luck else -np.inf
        risky = memory_risk(work, arrays, scale) | (arrays.mem_per_core_gib <= lucky_mem + 1e-9)
        return risky & (arrays.mem_per_core_gib < PROVEN_MEMORY_MARGIN * safe)

    def _lucky_configs(self) -> set:
        """Keys of configurations on which a recent profiled run survived by luck (`survived_by_luck`); the
        newest LUCK_RUNS_PER_CONFIG profiled runs of each configuration are judged, not only the references."""
        lucky: set = set()
        judged: dict = {}
        for r in reversed(self.runs):
            key = r.config.key()
            if r.profile is None or not r.profile.stages or key in lucky:
                continue
            if judged.get(key, 0) >= LUCK_RUNS_PER_CONFIG:
                continue
            judged[key] = judged.get(key, 0) + 1
            if not any(st.disk_spilled_bytes > 0 for st in r.profile.stages):
                continue  # nothing spilled: no task outgrew its slot
            if survived_by_luck(StageWork.from_profile(r.profile), self.resources.arrays([r.config])):
                lucky.add(key)
        return lucky

    def predict(self, arrays: ConfigArrays, input_bytes: float | None = None) -> RuntimeEstimate:
        """p50/p90 runtimes of `arrays` when the job reads `input_bytes` (None: as much as the newest run)."""
        if self._correction is None:
            raise RuntimeError("RuntimeModel.predict called before fit")
        scale = self._scale(input_bytes)
        log_base = self._base_log(arrays, scale) + np.log(np.where(arrays.spot, SPOT_SLOWDOWN, 1.0))
        corr, spread = self._correction.apply(arrays, scale)
        extra = (
            np.where(arrays.spot, SPOT_EXTRA_SPREAD**2, 0.0)
            + np.where(np.isin(arrays.photon, self._seen_photon), 0.0, UNSEEN_PHOTON_SPREAD[self.mode] ** 2)
            + np.where(np.isin(arrays.arm, self._seen_arm), 0.0, UNSEEN_ARCH_SPREAD**2)
            + np.where(self._photon_on_unseen_family(arrays), UNSEEN_PHOTON_FAMILY_SPREAD**2, 0.0)
        )
        sigma = np.sqrt(spread**2 + extra)
        p50 = np.exp(log_base + corr)
        return RuntimeEstimate(p50=p50, p90=p50 * np.exp(Z90 * sigma), sigma=sigma)

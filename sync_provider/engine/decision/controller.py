"""The closed-loop controller: from a job's history alone, decide the next configuration and the phase.

Rules, in the order they apply (docs/engine.md explains each):

1. Rollback: the last run failed or missed the SLA on a configuration that had just been changed -> go back to
   the last configuration that succeeded within the SLA (phase ROLLBACK), unless the miss came with much more
   input than the last good run had (drift: re-plan instead). Not to a configuration that has failed since, nor
   to one with no more memory per core than a configuration the data outgrew.
2. Never blindly again: a configuration whose latest run failed is excluded (one with a track record of three
   successes gets one retry, unless it failed on more input than it ever carried), with everything that has no
   more memory per core (failures are mostly memory).
3. Memory risk: with a profile, candidates whose biggest tasks would need several times a slot's execution
   memory are excluded, unless that much memory per core already carried the input (and not by luck: not with
   its biggest tasks spilling far beyond their slot), and so are those with no more memory per core than a run
   that survived by luck; when every candidate is a risk, those with the most memory per core remain. Without
   a profile, nothing with less memory per core than has worked is proposed.
4. Code change: a new `structure_fingerprint` starts a new segment; older runs leave the model and the next
   `relearning_runs` runs are a RELEARNING phase (stricter runtime quantile, step limits).
5. Drift: the input trend (Theil-Sen, from the last step on) is projected a few runs ahead; when the current
   configuration would then miss the SLA, the SLA is "at risk": the plan is made for the projected input and
   the growth step limit is lifted, so the job re-plans before the SLA breaks.
6. Learning phase (first `learning_runs` runs): a stricter quantile (p95) against the SLA.
7. Exploration (from the second recommendation until `explore_runs` runs): the economy choice maximises expected
   improvement over the best configuration tried so far, safely (its runtime quantile meets the SLA); once, a
   run with Photon the other way when this code has never tried it and it may pay.
8. Step limits: at most `max_step` times more or fewer task slots than now per run, except that growth is
   unlimited while the SLA is at risk.
9. Hysteresis: a move must promise at least `min_gain` on the preference's objective, otherwise the current
   configuration stays (phase STABLE once optimizing).
10. Noise: the runtime model pools repeated runs, so one slow run moves the estimate by its share and widens the
   band by its share; it is not read as a trend.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sync_provider.engine.decision.candidates import (
    HourlyPrices,
    enumerate_candidates,
    hourly_prices,
    within_constraints,
)
from sync_provider.engine.decision.drift import input_trend, structure_segment
from sync_provider.engine.decision.optimizer import Choice, choose, objective
from sync_provider.engine.errors import InvalidHistoryError, NoCandidateError
from sync_provider.engine.evidence.catalog import UnknownInstanceType
from sync_provider.engine.evidence.cost import CostModel
from sync_provider.engine.models import (
    ClusterConfig,
    Constraints,
    Goals,
    Phase,
    Prediction,
    Preference,
    RunObservation,
    Solution,
)
from sync_provider.engine.prediction.model import PROVEN_MEMORY_MARGIN, Z90, RuntimeEstimate, RuntimeModel
from sync_provider.engine.prediction.resources import ConfigArrays, ResourceTable


@dataclass(frozen=True)
class ControllerSettings:
    """Tunable rules of the controller (defaults are what the benchmark reports)."""

    learning_runs: int = 3
    relearning_runs: int = 2
    max_step: float = 2.0
    min_gain: float = 0.03
    learning_z: float = 1.645
    optimizing_z: float = Z90
    drift_lookahead_runs: int = 3
    explore_runs: int = 5


DEFAULT_SETTINGS = ControllerSettings()
#: Search spaces kept ready per controller (keyed by constraints or by the explicit candidate list).
SPACE_CACHE_SIZE = 16


def validate_history(history: Sequence[RunObservation]) -> None:
    """Reject histories the engine cannot learn from, naming the run and the fix."""
    if not history:
        raise InvalidHistoryError(
            "the history is empty: the engine learns from finished runs; run the job once on its current "
            "configuration and pass that run"
        )
    for i, r in enumerate(history):
        if r.succeeded and (r.runtime_s is None or r.runtime_s <= 0):
            raise InvalidHistoryError(
                f"run {i} ({r.run_id or 'no id'}) succeeded but has no positive runtime_s ({r.runtime_s}); "
                "record its wall time or mark it failed"
            )
        if r.input_bytes is not None and r.input_bytes < 0:
            raise InvalidHistoryError(f"run {i} has negative input_bytes ({r.input_bytes}); leave it empty instead")


def _met_sla(run: RunObservation, sla: float | None) -> bool:
    return run.succeeded and run.runtime_s is not None and (sla is None or run.runtime_s <= sla)


@dataclass
class _Context:
    """Everything decide() derives from the history before optimizing."""

    history: Sequence[RunObservation]
    segment: Sequence[RunObservation]
    code_changed: bool
    current: ClusterConfig
    last_good: ClusterConfig | None
    bad: set
    succeeded_since_failure: set  # configuration keys that succeeded after the segment's latest failed run
    phase: Phase
    notes: list[str]


class Controller:
    """Stateless: every call derives the phase from the history; construct once per catalog and reuse."""

    def __init__(self, cost_model: CostModel, settings: ControllerSettings = DEFAULT_SETTINGS):
        self.cost_model = cost_model
        self.settings = settings
        self.resources = ResourceTable(cost_model.catalog)
        self._spaces: OrderedDict[tuple, tuple[list[ClusterConfig], ConfigArrays, HourlyPrices]] = OrderedDict()

    # ------------------------------------------------------------------ context
    def _context(self, history: Sequence[RunObservation], goals: Goals, current: ClusterConfig | None) -> _Context:
        sla = goals.sla_seconds
        start, code_changed = structure_segment(history)
        segment = history[start:]
        current = current or history[-1].config
        last = history[-1]
        prev = history[-2] if len(history) > 1 else None
        notes: list[str] = []

        # Configurations whose latest run (in this code structure) failed, unless the failure was a one-off on
        # a configuration that has otherwise been succeeding.
        latest: dict = {}
        for r in segment:
            latest.setdefault(r.config.key(), []).append(r)
        bad = set()
        for key, runs in latest.items():
            if not runs[-1].succeeded:
                fails = 0
                for r in reversed(runs):
                    if r.succeeded:
                        break
                    fails += 1
                # A configuration with a track record gets one retry (a transient failure); a new one does not,
                # nor one that failed on more data than it ever carried (most likely memory, not bad luck).
                carried = max((r.input_bytes or 0 for r in runs if r.succeeded), default=0)
                more = bool(runs[-1].input_bytes and carried and runs[-1].input_bytes > carried)
                if fails >= 2 or len(runs) - fails < 3 or more:
                    bad.add(key)
        last_failure = max((i for i, r in enumerate(segment) if not r.succeeded), default=-1)
        since = {r.config.key() for r in segment[last_failure + 1 :] if r.succeeded}
        good_run = self._last_good_run(history, latest, bad, since, sla)
        last_good = good_run.config if good_run is not None else None
        n_ok = sum(1 for r in segment if r.succeeded and r.runtime_s)
        changed_last = prev is not None and prev.config.key() != last.config.key()
        last_bad = not _met_sla(last, sla)
        # A breach on much more data than the last good run had is drift, not the new configuration's fault:
        # going back would not help, re-planning for the new input does.
        grew = bool(
            good_run is not None
            and last.input_bytes
            and good_run.input_bytes
            and last.input_bytes > 1.2 * good_run.input_bytes
        )
        if grew and last_bad and last.succeeded:
            notes.append("the last run missed the SLA on much more input than the last good run: re-planning")
        if (
            last_bad
            and changed_last
            and not (grew and last.succeeded)
            and last_good is not None
            and last_good.key() != last.config.key()
        ):
            phase = Phase.ROLLBACK
            what = "failed" if not last.succeeded else f"missed the SLA ({last.runtime_s:.0f}s > {sla:.0f}s)"
            notes.append(f"the last run on {last.config.describe()} {what}: back to the last good configuration")
        elif code_changed and n_ok <= self.settings.relearning_runs:
            phase = Phase.RELEARNING
            notes.append("the job's stage structure changed (code change): re-learning from the new runs")
        elif sum(1 for r in history if r.succeeded) < self.settings.learning_runs:
            phase = Phase.LEARNING
        else:
            phase = Phase.OPTIMIZING
        if not last.succeeded and phase is not Phase.ROLLBACK:
            notes.append(f"the last run on {last.config.describe()} failed")
        return _Context(history, segment, code_changed, current, last_good, bad, since, phase, notes)

    def _last_good_run(
        self,
        history: Sequence[RunObservation],
        latest: dict,
        bad: set,
        since: set,
        sla: float | None,
    ) -> RunObservation | None:
        """The newest run within the SLA whose configuration is still a good place to go back to: not one whose
        latest run failed, nor one with no more memory per core than a configuration that failed after succeeding
        (the data outgrew it, not a move), unless it has succeeded since that failure."""
        outgrown = [latest[k][-1].config for k in bad if any(r.succeeded for r in latest[k])]
        try:
            limit = float(self.resources.arrays(outgrown).mem_per_core_gib.max()) if outgrown else -np.inf
        except UnknownInstanceType:
            limit = -np.inf
        for r in reversed(history):
            key = r.config.key()
            if not _met_sla(r, sla) or key in bad:
                continue
            if key in since:
                return r
            try:
                if float(self.resources.arrays([r.config]).mem_per_core_gib[0]) > limit + 1e-9:
                    return r
            except UnknownInstanceType:
                return r
        return None

    # ------------------------------------------------------------------ decide
    def decide(
        self,
        history: Sequence[RunObservation],
        goals: Goals,
        constraints: Constraints,
        *,
        current: ClusterConfig | None = None,
        candidates: Sequence[ClusterConfig] | None = None,
    ) -> Prediction:
        validate_history(history)
        ctx = self._context(history, goals, current)
        explicit = candidates is not None
        cands, arrays, hourly = self._space(constraints, candidates)
        keys = {c.key(): i for i, c in enumerate(cands)}
        allowed_list = [True] * len(cands)
        extras = []
        for extra in (ctx.current, ctx.last_good):
            if extra is not None and extra.key() not in keys:
                keys[extra.key()] = len(cands) + len(extras)
                extras.append(extra)
                allowed_list.append(not explicit and within_constraints(extra, constraints, self.cost_model))
        if extras:
            try:
                arrays = arrays.concat(self.resources.arrays(extras))
            except UnknownInstanceType as exc:
                raise InvalidHistoryError(f"the current or last good configuration is not priced: {exc}") from None
            hourly = hourly.concat(hourly_prices(extras, self.cost_model))
            cands = cands + extras
        allowed = np.array(allowed_list, dtype=bool)
        allowed &= ~self._dominated_by_failures(arrays, ctx, allowed)

        train = [r for r in ctx.segment if r.succeeded and r.runtime_s]
        if not train:
            train = [r for r in history if r.succeeded and r.runtime_s]
        if not train:
            return self._all_failed(ctx, goals, arrays, allowed)
        model = RuntimeModel(self.resources)
        try:
            model.fit(train)
        except UnknownInstanceType as exc:
            raise InvalidHistoryError(f"a run in the history uses an instance type the catalog lacks: {exc}") from None

        trend = input_trend(train, lookahead=self.settings.drift_lookahead_runs)
        est = model.predict(arrays, trend.projected_bytes)
        risky = model.memory_risk(arrays, trend.lookahead_bytes)
        if model.mode == "blackbox":
            # Without an event log nothing shows how much memory a task needs: keep what has worked.
            proven = self.resources.arrays([r.config for r in train]).mem_per_core_gib.min()
            risky |= arrays.mem_per_core_gib < proven - 1e-9
        if (allowed & ~risky).any():
            allowed &= ~risky
        elif (allowed & risky).any():
            # Every allowed candidate is a memory risk: the ones with the most memory per core are the least.
            most = float(arrays.mem_per_core_gib[allowed].max())
            allowed &= arrays.mem_per_core_gib >= PROVEN_MEMORY_MARGIN * most
        z = self.settings.learning_z if ctx.phase in (Phase.LEARNING, Phase.RELEARNING) else self.settings.optimizing_z
        check_est = model.predict(arrays, trend.lookahead_bytes) if trend.growing else est
        sla_runtime = check_est.quantile(z)
        startup = self.cost_model.pricing.startup_seconds
        cost = hourly.total * (est.p50 + startup) / 3600.0

        cur = keys[ctx.current.key()]
        sla = goals.sla_seconds
        at_risk = bool(sla and sla_runtime[cur] > sla)
        if at_risk:
            if trend.growing:
                ctx.notes.append(
                    f"input growing {trend.growth_per_run:.0%} per run: the current configuration would miss "
                    f"the SLA within {self.settings.drift_lookahead_runs} runs, re-planning now"
                )
            else:
                ctx.notes.append("the current configuration is predicted to miss the SLA: re-planning")
        if ctx.phase is Phase.ROLLBACK:
            good = keys[ctx.last_good.key()]
            choices = {p: Choice(good, bool(not sla or sla_runtime[good] <= sla), True) for p in Preference}
        else:
            step = self._step_mask(arrays, cur, at_risk)
            mask = allowed & step if (allowed & step).any() else allowed
            if not mask.any():
                raise NoCandidateError(
                    "every candidate is excluded (outside the constraints or failed before); widen the constraints"
                )
            choices = choose(est.p50, est.p90, cost, goals, mask, sla_runtime)
            choices = self._hysteresis(choices, cur, est, cost, goals, sla_runtime, allowed)
            if not at_risk:
                choices = self._explore(ctx, choices, cur, est, cost, goals, mask, sla_runtime, arrays)
        return self._prediction(ctx, goals, arrays, est, cost, choices, model.mode, trend.growing)

    def _space(
        self, constraints: Constraints, candidates: Sequence[ClusterConfig] | None
    ) -> tuple[list[ClusterConfig], ConfigArrays, HourlyPrices]:
        """The search space as arrays, cached: projects share constraints and the space rarely changes."""
        if candidates is not None:
            key: tuple = ("explicit", tuple(c.key() for c in candidates))
        else:
            key = ("constraints", constraints.model_dump_json())
        hit = self._spaces.get(key)
        if hit is not None:
            self._spaces.move_to_end(key)
            return hit
        cands = list(candidates) if candidates is not None else enumerate_candidates(constraints, self.cost_model)
        if not cands:
            raise NoCandidateError("the search space is empty: offer at least one candidate configuration")
        try:
            arrays = self.resources.arrays(cands)
        except UnknownInstanceType as exc:
            raise NoCandidateError(f"{exc} (in the candidates)") from None
        space = (cands, arrays, hourly_prices(cands, self.cost_model))
        self._spaces[key] = space
        if len(self._spaces) > SPACE_CACHE_SIZE:
            self._spaces.popitem(last=False)
        return space

    # ------------------------------------------------------------------ rules
    def _dominated_by_failures(self, arrays: ConfigArrays, ctx: _Context, allowed: np.ndarray) -> np.ndarray:
        """Candidates a failure argues against: the failed configs and anything with no more memory per core (a
        failure is most often a task out of memory), except configurations that have succeeded since. When the
        space offers no more memory per core, only what has no more memory in total and per core."""
        out = np.zeros(len(arrays), dtype=bool)
        if not ctx.bad:
            return out
        keys = [c.key() for c in arrays.configs]
        failed = [i for i, k in enumerate(keys) if k in ctx.bad]
        per_core = arrays.mem_per_core_gib
        total = arrays.slots * per_core
        strict = np.isin(np.arange(len(arrays)), failed)
        lenient = strict.copy()
        for i in failed:
            strict |= per_core <= per_core[i] + 1e-9
            lenient |= (per_core <= per_core[i] + 1e-9) & (total <= total[i] + 1e-9)
        ok_since = np.array([k not in ctx.succeeded_since_failure for k in keys], dtype=bool)
        strict &= ok_since
        lenient &= ok_since
        return strict if (allowed & ~strict).any() else lenient

    def _step_mask(self, arrays: ConfigArrays, cur: int, at_risk: bool) -> np.ndarray:
        ratio = arrays.slots / arrays.slots[cur]
        lo = 1.0 / self.settings.max_step
        hi = np.inf if at_risk else self.settings.max_step
        return (ratio >= lo - 1e-9) & (ratio <= hi + 1e-9)

    def _hysteresis(
        self,
        choices: dict[Preference, Choice],
        cur: int,
        est: RuntimeEstimate,
        cost: np.ndarray,
        goals: Goals,
        sla_runtime: np.ndarray,
        allowed: np.ndarray,
    ) -> dict[Preference, Choice]:
        """Keep the current configuration when a move promises less than `min_gain`."""
        if not allowed[cur] or (goals.sla_seconds and sla_runtime[cur] > goals.sla_seconds):
            return choices
        cur_cost_ok = not goals.cost_target_usd or cost[cur] <= goals.cost_target_usd
        out = {}
        for pref, ch in choices.items():
            if ch.index == cur or not ch.meets_sla or (ch.meets_cost_target and not cur_cost_ok):
                out[pref] = ch
                continue
            new = float(objective(pref, est.p50[ch.index], cost[ch.index]))
            old = float(objective(pref, est.p50[cur], cost[cur]))
            if old > 0 and 1.0 - new / old < self.settings.min_gain:
                out[pref] = Choice(cur, True, cur_cost_ok)
            else:
                out[pref] = ch
        return out

    def _explore(
        self,
        ctx: _Context,
        choices: dict[Preference, Choice],
        cur: int,
        est: RuntimeEstimate,
        cost: np.ndarray,
        goals: Goals,
        mask: np.ndarray,
        sla_runtime: np.ndarray,
        arrays: ConfigArrays,
    ) -> dict[Preference, Choice]:
        """Early runs (from the second recommendation until `explore_runs` runs of this code) choose the economy
        configuration by expected improvement over the best configuration tried so far, Bayesian-optimisation
        style with the runtime model as the prior: an uncertain candidate (Photon never tried, another family)
        gets its chance when its upside is large. Safe: every candidate's runtime quantile must meet the SLA."""
        n_ok = sum(1 for r in ctx.segment if r.succeeded and r.runtime_s)
        if ctx.phase is Phase.ROLLBACK or not (2 <= n_ok < self.settings.explore_runs):
            return choices
        from scipy.stats import norm

        safe = mask.copy()
        if goals.sla_seconds:
            safe &= sla_runtime <= goals.sla_seconds
        if goals.cost_target_usd:
            safe &= cost <= goals.cost_target_usd
        tried = {r.config.key() for r in ctx.segment if r.succeeded}
        tried_idx = [i for i, c in enumerate(arrays.configs) if c.key() in tried and safe[i]]
        if not safe.any() or not tried_idx:
            return choices
        best = float(cost[tried_idx].min())
        sigma = np.maximum(est.sigma, 1e-3)
        z = np.log(best / cost) / sigma
        ei = best * norm.cdf(z) - cost * np.exp(sigma**2 / 2) * norm.cdf(z - sigma)
        ei = np.where(safe, ei, -np.inf)
        pick = int(np.argmax(ei))
        trial = self._photon_trial(ctx, arrays, cost, sigma, safe, best)
        if trial is not None and arrays.configs[pick].photon != arrays.configs[trial].photon:
            ctx.notes.append("exploring: one run with Photon the other way, which this job has not tried")
            return {**choices, Preference.ECONOMY: Choice(trial, True, True)}
        econ = choices[Preference.ECONOMY]
        if pick == econ.index or ei[pick] < self.settings.min_gain * best:
            return choices
        if arrays.configs[pick].key() not in tried:
            ctx.notes.append("exploring: an untried candidate with the largest expected saving")
        return {**choices, Preference.ECONOMY: Choice(pick, True, True)}

    @staticmethod
    def _photon_trial(
        ctx: _Context, arrays: ConfigArrays, cost: np.ndarray, sigma: np.ndarray, safe: np.ndarray, best: float
    ) -> int | None:
        """The cheapest safe candidate with Photon the other way, when no run of this code has tried that and the
        candidate has a fair chance (one standard deviation) of beating the best cost so far.

        Photon's gain is one number per job that the profile only guesses (1.1-4x): one run with it toggled
        measures it, and the correction then carries it to every candidate of that setting, the cheap ones the
        guess kept out of reach included. Expected improvement alone rarely buys that run, since it values the
        one candidate tried, not what the run teaches about the others."""
        seen = {r.config.photon for r in ctx.segment if r.succeeded}
        if len(seen) != 1:
            return None
        other = arrays.photon != next(iter(seen))
        pool = safe & other
        if not pool.any():
            return None
        i = int(np.argmin(np.where(pool, cost, np.inf)))
        return i if cost[i] * np.exp(-sigma[i]) < best else None

    # ------------------------------------------------------------------ answers
    def _solution(
        self,
        pref: Preference,
        ch: Choice,
        arrays: ConfigArrays,
        est: RuntimeEstimate,
        reason: str,
    ) -> Solution:
        cfg = arrays.configs[ch.index]
        p50 = float(est.p50[ch.index])
        p90 = float(est.p90[ch.index])
        low = p50 * float(np.exp(-Z90 * est.sigma[ch.index]))
        cost = self.cost_model.predict(cfg, p50)
        return Solution(
            preference=pref,
            config=cfg,
            predicted_runtime_s=p50,
            predicted_runtime_p90_s=p90,
            cost=cost,
            cost_low_usd=self.cost_model.predict(cfg, low).total_usd,
            cost_high_usd=self.cost_model.predict(cfg, p90).total_usd,
            meets_sla=ch.meets_sla,
            meets_cost_target=ch.meets_cost_target,
            reason=reason,
        )

    def _prediction(
        self,
        ctx: _Context,
        goals: Goals,
        arrays: ConfigArrays,
        est: RuntimeEstimate,
        cost: np.ndarray,
        choices: dict[Preference, Choice],
        mode: str,
        growing: bool,
    ) -> Prediction:
        cur_key = ctx.current.key()
        cur_idx = next(i for i, c in enumerate(arrays.configs) if c.key() == cur_key)
        solutions = {}
        warnings = []
        for pref, ch in choices.items():
            cfg = arrays.configs[ch.index]
            if ctx.phase is Phase.ROLLBACK:
                why = f"rollback to the last good configuration {cfg.describe()}"
            elif ch.index == cur_idx:
                why = f"keep {cfg.describe()}: no candidate is predicted to do better by {self.settings.min_gain:.0%}"
            else:
                delta = cost[ch.index] / cost[cur_idx] - 1.0
                dt = est.p50[ch.index] / est.p50[cur_idx] - 1.0
                why = (
                    f"{pref.value}: {cfg.describe()} predicted {est.p50[ch.index]:.0f}s ({dt:+.0%}), cost {delta:+.0%}"
                )
            if not ch.meets_sla:
                why += f"; no candidate is predicted to meet the SLA of {goals.sla_seconds:.0f}s: fastest chosen"
                warnings.append(f"{pref.value}: SLA {goals.sla_seconds:.0f}s cannot be met by any allowed candidate")
            elif not ch.meets_cost_target:
                why += "; the cost target cannot be met together with the SLA: the SLA wins"
                warnings.append(f"{pref.value}: cost target {goals.cost_target_usd} cannot be met within the SLA")
            solutions[pref] = self._solution(pref, ch, arrays, est, why)
        chosen = solutions[goals.preference]
        phase = ctx.phase
        if phase is Phase.OPTIMIZING and chosen.config.key() == cur_key:
            phase = Phase.STABLE
        reason = "; ".join(
            [*ctx.notes, f"{mode} model", chosen.reason] if ctx.notes else [f"{mode} model", chosen.reason]
        )
        return Prediction(
            current=ctx.current, solutions=solutions, phase=phase, reason=reason, warnings=list(dict.fromkeys(warnings))
        )

    def _all_failed(self, ctx: _Context, goals: Goals, arrays: ConfigArrays, allowed: np.ndarray) -> Prediction:
        """No run has succeeded yet: nothing to predict from, so step up memory within the step limit."""
        cur = next(i for i, c in enumerate(arrays.configs) if c.key() == ctx.current.key())
        mem = arrays.slots * arrays.mem_per_core_gib
        ratio = arrays.slots / arrays.slots[cur]
        mask = allowed & (mem > mem[cur]) & (ratio <= self.settings.max_step + 1e-9)
        if not mask.any():
            mask = allowed & (mem > mem[cur])
        if not mask.any():
            raise NoCandidateError(
                "every run failed and no allowed candidate has more memory than the failed one; "
                "fix the job or widen the constraints (max_workers, instance families)"
            )
        hourly = hourly_prices(arrays.configs, self.cost_model).total
        i = int(np.argmin(np.where(mask, hourly, np.inf)))
        guess = float(goals.sla_seconds or 3600.0)
        est = RuntimeEstimate(
            p50=np.full(len(arrays), guess), p90=np.full(len(arrays), guess), sigma=np.zeros(len(arrays))
        )
        cost = hourly * (guess + self.cost_model.pricing.startup_seconds) / 3600
        ch = Choice(i, True, True)
        ctx.notes.append("no successful run yet: more memory for the next run; runtimes are not predicted yet")
        pred = self._prediction(ctx, goals, arrays, est, cost, {p: ch for p in Preference}, "no", False)
        pred.warnings.append("no successful run yet: predicted runtimes are placeholders (the SLA or one hour)")
        pred.phase = Phase.LEARNING
        return pred

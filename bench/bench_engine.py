r"""Benchmark of the recommendation engine against the oracle and the baselines, on the emulator's workloads.

    .venv/bin/python bench/bench_engine.py              # everything (a few minutes on 2 cores)
    .venv/bin/python bench/bench_engine.py --quick      # fewer episodes, a smoke run
    .venv/bin/python bench/bench_engine.py --json out.json
    # judging an engine change: 432 episodes (twelve seeds), ~10 min on 2 cores
    .venv/bin/python bench/bench_engine.py --sections closed --policies engine --jobs 2 --seed \
        7 11 13 17 19 23 29 31 37 41 43 47

Sections (each prints a table; all policies side by side in the same run):
1. closed loop on every built-in workload: episodes from random start configurations with an SLA of the start's
   expected runtime x (1 + slack), slack drawn from {0.2, 0.5, 1.0}; the engine sees profiles parsed from the
   emulator's event logs ("engine"), or only runtimes ("engine-bb"), the baselines only runtimes;
2. auto-heal: a converged job whose data doubles, and one whose code changes (a new stage structure): runs
   until the SLA is met again;
3. backtest: a measurement table generated from the emulator, run through `backtest`;
4. replay error: one run of each workload from a few random starts, predicted on every candidate from that run
   alone, against the emulator's noise-free runtime (by workload and by kind of move, and how often the truth
   lands above the p90);
5. latency of one recommendation with 200 runs of history and 5,000+ candidates.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from scipy.stats import binomtest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from emulator_world import EmulatorWorld, bench_candidates, bench_cost_model  # noqa: E402
from world_facts import (  # noqa: E402
    WorldFacts,
    feasible_violation_rate,
    p90_safe_within,
    step_limited_saving,
    world_facts,
)

from sync_provider.emulator.simulator import ClusterSpec, expected  # noqa: E402
from sync_provider.emulator.workloads import BUILTIN_WORKLOADS, CodeChange, StepGrowth, load_workload  # noqa: E402
from sync_provider.engine.decision.controller import ControllerSettings  # noqa: E402
from sync_provider.engine.evidence.catalog import Catalog  # noqa: E402
from sync_provider.engine.models import ClusterConfig, Constraints, Goals, RunObservation  # noqa: E402
from sync_provider.engine.offline.backtest import MeasuredWorld, run_backtest  # noqa: E402
from sync_provider.engine.offline.episodes import (  # noqa: E402
    BASELINES,
    EnginePolicy,
    Episode,
    Policy,
    oracle,
    run_episode,
)
from sync_provider.engine.offline.metrics import CHECKPOINTS, summarize, within_sla  # noqa: E402
from sync_provider.engine.prediction.model import Z90  # noqa: E402
from sync_provider.engine.recommend import recommend  # noqa: E402

SLACKS = (0.2, 0.5, 1.0)
TARGETS = {
    "single-shot cheaper within SLA": ">= 90% of improvable episodes",
    "single-shot median saving": ">= 80% of the oracle's",
    "after 5 runs within 10% of oracle": ">= 90% of episodes",
    "SLA violations": "<= 5% of runs",
    "latency p95": "< 300 ms",
}


class LazyOracle(Sequence):
    """Oracle cost per run index, computed only for the indices the metrics read."""

    def __init__(self, world: EmulatorWorld, sla: float, n: int):
        self.world, self.sla, self.n = world, sla, n
        self._cache: dict[int, float] = {}

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, k):  # type: ignore[override]
        if k not in self._cache:
            self._cache[k] = oracle(self.world, k, self.sla)[1] if k in (0, 1, 3, 5, 10) else float("nan")
        return self._cache[k]


class _BlackBoxEngine(EnginePolicy):
    name = "engine-bb"

    def next(self, history, goals, world, rng):
        return super().next([r.model_copy(update={"profile": None}) for r in history], goals, world, rng)


def make_policies(names: Sequence[str]) -> list[Policy]:
    out: list[Policy] = []
    for n in names:
        if n == "engine":
            out.append(EnginePolicy())
        elif n == "engine-bb":
            out.append(_BlackBoxEngine())
        elif n == "engine-step4":
            # The same engine with a looser step limit (4x per run): what the 2x safety rule costs.
            out.append(EnginePolicy(settings=ControllerSettings(max_step=4.0), name="engine-step4"))
        else:
            out.append(BASELINES[n]())
    return out


def closed_loop(
    workloads: Sequence[str],
    episodes: int,
    iterations: int,
    policy_names: Sequence[str],
    seeds: Sequence[int],
    jobs: int = 1,
) -> dict:
    """Figures per policy over the episodes of every seed pooled (one seed's 36 episodes are one draw of start
    configurations; a share moves by 3-6 points per episode), and per seed under `_per_seed` when there are more.
    With `jobs` > 1 the seeds run in that many processes; a seed's episodes are the same either way."""
    tasks = [(workloads, episodes, iterations, tuple(policy_names), seed) for seed in seeds]
    if jobs > 1 and len(seeds) > 1:
        # spawn, not fork: a forked child inherits the parent's OpenMP state, which xgboost can deadlock on.
        with ProcessPoolExecutor(min(jobs, len(seeds)), mp_context=get_context("spawn")) as pool:
            by_seed = list(pool.map(_seed_episodes, tasks))
    else:
        by_seed = [_seed_episodes(task) for task in tasks]
    results: dict[str, list[tuple[Episode, WorldFacts]]] = {name: [] for name in by_seed[0]}
    per_seed = {}
    for seed, eps in zip(seeds, by_seed, strict=True):
        for name, scored in eps.items():
            results[name] += scored
        if len(seeds) > 1:
            per_seed[seed] = _summaries(eps)
    out = _summaries(results)
    if per_seed:
        out["_per_seed"] = per_seed
    return out


def _summaries(results: dict[str, list[tuple[Episode, WorldFacts]]]) -> dict:
    out = {}
    for name, scored in results.items():
        eps, facts = [e for e, _ in scored], [f for _, f in scored]
        out[name] = summarize(eps)
        out[name]["sla_violation_rate_feasible"] = feasible_violation_rate(facts)
        out[name]["sla_misses"] = sla_misses(eps)
    if results:
        first = [f for _, f in next(iter(results.values()))]
        out["_step_limited_oracle"] = step_limited_saving(first)
        out["_p90_safe_oracle"] = {f"after_{k}": p90_safe_within(first, k) for k in CHECKPOINTS}
    return out


#: A process's worlds, kept across the seeds it runs: a world caches every candidate's noise-free simulation per
#: run index, which the starts, the oracle and the world's facts read in every episode.
_process_worlds: dict[str, EmulatorWorld] = {}


def _seed_episodes(task: tuple) -> dict[str, list[tuple[Episode, WorldFacts]]]:
    """One seed's episodes, each with its world's facts (worked out here, where the worlds are warm)."""
    workloads, episodes, iterations, policy_names, seed = task
    worlds = _process_worlds
    results = _closed_loop_episodes(workloads, episodes, iterations, make_policies(policy_names), seed, worlds)
    catalog = Catalog.default()
    return {name: [(e, world_facts(e, worlds[e.workload], catalog)) for e in eps] for name, eps in results.items()}


def _closed_loop_episodes(
    workloads: Sequence[str],
    episodes: int,
    iterations: int,
    policies: list[Policy],
    seed: int,
    worlds: dict[str, EmulatorWorld],
) -> dict[str, list[Episode]]:
    rng = np.random.default_rng(seed)
    results: dict[str, list[Episode]] = {p.name: [] for p in policies}
    for name in workloads:
        if name not in worlds:
            worlds[name] = EmulatorWorld(load_workload(name))
        world = worlds[name]
        starts = []
        while len(starts) < episodes:
            c = world.candidates[int(rng.integers(len(world.candidates)))]
            rt, _ = world.expected(c, 0)
            if rt is not None and c.key() not in {s.key() for s, _ in starts}:
                starts.append((c, float(SLACKS[len(starts) % len(SLACKS)])))
        for j, (start, slack) in enumerate(starts):
            sla = world.expected(start, 0)[0] * (1 + slack)
            goals = Goals(sla_seconds=sla)
            lazy = LazyOracle(world, sla, iterations + 1)
            for pol in policies:
                t0 = time.perf_counter()
                ep = run_episode(
                    world, pol, start, goals, iterations, seed=seed * 1000 + j, workload=name, oracle_costs=lazy
                )
                results[pol.name].append(ep)
                took = time.perf_counter() - t0
                print(f"  {name:14s} start {start.describe():28s} slack {slack:.1f} {pol.name:10s} "
                      f"-> {ep.runs[-1].config.describe():28s} {took:5.1f}s", file=sys.stderr)  # fmt: skip
    return results


def sla_misses(episodes: Sequence[Episode]) -> dict[str, dict]:
    """Where a policy's SLA misses (failed runs included) fall: by run index and by workload. The emulator's data
    steps and heavy data layouts land on the same run index in every episode, so misses bunch there."""
    by_run: dict[int, int] = {}
    by_workload: dict[str, int] = {}
    for e in episodes:
        for k, r in enumerate(e.runs[1:], start=1):
            if not within_sla(r.runtime_s, e.sla_seconds):
                by_run[k] = by_run.get(k, 0) + 1
                by_workload[e.workload] = by_workload.get(e.workload, 0) + 1
    return {"by_run": dict(sorted(by_run.items())), "by_workload": dict(sorted(by_workload.items()))}


def auto_heal(policies: list[Policy], seed: int, settle: int = 6, after: int = 6) -> dict:
    """Runs after a 2x data jump / a code change until the first run within the SLA again (lower is better)."""
    base = load_workload("join_etl")
    sla = None
    cases = {}
    scen = base.scenario.model_copy(update={"growth_per_run": 0.0, "spot_loss_probability": 0.0})
    grown = base.model_copy(
        update={"scenario": scen.model_copy(update={"step_growth": [StepGrowth(at_run=settle, factor=2.0)]})}
    )
    heavier = [s.model_copy(update={"cpu_s_per_task": s.cpu_s_per_task * 1.8}) for s in base.stages]
    heavier.insert(
        2, base.stages[0].model_copy(update={"name": "extra dedup pass", "input_bytes": 0, "shuffle_read_bytes": 90e9})
    )
    changed = base.model_copy(
        update={"scenario": scen.model_copy(update={"code_change": CodeChange(at_run=settle, stages=heavier)})}
    )
    cases = {"data grows 2x": grown, "code change": changed}
    out: dict[str, dict[str, list]] = {}
    start = ClusterConfig(instance_type="m5.2xlarge", num_workers=16)
    sla = expected(base, ClusterSpec("m5.2xlarge", 16), 0).runtime_s * 1.6
    for case, wl in cases.items():
        out[case] = {}
        for pol in policies:
            world = EmulatorWorld(wl)
            ep = run_episode(world, pol, start, Goals(sla_seconds=sla), settle + after, seed=seed, workload=case,
                             oracle_costs=[0.0] * (settle + after + 1))  # fmt: skip
            runs = ep.runs[settle:]
            met = [r.runtime_s is not None and r.runtime_s <= sla for r in runs]
            to_heal = next((i for i, m in enumerate(met) if m), None)
            out[case][pol.name] = {
                "runs_to_meet_sla_again": to_heal,
                "violations_after_change": sum(1 for m in met if not m),
                "configs": [r.config.describe() for r in runs],
            }
    return out


def backtest_section(policies: Sequence[str], seed: int, iterations: int) -> dict:
    """A measurement table from the emulator (two noisy measurements per configuration) through backtest."""
    cm = bench_cost_model()
    worlds = []
    rng = np.random.default_rng(seed)
    for name in ("join_etl", "aggregation", "memory_hungry"):
        wl = load_workload(name)
        cands = [c for c in bench_candidates(photon=False) if c.num_workers in (2, 4, 6, 8, 12, 16, 24, 32)]
        samples = {}
        from sync_provider.emulator.simulator import simulate

        for c in cands:
            vals = []
            for _ in range(2):
                sim = simulate(
                    wl, ClusterSpec(c.instance_type, c.num_workers), 0, seed=int(rng.integers(1 << 30)), spot_loss=False
                )
                vals.append(sim.runtime_s if sim.succeeded else None)
            samples[c.key()] = vals
        from sync_provider.engine.evidence.cost import CostModel, PricingSettings

        table_cm = CostModel(cm.catalog, PricingSettings(include_driver=False, startup_seconds=0.0))
        worlds.append(MeasuredWorld(name, table_cm, samples, {c.key(): c for c in cands}))
    names = [p for p in policies if p in BASELINES]
    return run_backtest(worlds, iterations=iterations, slack=0.25, seed=seed, baselines=names, max_starts=12)


def replay_error(workloads: Sequence[str], starts: int = 6, seed: int = 7) -> dict:
    """How far one run's prediction is from the truth: one run of each workload from `starts` random start
    configurations, predicted on every benchmark candidate from that run alone and compared with the emulator's
    noise-free runtime. By kind of move: the same instance family and Photon setting, another family, Photon
    toggled; "above p90" is how often the truth lands above the predicted p90 (10% if the band were exact)."""
    from sync_provider.engine.prediction.model import RuntimeModel
    from sync_provider.engine.prediction.resources import ResourceTable

    rng = np.random.default_rng(seed)
    resources = ResourceTable(bench_cost_model().catalog)
    names, kinds, errors, spreads = [], [], [], []  # per prediction: workload, kind of move, log error, log spread
    for name in workloads:
        world = EmulatorWorld(load_workload(name))
        truth = np.array([world.expected(c, 0)[0] or np.nan for c in world.candidates])
        ok = ~np.isnan(truth)  # candidates the emulator can run
        candidates = [c for c, k in zip(world.candidates, ok, strict=True) if k]
        arrays = resources.arrays(candidates)
        family = np.array([c.instance_type.split(".")[0] for c in candidates])
        photon = np.array([c.photon for c in candidates])
        for _ in range(starts):
            start = world.candidates[int(rng.integers(len(world.candidates)))]
            if world.expected(start, 0)[0] is None:
                continue
            run = world.run(start, 0, rng).observation
            if run.runtime_s is None:
                continue
            est = RuntimeModel(resources).fit([run]).predict(arrays, run.input_bytes)
            same = family == start.instance_type.split(".")[0]
            kinds += list(
                np.where(photon != start.photon, "photon toggled", np.where(same, "same family", "other family"))
            )
            names += [name] * len(candidates)
            errors += list(np.log(est.p50 / truth[ok]))
            spreads += list(est.sigma)
    err, names, kinds = np.array(errors), np.array(names), np.array(kinds)
    z = err / np.array(spreads)
    return {
        "predictions": len(err),
        "mean_abs_log_error": float(np.abs(err).mean()),
        "mean_log_error": float(err.mean()),
        "by_workload": {w: float(np.abs(err[names == w]).mean()) for w in workloads if (names == w).any()},
        "by_move": {
            k: {"rms_log_error": float(np.sqrt((err[m] ** 2).mean())), "truth_above_p90": float((z[m] < -Z90).mean())}
            for k in ("same family", "other family", "photon toggled")
            if (m := kinds == k).any()
        },
    }


def latency(n_runs: int = 200, repeats: int = 30) -> dict:
    """p50/p95 of one recommend() with `n_runs` profiled runs and the default constraints (11,000 candidates)."""
    import tempfile

    from sync_provider.emulator.eventlog_writer import write_eventlog
    from sync_provider.emulator.simulator import simulate
    from sync_provider.engine.decision.candidates import enumerate_candidates
    from sync_provider.engine.evidence.eventlog import parse_eventlog

    wl = load_workload("join_etl")
    cm = bench_cost_model()
    tmp = Path(tempfile.mkdtemp())
    profiles = []
    for i, n in enumerate((8, 12, 16, 24)):
        sim = simulate(wl, ClusterSpec("m5.2xlarge", n), i, seed=i)
        write_eventlog(sim, tmp / f"e{i}")
        profiles.append((n, sim, parse_eventlog(tmp / f"e{i}")))
    history = []
    for i in range(n_runs):
        n, sim, prof = profiles[i % len(profiles)]
        history.append(RunObservation(config=ClusterConfig(instance_type="m5.2xlarge", num_workers=n),
                                      runtime_s=sim.runtime_s * (1 + 0.01 * (i % 7)), input_bytes=sim.input_bytes,
                                      profile=prof))  # fmt: skip
    constraints = Constraints()
    n_cands = len(enumerate_candidates(constraints, cm))
    goals = Goals(sla_seconds=history[-1].runtime_s * 1.3)
    t0 = time.perf_counter()
    recommend(history, goals, constraints, cm)
    cold = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        recommend(history, goals, constraints, cm)
        times.append(time.perf_counter() - t0)
    return {
        "history_runs": n_runs,
        "candidates": n_cands,
        "cold_ms": round(cold * 1000, 1),
        "p50_ms": round(float(np.percentile(times, 50)) * 1000, 1),
        "p95_ms": round(float(np.percentile(times, 95)) * 1000, 1),
    }


def wilson_interval(share: float, n: int) -> tuple[float, float]:
    """95% interval of a share of n episodes: how far apart two runs' shares must be before they differ."""
    ci = binomtest(round(share * n), n).proportion_ci(0.95, method="wilson")
    return float(ci.low), float(ci.high)


def _pct(v) -> str:
    return "   -" if v is None else f"{100 * v:4.0f}%"


def print_closed_loop(res: dict, title: str = "") -> None:
    oracle = "oracle = cheapest candidate meeting the SLA in expectation"
    print(f"\n== Closed loop on the emulator's workloads{title} ({oracle})")
    head = (f"{'policy':12s} {'eps':>4s} {'1shot ok':>8s} {'med cost':>8s} {'oracle':>7s} {'sav/orc':>7s} "
            f"{'1s viol':>7s} {'@3 10%':>7s} {'@5 10%':>7s} {'@5 5%':>6s} {'@10 10%':>7s} {'SLA viol':>8s} "
            f"{'failed':>6s}")  # fmt: skip
    print(head)
    for name, m in res.items():
        if name.startswith("_"):
            continue
        s, c = m["single_shot"], m["closed_loop"]

        def g(k: str, f: str, c: dict = c) -> float | None:
            return c.get(k, {}).get(f)

        print(f"{name:12s} {m['episodes']:4d} {_pct(s['cheaper_within_sla']):>8s} {_pct(s['median_cost_change']):>8s} "
              f"{_pct(s['oracle_median_cost_change']):>7s} {_pct(s['saving_vs_oracle']):>7s} "
              f"{_pct(s['sla_violations']):>7s} "
              f"{_pct(g('after_3', 'within_10pct')):>7s} {_pct(g('after_5', 'within_10pct')):>7s} "
              f"{_pct(g('after_5', 'within_5pct')):>6s} {_pct(g('after_10', 'within_10pct')):>7s} "
              f"{_pct(m['sla_violation_rate']):>8s} {m['failed_runs']:6d}")  # fmt: skip
    print(f"  improvable episodes (single shot): {next(iter(res.values()))['single_shot']['improvable_episodes']}")
    feasible = [(n, m.get("sla_violation_rate_feasible")) for n, m in res.items() if not n.startswith("_")]
    feasible = [(n, v) for n, v in feasible if v is not None]
    if feasible:
        print("  SLA violations on runs where some candidate meets the SLA: "
              + ", ".join(f"{n} {100 * v:.1f}%" for n, v in feasible))  # fmt: skip
    first, m = next((n, m) for n, m in res.items() if not n.startswith("_"))
    if m.get("sla_misses") and m["sla_misses"]["by_run"]:
        misses = m["sla_misses"]
        print(f"  {first}'s SLA misses by run: " + ", ".join(f"{k}: {v}" for k, v in misses["by_run"].items())
              + "; by workload: " + ", ".join(f"{k} {v}" for k, v in misses["by_workload"].items()))  # fmt: skip
    shares = [("1-shot", m["single_shot"]["cheaper_within_sla"], m["single_shot"]["improvable_episodes"])]
    shares += [
        (f"@{k}", m["closed_loop"].get(f"after_{k}", {}).get("within_10pct"), m["episodes"]) for k in CHECKPOINTS
    ]
    shares = [(label, v, n) for label, v, n in shares if v is not None and n]
    if shares:
        print(f"  95% intervals of {first}'s shares (episodes taken as independent draws): "
              + ", ".join(f"{label} {100 * lo:.0f}-{100 * hi:.0f}%"
                          for label, v, n in shares for lo, hi in [wilson_interval(v, n)]))  # fmt: skip
    safe = res.get("_p90_safe_oracle")
    if safe and safe.get("after_5") is not None:
        print("  a clairvoyant policy with a p90 margin for the run noise, within 10% of the oracle: "
              + ", ".join(f"@{k.split('_')[1]} {_pct(v).strip()}" for k, v in safe.items()))  # fmt: skip
    bound = res.get("_step_limited_oracle")
    if bound is not None:
        print(f"  best first move within the 2x step limit: {100 * bound:.0f}% of the oracle's saving")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="2 episodes per workload, 3 workloads")
    ap.add_argument("--episodes", type=int, default=6, help="episodes per workload")
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--workloads", nargs="*", default=[w for w in BUILTIN_WORKLOADS if w != "generic"])
    ap.add_argument(
        "--policies",
        nargs="*",
        default=["engine", "engine-bb", "engine-step4", "stay", "random", "heuristic", "bayesopt"],
    )
    ap.add_argument("--sections", nargs="*", default=["closed", "heal", "backtest", "replay", "latency"])
    ap.add_argument("--replay-starts", type=int, default=6, help="start runs per workload of the replay section")
    ap.add_argument(
        "--seed", type=int, nargs="+", default=[7], help="one or more seeds; the closed loop pools their episodes"
    )
    ap.add_argument("--jobs", type=int, default=1, help="run the closed loop's seeds in this many processes")
    ap.add_argument("--json", type=Path, help="also write all figures to this JSON file")
    args = ap.parse_args(argv)
    if args.quick:
        args.episodes, args.workloads = 2, ["join_etl", "aggregation", "memory_hungry"]
    out: dict = {"command": "bench/bench_engine.py " + " ".join(argv or sys.argv[1:]), "targets": TARGETS}
    t0 = time.time()
    if "closed" in args.sections:
        out["closed_loop"] = closed_loop(
            args.workloads, args.episodes, args.iterations, args.policies, args.seed, args.jobs
        )
        for seed, res in out["closed_loop"].get("_per_seed", {}).items():
            print_closed_loop(res, f", seed {seed}")
        seeds = ", ".join(map(str, args.seed))
        print_closed_loop(out["closed_loop"], f", seeds {seeds} pooled" if len(args.seed) > 1 else f", seed {seeds}")
    if "heal" in args.sections:
        pols = make_policies([p for p in args.policies if p not in ("random", "stay")])
        out["auto_heal"] = heal = auto_heal(pols, args.seed[0])
        print("\n== Auto-heal (join_etl, SLA 1.6x the start's runtime; runs after the change until the SLA is met)")
        for case, per in heal.items():
            for name, r in per.items():
                heal_runs = r["runs_to_meet_sla_again"]
                print(f"  {case:14s} {name:12s} runs to meet SLA again: {heal_runs!s:4s} "
                      f"violations: {r['violations_after_change']}  configs: {', '.join(r['configs'][:4])}")  # noqa: E501  # fmt: skip
    if "backtest" in args.sections:
        res = backtest_section(args.policies, args.seed[0], args.iterations)
        out["backtest"] = res
        print("\n== backtest on an emulator-measured table (join_etl, aggregation, memory_hungry; slack 0.25)")
        print_closed_loop(res["policies"])
    if "replay" in args.sections:
        out["replay_error"] = rep = replay_error(args.workloads, args.replay_starts, args.seed[0])
        print(
            f"\n== Replay error: one run of each workload from {args.replay_starts} starts, predicted on every "
            f"candidate ({rep['predictions']} predictions) against the emulator's noise-free runtime"
        )
        print(
            f"  mean absolute log error {rep['mean_abs_log_error']:.1%} (mean {rep['mean_log_error']:+.1%}); "
            + ", ".join(f"{w} {v:.1%}" for w, v in rep["by_workload"].items())
        )
        print(
            "  by move (rms log error / truth above the p90): "
            + ", ".join(f"{k} {v['rms_log_error']:.1%} / {v['truth_above_p90']:.1%}" for k, v in rep["by_move"].items())
        )
    if "latency" in args.sections:
        out["latency"] = lat = latency()
        print(f"\n== Latency: {lat['history_runs']} runs of history, {lat['candidates']} candidates: "
              f"p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms (first call {lat['cold_ms']} ms)")  # fmt: skip
    print(f"\n(total {time.time() - t0:.0f}s)")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

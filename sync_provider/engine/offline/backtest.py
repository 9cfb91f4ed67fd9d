"""`sync-cli backtest`: replay a table of measured runs as the world and run the closed loop on it.

Measurements CSV: `workload, instance_type, num_workers, runtime_s` (optional `photon`, `spot`); an empty
runtime means the run failed; repeated rows of one configuration are repeated measurements, and a run of that
configuration in an episode draws one of them at random (the world's noise). Prices CSV: `instance_type,
hourly_usd` (or `on_demand_usd_per_hour`), plus `vcpus, memory_gib` for types the built-in catalog lacks.
Cost of a run = runtime hours x hourly_usd x num_workers (the measured table knows nothing of drivers or DBUs).

Episodes: for every workload, every configuration that has a successful measurement is a start point; the SLA
is the start's median runtime x (1 + slack) (keep the job about as fast, make it cheaper); each policy then
picks `iterations` more runs. The oracle is the cheapest configuration whose median runtime meets the SLA.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np

from sync_provider.engine.errors import InvalidRequestError
from sync_provider.engine.evidence.catalog import Catalog
from sync_provider.engine.evidence.cost import CostModel, PricingSettings
from sync_provider.engine.limits import MAX_HOURLY_USD, MAX_RUNTIME_S, MAX_WORKERS
from sync_provider.engine.models import ClusterConfig, Goals, RunObservation
from sync_provider.engine.offline.episodes import BASELINES, EnginePolicy, Episode, Outcome, Policy, oracle, run_episode
from sync_provider.engine.offline.metrics import summarize

REQUIRED = ("workload", "instance_type", "num_workers", "runtime_s")
_TRUE = {"1", "true", "yes", "y", "t"}
PRICE_COLUMNS = "instance_type, hourly_usd[, vcpus, memory_gib]"


@dataclass
class MeasuredWorld:
    """One workload's measured table as a world."""

    workload: str
    cost_model: CostModel
    samples: dict[tuple, list[float | None]]
    configs: dict[tuple, ClusterConfig]
    candidates: list[ClusterConfig] = field(init=False)

    def __post_init__(self) -> None:
        self.candidates = [self.configs[k] for k in sorted(self.configs)]
        self._hourly = {k: self.cost_model.hourly(c).total_usd for k, c in self.configs.items()}

    def _median(self, config: ClusterConfig) -> float | None:
        vals = self.samples[config.key()]
        ok = [v for v in vals if v is not None]
        # A configuration that fails in most measurements is treated as failing.
        return median(ok) if len(ok) * 2 > len(vals) or (ok and len(vals) == 1) else None

    def expected(self, config: ClusterConfig, run_index: int) -> tuple[float | None, float]:
        rt = self._median(config)
        hourly = self._hourly[config.key()]
        rt_for_cost = rt if rt is not None else max((v for v in self.samples[config.key()] if v), default=0.0)
        return rt, hourly * rt_for_cost / 3600.0

    def run(self, config: ClusterConfig, run_index: int, rng: np.random.Generator) -> Outcome:
        vals = self.samples[config.key()]
        rt = vals[int(rng.integers(len(vals)))]
        cost = self._hourly[config.key()] * (rt or 0.0) / 3600.0
        obs = RunObservation(config=config, runtime_s=rt, succeeded=rt is not None, run_id=str(run_index))
        return Outcome(config, rt, cost, obs)


def _float(value: str | None, where: str) -> float | None:
    """A measured runtime in seconds; None for an empty cell (a failed run)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        v = float(value)
    except ValueError:
        raise InvalidRequestError(f"{where}: {value!r} is not a number") from None
    if not math.isfinite(v):
        raise InvalidRequestError(
            f"{where}: runtime_s {value!r} is not a finite number; give the runtime in seconds "
            "(leave it empty for a failed run)"
        )
    if v <= 0:
        raise InvalidRequestError(f"{where}: runtime must be positive, got {v} (leave it empty for a failed run)")
    if v > MAX_RUNTIME_S:
        raise InvalidRequestError(
            f"{where}: runtime {v:g} s is more than {MAX_RUNTIME_S:g} s (about 115 days); give the runtime in "
            "seconds (not milliseconds), or leave it empty for a failed run"
        )
    return v


def _positive(value: str, column: str, where: str, maximum: float | None = None) -> float:
    """A finite number > 0 (and <= maximum) in a prices CSV cell."""
    try:
        v = float(value)
    except ValueError:
        raise InvalidRequestError(f"{where}: {column} {value!r} is not a number") from None
    if not math.isfinite(v) or v <= 0:
        raise InvalidRequestError(f"{where}: {column} must be a finite number > 0, got {value!r}")
    if maximum is not None and v > maximum:
        raise InvalidRequestError(f"{where}: {column} {v:g} is more than {maximum:g}; give the price of one node-hour")
    return v


def _rows(path: str | Path) -> tuple[list[str], list[tuple[int, dict[str | None, Any]]]]:
    """The header and (line number, row) of a CSV file; a byte-order mark (Excel, Notepad) is dropped.

    Rows without any value (`,,,` as spreadsheets write them) are skipped; line numbers are the file's own (blank
    lines and quoted line breaks counted) so errors point at the row.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh, skipinitialspace=True)
            rows = [(reader.line_num, row) for row in reader if not _blank(row)]
            return list(reader.fieldnames or []), rows
    except UnicodeDecodeError as exc:
        raise InvalidRequestError(
            f"{path}: not UTF-8 text (byte {exc.start} is {exc.object[exc.start : exc.start + 1]!r}); "
            "save it as CSV UTF-8"
        ) from None


def _blank(row: dict[str | None, Any]) -> bool:
    cells = [v for k, v in row.items() if k is not None] + list(row.get(None) or [])
    return not any((v or "").strip() for v in cells)


def _check_width(row: dict[str | None, Any], header: list[str], where: str, required: Sequence[str]) -> None:
    """Refuse a row with more non-empty fields than the header, or without one of the `required` columns."""
    extra = [v for v in row.get(None) or [] if (v or "").strip()]
    given = sum(1 for c in header if row.get(c) is not None)
    if extra:
        raise InvalidRequestError(
            f"{where}: {given + len(row.get(None) or [])} fields but the header has {len(header)}; "
            "quote values that contain commas"
        )
    short = [c for c in required if row.get(c) is None]
    if short:
        raise InvalidRequestError(
            f"{where}: {given} fields but the header has {len(header)} (no {', '.join(short)}); give every column"
            + (", and leave runtime_s empty for a failed run" if "runtime_s" in required else "")
        )


def load_prices(path: str | Path) -> CostModel:
    """A cost model that bills runtime x hourly_usd x workers, from the prices CSV (plus the built-in catalog).

    Columns: instance_type, hourly_usd (or on_demand_usd_per_hour), and vcpus, memory_gib for types the built-in
    catalog lacks. Each instance type appears once; hourly_usd is $ per node-hour, > 0 and at most MAX_HOURLY_USD.
    """
    header, rows = _rows(path)
    if not rows or "instance_type" not in header:
        raise InvalidRequestError(f"{path}: expected a CSV with columns {PRICE_COLUMNS}")
    known = Catalog.default()
    catalog = known
    seen: dict[str, int] = {}
    for line, row in rows:
        where = f"{path} line {line}"
        _check_width(row, header, where, ())
        r: dict[str, Any] = {k: v.strip() for k, v in row.items() if k and v is not None and v.strip()}
        if "on_demand_usd_per_hour" in r:
            r["hourly_usd"] = r.pop("on_demand_usd_per_hour")
        itype = r.get("instance_type")
        if not itype:
            raise InvalidRequestError(f"{where}: no instance_type; give the node type, e.g. m5.xlarge")
        if itype in seen:
            raise InvalidRequestError(
                f"{where}: {itype!r} is already priced on line {seen[itype]}; keep one row per instance type"
            )
        seen[itype] = line
        if "hourly_usd" not in r:
            raise InvalidRequestError(f"{where}: no hourly_usd for {itype!r}")
        r["hourly_usd"] = _positive(r["hourly_usd"], "hourly_usd", where, MAX_HOURLY_USD)
        for column in ("vcpus", "memory_gib"):
            if column in r:
                r[column] = _positive(r[column], column, where)
        lacking = [c for c in ("vcpus", "memory_gib") if c not in r]
        if itype not in known and lacking:
            raise InvalidRequestError(
                f"{where}: {itype!r} is not in the built-in catalog; give its {' and '.join(lacking)} "
                f"(columns: {PRICE_COLUMNS})"
            )
        r["dbu_per_hour"] = 0.0
        try:
            catalog = catalog.with_overrides([r])
        except ValueError as exc:
            raise InvalidRequestError(f"{where}: {str(exc).split('; give ')[0]}; columns: {PRICE_COLUMNS}") from None
    catalog = Catalog([i for i in catalog if i.instance_type in seen])
    return CostModel(catalog, PricingSettings(include_driver=False, startup_seconds=0.0, dbu_usd=1.0))


def load_measurements(path: str | Path, cost_model: CostModel) -> list[MeasuredWorld]:
    """One world per workload; rows must use priced instance types.

    Every row gives all required columns; only an empty runtime_s cell is a failed run. Each workload needs a
    configuration that succeeds in most of its measurements (an episode's start point).
    """
    header, rows = _rows(path)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InvalidRequestError(f"{path}: missing columns {missing}; need {', '.join(REQUIRED)}")
    samples: dict[str, dict[tuple, list]] = defaultdict(lambda: defaultdict(list))
    configs: dict[str, dict[tuple, ClusterConfig]] = defaultdict(dict)
    unpriced = set()
    for line, row in rows:
        where = f"{path} line {line}"
        _check_width(row, header, where, REQUIRED)
        itype = (row["instance_type"] or "").strip()
        if itype not in cost_model.catalog:
            unpriced.add(itype)
            continue
        try:
            n = int(row["num_workers"])
        except ValueError:
            raise InvalidRequestError(f"{where}: num_workers {row['num_workers']!r} is not an integer") from None
        if n < 1:
            raise InvalidRequestError(f"{where}: num_workers must be at least 1")
        if n > MAX_WORKERS:
            raise InvalidRequestError(f"{where}: num_workers {n} is more than {MAX_WORKERS}; give the worker count")
        cfg = ClusterConfig(
            instance_type=itype,
            num_workers=n,
            photon=(row.get("photon") or "").strip().lower() in _TRUE,
            spot=(row.get("spot") or "").strip().lower() in _TRUE,
        )
        wl = (row["workload"] or "").strip() or "default"
        configs[wl][cfg.key()] = cfg
        samples[wl][cfg.key()].append(_float(row["runtime_s"], where))
    if unpriced:
        raise InvalidRequestError(
            f"{path}: instance types {sorted(unpriced)} have measurements but no prices; add them to the prices CSV"
        )
    if not configs:
        raise InvalidRequestError(f"{path}: no measurements")
    worlds = [MeasuredWorld(wl, cost_model, dict(samples[wl]), configs[wl]) for wl in sorted(configs)]
    for world in worlds:
        if not any(v is not None for vals in world.samples.values() for v in vals):
            raise InvalidRequestError(
                f"{path}: every run of workload {world.workload!r} failed (runtime_s is empty on all its rows); "
                "add at least one successful measurement or drop the workload"
            )
        if all(world.expected(c, 0)[0] is None for c in world.candidates):
            raise InvalidRequestError(
                f"{path}: no configuration of workload {world.workload!r} succeeds in most of its measurements, so "
                "it has no start point; add successful measurements or drop the workload"
            )
    return worlds


def policies(names: Iterable[str] | None = None) -> list[Policy]:
    """The engine first, then the baselines (bayesopt needs scikit-learn; skipped when absent)."""
    out: list[Policy] = [EnginePolicy()]
    for name, factory in BASELINES.items():
        if names is not None and name not in names:
            continue
        if name == "bayesopt":
            try:
                import sklearn  # noqa: F401
            except ImportError:
                continue
        out.append(factory())
    return out


def run_backtest(
    worlds: Sequence[MeasuredWorld],
    *,
    iterations: int = 10,
    slack: float = 0.25,
    seed: int = 0,
    baselines: Iterable[str] | None = None,
    max_starts: int | None = None,
) -> dict[str, Any]:
    """Episodes from every start point of every world for every policy; metrics per policy."""
    if iterations < 1:
        raise InvalidRequestError("iterations must be at least 1")
    if slack < 0:
        raise InvalidRequestError("slack must be >= 0 (SLA = start runtime x (1 + slack))")
    pols = policies(baselines)
    episodes: dict[str, list[Episode]] = {p.name: [] for p in pols}
    rng = np.random.default_rng(seed)
    for world in worlds:
        starts = [c for c in world.candidates if world.expected(c, 0)[0] is not None]
        if max_starts is not None and len(starts) > max_starts:
            starts = [starts[i] for i in sorted(rng.choice(len(starts), size=max_starts, replace=False))]
        for j, start in enumerate(starts):
            goals = Goals(sla_seconds=world.expected(start, 0)[0] * (1.0 + slack))
            oracle_cost = oracle(world, 0, goals.sla_seconds)[1]
            for pol in pols:
                ep = run_episode(
                    world,
                    pol,
                    start,
                    goals,
                    iterations,
                    seed=seed * 100003 + j,
                    workload=world.workload,
                    oracle_costs=[oracle_cost] * (iterations + 1),
                )
                episodes[pol.name].append(ep)
    return {
        "workloads": [w.workload for w in worlds],
        "iterations": iterations,
        "slack": slack,
        "sla": "start configuration's median runtime x (1 + slack)",
        "policies": {name: summarize(eps) for name, eps in episodes.items()},
    }

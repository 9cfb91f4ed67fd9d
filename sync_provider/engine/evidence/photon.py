"""Photon ROI: how much faster a job must run on Photon to pay for its extra DBUs, and how much faster it may run.

Break-even (shared/data/README.md), generalised over the whole cluster, driver included: with cloud cost `m` and
DBU cost `d` per cluster-hour (summed over the nodes) and the Photon DBU multiplier `P`, Photon saves money only
when its speedup R_standard / R_photon exceeds (m + P*d) / (m + d).

The job's own speedup is estimated from its profile with Amdahl's law: Photon accelerates the CPU part of the
task time spent in operators it runs natively; I/O, shuffle waits, GC and driver-only time stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from sync_provider.engine.evidence.cost import CostModel
from sync_provider.engine.evidence.profile import Profile

#: Speed-up of Photon on the CPU work of operators it runs natively (public TPC-DS figures are 2-4x). The engine's
#: replay uses the same two figures, so `sync-cli photon-roi` and the recommendations agree on what Photon buys.
PHOTON_CPU_SPEEDUP = 3.0
#: Even in operators Photon runs natively part of the CPU time (serialisation, UDFs, JVM glue) is not accelerated.
PHOTON_OPERATOR_COVERAGE = 0.85
#: Physical operators Photon runs natively (name prefixes, lower case, spaces removed).
NATIVE_OPERATORS = (
    "scanparquet", "scandelta", "scanorc", "filter", "project", "hashaggregate", "sortaggregate",
    "broadcasthashjoin", "shuffledhashjoin", "sortmergejoin", "broadcastnestedloopjoin", "sort", "exchange",
    "shuffleexchange", "broadcastexchange", "union", "window", "expand", "localtablescan", "takeorderedandproject",
    "collectlimit", "globallimit", "locallimit", "range",
)  # fmt: skip
#: Plan nodes that only wrap or re-read others: they say nothing about what the work is.
NEUTRAL_OPERATORS = (
    "wholestagecodegen", "inputadapter", "adaptivesparkplan", "columnartorow", "rowtocolumnar", "aqeshuffleread",
    "customshufflereader", "shufflequerystage", "broadcastquerystage", "reusedexchange", "subquery",
    "reusedsubquery", "resultquerystage", "tablecachequerystage",
)  # fmt: skip
#: Share of CPU work assumed accelerable when the log has no SQL plan (RDD code: Photon barely helps).
NO_SQL_SHARE = 0.05


def _matches(name: str, prefixes: tuple[str, ...]) -> bool:
    low = name.lower().replace(" ", "")
    return any(low.startswith(p) for p in prefixes)


def is_neutral_operator(name: str) -> bool:
    """A plan node that only wraps or re-reads others (WholeStageCodegen, ColumnarToRow, query stages)."""
    return _matches(name, NEUTRAL_OPERATORS)


def accelerated_cpu_factor(share: float) -> float:
    """CPU time with Photon over CPU time without, when `share` of it is in operators Photon accelerates."""
    return (1.0 - share) + share / PHOTON_CPU_SPEEDUP


def taken_share(profile: Profile) -> float | None:
    """In a run with Photon on, the share of the plan's (non-wrapper) operators Photon took over (None: no plan).

    Photon runs an operator natively or leaves it to Spark, and the plan says which (Photon* nodes): a JSON
    scan, an object deserializer, a Python UDF stay Spark nodes however their names read."""
    taken = total = 0
    for ex in profile.sql_executions:
        taken += ex.photon_operators
        total += ex.photon_operators + sum(c for n, c in ex.operators.items() if not is_neutral_operator(n))
    return taken / total if total else None


def ran_on_photon(profile: Profile) -> bool:
    """The event log's own word (runtime engine tag, Photon conf or runtime version) that Photon was on."""
    return bool(profile.cluster.photon)


def operator_share(profile: Profile) -> float:
    """Share of the plan's (non-wrapper) operators Photon runs natively: in a Photon run those it took over,
    otherwise those whose names it supports."""
    if ran_on_photon(profile):
        share = taken_share(profile)
        return NO_SQL_SHARE if share is None else share
    native = total = 0
    for ex in profile.sql_executions:
        for name, count in ex.operators.items():
            if is_neutral_operator(name):
                continue
            total += count
            native += count if _matches(name, NATIVE_OPERATORS) else 0
        native += ex.photon_operators
        total += ex.photon_operators
    return native / total if total else NO_SQL_SHARE


def estimate_photon_speedup(profile: Profile) -> float:
    """Estimated R_standard / R_photon for this job (1.0 when the profile has no task time).

    From a run without Photon, the accelerable CPU time shrinks PHOTON_CPU_SPEEDUP times; from a run with
    Photon on, the CPU time measured is already the accelerated one and grows that much without it (Amdahl
    the other way round: taking the first formula on a Photon run's log would under-state what Photon buys)."""
    run = profile.executor_run_time_s
    if run <= 0 or profile.duration_s <= 0:
        return 1.0
    cpu_fraction = min(1.0, max(0.0, profile.executor_cpu_time_s / run))
    accelerable = cpu_fraction * operator_share(profile) * PHOTON_OPERATOR_COVERAGE
    serial = min(profile.driver_only_s, profile.duration_s)
    parallel = profile.duration_s - serial
    if ran_on_photon(profile):
        return (serial + parallel * ((1.0 - accelerable) + accelerable * PHOTON_CPU_SPEEDUP)) / profile.duration_s
    return profile.duration_s / (serial + parallel * accelerated_cpu_factor(accelerable))


@dataclass(frozen=True)
class ClusterRates:
    """Per-hour cost of a cluster split into cloud and DBUs, without and with Photon."""

    cloud_usd_per_hour: float
    dbu_usd_per_hour: float
    dbu_usd_per_hour_photon: float

    @property
    def break_even(self) -> float:
        m, d, dp = self.cloud_usd_per_hour, self.dbu_usd_per_hour, self.dbu_usd_per_hour_photon
        return (m + dp) / (m + d)


def cluster_rates(
    instance_type: str, num_workers: int, cost_model: CostModel, driver: str | None = None
) -> ClusterRates:
    from sync_provider.engine.models import ClusterConfig

    config = ClusterConfig(instance_type=instance_type, num_workers=num_workers, driver_instance_type=driver)
    plain = cost_model.hourly(config)
    photon = cost_model.hourly(config.model_copy(update={"photon": True}))
    return ClusterRates(plain.cloud_usd + plain.ebs_usd, plain.dbu_usd, photon.dbu_usd)


def photon_break_even(instance_type: str, num_workers: int, cost_model: CostModel, driver: str | None = None) -> float:
    """The speedup Photon must reach on this cluster (on demand, driver included) to cost no more."""
    return cluster_rates(instance_type, num_workers, cost_model, driver).break_even

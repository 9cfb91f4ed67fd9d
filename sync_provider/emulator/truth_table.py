"""Ground-truth tables of the built-in workloads: noise-free runtime and cost of each configuration, and the
cheapest configuration that meets an SLA. Used by the docs (docs/emulator.md), benchmarks and tests.

The SLA applies to the Spark application's runtime (`runtime_s`, cluster start-up excluded); cost includes
the paid start-up, the driver and DBUs at list prices (premium plan, jobs compute).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterable
from functools import lru_cache

from sync_provider.emulator.physics import catalog
from sync_provider.emulator.simulator import ClusterSpec, expected
from sync_provider.emulator.workloads import BUILTIN_WORKLOADS, load_workload

REPRESENTATIVE_TYPES = (
    "m5.2xlarge",
    "m6i.2xlarge",
    "m6gd.2xlarge",
    "m7g.2xlarge",
    "c5.2xlarge",
    "c6i.2xlarge",
    "c7g.2xlarge",
    "r5.2xlarge",
    "r6i.2xlarge",
    "r7g.2xlarge",
    "i3.2xlarge",
    "i4i.2xlarge",
    "m5.4xlarge",
    "r5.4xlarge",
)
WORKER_COUNTS = (2, 4, 8, 16, 32)


@lru_cache(maxsize=100_000)
def truth(
    workload: str, instance_type: str, num_workers: int, photon: bool, spot: bool = False, run_index: int = 0
) -> dict:
    """Noise-free outcome of one configuration (spot: the discount, without any node loss)."""
    sim = expected(
        load_workload(workload), ClusterSpec(instance_type, num_workers, photon=photon, spot=spot), run_index
    )
    return {
        "workload": workload,
        "instance_type": instance_type,
        "num_workers": num_workers,
        "photon": photon,
        "spot": spot,
        "run_index": run_index,
        "succeeded": sim.succeeded,
        "runtime_s": round(sim.runtime_s, 1),
        "startup_s": round(sim.startup_s, 1),
        "cost_usd": round(sim.cost.total_usd, 4),
        "cloud_usd": round(sim.cost.cloud_usd, 4),
        "dbu_usd": round(sim.cost.dbu_usd, 4),
    }


def grid(
    workload: str,
    instance_types: Iterable[str] = REPRESENTATIVE_TYPES,
    workers: Iterable[int] = WORKER_COUNTS,
    photon: Iterable[bool] = (False, True),
) -> list[dict]:
    return [truth(workload, it, n, ph) for it in instance_types for n in workers for ph in photon]


def cheapest_under_sla(workload: str, sla_s: float, **grid_kw) -> dict | None:
    """The cheapest successful configuration of the grid whose runtime meets the SLA (None if none does)."""
    ok = [r for r in grid(workload, **grid_kw) if r["succeeded"] and r["runtime_s"] <= sla_s]
    return min(ok, key=lambda r: r["cost_usd"]) if ok else None


def _cfg(r: dict | None) -> str:
    if r is None:
        return "none meets it"
    return (
        f"{r['num_workers']} x {r['instance_type']}{' +Photon' if r['photon'] else ''}: "
        f"{r['runtime_s'] / 60:.1f} min, ${r['cost_usd']:.2f}"
    )


def markdown(slas_min: Iterable[int] = (8, 15, 30), search_types: Iterable[str] | None = None) -> str:
    """The docs tables: the cheapest configuration per SLA (searched over `search_types`, default the whole
    catalog, x 2-32 workers x Photon), and every 2xlarge type of the catalog with 8 workers."""
    slas = list(slas_min)
    types = tuple(search_types or catalog().names())
    lines = [
        "| workload | " + " | ".join(f"cheapest with runtime <= {s} min" for s in slas) + " |",
        "|---" * (len(slas) + 1) + "|",
    ]
    for name in BUILTIN_WORKLOADS:
        cells = [_cfg(cheapest_under_sla(name, s * 60, instance_types=types)) for s in slas]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Runtime (min) / cost ($) with 8 workers, without Photon -> with Photon (FAIL = out of memory):",
        "",
        "| instance type | " + " | ".join(BUILTIN_WORKLOADS) + " |",
        "|---" * (len(BUILTIN_WORKLOADS) + 1) + "|",
    ]

    def fmt(r: dict) -> str:
        return f"{r['runtime_s'] / 60:.1f}/{r['cost_usd']:.2f}" if r["succeeded"] else "FAIL"

    for it in [t for t in catalog().names() if t.endswith(".2xlarge")]:
        cells = [f"{fmt(truth(n, it, 8, False))} -> {fmt(truth(n, it, 8, True))}" for n in BUILTIN_WORKLOADS]
        lines.append(f"| {it} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_csv(path: str, instance_types: Iterable[str] | None = None) -> int:
    """The full table (every catalog type x worker count x Photon) for every built-in workload."""
    types = list(instance_types or catalog().names())
    rows = [r for name in BUILTIN_WORKLOADS for r in grid(name, types)]
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return len(rows)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--csv", help="also write the full catalog table to this CSV file")
    args = ap.parse_args(argv)
    sys.stdout.write(markdown())
    if args.csv:
        n = write_csv(args.csv)
        sys.stdout.write(f"\nwrote {n} rows to {args.csv}\n")


if __name__ == "__main__":
    main()

"""Instance catalog: what each node type offers and costs.

Built from package data (see `sync_provider/data/README.md` for the sources); an installation overrides prices
(negotiated rates) through the `sync` connection's catalog override, as a path to a CSV/JSON file or inline JSON.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError


class UnknownInstanceType(KeyError):
    """An instance type that the catalog does not know and no override prices."""

    def __init__(self, name: str, known: Iterable[str] = ()):
        hint = ", ".join(sorted(known)[:6])
        super().__init__(
            f"unknown instance type {name!r}: not in the catalog; add it with a catalog override "
            f"(instance_type, vcpus, memory_gib, hourly_usd, dbu_per_hour) or pick a known one (e.g. {hint}, ...)"
        )
        self.name = name

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0])


class InstanceType(BaseModel):
    """One node type. Prices are per node-hour, on demand."""

    instance_type: str
    family: str
    arch: Literal["x86_64", "arm64"] = "x86_64"
    vcpus: int = Field(gt=0)
    memory_gib: float = Field(gt=0)
    local_disk_gib: float = Field(default=0.0, ge=0, description="local NVMe/SSD; 0 means EBS only")
    network_gbps: float = Field(default=10.0, gt=0)
    network_burst: bool = Field(default=False, description="'Up to N Gigabit': a baseline well below N")
    hourly_usd: float = Field(ge=0)
    dbu_per_hour: float = Field(ge=0)

    @property
    def generation(self) -> int:
        m = re.match(r"[a-z]+(\d+)", self.family)
        return int(m.group(1)) if m else 5

    @property
    def memory_per_core_gib(self) -> float:
        return self.memory_gib / self.vcpus


_STORAGE = re.compile(r"(\d+(?:\.\d+)?)\s*(GiB|GB)")
_NETWORK = re.compile(r"(\d+(?:\.\d+)?)\s*Gigabit")


def _parse_storage(label: str) -> float:
    """'1200 GiB (2 * 600 GiB NVMe SSD)' -> 1200; 'EBS only' -> 0."""
    m = _STORAGE.search(label or "")
    if not m:
        return 0.0
    size = float(m.group(1))
    return size if m.group(2) == "GiB" else size * 1e9 / 2**30


def _parse_network(label: str) -> tuple[float, bool]:
    m = _NETWORK.search(label or "")
    gbps = float(m.group(1)) if m else 10.0
    return gbps, (label or "").lower().startswith("up to")


def _row_to_instance(row: Mapping[str, Any]) -> InstanceType:
    if "instance_storage" not in row and "network_performance" not in row:
        data = {k: v for k, v in row.items() if v not in (None, "")}
        data.setdefault("family", str(row["instance_type"]).split(".")[0])
        if "on_demand_usd_per_hour" in data and "hourly_usd" not in data:
            data["hourly_usd"] = data.pop("on_demand_usd_per_hour")
        return InstanceType.model_validate(data)
    gbps, burst = _parse_network(row.get("network_performance", ""))
    return InstanceType(
        instance_type=row["instance_type"],
        family=row["family"],
        arch=row["arch"],
        vcpus=int(row["vcpus"]),
        memory_gib=float(row["memory_gib"]),
        local_disk_gib=_parse_storage(row.get("instance_storage", "")),
        network_gbps=gbps,
        network_burst=burst,
        hourly_usd=float(row["on_demand_usd_per_hour"]),
        dbu_per_hour=float(row["dbu_per_hour"]),
    )


class Catalog:
    """An immutable set of instance types, looked up by AWS API name."""

    def __init__(self, instances: Iterable[InstanceType], cloud: str = "aws"):
        self._by_name = {i.instance_type: i for i in instances}
        self.cloud = cloud

    @classmethod
    def default(cls) -> Catalog:
        return _default_catalog()

    @classmethod
    def from_csv(cls, path: str | Path) -> Catalog:
        with open(path, newline="") as fh:
            return cls(_row_to_instance(r) for r in csv.DictReader(fh))

    def __iter__(self) -> Iterator[InstanceType]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def names(self) -> list[str]:
        return list(self._by_name)

    def get(self, name: str) -> InstanceType:
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownInstanceType(name, self._by_name) from None

    def with_overrides(self, overrides: Iterable[Mapping[str, Any]]) -> Catalog:
        """Return a catalog where each override row replaces or extends one instance type.

        A row may give only prices for a known type (`{"instance_type": "m5.xlarge", "hourly_usd": 0.15}`) or
        a whole new type (with vcpus, memory_gib, hourly_usd, dbu_per_hour).
        """
        merged = dict(self._by_name)
        for i, row in enumerate(overrides):
            name = row.get("instance_type")
            if not name:
                raise ValueError(f"catalog override row {i} has no 'instance_type'")
            data = dict(row)
            if "on_demand_usd_per_hour" in data:
                data["hourly_usd"] = data.pop("on_demand_usd_per_hour")
            base = merged[name].model_dump() if name in merged else {"family": str(name).split(".")[0]}
            base.update({k: v for k, v in data.items() if v is not None})
            try:
                merged[name] = InstanceType.model_validate(base)
            except ValidationError as exc:
                raise ValueError(
                    f"catalog override for {name!r} is invalid: {exc.errors()[0]['loc'][0]} "
                    f"{exc.errors()[0]['msg']}; give vcpus, memory_gib, hourly_usd and dbu_per_hour"
                ) from None
        return Catalog(merged.values(), cloud=self.cloud)

    def with_override_spec(self, spec: str | None) -> Catalog:
        """Apply a catalog override given as inline JSON (a list or {"instances": [...]}) or a CSV/JSON path."""
        if not spec or not str(spec).strip():
            return self
        spec = str(spec).strip()
        if spec[0] in "[{":
            data = json.loads(spec)
        else:
            path = Path(spec).expanduser()
            if not path.exists():
                raise ValueError(f"catalog override file {path} does not exist; give a CSV or JSON path or inline JSON")
            if path.suffix.lower() == ".csv":
                with open(path, newline="") as fh:
                    data = list(csv.DictReader(fh))
            else:
                data = json.loads(path.read_text())
        rows = data.get("instances", []) if isinstance(data, dict) else data
        return self.with_overrides(rows)


@lru_cache(maxsize=1)
def _default_catalog() -> Catalog:
    ref = resources.files("sync_provider") / "data" / "aws-instances.csv"
    with resources.as_file(ref) as path:
        return Catalog.from_csv(path)


@lru_cache(maxsize=1)
def databricks_pricing() -> dict[str, Any]:
    """$ per DBU by plan and compute type, Photon multipliers, spot discount, EBS price (package data)."""
    ref = resources.files("sync_provider") / "data" / "databricks-pricing.json"
    return json.loads(ref.read_text())

"""Declarative Spark workloads: what a recurring job does, independent of the cluster it runs on.

A workload file (YAML or JSON) lists the job's stages (tasks, CPU work, bytes, memory, skew, how much Photon
can accelerate) and a scenario (data growth, a one-off jump, a code change, spot loss, forced failures). The
built-in ones ship beside this module; a user may upload their own through workspace/import.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class WorkloadError(ValueError):
    """A workload file that cannot be used: the message names the file, the field and the reason."""


class HotKeys(BaseModel):
    """A few tasks that carry far more data than the rest (a skewed join key)."""

    model_config = ConfigDict(extra="forbid")

    tasks: int = Field(ge=1, description="number of hot tasks")
    factor: float = Field(ge=1.0, description="work of a hot task relative to a normal one")


class Stage(BaseModel):
    """One stage of the job. Bytes are totals over the stage at run 0; CPU time is per task on a reference core."""

    model_config = ConfigDict(extra="forbid")

    name: str
    job: int = Field(default=0, ge=0, description="the Spark job (action) this stage belongs to")
    tasks: int = Field(ge=1)
    cpu_s_per_task: float = Field(ge=0, description="CPU seconds per task on a reference core (m5, x86)")
    input_bytes: float = Field(default=0, ge=0)
    shuffle_read_bytes: float = Field(default=0, ge=0)
    shuffle_write_bytes: float = Field(default=0, ge=0)
    output_bytes: float = Field(default=0, ge=0)
    memory_per_task_mb: float = Field(default=256, ge=0, description="execution memory a task needs to avoid spill")
    task_sigma: float = Field(default=0.15, ge=0, description="lognormal spread of task sizes")
    hot_keys: HotKeys | None = None
    photon_fraction: float = Field(default=0.5, ge=0, le=1, description="share of CPU work Photon accelerates")
    photon_speedup: float = Field(default=2.5, ge=1, description="speed-up of the accelerated share")
    operators: list[str] = Field(default_factory=lambda: ["Scan parquet", "Project"])
    parents: list[int] | None = Field(default=None, description="indices of parent stages; default: previous")
    iterations: int = Field(default=1, ge=1, description="repeat this stage as N jobs (iterative algorithms)")


class StepGrowth(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at_run: int = Field(ge=0)
    factor: float = Field(gt=0)


class CodeChange(BaseModel):
    """From run `at_run` on, the job runs these stages instead (a new stage structure)."""

    model_config = ConfigDict(extra="forbid")

    at_run: int = Field(ge=0)
    stages: list[Stage] = Field(min_length=1)
    driver_time_s: float | None = Field(default=None, ge=0)


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    growth_per_run: float = Field(default=0.0, ge=-0.5, description="compound data growth per run (0.02 = 2%)")
    step_growth: list[StepGrowth] = Field(default_factory=list)
    code_change: CodeChange | None = None
    spot_loss_probability: float = Field(default=0.05, ge=0, le=1, description="chance a run loses spot nodes")
    fail_at_runs: list[int] = Field(default_factory=list, description="run indices forced to fail")
    noise_sigma: float = Field(default=0.04, ge=0, le=1, description="run-to-run lognormal noise")


class Workload(BaseModel):
    """A recurring Spark job as the simulator sees it."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    spark_version: str = "3.5.0"
    app_name: str | None = None
    driver_time_s: float = Field(default=20.0, ge=0, description="driver-only (serial) time, Amdahl's part")
    driver_memory_mb: float = Field(default=1024, ge=0)
    stages: list[Stage] = Field(min_length=1)
    scenario: Scenario = Field(default_factory=Scenario)

    @model_validator(mode="after")
    def _parents_exist(self) -> Workload:
        for stages, where in (
            (self.stages, "stages"),
            (self.scenario.code_change and self.scenario.code_change.stages, "scenario.code_change.stages"),
        ):
            for i, st in enumerate(stages or []):
                for p in st.parents or []:
                    if not 0 <= p < i:
                        raise ValueError(f"{where}[{i}].parents: {p} is not an earlier stage index (0..{i - 1})")
        return self

    def growth_factor(self, run_index: int) -> float:
        """Data volume of run `run_index` relative to run 0."""
        f = (1.0 + self.scenario.growth_per_run) ** run_index
        for step in self.scenario.step_growth:
            if run_index >= step.at_run:
                f *= step.factor
        return f

    def stages_for(self, run_index: int) -> tuple[list[Stage], float]:
        """The stage list and driver time in force at `run_index` (after a code change, the new ones)."""
        cc = self.scenario.code_change
        if cc is not None and run_index >= cc.at_run:
            return list(cc.stages), cc.driver_time_s if cc.driver_time_s is not None else self.driver_time_s
        return list(self.stages), self.driver_time_s


_SUFFIXES = (".yaml", ".yml", ".json")


def _builtin_dir() -> Path:
    return Path(str(resources.files("sync_provider.emulator") / "workloads"))


def _list_builtin() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in _builtin_dir().iterdir() if p.suffix in _SUFFIXES))


BUILTIN_WORKLOADS: tuple[str, ...] = _list_builtin()
GENERIC_WORKLOAD = "generic"


def parse_workload(text: str | bytes, source: str) -> Workload:
    """Parse and validate a workload document; `source` names it in errors."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise WorkloadError(f"workload file {source}: not valid YAML/JSON: {exc}") from None
    if not isinstance(data, dict):
        raise WorkloadError(
            f"workload file {source}: expected a mapping with 'name' and 'stages', got {type(data).__name__}"
        )
    data.setdefault("name", Path(source).stem)
    try:
        return Workload.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"]) or "(document)"
        raise WorkloadError(
            f"workload file {source}: field '{field}' is invalid: {err['msg']}"
            + (f" (got {err['input']!r})" if "input" in err and not isinstance(err["input"], dict | list) else "")
        ) from None


@lru_cache(maxsize=64)
def _load_builtin(name: str) -> Workload:
    for suffix in _SUFFIXES:
        path = _builtin_dir() / f"{name}{suffix}"
        if path.exists():
            return parse_workload(path.read_text(), str(path))
    raise WorkloadError(f"no built-in workload {name!r}; built-in ones are: {', '.join(BUILTIN_WORKLOADS)}")


def load_workload(name_or_path: str | Path) -> Workload:
    """A built-in workload by name (`join_etl`, with or without a suffix) or a workload file by path."""
    text = str(name_or_path)
    stem = Path(text).stem if Path(text).suffix in _SUFFIXES else Path(text).name
    if stem in BUILTIN_WORKLOADS and not Path(text).exists():
        return _load_builtin(stem)
    path = Path(text)
    if path.is_file():
        return parse_workload(path.read_text(), str(path))
    raise WorkloadError(
        f"workload {text!r} is neither a built-in workload ({', '.join(BUILTIN_WORKLOADS)}) nor a readable file"
    )


def workload_to_json(workload: Workload) -> str:
    return json.dumps(workload.model_dump(mode="json"), indent=2)

"""A private, throw-away Airflow installation for the demo, driven through Airflow's own CLI.

The demo runs the example DAG through real Airflow (`airflow dags test`, one DAG run per simulated day) in
subprocesses, so it exercises exactly what a user's scheduler would: DAG parsing, the Task SDK, XCom, the
connections read from the environment. Nothing touches the user's own AIRFLOW_HOME.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sync_provider.demo.errors import DemoError, tail

#: Airflow settings that keep a demo home small, quiet and fast (no example DAGs, no plugins scan noise).
_AIRFLOW_SETTINGS = {
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
    "AIRFLOW__CORE__ALLOWED_DESERIALIZATION_CLASSES_REGEXP": r"(airflow|sync_provider)\..*",
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    "AIRFLOW__LOGGING__COLORED_CONSOLE_LOG": "False",
    "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
}


@dataclass(frozen=True)
class DagTestResult:
    """How one `airflow dags test` ended: exit code, wall time and where its full log is."""

    returncode: int
    seconds: float
    log_path: Path

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def log_tail(self, lines: int = 40) -> str:
        return tail(self.log_path.read_text(errors="replace"), lines)


class AirflowHome:
    """A fresh AIRFLOW_HOME under `path` with its own DAGs folder, metadata DB and logs."""

    def __init__(self, path: Path, *, airflow_bin: str | None = None):
        self.path = path.resolve()
        self.dags_folder = self.path / "dags"
        self.log_dir = self.path / "demo-logs"
        self.airflow_bin = airflow_bin or _airflow_executable()
        self.extra_env: dict[str, str] = {}

    def create(self, dag_files: list[Path]) -> None:
        """Start from an empty home (a previous demo's state would make the run non-reproducible)."""
        if self.path.exists():
            shutil.rmtree(self.path)
        self.dags_folder.mkdir(parents=True)
        self.log_dir.mkdir()
        for dag_file in dag_files:
            if not dag_file.is_file():
                raise DemoError(
                    f"example DAG {dag_file} not found",
                    hint="run the demo from a checkout of the repository (the DAGs live in dags_examples/)",
                )
            shutil.copy2(dag_file, self.dags_folder / dag_file.name)

    def env(self) -> dict[str, str]:
        """The environment of every Airflow subprocess: this home, its settings and the demo's connections."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_"))}
        env.update(_AIRFLOW_SETTINGS)
        env["AIRFLOW_HOME"] = str(self.path)
        env["AIRFLOW__CORE__DAGS_FOLDER"] = str(self.dags_folder)
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{self.path / 'airflow.db'}"
        env["AIRFLOW__LOGGING__BASE_LOG_FOLDER"] = str(self.path / "logs")
        env["PYTHONUNBUFFERED"] = "1"
        env.update(self.extra_env)
        return env

    def run(self, args: list[str], *, log_name: str, timeout: float, what: str) -> DagTestResult:
        """Run `airflow <args>` with this home; its output goes to a log file under demo-logs/."""
        log_path = self.log_dir / f"{log_name}.log"
        started = time.monotonic()
        with log_path.open("wb") as log:
            try:
                proc = subprocess.run(
                    [self.airflow_bin, *args],
                    env=self.env(),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise DemoError(
                    f"{what} did not finish within {timeout:.0f} s",
                    hint=f"see the full log: {log_path}",
                    log_tail=tail(log_path.read_text(errors="replace")),
                ) from None
        return DagTestResult(proc.returncode, time.monotonic() - started, log_path)

    def migrate(self, timeout: float = 300) -> None:
        """`airflow db migrate`: creates the metadata database of this home."""
        result = self.run(["db", "migrate"], log_name="db-migrate", timeout=timeout, what="airflow db migrate")
        if not result.ok:
            raise DemoError(
                f"airflow db migrate failed (exit code {result.returncode})",
                hint=f"see the full log: {result.log_path}",
                log_tail=result.log_tail(),
            )

    def dags_test(
        self,
        dag_id: str,
        logical_date: str,
        *,
        dag_file: Path,
        conf: dict | None = None,
        log_name: str,
        timeout: float = 600,
    ) -> DagTestResult:
        """One DAG run of `dag_id` through `airflow dags test` (parsing only its file, which is faster)."""
        import json

        args = ["dags", "test", dag_id, logical_date, "--dagfile-path", str(self.dags_folder / dag_file.name)]
        if conf:
            args += ["--conf", json.dumps(conf)]
        return self.run(args, log_name=log_name, timeout=timeout, what=f"airflow dags test {dag_id} {logical_date}")


def _airflow_executable() -> str:
    """The `airflow` script of the interpreter running the demo (the venv's), else the one on PATH."""
    candidate = Path(sys.executable).with_name("airflow")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("airflow")
    if not found:
        raise DemoError("the airflow command was not found", hint="install the package: bash scripts/setup.sh")
    return found

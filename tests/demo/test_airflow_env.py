"""The demo's private Airflow home: fresh, isolated from the user's Airflow settings, errors with the log tail."""

from __future__ import annotations

import pytest

from sync_provider.demo.airflow_env import AirflowHome
from sync_provider.demo.errors import DemoError


def test_create_starts_fresh_and_copies_the_dags(tmp_path):
    dag = tmp_path / "my_dag.py"
    dag.write_text("# a dag\n")
    home = AirflowHome(tmp_path / "af", airflow_bin="airflow")
    (tmp_path / "af").mkdir()
    (tmp_path / "af" / "stale.db").write_text("old")
    home.create([dag])
    assert sorted(p.name for p in home.path.iterdir()) == ["dags", "demo-logs"]
    assert (home.dags_folder / "my_dag.py").read_text() == "# a dag\n"


def test_missing_dag_file_is_a_clear_error(tmp_path):
    home = AirflowHome(tmp_path / "af", airflow_bin="airflow")
    with pytest.raises(DemoError, match="example DAG .*nowhere.py not found"):
        home.create([tmp_path / "nowhere.py"])


def test_env_isolates_from_the_users_airflow(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", "/users/own/airflow")
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    monkeypatch.setenv("AIRFLOW_CONN_SYNC_DEFAULT", '{"conn_type": "sync"}')
    home = AirflowHome(tmp_path / "af", airflow_bin="airflow")
    home.extra_env = {"AIRFLOW_CONN_DATABRICKS_DEFAULT": "{}"}
    env = home.env()
    assert env["AIRFLOW_HOME"] == str(home.path)
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(home.dags_folder)
    assert "AIRFLOW__CORE__EXECUTOR" not in env
    assert "AIRFLOW_CONN_SYNC_DEFAULT" not in env
    assert env["AIRFLOW_CONN_DATABRICKS_DEFAULT"] == "{}"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"


def test_failed_command_reports_exit_code_and_log_tail(tmp_path):
    script = tmp_path / "fake-airflow"
    script.write_text("#!/bin/sh\necho line one\necho 'boom: the database is locked' >&2\nexit 3\n")
    script.chmod(0o755)
    home = AirflowHome(tmp_path / "af", airflow_bin=str(script))
    home.create([])
    with pytest.raises(DemoError, match=r"airflow db migrate failed \(exit code 3\)") as err:
        home.migrate()
    assert "boom: the database is locked" in err.value.log_tail
    assert str(home.log_dir / "db-migrate.log") in err.value.hint


def test_timeout_is_a_clear_error(tmp_path):
    script = tmp_path / "slow-airflow"
    script.write_text("#!/bin/sh\necho starting\nsleep 5\n")
    script.chmod(0o755)
    home = AirflowHome(tmp_path / "af", airflow_bin=str(script))
    home.create([])
    with pytest.raises(DemoError, match="did not finish within 1 s") as err:
        home.run(["dags", "test", "x"], log_name="slow", timeout=1, what="airflow dags test x")
    assert "starting" in err.value.log_tail

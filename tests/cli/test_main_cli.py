"""The sync-cli frame: version, help with an example on every command, exit codes, --debug, completion."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from sync_provider.cli.main import app


def _commands() -> list[list[str]]:
    """Every leaf command as its argv path, e.g. ["projects", "create"]."""
    root = typer.main.get_command(app)
    out: list[list[str]] = []

    def walk(cmd, path: list[str]) -> None:
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, [*path, name])
        else:
            out.append(path)

    walk(root, [])
    return out


COMMANDS = _commands()


def test_every_documented_command_exists():
    names = {" ".join(c) for c in COMMANDS}
    expected = {
        "configure", "products", "projects create", "projects list", "projects get", "projects update",
        "projects delete", "projects history", "projects approve", "projects rollback", "predictions list",
        "predictions get", "predictions status", "aws-databricks create-prediction", "aws-databricks run-job",
        "aws-databricks run-prediction", "aws-databricks apply-prediction", "aws-databricks get-cluster-report",
        "aws-databricks access-report", "goals set", "goals show", "recommend", "backtest", "eventlog summarize",
        "photon-roi",
    }  # fmt: skip
    assert expected <= names, sorted(expected - names)


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_help_of_every_command_has_an_example(cli, path):
    res = cli(*path, "--help")
    assert "Example" in res.stdout, f"`sync-cli {' '.join(path)} --help` shows no example"


def test_version_and_root_help(cli):
    from sync_provider import __version__

    assert cli("--version").stdout.strip() == f"sync-cli {__version__}"
    assert "Exit codes" in cli("--help").stdout
    cli("no-such-command", code=2)


def test_operation_failure_is_one_line_and_debug_shows_the_traceback(cli):
    res = cli("projects", "get", "ghost", code=1)
    assert res.stderr.startswith("Error: project 'ghost' not found") and "Traceback" not in res.output
    res = cli("--debug", "projects", "get", "ghost", code=1)
    assert type(res.exception).__name__ == "ProjectNotFound"


def test_unexpected_errors_are_reported_without_traceback(cli, monkeypatch):
    from sync_provider.cli import context

    def boom(*_a, **_k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(context.CliContext, "store", property(boom))
    res = cli("projects", "list", code=1)
    assert "Error: RuntimeError: disk on fire" in res.stderr and "--debug" in res.stderr


def test_installed_script_exit_codes_and_completion(tmp_path):
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "SYNC_STORE_URL": f"sqlite:///{tmp_path / 's.db'}"}
    script = [sys.executable, "-m", "sync_provider.cli.main"]
    ok = subprocess.run([*script, "projects", "list", "--json"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.strip() == "[]"
    failed = subprocess.run([*script, "projects", "get", "x"], env=env, capture_output=True, text=True)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr and "not found" in failed.stderr
    usage = subprocess.run([*script, "projects", "get"], env=env, capture_output=True, text=True)
    assert usage.returncode == 2
    # Typer detects the user's shell from the process tree, which a background or CI runner may not show; its own
    # switch makes `--show-completion` take the shell named instead, so the test does not depend on who ran it.
    named = {**env, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    completion = subprocess.run([*script, "--show-completion", "bash"], env=named, capture_output=True, text=True)
    assert completion.returncode == 0 and "complete" in completion.stdout


def test_cli_reference_in_docs_is_generated_from_the_commands():
    """docs/cli.md's reference must match the commands; regenerate with `python scripts/gen_cli_docs.py`."""
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "gen_cli_docs.py"
    spec = importlib.util.spec_from_file_location("gen_cli_docs", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    reference = module.render(app)
    assert "#### `sync-cli projects create`" in reference and "--sla-minutes" in reference
    assert module.main(["--check"]) == 0, "docs/cli.md is stale: run `python scripts/gen_cli_docs.py`"


def test_the_demo_report_goes_into_the_demo_directory_unless_told_otherwise(tmp_path, monkeypatch):
    # `sync-cli demo --dir X` keeps everything under X: the report too (it used to land in ./.demo).
    from sync_provider.demo import runner

    seen = []

    def fake_run_demo(options, display):
        seen.append(options.report_path)
        return runner.DemoResult(rows={}, report_path=options.report_path, seconds=0.0, home=None)

    monkeypatch.setattr(runner, "run_demo", fake_run_demo)
    cli = CliRunner()
    assert cli.invoke(app, ["demo", "--dir", str(tmp_path / "d"), "--group-runs", "0"]).exit_code == 0
    assert cli.invoke(app, ["demo", "--report", str(tmp_path / "r.html"), "--group-runs", "0"]).exit_code == 0
    assert seen == [tmp_path / "d" / "report.html", tmp_path / "r.html"]

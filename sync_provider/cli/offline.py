"""Offline commands: `recommend` (batched JSONL recommendations) and `backtest` (closed loop on measured runs)."""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
import typer
from rich.console import Console
from rich.table import Table

from sync_provider.cli._common import CliError, console, err_console, print_json
from sync_provider.engine.errors import InvalidRequestError

app = typer.Typer(no_args_is_help=True)


def recommend(
    input: Path = typer.Option(..., "--input", "-i", help="Requests, one JSON object per line ('-' for stdin)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write responses here instead of stdout."),
) -> None:
    """Answer each request line with one response line, in order; bad requests get {"id", "error"}.

    Blank lines are skipped; a line that is not JSON or not UTF-8 gets an error line naming it, and the batch goes
    on. The request and response fields are in docs/cli.md.

    Example: sync-cli recommend --input requests.jsonl --output responses.jsonl
    """
    from sync_provider.engine.offline.requests import recommend_lines

    if str(input) == "-":
        lines = sys.stdin.buffer.read().splitlines()
    else:
        lines = _read_input(input, "a JSONL file of recommendation requests").splitlines()
    if not any(line.strip() for line in lines):
        err_console.print(f"Warning: {input} holds no requests; nothing to answer.", highlight=False)
    out_lines = (orjson.dumps(r).decode() for r in recommend_lines(lines))
    if output is None:
        for line in out_lines:
            typer.echo(line)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        with open(output, "w") as fh:
            for line in out_lines:
                fh.write(line + "\n")
    except OSError as exc:
        raise CliError(
            f"cannot write the responses to {output}: {exc.strerror or exc}",
            hint="give --output a file path in a writable directory, or leave it out to print to stdout",
        ) from None


def _check_input(path: Path, what: str) -> None:
    """One clear error, saying what the command needs there, when `path` is no file to read."""
    if not path.exists():
        raise CliError(f"input file {path} does not exist", hint=f"give {what}")
    if path.is_dir():
        raise CliError(f"{path} is a directory", hint=f"give {what}")


def _read_input(path: Path, what: str) -> bytes:
    _check_input(path, what)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}", hint=f"give {what} you can read") from None


def backtest(
    measurements: Path = typer.Option(
        ..., "--measurements", "-m", help="CSV: workload, instance_type, num_workers, runtime_s."
    ),
    prices: Path = typer.Option(..., "--prices", "-p", help="CSV: instance_type, hourly_usd[, vcpus, memory_gib]."),
    iterations: int = typer.Option(10, "--iterations", "-k", min=1, help="Runs each policy chooses per episode."),
    slack: float = typer.Option(0.25, "--slack", "-s", min=0.0, help="SLA = start runtime x (1 + slack)."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
    seed: int = typer.Option(0, "--seed", help="Seed of the world's noise and the random baseline."),
    max_starts: int | None = typer.Option(
        None, "--max-starts", help="Sample at most this many start points per workload."
    ),
) -> None:
    """Replay measured runs as the world; compare the engine with the oracle and the baselines.

    Example: sync-cli backtest --measurements runs.csv --prices prices.csv --iterations 10 --json
    """
    from sync_provider.engine.offline.backtest import load_measurements, load_prices, run_backtest

    _check_input(measurements, "a CSV of measured runs (workload, instance_type, num_workers, runtime_s)")
    _check_input(prices, "a CSV of prices (instance_type, hourly_usd[, vcpus, memory_gib])")
    try:
        cost_model = load_prices(prices)
        worlds = load_measurements(measurements, cost_model)
        result = run_backtest(worlds, iterations=iterations, slack=slack, seed=seed, max_starts=max_starts)
    except InvalidRequestError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot read {exc.filename}: {exc.strerror or exc}") from None
    if as_json:
        print_json(result)
        return
    _print_table(result)


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.0f}%"


def _print_table(result: dict) -> None:
    table = Table(title=f"backtest: {', '.join(result['workloads'])} (SLA = {result['sla']}, slack {result['slack']})")
    cols = ["policy", "episodes", "1-shot ok", "1-shot med. cost", "oracle med.", "saving/oracle", "1-shot SLA viol."]
    ks = sorted({k for m in result["policies"].values() for k in m["closed_loop"]}, key=lambda s: int(s.split("_")[1]))
    cols += [f"{k.replace('after_', '@')} <=10%" for k in ks] + ["SLA viol.", "failed"]
    for c in cols:
        table.add_column(c, justify="right" if c != "policy" else "left")
    for name, m in result["policies"].items():
        s = m["single_shot"]
        row = [
            name,
            str(m["episodes"]),
            _pct(s["cheaper_within_sla"]),
            _pct(s["median_cost_change"]),
            _pct(s["oracle_median_cost_change"]),
            _pct(s["saving_vs_oracle"]),
            _pct(s["sla_violations"]),
        ]
        row += [_pct(m["closed_loop"][k]["within_10pct"]) for k in ks]
        row += [_pct(m["sla_violation_rate"]), str(m["failed_runs"])]
        table.add_row(*row)
    # Wide enough for every column even when stdout is a pipe (rich assumes 80 columns then).
    Console(width=max(console.width, 150)).print(table)

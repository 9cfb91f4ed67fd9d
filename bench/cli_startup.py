"""How long a sync-cli command takes to start: every call from a script pays this.

Prints the median wall time of `sync-cli --version` and `sync-cli projects list --json` (an empty SQLite store)
over a few runs, and the slowest imports of the CLI module.

    .venv/bin/python bench/cli_startup.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time


def _time(args: list[str], env: dict[str, str], runs: int = 5) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "sync_provider.cli.main", *args], env=env, check=True, capture_output=True
        )
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def _slowest_imports(env: dict[str, str], top: int = 5) -> list[tuple[int, str]]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import sync_provider.cli.main"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "HOME": home, "SYNC_STORE_URL": f"sqlite:///{home}/sync.db"}
        print(f"sync-cli --version:             {_time(['--version'], env):.2f} s (median of 5)")
        print(f"sync-cli projects list --json:  {_time(['projects', 'list', '--json'], env):.2f} s (median of 5)")
        print("slowest imports (cumulative):")
        for micros, name in _slowest_imports(env):
            print(f"  {micros / 1e6:6.2f} s  {name}")


if __name__ == "__main__":
    main()

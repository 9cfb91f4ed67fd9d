"""The engine is pure Python: importing every engine module pulls in neither Airflow nor the emulator.

Run in a fresh interpreter, so what other tests imported cannot hide a dependency.
"""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import importlib, pkgutil, sys
import sync_provider.engine as engine
names = [m.name for m in pkgutil.walk_packages(engine.__path__, "sync_provider.engine.")]
for name in names:
    importlib.import_module(name)
leaked = sorted(m for m in sys.modules if m.split(".")[0] == "airflow" or m.startswith("sync_provider.emulator"))
print(len(names), leaked)
"""


def test_engine_modules_import_neither_airflow_nor_the_emulator():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    count, leaked = proc.stdout.split(" ", 1)
    assert int(count) > 20, "walked too few engine modules: the package layout changed"
    assert leaked.strip() == "[]", f"the engine imports {leaked.strip()}"

"""Sanity bounds of the numbers the engine is given (offline requests, measurement tables, CLI flags).

Beyond them a value is a unit mistake or garbage, and answering it would give NaN or exhaust memory: the inputs
name the field and the bound instead.
"""

from __future__ import annotations

#: A run longer than this (about 115 days) is a unit mistake (milliseconds for seconds), not a Spark job.
MAX_RUNTIME_S = 1e7
#: More workers than any cluster has: a typo, refused before it sizes a search space.
MAX_WORKERS = 100_000
#: A node-hour above this is garbage (the priciest cloud GPU nodes cost about $100/h).
MAX_HOURLY_USD = 1000.0

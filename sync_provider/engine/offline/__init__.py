"""Offline interfaces of the engine: batched `recommend` requests, `backtest` on measured runs, episodes."""

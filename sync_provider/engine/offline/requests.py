"""`sync-cli recommend`: batched, self-contained recommendation requests (JSONL in, JSONL out).

Each request carries everything: goal, search space, prices, cost model and history (DESIGN.md has the
contract). A bad request is answered `{"id", "error"}` and never stops the batch.

Pricing in offline requests: `prices` rows extend or override the built-in catalog (unknown types need vcpus
and memory_gib). `cost_model.driver` (default true) bills the driver node; `cost_model.startup_seconds` (default
0: the measured runtime is the billed time) adds paid start-up; DBUs are billed at `cost_model.dbu_usd` when
given, at list price when the driver is billed, and not at all with `driver: false` and no `dbu_usd`, which
makes the cost exactly runtime hours x hourly_usd x num_workers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson
from pydantic import ValidationError

from sync_provider.engine.decision.candidates import check_space_size
from sync_provider.engine.errors import EngineError, InvalidRequestError
from sync_provider.engine.evidence.catalog import Catalog, UnknownInstanceType
from sync_provider.engine.evidence.cost import CostModel, PricingSettings
from sync_provider.engine.evidence.profile import Profile, data_input_bytes
from sync_provider.engine.limits import MAX_RUNTIME_S, MAX_WORKERS
from sync_provider.engine.models import ClusterConfig, Constraints, Goals, Preference, RunObservation
from sync_provider.engine.recommend import recommend

RESPONSE_FIELDS = (
    "id",
    "instance_type",
    "num_workers",
    "photon",
    "spot",
    "predicted_runtime_s",
    "predicted_runtime_p90_s",
    "predicted_cost_usd",
    "phase",
    "reason",
)

#: The fields each part of a request may have (DESIGN.md); others are answered with a warning, not an error, so
#: that a newer client's extensions still get answers.
KNOWN_FIELDS: dict[str, frozenset[str]] = {
    "": frozenset({"id", "goal", "space", "prices", "cost_model", "history"}),
    "goal": frozenset({"sla_seconds", "cost_target_usd", "preference"}),
    "space": frozenset({"candidates", "instance_types", "min_workers", "max_workers", "photon", "spot"}),
    "cost_model": frozenset({"driver", "dbu_usd", "startup_seconds"}),
    "history": frozenset(
        {"instance_type", "num_workers", "driver_instance_type", "photon", "spot", "runtime_s", "succeeded",
         "input_bytes", "eventlog", "run_id"}
    ),
    "space.candidates": frozenset({"instance_type", "num_workers", "driver_instance_type", "photon", "spot"}),
}  # fmt: skip


def unknown_fields(req: Mapping[str, Any]) -> list[str]:
    """Warnings for fields the contract does not have (a typo such as `sla_secs` would otherwise pass unseen)."""
    found: list[str] = []

    def check(obj: Any, part: str, where: str) -> None:
        if isinstance(obj, dict):
            found.extend(f"{where}{k}" for k in obj if k not in KNOWN_FIELDS[part])

    check(req, "", "")
    for part in ("goal", "space", "cost_model"):
        check(req.get(part), part, f"{part}.")
    history, space = req.get("history"), req.get("space")
    for i, run in enumerate(history if isinstance(history, list) else []):
        check(run, "history", f"history[{i}].")
    cands = space.get("candidates") if isinstance(space, dict) else None
    for i, c in enumerate(cands if isinstance(cands, list) else []):
        check(c, "space.candidates", f"space.candidates[{i}].")
    return [f"unknown field {name} ignored (a typo?)" for name in found]


def _validation_message(exc: ValidationError, where: str = "") -> str:
    """A pydantic error as `field: what is wrong`, without pydantic's links."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err.get("loc", ()))
        field = f"{where}.{loc}" if where and loc else (where or loc)
        parts.append(f"{field}: {err.get('msg')}" if field else str(err.get("msg")))
    return "; ".join(parts)


def _int(value: Any, where: str, lo: int = 0, hi: int = MAX_WORKERS) -> int:
    """A whole number within [lo, hi]: 8 or 8.0 or "8", never 8.7 silently cut to 8."""
    given = value
    if isinstance(value, bool):
        value = None
    elif isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            value = None
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidRequestError(f"{where} must be a whole number from {lo} to {hi:,}, got {given!r}")
    return value


def _number(value: Any, where: str, *, positive: bool = False, upper: float = math.inf) -> float:
    """A finite number >= 0 (> 0 when `positive`) and at most `upper`."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (positive and value == 0) or value > upper:
        bound = f" and at most {upper:g}" if math.isfinite(upper) else ""
        kind = "a positive" if positive else "a non-negative"
        raise InvalidRequestError(f"{where} must be {kind} number{bound}, got {value!r}")
    return float(value)


def _obj(req: Mapping[str, Any], key: str, default: Any = None) -> Any:
    val = req.get(key, default)
    if val is not None and not isinstance(val, type(default) if default is not None else (dict, list)):
        raise InvalidRequestError(
            f"'{key}' must be a JSON {type(default).__name__ if default is not None else 'object'}"
        )
    return val


def build_cost_model(req: Mapping[str, Any]) -> CostModel:
    """Catalog (built-in + `prices`) and pricing settings (`cost_model`) of one request."""
    prices = _obj(req, "prices", [])
    spec = _obj(req, "cost_model", {})
    driver = bool(spec.get("driver", True))
    dbu_usd = spec.get("dbu_usd")
    if dbu_usd is not None:
        dbu_usd = _number(dbu_usd, "cost_model.dbu_usd", positive=True)
    startup = _number(spec.get("startup_seconds", 0.0), "cost_model.startup_seconds", upper=MAX_RUNTIME_S)
    rows = []
    for i, row in enumerate(prices):
        if not isinstance(row, dict) or not row.get("instance_type"):
            raise InvalidRequestError(f"prices[{i}] must be an object with an 'instance_type'")
        rows.append(row)
    catalog = Catalog.default()
    try:
        if rows:
            catalog = catalog.with_overrides(
                [
                    {**r, "dbu_per_hour": r.get("dbu_per_hour", 0.0)} if r["instance_type"] not in catalog else r
                    for r in rows
                ]
            )
        if not driver and dbu_usd is None:
            catalog = catalog.with_overrides([{"instance_type": n, "dbu_per_hour": 0.0} for n in catalog.names()])
        pricing = PricingSettings(
            include_driver=driver,
            dbu_usd=dbu_usd,
            startup_seconds=startup,
        )
    except ValidationError as exc:
        raise InvalidRequestError(f"invalid prices or cost_model: {_validation_message(exc)}") from None
    except ValueError as exc:
        raise InvalidRequestError(f"invalid prices or cost_model: {exc}") from None
    return CostModel(catalog, pricing)


def _config(d: Mapping[str, Any], where: str) -> ClusterConfig:
    if not isinstance(d, dict):
        raise InvalidRequestError(f"{where} must be an object")
    for key in ("instance_type", "num_workers"):
        if key not in d:
            raise InvalidRequestError(f"{where} lacks {key!r}")
    try:
        return ClusterConfig(
            instance_type=d["instance_type"],
            num_workers=_int(d["num_workers"], f"{where}.num_workers"),
            photon=bool(d.get("photon", False)),
            spot=bool(d.get("spot", False)),
            driver_instance_type=d.get("driver_instance_type"),
        )
    except ValidationError as exc:
        raise InvalidRequestError(f"{where} is invalid: {_validation_message(exc)}") from None


def build_space(req: Mapping[str, Any], cost_model: CostModel) -> list[ClusterConfig] | Constraints:
    """Explicit candidates, or a range that enumerates them; none given = the whole catalog, 1-64 workers."""
    space = _obj(req, "space", {})
    if "candidates" in space:
        cands = [_config(c, f"space.candidates[{i}]") for i, c in enumerate(space["candidates"] or [])]
        if not cands:
            raise InvalidRequestError("space.candidates is empty: offer at least one configuration")
        missing = sorted({c.instance_type for c in cands if c.instance_type not in cost_model.catalog})
        if missing:
            raise InvalidRequestError(
                f"candidates use instance types without prices: {missing}; add them to 'prices' "
                "(instance_type, vcpus, memory_gib, hourly_usd, dbu_per_hour)"
            )
        return cands
    types = space.get("instance_types")
    lo = _int(space.get("min_workers", 1), "space.min_workers")
    hi = _int(space.get("max_workers", 64), "space.max_workers")
    if hi < lo:
        raise InvalidRequestError(f"space workers range [{lo}, {hi}] is empty; need 0 <= min_workers <= max_workers")
    if types is not None:
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise InvalidRequestError("space.instance_types must be a list of instance type names")
        missing = sorted(t for t in types if t not in cost_model.catalog)
        if missing:
            raise InvalidRequestError(f"space.instance_types {missing} have no prices; add them to 'prices'")
        photon = [bool(x) for x in space.get("photon", [False])]
        spot = [bool(x) for x in space.get("spot", [False])]
        check_space_size(len(set(types)) * (hi - lo + 1) * len(set(photon)) * len(set(spot)), "space")
        return [
            ClusterConfig(instance_type=t, num_workers=n, photon=p, spot=s)
            for t in types
            for n in range(lo, hi + 1)
            for p in dict.fromkeys(photon)
            for s in dict.fromkeys(spot)
        ]
    try:
        return Constraints(min_workers=lo, max_workers=hi, photon_allowed=True in space.get("photon", [False]))
    except ValidationError as exc:
        raise InvalidRequestError(f"invalid space: {_validation_message(exc, 'space')}") from None


def build_history(req: Mapping[str, Any]) -> list[RunObservation]:
    """Runs of the request; an `eventlog` path is parsed into a profile (profile replay instead of black box)."""
    runs = _obj(req, "history", [])
    out = []
    for i, h in enumerate(runs):
        cfg = _config(h, f"history[{i}]")
        succeeded = bool(h.get("succeeded", True))
        runtime = h.get("runtime_s")
        if runtime is not None:
            runtime = _number(runtime, f"history[{i}].runtime_s (seconds)", positive=True, upper=MAX_RUNTIME_S)
        if h.get("input_bytes") is not None:
            _number(h["input_bytes"], f"history[{i}].input_bytes")
        if succeeded and runtime is None:
            raise InvalidRequestError(f"history[{i}] succeeded but has no runtime_s")
        profile = None
        if h.get("eventlog"):
            profile = _parse_eventlog(str(h["eventlog"]), i)
        try:
            out.append(
                RunObservation(
                    config=cfg,
                    runtime_s=runtime,
                    succeeded=succeeded,
                    input_bytes=_input_bytes(h, profile),
                    profile=profile,
                    run_id=str(h.get("run_id", i)),
                )
            )
        except ValidationError as exc:
            raise InvalidRequestError(f"history[{i}] is invalid: {_validation_message(exc)}") from None
    if not out:
        raise InvalidRequestError("history is empty: give at least one finished run (config and runtime_s)")
    return out


def _input_bytes(run: Mapping[str, Any], profile: Profile | None) -> Any:
    """The request's `input_bytes` when given, else what the event log says the job read once."""
    if run.get("input_bytes") is not None or profile is None:
        return run.get("input_bytes")
    return data_input_bytes(profile) or None


def _parse_eventlog(path: str, i: int):
    try:
        from sync_provider.engine.evidence.eventlog import parse_eventlog
    except ImportError:  # pragma: no cover - the parser ships with the package
        raise InvalidRequestError("event-log parsing is not available in this installation") from None
    try:
        return parse_eventlog(path)
    except Exception as exc:  # noqa: BLE001 - any parser failure becomes this line's error
        raise InvalidRequestError(f"history[{i}].eventlog {path!r} could not be parsed: {exc}") from None


def answer(req: Any) -> dict[str, Any]:
    """The response to one request (or its error line); never raises for bad input."""
    rid = req.get("id") if isinstance(req, dict) else None
    try:
        if not isinstance(req, dict):
            raise InvalidRequestError("a request must be a JSON object")
        goal = _obj(req, "goal", {})
        try:
            goals = Goals(
                sla_seconds=goal.get("sla_seconds"),
                cost_target_usd=goal.get("cost_target_usd"),
                preference=Preference(goal.get("preference", "economy")),
            )
        except ValidationError as exc:
            raise InvalidRequestError(f"invalid goal: {_validation_message(exc, 'goal')}") from None
        except ValueError as exc:
            raise InvalidRequestError(f"invalid goal: {exc}") from None
        cost_model = build_cost_model(req)
        space = build_space(req, cost_model)
        history = build_history(req)
        if isinstance(space, Constraints):
            pred = recommend(history, goals, space, cost_model)
        else:
            pred = recommend(history, goals, Constraints(), cost_model, candidates=space)
        sol = pred.for_preference(goals.preference)
        if not all(
            math.isfinite(x) for x in (sol.predicted_runtime_s, sol.predicted_runtime_p90_s, sol.cost.total_usd)
        ):
            raise InvalidRequestError(
                "the prediction is not a finite number: check the history for absurd runtimes or input sizes"
            )
        out = {
            "id": rid,
            "instance_type": sol.config.instance_type,
            "num_workers": sol.config.num_workers,
            "photon": sol.config.photon,
            "spot": sol.config.spot,
            "predicted_runtime_s": round(sol.predicted_runtime_s, 3),
            "predicted_runtime_p90_s": round(sol.predicted_runtime_p90_s, 3),
            "predicted_cost_usd": round(sol.cost.total_usd, 6),
            "phase": pred.phase.value,
            "reason": pred.reason if sol.meets_sla else f"{pred.reason} (SLA cannot be met)",
            "meets_sla": sol.meets_sla,
        }
        if warnings := unknown_fields(req):
            out["warnings"] = warnings
        return out
    except (EngineError, UnknownInstanceType) as exc:
        return {"id": rid, "error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - one bad request must never stop the batch
        return {"id": rid, "error": f"internal error on this request ({type(exc).__name__}: {exc}); please report it"}


def recommend_lines(lines: Iterable[str | bytes]) -> Iterator[dict[str, Any]]:
    """One response per non-blank input line, in order; a line that is not JSON, not UTF-8 or not an object
    becomes an error line naming its line number, and the batch goes on."""
    for n, line in enumerate(lines, start=1):
        if isinstance(line, str):
            line = line.encode("utf-8", "surrogatepass")
        line = line.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark (files saved by Excel, Notepad)
        if not line.strip():
            continue
        try:
            req = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            hint = "save the file as UTF-8" if "UTF-8" in str(exc) else "one JSON object per line"
            yield {"id": None, "error": f"line {n} is not valid JSON ({exc}); {hint}"}
            continue
        out = answer(req)
        if "error" in out:
            out["error"] = f"line {n}: {out['error']}"
        yield out

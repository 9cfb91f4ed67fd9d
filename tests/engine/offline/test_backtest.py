"""`backtest` on a small known table: loading, episodes, metrics against the oracle."""

from __future__ import annotations

import pytest

from sync_provider.engine.errors import InvalidRequestError
from sync_provider.engine.models import ClusterConfig
from sync_provider.engine.offline.backtest import load_measurements, load_prices, run_backtest


def test_tables_load_into_worlds(tables):
    runs, prices = tables
    worlds = load_measurements(runs, load_prices(prices))
    assert [w.workload for w in worlds] == ["etl"]
    w = worlds[0]
    failed = ClusterConfig(instance_type="c5.xlarge", num_workers=1)
    assert w.expected(failed, 0)[0] is None
    rt, cost = w.expected(ClusterConfig(instance_type="x1.custom", num_workers=4), 0)
    assert cost == pytest.approx(rt / 3600 * 0.5 * 4)


def test_the_oracle_is_the_cheapest_measured_configuration_within_the_sla(tables):
    from sync_provider.engine.offline.episodes import oracle
    from tests.engine.offline.conftest import TYPES, truth

    runs, prices = tables
    (world,) = load_measurements(runs, load_prices(prices))
    sla = 900.0
    # Worked out from the table's own truth (the two measurements of each configuration straddle it evenly),
    # billed as runtime x hourly price x workers.
    costs = {(t, n): truth(t, n) / 3600 * TYPES[t][2] * n for t in TYPES for n in (2, 4, 8, 16) if truth(t, n) <= sla}
    (want_type, want_n), want_cost = min(costs.items(), key=lambda kv: kv[1])
    config, cost = oracle(world, 0, sla)
    assert (config.instance_type, config.num_workers) == (want_type, want_n)
    assert cost == pytest.approx(want_cost, rel=1e-6)


def test_backtest_reports_every_policy_against_the_oracle(tables):
    runs, prices = tables
    worlds = load_measurements(runs, load_prices(prices))
    result = run_backtest(worlds, iterations=5, slack=0.3, max_starts=4, baselines=["stay", "heuristic"])
    pols = result["policies"]
    assert list(pols) == ["engine", "stay", "heuristic"]
    eng = pols["engine"]
    assert eng["episodes"] == 4
    assert set(eng["closed_loop"]) == {"after_3", "after_5"}
    assert 0 <= eng["sla_violation_rate"] <= 1
    # Staying never changes the cost, so it never beats the start in a single shot.
    assert pols["stay"]["single_shot"]["cheaper_within_sla"] in (0.0, None)


def test_unpriced_instance_types_are_named(tables, tmp_path):
    runs, _ = tables
    prices = tmp_path / "p.csv"
    prices.write_text("instance_type,hourly_usd\nm5.xlarge,0.192\n")
    with pytest.raises(InvalidRequestError, match="no prices"):
        load_measurements(runs, load_prices(prices))


def test_bad_runtime_is_named(tmp_path, tables):
    _, prices = tables
    runs = tmp_path / "r.csv"
    runs.write_text("workload,instance_type,num_workers,runtime_s\netl,m5.xlarge,4,-3\n")
    with pytest.raises(InvalidRequestError, match="line 2"):
        load_measurements(runs, load_prices(prices))


RUNS_HEADER = "workload,instance_type,num_workers,runtime_s\n"


def _runs(tmp_path, body: str, name: str = "r.csv"):
    path = tmp_path / name
    path.write_text(RUNS_HEADER + body)
    return path


@pytest.mark.parametrize(
    ("runtime", "message"),
    [
        ("nan", r"r\.csv line 3: runtime_s 'nan' is not a finite number; give the runtime in seconds"),
        ("inf", r"r\.csv line 3: runtime_s 'inf' is not a finite number"),
        ("-inf", r"r\.csv line 3: runtime_s '-inf' is not a finite number"),
        ("1e308", r"r\.csv line 3: runtime 1e\+308 s is more than 1e\+07 s .*give the runtime in seconds"),
        ("0", r"r\.csv line 3: runtime must be positive.*leave it empty for a failed run"),
        ("ten", r"r\.csv line 3: 'ten' is not a number"),
    ],
)
def test_unusable_runtimes_are_refused_with_the_line(tmp_path, tables, runtime, message):
    _, prices = tables
    runs = _runs(tmp_path, f"etl,m5.xlarge,4,100\netl,m5.xlarge,8,{runtime}\n")
    with pytest.raises(InvalidRequestError, match=message):
        load_measurements(runs, load_prices(prices))


def test_the_runtime_bound_is_a_named_constant(tmp_path, tables):
    from sync_provider.engine.offline import backtest

    _, prices = tables
    ok = _runs(tmp_path, f"etl,m5.xlarge,4,{backtest.MAX_RUNTIME_S:g}\n")
    assert load_measurements(ok, load_prices(prices))[0].samples
    too_long = _runs(tmp_path, f"etl,m5.xlarge,4,{backtest.MAX_RUNTIME_S * 1.01:g}\n", "long.csv")
    with pytest.raises(InvalidRequestError, match=r"long\.csv line 2: .*more than"):
        load_measurements(too_long, load_prices(prices))


def test_a_byte_order_mark_does_not_break_either_header(tmp_path, tables):
    runs, prices = tables
    bom_runs, bom_prices = tmp_path / "bom_runs.csv", tmp_path / "bom_prices.csv"
    bom_runs.write_bytes(b"\xef\xbb\xbf" + runs.read_bytes().replace(b"\n", b"\r\n"))
    bom_prices.write_bytes(b"\xef\xbb\xbf" + prices.read_bytes())
    worlds = load_measurements(bom_runs, load_prices(bom_prices))
    plain = load_measurements(runs, load_prices(prices))
    assert [(w.workload, w.samples) for w in worlds] == [(w.workload, w.samples) for w in plain]


def test_a_file_that_is_not_utf8_is_named(tmp_path, tables):
    runs, _ = tables
    prices = tmp_path / "p.csv"
    prices.write_bytes("instance_type,hourly_usd\nm5.xlarge,0.192 \u20ac\n".encode("cp1252"))
    with pytest.raises(InvalidRequestError, match=r"p\.csv: not UTF-8 text .*save it as CSV UTF-8"):
        load_prices(prices)


@pytest.mark.parametrize(
    ("hourly", "message"),
    [
        ("nan", r"p\.csv line 3: hourly_usd must be a finite number > 0, got 'nan'"),
        ("inf", r"p\.csv line 3: hourly_usd must be a finite number > 0, got 'inf'"),
        ("0", r"p\.csv line 3: hourly_usd must be a finite number > 0, got '0'"),
        ("-0.1", r"p\.csv line 3: hourly_usd must be a finite number > 0"),
        ("1e308", r"p\.csv line 3: hourly_usd 1e\+308 is more than 1000; give the price of one node-hour"),
        ("cheap", r"p\.csv line 3: hourly_usd 'cheap' is not a number"),
    ],
)
def test_unusable_hourly_prices_are_refused_with_the_line(tmp_path, hourly, message):
    prices = tmp_path / "p.csv"
    prices.write_text(f"instance_type,hourly_usd\nm5.xlarge,0.192\nc5.xlarge,{hourly}\n")
    with pytest.raises(InvalidRequestError, match=message):
        load_prices(prices)


def test_an_unknown_type_without_its_size_names_the_line_and_the_columns(tmp_path):
    prices = tmp_path / "p.csv"
    prices.write_text("instance_type,hourly_usd,vcpus\nm5.xlarge,0.192\nzz.custom,0.3,4\n")
    with pytest.raises(InvalidRequestError) as exc:
        load_prices(prices)
    msg = str(exc.value)
    assert "p.csv line 3: 'zz.custom' is not in the built-in catalog; give its memory_gib" in msg
    assert "instance_type, hourly_usd[, vcpus, memory_gib]" in msg
    assert "dbu_per_hour" not in msg


def test_duplicate_instance_types_in_the_prices_are_refused_naming_both_lines(tmp_path):
    prices = tmp_path / "p.csv"
    prices.write_text("instance_type,hourly_usd\nm5.xlarge,0.192\nc5.xlarge,0.17\n\nm5.xlarge,0.15\n")
    with pytest.raises(InvalidRequestError, match=r"p\.csv line 5: 'm5\.xlarge' is already priced on line 2; keep one"):
        load_prices(prices)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        # A short row is no failed run (only an empty runtime cell is), and a long one no runtime of 1.
        ("etl,m5.xlarge,4,100\netl,m5.xlarge,4\n", r"r\.csv line 3: 3 fields but the header has 4 \(no runtime_s\)"),
        (
            "etl,m5.xlarge,4,100\netl,m5.xlarge,8,1,234.5\n",
            r"r\.csv line 3: 5 fields but the header has 4; quote values",
        ),
        # Workloads that would silently give no episode.
        (
            "etl,m5.xlarge,4,100\nbi,m5.xlarge,4,\nbi,c5.xlarge,8,\n",
            r"r\.csv: every run of workload 'bi' failed.*add at least one",
        ),
        (
            "etl,m5.xlarge,4,100\netl,m5.xlarge,4,\netl,m5.xlarge,4,\n",
            r"workload 'etl' succeeds in most of its measurements.*no start",
        ),
    ],
)
def test_tables_that_cannot_be_replayed_are_refused_naming_why(tmp_path, tables, rows, message):
    _, prices = tables
    with pytest.raises(InvalidRequestError, match=message):
        load_measurements(_runs(tmp_path, rows), load_prices(prices))


def test_an_empty_runtime_cell_is_still_a_failed_run(tmp_path, tables):
    _, prices = tables
    runs = _runs(tmp_path, "etl,m5.xlarge,4,100\netl,m5.xlarge,8,\n")
    (world,) = load_measurements(runs, load_prices(prices))
    assert world.samples[ClusterConfig(instance_type="m5.xlarge", num_workers=8).key()] == [None]

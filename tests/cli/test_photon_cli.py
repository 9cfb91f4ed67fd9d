"""`sync-cli photon-roi`: break-even from the README formula over the whole cluster, and the job estimate."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sync_provider.cli.main import app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine" / "evidence"))
from eventlog_factory import write_log  # noqa: E402

runner = CliRunner()


def test_break_even_matches_hand_computation():
    # 4 workers + driver, m5.xlarge: m = 5 x 0.192 = 0.96 $/h, d = 5 x 0.69 x 0.15 = 0.5175 $/h, P = 2.9
    result = runner.invoke(app, ["photon-roi", "--instance-type", "m5.xlarge", "--workers", "4", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["break_even_speedup"] == pytest.approx((0.96 + 2.9 * 0.5175) / (0.96 + 0.5175), abs=1e-4)
    assert data["estimated_speedup"] is None


def test_overrides_change_the_break_even():
    result = runner.invoke(
        app,
        ["photon-roi", "--instance-type", "m5.xlarge", "--workers", "0", "--plan", "enterprise",
         "--compute-type", "all_purpose", "--photon-multiplier", "2", "--dbu-usd", "0.2782608696", "--json"],
    )  # fmt: skip
    data = json.loads(result.stdout)
    # d = 0.69 x 0.2782608696 = 0.192 = m: the README example m = d, P = 2 -> 1.5
    assert data["break_even_speedup"] == pytest.approx(1.5, abs=1e-4)


def test_with_eventlog_says_whether_photon_pays(tmp_path):
    path = tmp_path / "app.log"
    write_log(path, jobs=2)
    result = runner.invoke(app, ["photon-roi", "--instance-type", "m5.xlarge", "--workers", "4",
                                 "--eventlog", str(path), "--json"])  # fmt: skip
    data = json.loads(result.stdout)
    assert 1.0 < data["estimated_speedup"] < 2.7
    assert data["photon_pays"] == (data["estimated_speedup"] > data["break_even_speedup"])
    assert data["eventlog_ran_photon"] is False


def test_unknown_instance_type_is_a_clear_error():
    from sync_provider.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(["photon-roi", "--instance-type", "z9.huge", "--workers", "2"])
    assert exc.value.code == 1


@pytest.mark.parametrize(
    ("option", "key"), [("--dbu-usd", "dbu_usd"), ("--photon-multiplier", "photon_dbu_multiplier")]
)
def test_zero_is_a_value_not_the_default(option, key):
    result = runner.invoke(app, ["photon-roi", "--instance-type", "m5.xlarge", "--workers", "4", option, "0", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data[key] == 0.0
    if option == "--dbu-usd":  # free DBUs: Photon only has to be as fast
        assert data["break_even_speedup"] == pytest.approx(1.0)
    else:  # free Photon DBUs: Photon may even be slower
        assert data["break_even_speedup"] < 1.0


@pytest.mark.parametrize("option", ["--dbu-usd", "--photon-multiplier"])
@pytest.mark.parametrize("value", ["inf", "nan", "-inf", "1e308", "-1"])
def test_non_finite_or_absurd_prices_are_refused_naming_the_option(option, value):
    result = runner.invoke(app, ["photon-roi", "--instance-type", "m5.xlarge", "--workers", "4", option, value])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.replace("│", " ").split())
    assert f"Invalid value for '{option}': must be a finite number from 0 to 100" in text
    assert "e.g." in text


def test_absurd_worker_counts_are_refused():
    result = runner.invoke(app, ["photon-roi", "--instance-type", "m5.xlarge", "--workers", "99999999999999999999"])
    assert result.exit_code == 2, result.output
    assert "'--workers'" in result.output
    assert "100000" in result.output
    assert "TypeError" not in result.output

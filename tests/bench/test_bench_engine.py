"""The engine benchmark runs from its one command: a small run through the script, as a user would start it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_engine.py"


def _bench(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_several_seeds_print_a_table_each_and_pool_their_episodes(tmp_path):
    out, alone = tmp_path / "bench.json", tmp_path / "seed3.json"
    args = ["--quick", "--sections", "closed", "--policies", "engine", "stay", "--iterations", "3"]
    proc = _bench(*args, "--seed", "3", "5", "--jobs", "2", "--json", str(out))
    for title in ("seed 3 (", "seed 5 (", "seeds 3, 5 pooled", "95% intervals of engine's shares"):
        assert title in proc.stdout
    res = json.loads(out.read_text())["closed_loop"]
    # A seed's episodes do not depend on the process that ran them, nor on the other seeds.
    _bench(*args, "--seed", "3", "--json", str(alone))
    seed3 = json.loads(alone.read_text())["closed_loop"]
    assert res["_per_seed"]["3"]["engine"] == seed3["engine"]
    per_seed = res["_per_seed"]
    assert sorted(per_seed) == ["3", "5"]
    for policy in ("engine", "stay"):
        assert res[policy]["episodes"] == sum(s[policy]["episodes"] for s in per_seed.values()) == 12
        assert res[policy]["runs"] == 12 * 3
        shot = res[policy]["single_shot"]
        assert 0.0 <= shot["sla_violations"] <= 1.0
        # Where the misses fall adds up to the violation rate, by run index and by workload alike.
        misses = res[policy]["sla_misses"]
        assert sum(misses["by_run"].values()) == sum(misses["by_workload"].values())
        assert sum(misses["by_run"].values()) == round(res[policy]["sla_violation_rate"] * res[policy]["runs"])
        assert {int(k) for k in misses["by_run"]} <= {1, 2, 3}
    # The ceiling of a p90-safe policy is a share, and only for the runs the episodes reached.
    assert 0.0 <= res["_p90_safe_oracle"]["after_3"] <= 1.0
    assert res["_p90_safe_oracle"]["after_5"] is None
    # Staying never moves: its cost changes only with the data, never by a saving.
    assert res["stay"]["single_shot"]["median_cost_change"] < 0.05


def test_the_replay_section_scores_one_runs_predictions_against_the_truth(tmp_path):
    out = tmp_path / "bench.json"
    proc = _bench("--quick", "--sections", "replay", "--replay-starts", "1", "--json", str(out))
    assert "== Replay error" in proc.stdout
    rep = json.loads(out.read_text())["replay_error"]
    # Three workloads, one start each, every candidate the emulator can run: a few hundred predictions.
    assert 300 <= rep["predictions"] <= 3 * 340
    assert 0.0 < rep["mean_abs_log_error"] < 1.0
    assert set(rep["by_workload"]) <= {"join_etl", "aggregation", "memory_hungry"}
    for move in rep["by_move"].values():
        assert 0.0 < move["rms_log_error"] < 1.5 and 0.0 <= move["truth_above_p90"] <= 1.0


def test_the_interval_of_a_share_narrows_with_the_episodes_and_stays_a_share():
    sys.path.insert(0, str(BENCH.parent))
    from bench_engine import wilson_interval

    lo36, hi36 = wilson_interval(0.83, 36)
    lo432, hi432 = wilson_interval(0.83, 432)
    assert lo36 < lo432 < 0.83 < hi432 < hi36
    # 36 episodes at 83% cannot tell a 90% target from a 75% one; 432 can.
    assert lo36 < 0.75 and hi36 > 0.90 and hi432 < 0.90
    assert wilson_interval(1.0, 18)[1] == 1.0 and wilson_interval(0.0, 18)[0] == 0.0

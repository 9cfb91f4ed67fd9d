"""Stage layout on FIFO slots, unit by unit (the replay's tests check it against simulated schedules)."""

from __future__ import annotations

import numpy as np
import pytest

from sync_provider.engine.prediction.stage_layout import body_wall, fifo_wall, size_at_rank

TAIL = np.array([[0.9, 1.1, 1.4, 2.0, 3.0]])  # sizes at p50, p75, p90, p99 and the largest of 999 tasks


def test_the_largest_of_k_tasks_climbs_the_quantiles_and_stops_at_the_largest_seen():
    k = np.array([[1.0, 3.0, 9.0, 99.0, 999.0, 10_000.0]])
    got = size_at_rank(TAIL, np.array([999.0]), k)[0]
    assert got[[0, 1, 2, 3, 4]] == pytest.approx([0.9, 1.1, 1.4, 2.0, 3.0])
    assert got[5] == pytest.approx(3.0)  # never beyond the largest task the profile saw
    assert np.all(np.diff(got) >= 0)


def test_one_wave_ends_with_its_largest_task_and_equal_waves_stay_in_step():
    tasks, slots = np.array([[50.0, 400.0]]), np.array([[100.0, 100.0]])
    wall = body_wall(tasks, slots, top_all=np.array([[1.5, 2.0]]), top_slot=np.array([[1.5, 1.02]]))[0]
    assert wall[0] == pytest.approx(1.5)
    # Four full waves of near-equal tasks: three waves, then the largest of the last one.
    assert wall[1] == pytest.approx(3.0 + 1.02)


def test_a_straggler_that_may_start_late_adds_half_the_span_when_it_dominates():
    layout, longest = np.array([10.0, 10.0, 10.0, 10.0]), np.array([30.0, 30.0, 2.0, 4.0])
    span = np.array([0.0, 8.0, 8.0, 8.0])
    wall = fifo_wall(layout, longest, span)
    assert wall[0] == pytest.approx(30.0)  # one wave: all start at once
    assert wall[1] == pytest.approx(30.0 + 4.0)  # starts anywhere in the first 8 s
    assert wall[2] == pytest.approx(10.0)  # small enough to finish inside the stage wherever it starts
    # Started after 6 s (a quarter of the time), it ends at 11.0 on average: 10.25 expected.
    assert wall[3] == pytest.approx(0.75 * 10.0 + 0.25 * 11.0)
